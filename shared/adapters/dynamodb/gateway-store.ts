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
  SweepResult,
  TokenCharge,
} from '../../ports/index.ts';
import { breakerFailureUpdate, breakerResetUpdate } from './circuit-breaker.ts';
import { isConditionFailure } from './client.ts';
import { budgetKey, ensureBudget, reservationKey } from './ledger.ts';
import { windowRetryAfterMs, windowUpdate } from './rate-limiter.ts';
import { attemptRecordPut, runCostUpdate } from './workflow-store.ts';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/** How often a transaction cancelled only by contention (conflicts, throttling) is sent, in all. */
const CONTENTION_TRIES = 8;
/** From this try on, a conflicting advisory item (the breaker) is left out so the money goes through. */
const ADVISORY_DROP_TRY = 3;
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

const TRANSIENT_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
]);

/** Errors of the connection itself, by name or code: the request may not have reached the store. */
const NETWORK_ERRORS = new Set([
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** An error worth keeping an answer for: contention, throttling, a 5xx or no response at all. */
function isTransient(error: unknown): boolean {
  const codes = cancellationCodes(error);
  if (codes !== null) {
    return (
      !codes.includes('ConditionalCheckFailed') &&
      codes.some((c) => c !== undefined && CONTENTION_CODES.has(c))
    );
  }
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_ERRORS.has(error.name) || NETWORK_ERRORS.has(error.name)) return true;
  const { $metadata, code } = error as { $metadata?: { httpStatusCode?: number }; code?: string };
  if (code !== undefined && NETWORK_ERRORS.has(code)) return true;
  // A service answer with a 5xx; an error with no service answer at all (a bug, a marshalling
  // failure) is not worth keeping an answer for: it would fail the same way at every sweep.
  return $metadata?.httpStatusCode !== undefined && $metadata.httpStatusCode >= 500;
}

/** Where the attempt record sits in the settle transaction. */
const ATTEMPT_RECORD_INDEX = 3;

/** True when the only failed condition of a cancelled settle is the attempt record's (it exists). */
function onlyAttemptRecordExists(error: unknown): boolean {
  const codes = cancellationCodes(error);
  return (
    codes !== null &&
    codes[ATTEMPT_RECORD_INDEX] === 'ConditionalCheckFailed' &&
    codes.every((code, index) => index === ATTEMPT_RECORD_INDEX || code !== 'ConditionalCheckFailed')
  );
}

/** Structured warnings the adapter cannot raise as errors (a best-effort write that failed). */
export type GatewayWarn = (message: string, details: Record<string, unknown>) => void;

/** The charge key of an answer on the run: its attempt key and the invocation that got it. */
function chargeKey(reservation: Reservation): string {
  return `${reservation.attemptKey}#${reservation.owner}`;
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
 * item is shared by every tenant. The breaker update is advisory: when it is still the item in
 * conflict from the third try on, the transaction is sent without it, so an outage never costs a
 * settlement or a fallback (and costs the breaker a few counts at most).
 *
 * Reservations are one item per attempt key *and* invocation (`owner`), so a retry Step Functions
 * starts alongside a slow first invocation never shares an item with it. A reservation's states:
 *
 *   reserved ─settle→ settled            (the normal path)
 *   reserved ─release→ released          (no answer: an error status, a timeout)
 *   reserved ─store refuses settle→ answered ─sweep→ settled
 *   reserved ─sweep→ swept ─late settle→ settled   (its invocation was taken over, then answered)
 *   swept ─store refuses late settle→ answered_late ─sweep→ settled
 *
 * The sweep (`releaseHeld`) runs at the start of every model call of a run, in MarkFailed and when
 * the run ends; it is what makes a dead or taken-over invocation's reservation end.
 */
export class DynamoGatewayStore implements GatewayStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: { ledger: string; workflow: string },
    private readonly environment: string,
    private readonly defaultMonthlyBudgetUsd: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly warn: GatewayWarn = () => undefined,
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
        if (
          tryNumber + 1 >= ADVISORY_DROP_TRY &&
          advisoryIndex !== null &&
          advisoryCode !== undefined &&
          CONTENTION_CODES.has(advisoryCode)
        ) {
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
            attemptKey: reservation.attemptKey,
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

  /** The ledger entry of an answer: one per attempt key and invocation. */
  private entryPut(settlement: Settlement, now: Date) {
    const { attempt, tags } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    const day = now.toISOString().slice(0, 10);
    return {
      Put: {
        TableName: this.tables.ledger,
        Item: {
          pk: `${reservation.tenantId}#LEDGER#${reservation.month}`,
          sk: `${reservation.runId}#${chargeKey(reservation)}`,
          gsi1pk: `DAY#${day}`,
          gsi1sk: `${reservation.tenantId}#${now.toISOString()}#${reservation.runId}#${chargeKey(reservation)}`,
          at: now.toISOString(),
          day,
          attemptKey: reservation.attemptKey,
          costUsd: roundUsd(attempt.costUsd),
          ...usage,
          priceVersion,
          ...tags,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private runCost(settlement: Settlement, now: Date) {
    const { reservation } = settlement.attempt.billing;
    return runCostUpdate(
      this.tables.workflow,
      reservation.tenantId,
      reservation.runId,
      { key: chargeKey(reservation), costUsd: settlement.attempt.costUsd, model: settlement.attempt.model },
      now,
    );
  }

  /**
   * The settle transaction, from a reservation its owner holds or from one marked answered. Item 3 is
   * the attempt record (see ATTEMPT_RECORD_INDEX).
   */
  private settleItems(
    settlement: Settlement,
    now: Date,
    from: 'reserved' | 'answered',
    key: Record<string, unknown> = reservationKey(settlement.attempt.billing.reservation),
  ): TransactItems {
    const { attempt } = settlement;
    const { reservation } = attempt.billing;
    const costUsd = roundUsd(attempt.costUsd);
    return [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: key,
          UpdateExpression: 'SET #state = :settled, settledUsd = :cost REMOVE settlement, answeredAt',
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
      this.entryPut(settlement, now),
      // Only if none exists: an attempt another invocation recorded (and validated) stays as it is.
      {
        Put: {
          ...attemptRecordPut(this.tables.workflow, reservation.tenantId, reservation.runId, attempt).Put,
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      this.runCost(settlement, now),
      ...(settlement.clearBreakerOf === null
        ? []
        : [{ Update: breakerResetUpdate(this.tables.ledger, this.environment, settlement.clearBreakerOf) }]),
    ];
  }

  /**
   * A late settlement: the sweep released this invocation's hold (its reserved amount is back in the
   * budget) while the provider was answering. The answer was billed, so it is charged all the same —
   * spend, ledger entry and run cost — without the attempt record, which belongs to the invocation
   * that took over.
   */
  private lateSettleItems(
    settlement: Settlement,
    now: Date,
    from: 'swept' | 'answered_late',
    key: Record<string, unknown> = reservationKey(settlement.attempt.billing.reservation),
  ): TransactItems {
    const { reservation } = settlement.attempt.billing;
    const costUsd = roundUsd(settlement.attempt.costUsd);
    return [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: key,
          UpdateExpression:
            'SET #state = :settled, settledUsd = :cost, settledLate = :true REMOVE settlement, answeredAt',
          ConditionExpression: '#state = :from AND #owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':settled': 'settled',
            ':from': from,
            ':owner': reservation.owner,
            ':cost': costUsd,
            ':true': true,
          },
        },
      },
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(reservation.tenantId, reservation.month),
          UpdateExpression: 'SET spentUsd = spentUsd + :cost, availableUsd = availableUsd - :cost',
          ExpressionAttributeValues: { ':cost': costUsd },
        },
      },
      this.entryPut(settlement, now),
      this.runCost(settlement, now),
    ];
  }

  /** Sends a settle transaction; when only the attempt record existed, sends it again without it. */
  private async sendSettle(items: TransactItems, withBreaker: boolean): Promise<'settled' | 'late'> {
    try {
      await this.transact(items, withBreaker ? items.length - 1 : null);
      return 'settled';
    } catch (error) {
      if (!onlyAttemptRecordExists(error)) throw error;
      const rest = items.filter((_item, index) => index !== ATTEMPT_RECORD_INDEX);
      await this.transact(rest, withBreaker ? rest.length - 1 : null);
      return 'late';
    }
  }

  /**
   * Charges an answer whose hold a sweep released; 'already' when it was charged before. When the
   * store cannot write it now, the answer is kept on the swept item (`answered_late`) for the sweep.
   */
  private async settleLate(settlement: Settlement, now: Date): Promise<'late' | 'already'> {
    try {
      await this.transact(this.lateSettleItems(settlement, now, 'swept'));
      return 'late';
    } catch (error) {
      if (conditionFailed(error)) return 'already';
      if (isTransient(error)) {
        const reservation = settlement.attempt.billing.reservation;
        await this.keepAnswer(settlement, now, 'swept', 'answered_late').catch((keepError: unknown) => {
          this.warn('A late answer could not be settled nor kept on its reservation', {
            runId: reservation.runId,
            attemptKey: reservation.attemptKey,
            keepError: keepError instanceof Error ? keepError.name : 'unknown',
          });
        });
      }
      throw error;
    }
  }

  /** Keeps an answer that cannot be settled now on its owner's reservation item, for the sweep. */
  private async keepAnswer(
    settlement: Settlement,
    now: Date,
    from: 'reserved' | 'swept',
    to: 'answered' | 'answered_late',
  ): Promise<void> {
    const reservation = settlement.attempt.billing.reservation;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tables.ledger,
        Key: reservationKey(reservation),
        UpdateExpression: 'SET #state = :to, settlement = :settlement, answeredAt = :at',
        ConditionExpression: '#state = :from AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':to': to,
          ':from': from,
          ':owner': reservation.owner,
          ':settlement': JSON.stringify({ ...settlement, clearBreakerOf: null }),
          ':at': now.toISOString(),
        },
      }),
    );
  }

  async settle(settlement: Settlement, now: Date): Promise<'settled' | 'late' | 'already'> {
    const reservation = settlement.attempt.billing.reservation;
    try {
      return await this.sendSettle(
        this.settleItems(settlement, now, 'reserved'),
        settlement.clearBreakerOf !== null,
      );
    } catch (error) {
      if (conditionFailed(error)) {
        const item = await this.stored(reservation);
        return item?.['state'] === 'swept' ? this.settleLate(settlement, now) : 'already';
      }
      if (!isTransient(error)) throw error;
      // The provider answered and billed, but the settlement cannot be written now: keep the answer
      // on the reservation (one small write to an uncontended item), so releaseHeld charges it when
      // the run is swept instead of releasing it as unanswered.
      try {
        await this.keepAnswer(settlement, now, 'reserved', 'answered');
      } catch (keepError) {
        // Swept in the meantime: the late settlement is the only way left to charge the answer.
        if (isConditionFailure(keepError) && (await this.stored(reservation))?.['state'] === 'swept') {
          const late = await this.settleLate(settlement, now).catch(() => null);
          if (late !== null) return late;
        }
        this.warn('An answered attempt could not be settled nor kept on its reservation', {
          runId: reservation.runId,
          attemptKey: reservation.attemptKey,
          settleError: error instanceof Error ? error.name : 'unknown',
          keepError: keepError instanceof Error ? keepError.name : 'unknown',
        });
      }
      throw error;
    }
  }

  private releaseItems(
    reservation: Reservation,
    failedModel: string | null,
    now: Date,
    anyOwner: boolean,
    key: Record<string, unknown> = reservationKey(reservation),
  ) {
    const items: TransactItems = [
      {
        Update: {
          TableName: this.tables.ledger,
          Key: key,
          // A sweep marks the hold `swept`: its owner may still be answered, and charges it late.
          UpdateExpression: 'SET #state = :released',
          ConditionExpression: anyOwner ? '#state = :reserved' : '#state = :reserved AND #owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', ...(anyOwner ? {} : { '#owner': 'owner' }) },
          ExpressionAttributeValues: {
            ':released': anyOwner ? 'swept' : 'released',
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

  async release(reservation: Reservation, failedModel: string | null, now: Date): Promise<boolean> {
    const items = this.releaseItems(reservation, failedModel, now, false);
    try {
      await this.transact(items, failedModel === null ? null : items.length - 1);
      return true;
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      // Released before by this invocation changes nothing; swept means it was taken over.
      return (await this.stored(reservation))?.['state'] !== 'swept';
    }
  }

  /** Ends one stranded reservation item: settles a kept answer, or releases a bare hold. */
  private async endStranded(
    tenantId: string,
    runId: string,
    item: Record<string, unknown>,
    attemptKey: string,
    now: Date,
  ): Promise<'settled' | 'released' | 'none'> {
    const key = { pk: item['pk'], sk: item['sk'] };
    const kept = (): { settlement: Settlement; at: Date } => {
      if (typeof item['settlement'] !== 'string') throw new Error('A kept answer has no settlement.');
      const at = typeof item['answeredAt'] === 'string' ? new Date(item['answeredAt']) : now;
      return { settlement: JSON.parse(item['settlement']) as Settlement, at };
    };
    try {
      if (item['state'] === 'answered') {
        const { settlement, at } = kept();
        await this.sendSettle(this.settleItems(settlement, at, 'answered', key), false);
        return 'settled';
      }
      if (item['state'] === 'answered_late') {
        const { settlement, at } = kept();
        await this.transact(this.lateSettleItems(settlement, at, 'answered_late', key));
        return 'settled';
      }
      const reservation: Reservation = {
        tenantId,
        runId,
        attemptKey,
        amountUsd: Number(item['amountUsd']),
        month: String(item['month']),
        owner: typeof item['owner'] === 'string' ? item['owner'] : '',
      };
      // The item's own key, whatever format it was written in.
      await this.transact(this.releaseItems(reservation, null, now, true, key));
      return 'released';
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      // Changed since the query: its owner ended it, or kept an answer on it meanwhile.
      const current = await this.doc.send(
        new GetCommand({ TableName: this.tables.ledger, Key: key, ConsistentRead: true }),
      );
      const state: unknown = current.Item?.['state'];
      if (state !== 'reserved' && state !== 'answered' && state !== 'answered_late') return 'none';
      // Its owner kept an answer on it meanwhile: end it as that, once. A condition that fails on an
      // unchanged item (its run is gone, say) cannot be ended by trying again.
      if (current.Item && state !== item['state'] && item['state'] === 'reserved') {
        return this.endStranded(tenantId, runId, current.Item, attemptKey, now);
      }
      throw error;
    }
  }

  async releaseHeld(tenantId: string, runId: string, now: Date): Promise<SweepResult> {
    const result: SweepResult = { released: [], settled: [], failed: [] };
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.ledger,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :res)',
          FilterExpression: '#state IN (:reserved, :answered, :answeredLate)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':pk': `${tenantId}#RUN#${runId}`,
            ':res': 'RES#',
            ':reserved': 'reserved',
            ':answered': 'answered',
            ':answeredLate': 'answered_late',
          },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = String(item['sk']);
        const attemptKey =
          typeof item['attemptKey'] === 'string'
            ? item['attemptKey']
            : (sk.slice('RES#'.length).split('#')[0] ?? sk);
        // One reservation that cannot be ended now must not keep the others held.
        try {
          const outcome = await this.endStranded(tenantId, runId, item, attemptKey, now);
          if (outcome === 'settled') result.settled.push(attemptKey);
          if (outcome === 'released') result.released.push(attemptKey);
        } catch (error) {
          result.failed.push(attemptKey);
          this.warn('A stranded reservation could not be ended', {
            runId,
            attemptKey,
            errorName: error instanceof Error ? error.name : 'unknown',
          });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return result;
  }
}
