import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { BudgetExceededError } from '../../domain/errors.ts';
import { roundUsd } from '../../domain/pricing.ts';
import type { Budget, Ledger, LedgerEntry, LedgerEntryTags, Reservation } from '../../ports/index.ts';
import { isConditionFailure, isTransactionConditionFailure } from './client.ts';

/**
 * Budgets, reservations and ledger entries in the ledger table.
 *
 * | item        | pk                        | sk                          |
 * |-------------|---------------------------|-----------------------------|
 * | budget      | `<t>#BUDGET`              | `MONTH#<yyyy-mm>`           | limitUsd, spentUsd, reservedUsd, availableUsd
 * | reservation | `<t>#RUN#<runId>`         | `RES#<attemptKey>`          | amountUsd, state reserved → settled | released
 * | entry       | `<t>#LEDGER#<yyyy-mm>`    | `<runId>#<attemptKey>`      | cost, tokens, tags; GSI byDay `DAY#<yyyy-mm-dd>`
 *
 * DynamoDB conditions cannot add numbers, so the budget keeps `availableUsd = limit − spent − reserved`
 * and a reservation is the single condition `availableUsd >= amount`. That one conditional write
 * is what keeps concurrent runs from overspending.
 */
export class DynamoLedger implements Ledger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly defaultMonthlyBudgetUsd: number,
  ) {}

  private budgetKey(tenantId: string, month: string) {
    return { pk: `${tenantId}#BUDGET`, sk: `MONTH#${month}` };
  }
  private reservationKey(r: Reservation) {
    return { pk: `${r.tenantId}#RUN#${r.runId}`, sk: `RES#${r.attemptKey}` };
  }

  /** Creates the month's budget item from the default if it does not exist yet. */
  private async ensureBudget(tenantId: string, month: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...this.budgetKey(tenantId, month),
            tenantId,
            month,
            limitUsd: this.defaultMonthlyBudgetUsd,
            spentUsd: 0,
            reservedUsd: 0,
            availableUsd: this.defaultMonthlyBudgetUsd,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async reserve(reservation: Reservation, now: Date): Promise<void> {
    const attempt = async (): Promise<void> => {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: this.budgetKey(reservation.tenantId, reservation.month),
                UpdateExpression:
                  'SET availableUsd = availableUsd - :amount, reservedUsd = reservedUsd + :amount',
                ConditionExpression: 'availableUsd >= :amount',
                ExpressionAttributeValues: { ':amount': reservation.amountUsd },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...this.reservationKey(reservation),
                  state: 'reserved',
                  amountUsd: reservation.amountUsd,
                  month: reservation.month,
                  createdAt: now.toISOString(),
                },
                // A released key may be reserved again: a retried invocation restarts its tries.
                ConditionExpression: 'attribute_not_exists(pk) OR #state = :released',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':released': 'released' },
              },
            },
          ],
        }),
      );
    };
    try {
      await attempt();
    } catch (error) {
      if (!isTransactionConditionFailure(error)) throw error;
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return; // already reserved: a retried call
      // The budget item may not exist yet this month: create it and try once more.
      await this.ensureBudget(reservation.tenantId, reservation.month);
      try {
        await attempt();
      } catch (retryError) {
        if (isTransactionConditionFailure(retryError)) {
          throw new BudgetExceededError("The tenant's monthly budget cannot cover this model attempt.");
        }
        throw retryError;
      }
    }
  }

  async settle(
    reservation: Reservation,
    actual: Parameters<Ledger['settle']>[1],
    tags: LedgerEntryTags,
    now: Date,
  ): Promise<boolean> {
    const day = now.toISOString().slice(0, 10);
    const costUsd = roundUsd(actual.costUsd);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: this.reservationKey(reservation),
                UpdateExpression: 'SET #state = :settled, settledUsd = :cost',
                ConditionExpression: '#state = :reserved',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: {
                  ':settled': 'settled',
                  ':reserved': 'reserved',
                  ':cost': costUsd,
                },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: this.budgetKey(reservation.tenantId, reservation.month),
                UpdateExpression:
                  'SET reservedUsd = reservedUsd - :reserved, spentUsd = spentUsd + :cost, availableUsd = availableUsd + :unused',
                ExpressionAttributeValues: {
                  ':reserved': reservation.amountUsd,
                  ':cost': costUsd,
                  // One operator per SET action: the unused part of the reservation goes back to the budget.
                  ':unused': roundUsd(reservation.amountUsd - costUsd),
                },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: `${reservation.tenantId}#LEDGER#${reservation.month}`,
                  sk: `${reservation.runId}#${reservation.attemptKey}`,
                  gsi1pk: `DAY#${day}`,
                  gsi1sk: `${reservation.tenantId}#${now.toISOString()}#${reservation.runId}#${reservation.attemptKey}`,
                  at: now.toISOString(),
                  day,
                  costUsd,
                  inputTokens: actual.inputTokens,
                  cachedInputTokens: actual.cachedInputTokens,
                  outputTokens: actual.outputTokens,
                  reasoningTokens: actual.reasoningTokens,
                  priceVersion: actual.priceVersion,
                  ...tags,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isTransactionConditionFailure(error)) return false;
      throw error;
    }
  }

  async release(reservation: Reservation): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: this.reservationKey(reservation),
                UpdateExpression: 'SET #state = :released',
                ConditionExpression: '#state = :reserved',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':released': 'released', ':reserved': 'reserved' },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: this.budgetKey(reservation.tenantId, reservation.month),
                UpdateExpression:
                  'SET reservedUsd = reservedUsd - :amount, availableUsd = availableUsd + :amount',
                ExpressionAttributeValues: { ':amount': reservation.amountUsd },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!isTransactionConditionFailure(error)) throw error;
    }
  }

  async getBudget(tenantId: string, month: string): Promise<Budget> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: this.budgetKey(tenantId, month), ConsistentRead: true }),
    );
    if (result.Item) return toBudget(result.Item, tenantId, month);
    const limitUsd = this.defaultMonthlyBudgetUsd;
    return { tenantId, month, limitUsd, spentUsd: 0, reservedUsd: 0, availableUsd: limitUsd };
  }

  async setBudget(tenantId: string, month: string, limitUsd: number, now: Date): Promise<Budget> {
    await this.ensureBudget(tenantId, month);
    // Optimistic: the new availability is derived from the limit read, guarded by a condition on it.
    for (let tries = 0; tries < 5; tries += 1) {
      const current = await this.getBudget(tenantId, month);
      try {
        const result = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: this.budgetKey(tenantId, month),
            UpdateExpression: 'SET limitUsd = :limit, availableUsd = availableUsd + :delta, updatedAt = :now',
            ConditionExpression: 'limitUsd = :old',
            ExpressionAttributeValues: {
              ':limit': limitUsd,
              ':delta': roundUsd(limitUsd - current.limitUsd),
              ':old': current.limitUsd,
              ':now': now.toISOString(),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        if (result.Attributes) return toBudget(result.Attributes, tenantId, month);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error('The budget changed concurrently too often; try again.');
  }

  async listEntries(query: { fromDay: string; toDay: string; tenantId?: string }): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    for (const day of daysBetween(query.fromDay, query.toDay)) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'byDay',
            KeyConditionExpression: query.tenantId
              ? 'gsi1pk = :day AND begins_with(gsi1sk, :tenant)'
              : 'gsi1pk = :day',
            ExpressionAttributeValues: {
              ':day': `DAY#${day}`,
              ...(query.tenantId ? { ':tenant': `${query.tenantId}#` } : {}),
            },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of result.Items ?? []) entries.push(toEntry(item));
        startKey = result.LastEvaluatedKey;
      } while (startKey);
    }
    return entries;
  }
}

