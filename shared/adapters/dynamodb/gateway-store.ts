import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { BudgetExceededError } from '../../domain/errors.ts';
import { roundUsd } from '../../domain/pricing.ts';
import type {
  GatewayStore,
  ReserveOutcome,
  Reservation,
  Settlement,
  TokenCharge,
} from '../../ports/index.ts';
import { breakerFailureUpdate, breakerResetUpdate } from './circuit-breaker.ts';
import { budgetKey, ensureBudget, reservationKey } from './ledger.ts';
import { windowRetryAfterMs, windowUpdate } from './rate-limiter.ts';
import { answeredAttemptWrites } from './workflow-store.ts';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/** How often a transaction cancelled only by contention (conflicts, throttling) is sent, in all. */
const CONTENTION_TRIES = 8;
const CONTENTION_BACKOFF_MS = 25;
const CONTENTION_BACKOFF_CAP_MS = 1_000;
/** Cancellation reasons that say "try again", as opposed to a failed condition or a bad request. */
const CONTENTION_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** The cancellation codes of a cancelled transaction, one per item, or null for any other error. */
function cancellationCodes(error: unknown): (string | undefined)[] | null {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return null;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((reason) => reason.Code);
}

function conditionFailed(error: unknown): boolean {
  return cancellationCodes(error)?.includes('ConditionalCheckFailed') ?? false;
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
 * Retries: the SDK retries throttled and failed requests (see client.ts). A transaction cancelled
 * only by contention (`TransactionConflict` or throttling of one of its items, which the SDK does
 * not retry) is sent again here, up to CONTENTION_TRIES with capped, jittered backoff: the budget
 * and token window are per-tenant items every concurrent run of a tenant writes, and the breaker
 * item is shared by every tenant. The breaker update is advisory: when it is the item in conflict,
 * the transaction is sent again without it, so an outage never costs a settlement or a fallback.
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

  /** Sends the transaction; `advisory` is the index of an item that is dropped when it conflicts. */
  private async transact(items: TransactItems, advisory: number | null = null): Promise<void> {
    let current = items;
    let advisoryIndex = advisory;
    for (let tryNumber = 1; ; tryNumber += 1) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: current }));
        return;
      } catch (error) {
        const codes = cancellationCodes(error);
        const contentionOnly =
          codes !== null &&
          codes.some((code) => code !== undefined && CONTENTION_CODES.has(code)) &&
          codes.every((code) => code === undefined || code === 'None' || CONTENTION_CODES.has(code));
        if (!contentionOnly || tryNumber >= CONTENTION_TRIES) throw error;
        const advisoryCode = advisoryIndex === null ? undefined : codes[advisoryIndex];
        if (advisoryIndex !== null && advisoryCode !== undefined && CONTENTION_CODES.has(advisoryCode)) {
          current = current.filter((_item, index) => index !== advisoryIndex);
          advisoryIndex = null;
        }
        const ceiling = Math.min(CONTENTION_BACKOFF_CAP_MS, CONTENTION_BACKOFF_MS * 2 ** tryNumber);
        await this.sleep(Math.floor(Math.random() * ceiling));
      }
    }
  }

  /** The stored reservation, read consistently, or null. */
  private async stored(reservation: Reservation): Promise<Record<string, unknown> | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.tables.ledger,
        Key: reservationKey(reservation),
        ConsistentRead: true,
      }),
    );
    return result.Item ?? null;
  }

  /** Whether a key whose reservation condition failed is held by this very invocation. */
  private async heldByMe(reservation: Reservation): Promise<boolean> {
    const item = await this.stored(reservation);
    return item?.['state'] === 'reserved' && item['owner'] === reservation.owner;
  }

  async reserve(reservation: Reservation, tokens: TokenCharge, now: Date): Promise<ReserveOutcome> {
    const retryAfterMs = windowRetryAfterMs(now);
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
            owner: reservation.owner,
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
        const [window, budget, key] = codes;
        if (key === 'ConditionalCheckFailed') {
          return (await this.heldByMe(reservation)) ? { reserved: true } : { reserved: false, taken: true };
        }
        if (budget === 'ConditionalCheckFailed') {
          if (pass > 1) {
            // Should DynamoDB report only the first failed condition, a taken key would hide behind
            // the budget's: tell the two apart before refusing.
            const item = await this.stored(reservation);
            if (item !== null && item['state'] !== 'released') {
              return item['state'] === 'reserved' && item['owner'] === reservation.owner
                ? { reserved: true }
                : { reserved: false, taken: true };
            }
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

  /** The settle transaction, from a reservation its owner holds or from one marked answered. */
  private settleItems(settlement: Settlement, now: Date, from: 'reserved' | 'answered'): TransactItems {
    const { attempt, tags } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    const day = now.toISOString().slice(0, 10);
    const costUsd = roundUsd(attempt.costUsd);
    return [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: reservationKey(reservation),
          UpdateExpression: 'SET #state = :settled, settledUsd = :cost REMOVE settlement',
          ConditionExpression: from === 'reserved' ? '#state = :from AND #owner = :owner' : '#state = :from',
          ExpressionAttributeNames: {
            '#state': 'state',
            ...(from === 'reserved' ? { '#owner': 'owner' } : {}),
          },
          ExpressionAttributeValues: {
            ':settled': 'settled',
            ':from': from,
            ':cost': costUsd,
            ...(from === 'reserved' ? { ':owner': reservation.owner } : {}),
          },
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
  }

  async settle(settlement: Settlement, now: Date): Promise<boolean> {
    const items = this.settleItems(settlement, now, 'reserved');
    try {
      await this.transact(items, settlement.clearBreakerOf === null ? null : items.length - 1);
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      // The provider answered and billed, but the settlement cannot be written now: leave the answer
      // on the reservation (one small write to an uncontended item), so releaseHeld charges it when
      // the run ends instead of releasing it as unanswered.
      await this.doc
        .send(
          new UpdateCommand({
            TableName: this.tables.ledger,
            Key: reservationKey(settlement.attempt.billing.reservation),
            UpdateExpression: 'SET #state = :answered, settlement = :settlement',
            ConditionExpression: '#state = :reserved AND #owner = :owner',
            ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
            ExpressionAttributeValues: {
              ':answered': 'answered',
              ':reserved': 'reserved',
              ':owner': settlement.attempt.billing.reservation.owner,
              ':settlement': JSON.stringify({ ...settlement, clearBreakerOf: null }),
            },
          }),
        )
        .catch(() => undefined);
      throw error;
    }
  }

  private releaseItems(reservation: Reservation, failedModel: string | null, now: Date, anyOwner: boolean) {
    const items: TransactItems = [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: reservationKey(reservation),
          UpdateExpression: 'SET #state = :released',
          ConditionExpression: anyOwner ? '#state = :reserved' : '#state = :reserved AND #owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', ...(anyOwner ? {} : { '#owner': 'owner' }) },
          ExpressionAttributeValues: {
            ':released': 'released',
            ':reserved': 'reserved',
            ...(anyOwner ? {} : { ':owner': reservation.owner }),
          },
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
    return items;
  }

  async release(reservation: Reservation, failedModel: string | null, now: Date): Promise<void> {
    const items = this.releaseItems(reservation, failedModel, now, false);
    try {
      await this.transact(items, failedModel === null ? null : items.length - 1);
    } catch (error) {
      // Released, settled or swept already: releasing again changes nothing.
      if (!conditionFailed(error)) throw error;
    }
  }

  async releaseHeld(
    tenantId: string,
    runId: string,
    now: Date,
  ): Promise<{ released: string[]; settled: string[] }> {
    const released: string[] = [];
    const settled: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.ledger,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :res)',
          FilterExpression: '#state IN (:reserved, :answered)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':pk': `${tenantId}#RUN#${runId}`,
            ':res': 'RES#',
            ':reserved': 'reserved',
            ':answered': 'answered',
          },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const attemptKey = String(item['sk']).slice('RES#'.length);
        if (item['state'] === 'answered' && typeof item['settlement'] === 'string') {
          const settlement = JSON.parse(item['settlement']) as Settlement;
          try {
            await this.transact(this.settleItems(settlement, now, 'answered'));
            settled.push(attemptKey);
          } catch (error) {
            if (!conditionFailed(error)) throw error;
          }
          continue;
        }
        const reservation: Reservation = {
          tenantId,
          runId,
          attemptKey,
          amountUsd: Number(item['amountUsd']),
          month: String(item['month']),
          owner: String(item['owner'] ?? ''),
        };
        try {
          await this.transact(this.releaseItems(reservation, null, now, true));
          released.push(attemptKey);
        } catch (error) {
          if (!conditionFailed(error)) throw error;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { released, settled };
  }
}
