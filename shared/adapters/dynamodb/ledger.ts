import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { roundUsd } from '../../domain/pricing.ts';
import type { DomainEvent } from '../../domain/events.ts';
import {
  DEFAULT_ALERT_THRESHOLDS_PERCENT,
  type Budget,
  type CostRollup,
  type Ledger,
  type LedgerEntry,
  type LedgerEntryTags,
  type Reservation,
} from '../../ports/index.ts';
import { isConditionFailure, isTransactionConditionFailure } from './client.ts';
import { outboxPut } from './outbox.ts';
import { readCostRollups } from './rollups.ts';

export function budgetKey(tenantId: string, month: string) {
  return { pk: `${tenantId}#BUDGET`, sk: `MONTH#${month}` };
}

/** One hold item per run and attempt: every try and every invocation of the attempt uses the same one. */
export function holdKey(tenantId: string, runId: string, attempt: number) {
  return { pk: `${tenantId}#RUN#${runId}`, sk: `HOLD#${String(attempt).padStart(3, '0')}` };
}

/** The sparse lease index (`byLease`): present on a hold only while it reserves money. */
export const LEASE_INDEX = ['gsi2pk', 'gsi2sk'] as const;

/** A hold's lease index keys: the tenant's holds sorted by lease end, so a sweep reads only expired ones. */
export function leaseIndexKeys(r: Pick<Reservation, 'tenantId' | 'leaseUntil' | 'runId' | 'attempt'>) {
  return {
    gsi2pk: `${r.tenantId}#LEASES`,
    gsi2sk: `${String(r.leaseUntil).padStart(15, '0')}#${r.runId}#${String(r.attempt).padStart(3, '0')}`,
  };
}

/**
 * What a charge is idempotent per: the try and the invocation that made it (a retried invocation
 * starts its tries again, and each of its provider calls is a charge of its own).
 */
export function chargeKey(r: Pick<Reservation, 'attemptKey' | 'owner'>): string {
  return `${r.attemptKey}#${r.owner}`;
}

/** A ledger entry's keys: one per run and charge key; the byDay index lists a day's entries. */
export function ledgerEntryKeys(
  r: Pick<Reservation, 'tenantId' | 'month' | 'runId' | 'attemptKey' | 'owner'>,
  at: Date,
) {
  return {
    pk: `${r.tenantId}#LEDGER#${r.month}`,
    sk: `${r.runId}#${chargeKey(r)}`,
    gsi1pk: `DAY#${at.toISOString().slice(0, 10)}`,
    gsi1sk: `${r.tenantId}#${at.toISOString()}#${r.runId}#${chargeKey(r)}`,
  };
}

/** A ledger entry as stored: one per run and charge key, `estimated` when usage was unknown. */
export function ledgerEntryItem(
  reservation: Pick<Reservation, 'tenantId' | 'month' | 'runId' | 'attemptKey' | 'owner'>,
  charge: {
    costUsd: number;
    usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number; reasoningTokens: number };
    priceVersion: string;
    estimated: boolean;
  },
  tags: LedgerEntryTags,
  now: Date,
) {
  return {
    ...ledgerEntryKeys(reservation, now),
    at: now.toISOString(),
    day: now.toISOString().slice(0, 10),
    attemptKey: reservation.attemptKey,
    owner: reservation.owner,
    costUsd: roundUsd(charge.costUsd),
    ...charge.usage,
    priceVersion: charge.priceVersion,
    estimated: charge.estimated,
    ...tags,
  };
}

