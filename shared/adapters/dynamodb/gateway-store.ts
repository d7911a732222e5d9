import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { BudgetExceededError } from '../../domain/errors.ts';
import { roundUsd } from '../../domain/pricing.ts';
import type { GatewayStore, Reservation, Settlement, TokenCharge } from '../../ports/index.ts';
import { breakerFailureUpdate, breakerResetUpdate } from './circuit-breaker.ts';
import { budgetKey, ensureBudget, reservationKey } from './ledger.ts';
import { windowRetryAfterMs, windowUpdate } from './rate-limiter.ts';
import { answeredAttemptWrites } from './workflow-store.ts';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/** How often a transaction cancelled only by a conflicting concurrent transaction is sent again. */
const CONFLICT_TRIES = 4;
const CONFLICT_BACKOFF_MS = 40;

/** The cancellation codes of a cancelled transaction, one per item, or null for any other error. */
function cancellationCodes(error: unknown): (string | undefined)[] | null {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return null;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((reason) => reason.Code);
}

/**
 * The model gateway's writes, one DynamoDB transaction each, across the ledger table (budget,
 * reservation, ledger entry, token window, breaker) and the workflow table (attempt, run cost):
 *
 * - reserve: token window + budget + reservation (1 write)
 * - settle: reservation + budget + ledger entry + attempt + run cost [+ breaker reset] (1 write)
 * - release: reservation + budget [+ breaker failure] (1 write)
 *
 * With the trace span, an attempt costs three writes. The month's first reservation also creates
 * the budget item (one extra conditional put per tenant and month).
 *
 * Retries: the SDK retries throttling and 5xx (see client.ts). A transaction cancelled only because
 * another transaction touched the same item at the same time (`TransactionConflict`, which the SDK
 * does not retry) is retried here, up to CONFLICT_TRIES with jitter: the budget and token window are
 * per-tenant items that concurrent runs of one tenant all write.
 */