function toBudget(item: Record<string, unknown>, tenantId: string, month: string): Budget {
  return {
    tenantId,
    month,
    limitUsd: Number(item['limitUsd'] ?? 0),
    spentUsd: roundUsd(Number(item['spentUsd'] ?? 0)),
    reservedUsd: roundUsd(Number(item['reservedUsd'] ?? 0)),
    availableUsd: roundUsd(Number(item['availableUsd'] ?? 0)),
  };
}

function toEntry(item: Record<string, unknown>): LedgerEntry {
  const text = (name: string): string => {
    const value = item[name];
    return typeof value === 'string' ? value : '';
  };
  const sk = text('sk');
  return {
    at: text('at'),
    day: text('day'),
    attemptKey: sk.slice(sk.indexOf('#') + 1),
    costUsd: Number(item['costUsd'] ?? 0),
    inputTokens: Number(item['inputTokens'] ?? 0),
    cachedInputTokens: Number(item['cachedInputTokens'] ?? 0),
    outputTokens: Number(item['outputTokens'] ?? 0),
    reasoningTokens: Number(item['reasoningTokens'] ?? 0),
    priceVersion: text('priceVersion'),
    tenantId: text('tenantId'),
    workflowId: text('workflowId'),
    runId: text('runId'),
    userId: text('userId'),
    model: text('model'),
    promptId: text('promptId'),
    promptVersion: text('promptVersion'),
    environment: text('environment'),
  };
}

/** Every day from `from` to `to` inclusive (YYYY-MM-DD, UTC). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}