/** Creates the month's budget item from the default if it does not exist yet. */
export async function ensureBudget(
  doc: DynamoDBDocumentClient,
  table: string,
  tenantId: string,
  month: string,
  defaultMonthlyBudgetUsd: number,
): Promise<void> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...budgetKey(tenantId, month),
          tenantId,
          month,
          limitUsd: defaultMonthlyBudgetUsd,
          spentUsd: 0,
          reservedUsd: 0,
          availableUsd: defaultMonthlyBudgetUsd,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Budgets, reservations and ledger entries in the ledger table. This class serves finance (budgets
 * and entries); the gateway's reserve / settle / release transactions are in `gateway-store.ts`.
 *
 * | item        | pk                        | sk                          |
 * |-------------|---------------------------|-----------------------------|
 * | budget      | `<t>#BUDGET`              | `MONTH#<yyyy-mm>`           | limitUsd, spentUsd, reservedUsd, availableUsd, alertThresholds, alertsSent (number set: the month's alert marker)
 * | hold        | `<t>#RUN#<runId>`         | `HOLD#<attempt>`            | state (domain/hold.ts), owner, leaseUntil, amountUsd; GSI byLease `<t>#LEASES` while it reserves
 * | entry       | `<t>#LEDGER#<yyyy-mm>`    | `<runId>#<attemptKey>#<owner>` | attemptKey, cost, tokens, estimated, tags; GSI byDay `DAY#<yyyy-mm-dd>`
 * | cost rollup | `<t>#COST#<yyyy-mm>`, `<t>#COSTX#<yyyy-mm>` | see `./rollups.ts` (written in the same transactions as the entries)
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
    /** The workflow table, where budget alerts are recorded as outbox events. */
    private readonly workflowTable?: string,
  ) {}

  async recordBudgetAlert(
    tenantId: string,
    month: string,
    thresholdPercent: number,
    event: DomainEvent,
  ): Promise<boolean> {
    if (!this.workflowTable) throw new Error('Budget alerts need WORKFLOW_TABLE.');
    const budget = await this.getBudget(tenantId, month);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: budgetKey(tenantId, month),
                UpdateExpression: 'ADD alertsSent :t',
                ConditionExpression:
                  'attribute_exists(pk) AND limitUsd = :limit AND spentUsd >= :amount AND (attribute_not_exists(alertsSent) OR NOT contains(alertsSent, :n))',
                ExpressionAttributeValues: {
                  ':t': new Set([thresholdPercent]),
                  ':n': thresholdPercent,
                  ':limit': budget.limitUsd,
                  ':amount': (budget.limitUsd * thresholdPercent) / 100,
                },
              },
            },
            outboxPut(this.workflowTable, event),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isTransactionConditionFailure(error)) return false;
      throw error;
    }
  }

  async getBudget(tenantId: string, month: string): Promise<Budget> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: budgetKey(tenantId, month), ConsistentRead: true }),
    );
    if (result.Item) return toBudget(result.Item, tenantId, month);
    const limitUsd = this.defaultMonthlyBudgetUsd;
    return {
      tenantId,
      month,
      limitUsd,
      spentUsd: 0,
      reservedUsd: 0,
      availableUsd: limitUsd,
      alertThresholdsPercent: [...DEFAULT_ALERT_THRESHOLDS_PERCENT],
      alertsSentPercent: [],
    };
  }

  async setBudget(
    tenantId: string,
    month: string,
    limitUsd: number,
    now: Date,
    alertThresholdsPercent?: readonly number[],
  ): Promise<Budget> {
    await ensureBudget(this.doc, this.table, tenantId, month, this.defaultMonthlyBudgetUsd);
    // Optimistic: the new availability is derived from the limit read, guarded by a condition on it.
    for (let tries = 0; tries < 5; tries += 1) {
      const current = await this.getBudget(tenantId, month);
      try {
        const result = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: budgetKey(tenantId, month),
            UpdateExpression: `SET limitUsd = :limit, availableUsd = availableUsd + :delta, updatedAt = :now${
              alertThresholdsPercent ? ', alertThresholds = :thresholds' : ''
            }`,
            ConditionExpression: 'limitUsd = :old',
            ExpressionAttributeValues: {
              ':limit': limitUsd,
              ':delta': roundUsd(limitUsd - current.limitUsd),
              ':old': current.limitUsd,
              ':now': now.toISOString(),
              ...(alertThresholdsPercent ? { ':thresholds': [...alertThresholdsPercent] } : {}),
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

  readCostRollups(query: {
    fromDay: string;
    toDay: string;
    tenantId?: string;
    detail: boolean;
  }): Promise<CostRollup[]> {
    return readCostRollups(this.doc, this.table, query);
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
    alertThresholdsPercent: Array.isArray(item['alertThresholds'])
      ? item['alertThresholds'].map(Number)
      : [...DEFAULT_ALERT_THRESHOLDS_PERCENT],
    alertsSentPercent:
      item['alertsSent'] instanceof Set
        ? [...(item['alertsSent'] as Set<number>)].map(Number).sort((a, b) => a - b)
        : [],
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
    // Entries written before the attempt key became an attribute carry it only in the sort key.
    attemptKey: text('attemptKey') || sk.slice(sk.indexOf('#') + 1),
    costUsd: Number(item['costUsd'] ?? 0),
    inputTokens: Number(item['inputTokens'] ?? 0),
    cachedInputTokens: Number(item['cachedInputTokens'] ?? 0),
    outputTokens: Number(item['outputTokens'] ?? 0),
    reasoningTokens: Number(item['reasoningTokens'] ?? 0),
    priceVersion: text('priceVersion'),
    estimated: item['estimated'] === true,
    tenantId: text('tenantId'),
    workflowId: text('workflowId'),
    runId: text('runId'),
    userId: text('userId'),
    ...(typeof item['accountId'] === 'string' ? { accountId: item['accountId'] } : {}),
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