export class DynamoGatewayStore implements GatewayStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: { ledger: string; workflow: string },
    private readonly environment: string,
    private readonly defaultMonthlyBudgetUsd: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  private async transact(items: TransactItems): Promise<void> {
    for (let tryNumber = 1; ; tryNumber += 1) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        return;
      } catch (error) {
        const codes = cancellationCodes(error);
        const conflictOnly =
          codes !== null &&
          codes.includes('TransactionConflict') &&
          !codes.includes('ConditionalCheckFailed');
        if (!conflictOnly || tryNumber >= CONFLICT_TRIES) throw error;
        await this.sleep(Math.floor(Math.random() * CONFLICT_BACKOFF_MS * 2 ** tryNumber));
      }
    }
  }

  private async isHeld(reservation: Reservation): Promise<boolean> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.tables.ledger,
        Key: reservationKey(reservation),
        ConsistentRead: true,
      }),
    );
    return result.Item?.['state'] === 'reserved';
  }

  async reserve(
    reservation: Reservation,
    tokens: TokenCharge,
    now: Date,
  ): Promise<{ reserved: true } | { reserved: false; retryAfterMs: number }> {
    const retryAfterMs = windowRetryAfterMs(now);
    if (tokens.tokens > tokens.limitPerMinute) return { reserved: false, retryAfterMs };
    const items: TransactItems = [
      { Update: windowUpdate(this.tables.ledger, tokens.key, tokens.tokens, tokens.limitPerMinute, now) },
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(reservation.tenantId, reservation.month),
          UpdateExpression: 'SET availableUsd = availableUsd - :amount, reservedUsd = reservedUsd + :amount',
          ConditionExpression: 'availableUsd >= :amount',
          ExpressionAttributeValues: { ':amount': reservation.amountUsd },
        },
      },
      {
        Put: {
          TableName: this.tables.ledger,
          Item: {
            ...reservationKey(reservation),
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
    ];
    for (let pass = 1; ; pass += 1) {
      try {
        await this.transact(items);
        return { reserved: true };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes === null || !codes.includes('ConditionalCheckFailed')) throw error;
        const [window, budget, held] = codes;
        // Held already: a retried invocation of the same attempt; nothing more is taken.
        if (held === 'ConditionalCheckFailed') return { reserved: true };
        if (budget === 'ConditionalCheckFailed') {
          if (pass > 1) {
            // Should DynamoDB report only the first failed condition, a held key would hide behind the
            // budget's; a retried invocation must reuse its reservation, not fail and strand it.
            if (await this.isHeld(reservation)) return { reserved: true };
            throw new BudgetExceededError("The tenant's monthly budget cannot cover this model attempt.");
          }
          // The month's budget item may not exist yet: create it from the default, then try once more.
          await ensureBudget(
            this.doc,
            this.tables.ledger,
            reservation.tenantId,
            reservation.month,
            this.defaultMonthlyBudgetUsd,
          );
          continue;
        }
        if (window === 'ConditionalCheckFailed') return { reserved: false, retryAfterMs };
        throw error;
      }
    }
  }

  async settle(settlement: Settlement, now: Date): Promise<boolean> {
    const { attempt, tags } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    const day = now.toISOString().slice(0, 10);
    const costUsd = roundUsd(attempt.costUsd);
    const items: TransactItems = [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: reservationKey(reservation),
          UpdateExpression: 'SET #state = :settled, settledUsd = :cost',
          ConditionExpression: '#state = :reserved',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':settled': 'settled', ':reserved': 'reserved', ':cost': costUsd },
        },
      },
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(reservation.tenantId, reservation.month),
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
          TableName: this.tables.ledger,
          Item: {
            pk: `${reservation.tenantId}#LEDGER#${reservation.month}`,
            sk: `${reservation.runId}#${reservation.attemptKey}`,
            gsi1pk: `DAY#${day}`,
            gsi1sk: `${reservation.tenantId}#${now.toISOString()}#${reservation.runId}#${reservation.attemptKey}`,
            at: now.toISOString(),
            day,
            costUsd,
            ...usage,
            priceVersion,
            ...tags,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...answeredAttemptWrites(this.tables.workflow, reservation.tenantId, reservation.runId, attempt, now),
      ...(settlement.clearBreakerOf === null
        ? []
        : [{ Update: breakerResetUpdate(this.tables.ledger, this.environment, settlement.clearBreakerOf) }]),
    ];
    try {
      await this.transact(items);
      return true;
    } catch (error) {
      if (cancellationCodes(error)?.includes('ConditionalCheckFailed')) return false;
      throw error;
    }
  }

  async release(reservation: Reservation, failedModel: string | null, now: Date): Promise<void> {
    const items: TransactItems = [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: reservationKey(reservation),
          UpdateExpression: 'SET #state = :released',
          ConditionExpression: '#state = :reserved',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':released': 'released', ':reserved': 'reserved' },
        },
      },
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(reservation.tenantId, reservation.month),
          UpdateExpression: 'SET reservedUsd = reservedUsd - :amount, availableUsd = availableUsd + :amount',
          ExpressionAttributeValues: { ':amount': reservation.amountUsd },
        },
      },
      ...(failedModel === null
        ? []
        : [{ Update: breakerFailureUpdate(this.tables.ledger, this.environment, failedModel, now) }]),
    ];
    try {
      await this.transact(items);
    } catch (error) {
      // Released or settled already: releasing again changes nothing.
      if (!cancellationCodes(error)?.includes('ConditionalCheckFailed')) throw error;
    }
  }

  async releaseHeld(tenantId: string, runId: string, now: Date): Promise<string[]> {
    const released: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.ledger,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :res)',
          FilterExpression: '#state = :reserved',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':pk': `${tenantId}#RUN#${runId}`,
            ':res': 'RES#',
            ':reserved': 'reserved',
          },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const attemptKey = String(item['sk']).slice('RES#'.length);
        await this.release(
          {
            tenantId,
            runId,
            attemptKey,
            amountUsd: Number(item['amountUsd']),
            month: String(item['month']),
          },
          null,
          now,
        );
        released.push(attemptKey);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return released;
  }
}
