import { createHash } from 'node:crypto';
import {
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  BudgetExceededError,
  InternalError,
  NotFoundError,
  RetryableStepError,
  SETTLE_PENDING_ERROR,
} from '../../domain/errors.ts';
import { canTransition, HOLD, HOLD_TRANSITIONS, type HoldEvent, type HoldState } from '../../domain/hold.ts';
import { roundUsd } from '../../domain/pricing.ts';
import type {
  GatewayStore,
  LedgerEntryTags,
  Release,
  Reservation,
  ReserveOutcome,
  Settlement,
  TokenCharge,
} from '../../ports/index.ts';
import {
  budgetKey,
  chargeKey,
  ensureBudget,
  holdKey,
  leaseIndexKeys,
  LEASE_INDEX,
  ledgerEntryItem,
} from './ledger.ts';
import { windowRetryAfterMs, windowUpdate } from './rate-limiter.ts';
import { costRollupUpdates } from './rollups.ts';
import { spanItem } from './trace-sink.ts';
import { attemptRecordPut, runCostUpdate, runKey } from './workflow-store.ts';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
type Item = Record<string, unknown>;

/** How often a transaction cancelled only by contention (conflicts, throttling) is sent, in all. */
const CONTENTION_TRIES = 6;
const CONTENTION_BACKOFF_MS = 20;
const CONTENTION_BACKOFF_CAP_MS = 500;
const CONTENTION_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** One cancellation reason of a cancelled transaction: its code and the item as it was (ALL_OLD). */
interface Reason {
  code: string | undefined;
  item: Item | null;
}

/** The reasons of a cancelled transaction, one per item in order, or null for any other error. */
function cancellation(error: unknown): Reason[] | null {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return null;
  const reasons = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, never> }[] })
    .CancellationReasons;
  return (reasons ?? []).map((reason) => ({
    code: reason.Code,
    item: reason.Item ? (unmarshall(reason.Item) as Item) : null,
  }));
}

const failed = (reason: Reason | undefined) => reason?.code === 'ConditionalCheckFailed';

const TRANSIENT_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);

/** Contention, throttling, a 5xx or no answer at all: the same write may succeed later. */
export function isTransientStoreError(error: unknown): boolean {
  const reasons = cancellation(error);
  if (reasons !== null) {
    return !reasons.some(failed) && reasons.some((r) => r.code !== undefined && CONTENTION_CODES.has(r.code));
  }
  if (!(error instanceof Error)) return false;
  const { $metadata, code } = error as { $metadata?: { httpStatusCode?: number }; code?: string };
  if (TRANSIENT_ERRORS.has(error.name) || (code !== undefined && TRANSIENT_ERRORS.has(code))) return true;
  return $metadata?.httpStatusCode !== undefined && $metadata.httpStatusCode >= 500;
}

/** Structured warnings for best-effort work that failed (logged by the composition root). */
export type GatewayWarn = (message: string, details: Record<string, unknown>) => void;

/** The `from` states of a transition, as a DynamoDB condition on `#state`. */
function fromCondition(event: HoldEvent): { expression: string; values: Record<string, HoldState> } {
  const states = HOLD_TRANSITIONS[event].from.filter((s): s is HoldState => s !== 'absent');
  const values = Object.fromEntries(states.map((state, i) => [`:from${i}`, state]));
  const expression = `#state IN (${Object.keys(values).join(', ')})`;
  return { expression, values };
}

/**
 * The DynamoDB side of the hold-and-capture protocol of `domain/hold.ts`: every write of the model
 * gateway, each one transaction across the ledger table (budget, hold, ledger entry, token window),
 * the workflow table (attempt record, run cost) and the trace table (the attempt's span).
 *
 * - reserve: token window + budget + hold + a check of the run's cost (1 round trip)
 * - settle: hold + budget + ledger entry + cost rollups + attempt record + run cost + span (1 round trip)
 * - release: hold + budget + span [+ estimated ledger entry + cost rollups + run cost] (1 round trip)
 *
 * Failed conditions come back with the item as it was (ReturnValuesOnConditionCheckFailure), so
 * telling "another invocation holds it" from "the budget is spent" needs no extra read. A hold's
 * lease is indexed (sparse GSI `byLease`, only while it reserves money), so `sweepExpired` reads only
 * expired holds. Settle and release carry a ClientRequestToken: an SDK retry of a transaction that
 * had committed is not applied twice.
 */
export class DynamoGatewayStore implements GatewayStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: { ledger: string; workflow: string; trace: string },
    private readonly traceTtlDays: number,
    private readonly defaultMonthlyBudgetUsd: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly warn: GatewayWarn = () => undefined,
  ) {}

  /** Sends a transaction, again (capped, jittered backoff) while it is cancelled only by contention. */
  private async transact(items: TransactItems, token?: string): Promise<void> {
    for (let tryNumber = 1; ; tryNumber += 1) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: items,
            ...(token === undefined ? {} : { ClientRequestToken: token }),
          }),
        );
        return;
      } catch (error) {
        const reasons = cancellation(error);
        const contentionOnly =
          reasons !== null &&
          reasons.some((r) => r.code !== undefined && CONTENTION_CODES.has(r.code)) &&
          reasons.every((r) => r.code === undefined || r.code === 'None' || CONTENTION_CODES.has(r.code));
        if (!contentionOnly || tryNumber >= CONTENTION_TRIES) throw error;
        const ceiling = Math.min(CONTENTION_BACKOFF_CAP_MS, CONTENTION_BACKOFF_MS * 2 ** tryNumber);
        await this.sleep(Math.floor(Math.random() * ceiling));
      }
    }
  }

  /** An idempotency token per transaction kind and try (at most 36 characters). */
  private static token(kind: string, reservation: Reservation): string {
    return createHash('sha256')
      .update(
        `${kind}#${reservation.tenantId}#${reservation.runId}#${reservation.attemptKey}#${reservation.owner}`,
      )
      .digest('hex')
      .slice(0, 36);
  }

  async reserve(
    reservation: Reservation,
    runCostLimitUsd: number,
    tokens: TokenCharge,
    now: Date,
  ): Promise<ReserveOutcome> {
    const { tenantId, runId, month, amountUsd } = reservation;
    const from = fromCondition('hold');
    const items: TransactItems = [
      { Update: windowUpdate(this.tables.ledger, tokens.key, tokens.tokens, tokens.limitPerMinute, now) },
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(tenantId, month),
          UpdateExpression: 'SET availableUsd = availableUsd - :amount, reservedUsd = reservedUsd + :amount',
          ConditionExpression: 'availableUsd >= :amount',
          ExpressionAttributeValues: { ':amount': amountUsd },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Put: {
          TableName: this.tables.ledger,
          Item: {
            ...holdKey(tenantId, runId, reservation.attempt),
            ...leaseIndexKeys(reservation),
            state: HOLD_TRANSITIONS.hold.to,
            reservation: JSON.stringify(reservation),
            owner: reservation.owner,
            attemptKey: reservation.attemptKey,
            model: reservation.model,
            amountUsd,
            leaseUntil: reservation.leaseUntil,
            createdAt: now.toISOString(),
          },
          ConditionExpression: `attribute_not_exists(pk) OR ${from.expression}`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: from.values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        ConditionCheck: {
          TableName: this.tables.workflow,
          Key: runKey(tenantId, runId),
          ConditionExpression: 'attribute_exists(pk) AND costUsd <= :room',
          ExpressionAttributeValues: { ':room': roundUsd(runCostLimitUsd - amountUsd) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ];
    let budgetCreated = false;
    for (;;) {
      let reasons: Reason[] | null;
      try {
        await this.transact(items);
        return { reserved: true };
      } catch (error) {
        reasons = cancellation(error);
        if (reasons === null || !reasons.some(failed)) throw error;
      }
      const [window, budget, hold, run] = reasons;
      if (failed(hold) && hold?.item) {
        const outcome = await this.blockedByHold(hold.item, now);
        if (outcome === 'tryAgain') continue;
        return outcome;
      }
      if (failed(run)) {
        if (!run?.item) throw new NotFoundError('Run');
        throw new BudgetExceededError({
          budget: 'run_cost_cap',
          limitUsd: runCostLimitUsd,
          spentUsd: Number(run.item['costUsd'] ?? 0),
          attemptUsd: amountUsd,
        });
      }
      if (failed(budget)) {
        if (!budget?.item) {
          if (budgetCreated) throw new InternalError('The month budget could not be created.');
          await ensureBudget(this.doc, this.tables.ledger, tenantId, month, this.defaultMonthlyBudgetUsd);
          budgetCreated = true;
          continue;
        }
        // Over-blocking is a refusal only when settled spend plus this very hold passes the limit;
        // otherwise other runs' in-flight holds are in the way, and they end soon.
        const figures = {
          budget: 'tenant_month' as const,
          month,
          limitUsd: Number(budget.item['limitUsd'] ?? 0),
          spentUsd: Number(budget.item['spentUsd'] ?? 0),
          reservedUsd: Number(budget.item['reservedUsd'] ?? 0),
          attemptUsd: amountUsd,
        };
        if (roundUsd(figures.spentUsd + amountUsd) > figures.limitUsd) {
          throw new BudgetExceededError(figures);
        }
        return { reserved: false, heldByOthers: figures };
      }
      if (failed(window)) return { reserved: false, retryAfterMs: windowRetryAfterMs(now) };
      throw new InternalError('The reservation was refused for no known reason.');
    }
  }

  /** What to do about an attempt's hold another invocation took: wait, sweep it, or it is done. */
  private async blockedByHold(item: Item, now: Date): Promise<ReserveOutcome | 'tryAgain'> {
    const state = item['state'] as HoldState;
    if (state === HOLD.settled) return { reserved: false, done: { model: String(item['model']) } };
    if (state === HOLD.answered) {
      await this.settleKept(item, now);
      return { reserved: false, done: { model: String(item['model']) } };
    }
    const leaseUntil = Number(item['leaseUntil'] ?? 0);
    const current = { state, owner: String(item['owner']), leaseUntil };
    if (!canTransition('sweep', current, '', now.getTime())) return { reserved: false, leaseUntil };
    await this.sweepHold(item);
    return 'tryAgain';
  }

  /** The ledger entry of a try: one per run and try, `estimated` when usage was unknown. */
  private entryPut(
    reservation: Reservation,
    charge: Parameters<typeof ledgerEntryItem>[1],
    tags: LedgerEntryTags,
    now: Date,
  ) {
    return {
      Put: {
        TableName: this.tables.ledger,
        Item: ledgerEntryItem(reservation, charge, tags, now),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private spanPut(reservation: Reservation, span: Settlement['span']) {
    return {
      Put: {
        TableName: this.tables.trace,
        Item: spanItem(reservation.tenantId, reservation.runId, span, this.traceTtlDays),
      },
    };
  }

  /** The hold's own update for `event`, conditioned on its `from` states (and owner and try). */
  private holdUpdate(
    reservation: Reservation,
    event: HoldEvent,
    set: Record<string, unknown>,
    remove: string[],
  ) {
    const from = fromCondition(event);
    const by = HOLD_TRANSITIONS[event].by;
    // The owner's own transitions name it; a sweep names the very owner and lease it saw expire.
    const byOwner = by === 'owner' || by === 'anyoneAfterExpiry';
    const lease = by === 'anyoneAfterExpiry' ? ' AND leaseUntil = :lease' : '';
    const setNames = Object.keys(set);
    return {
      Update: {
        TableName: this.tables.ledger,
        Key: holdKey(reservation.tenantId, reservation.runId, reservation.attempt),
        UpdateExpression:
          `SET #state = :to${setNames.map((name) => `, ${name} = :${name}`).join('')}` +
          (remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''),
        ConditionExpression: `${from.expression} AND attemptKey = :attemptKey${byOwner ? ' AND #owner = :owner' : ''}${lease}`,
        ExpressionAttributeNames: { '#state': 'state', ...(byOwner ? { '#owner': 'owner' } : {}) },
        ExpressionAttributeValues: {
          ...from.values,
          ':to': HOLD_TRANSITIONS[event].to,
          ':attemptKey': reservation.attemptKey,
          ...(byOwner ? { ':owner': reservation.owner } : {}),
          ...(lease ? { ':lease': reservation.leaseUntil } : {}),
          ...Object.fromEntries(setNames.map((name) => [`:${name}`, set[name]])),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    };
  }

  private settleItems(settlement: Settlement, event: 'settle' | 'settleKept', now: Date): TransactItems {
    const { attempt, tags, span } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    const costUsd = roundUsd(attempt.costUsd);
    return [
      this.holdUpdate(reservation, event, { settledUsd: costUsd }, [...LEASE_INDEX, 'settlement']),
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(reservation.tenantId, reservation.month),
          UpdateExpression:
            'SET reservedUsd = reservedUsd - :reserved, spentUsd = spentUsd + :cost, availableUsd = availableUsd + :unused',
          ExpressionAttributeValues: {
            ':reserved': reservation.amountUsd,
            ':cost': costUsd,
            ':unused': roundUsd(reservation.amountUsd - costUsd),
          },
        },
      },
      this.entryPut(reservation, { costUsd, usage, priceVersion, estimated: false }, tags, now),
      ...costRollupUpdates(this.tables.ledger, reservation, tags, { costUsd, usage, estimated: false }, now),
      attemptRecordPut(this.tables.workflow, reservation.tenantId, reservation.runId, attempt),
      runCostUpdate(
        this.tables.workflow,
        reservation.tenantId,
        reservation.runId,
        { key: chargeKey(reservation), costUsd: attempt.costUsd, model: attempt.model },
        now,
      ),
      this.spanPut(reservation, span),
    ];
  }

  /** Whether a failed settle or release finds the try ended already as `to` (a repeated call). */
  private static endedAs(error: unknown, reservation: Reservation, to: HoldState): boolean {
    const hold = cancellation(error)?.[0];
    return failed(hold) && hold?.item?.['state'] === to && hold.item['attemptKey'] === reservation.attemptKey;
  }

  async settle(settlement: Settlement, now: Date): Promise<void> {
    const reservation = settlement.attempt.billing.reservation;
    try {
      await this.transact(
        this.settleItems(settlement, 'settle', now),
        DynamoGatewayStore.token('settle', reservation),
      );
    } catch (error) {
      if (DynamoGatewayStore.endedAs(error, reservation, HOLD.settled)) return;
      if (!isTransientStoreError(error)) throw error;
      // Billed but not charged yet: keep the answer on the hold (a small write to an item nobody
      // else writes), so the next invocation or a sweep settles it, then ask to be retried.
      try {
        await this.doc.send(
          new UpdateCommand({
            ...this.holdUpdate(
              reservation,
              'keepAnswer',
              { settlement: JSON.stringify(settlement), answeredAt: now.toISOString() },
              [],
            ).Update,
            ReturnValuesOnConditionCheckFailure: undefined,
          }),
        );
      } catch (keepError) {
        this.warn('An answered attempt could not be settled nor kept on its hold', {
          runId: reservation.runId,
          attemptKey: reservation.attemptKey,
          settleError: error instanceof Error ? error.name : 'unknown',
          keepError: keepError instanceof Error ? keepError.name : 'unknown',
        });
      }
      throw new RetryableStepError(
        SETTLE_PENDING_ERROR,
        'The answer is kept on its hold; the store could not settle it yet.',
        error,
      );
    }
  }

  /** Settles an answer an earlier invocation kept on its hold; SettlePending when it cannot yet. */
  private async settleKept(item: Item, now: Date): Promise<void> {
    if (typeof item['settlement'] !== 'string') throw new InternalError('A kept answer has no settlement.');
    const settlement = JSON.parse(item['settlement']) as Settlement;
    const at = typeof item['answeredAt'] === 'string' ? new Date(item['answeredAt']) : now;
    try {
      await this.transact(
        this.settleItems(settlement, 'settleKept', at),
        DynamoGatewayStore.token('settleKept', settlement.attempt.billing.reservation),
      );
    } catch (error) {
      if (DynamoGatewayStore.endedAs(error, settlement.attempt.billing.reservation, HOLD.settled)) return;
      if (isTransientStoreError(error)) {
        throw new RetryableStepError(SETTLE_PENDING_ERROR, 'A kept answer could not be settled yet.', error);
      }
      throw error;
    }
  }

  async release(release: Release, now: Date): Promise<void> {
    const { reservation, span, estimatedCharge } = release;
    const amount = reservation.amountUsd;
    const items: TransactItems = [
      this.holdUpdate(reservation, 'release', { settledUsd: estimatedCharge ? amount : 0 }, [...LEASE_INDEX]),
      {
        Update: {
          TableName: this.tables.ledger,
          Key: budgetKey(reservation.tenantId, reservation.month),
          UpdateExpression: estimatedCharge
            ? 'SET reservedUsd = reservedUsd - :amount, spentUsd = spentUsd + :amount'
            : 'SET reservedUsd = reservedUsd - :amount, availableUsd = availableUsd + :amount',
          ExpressionAttributeValues: { ':amount': amount },
        },
      },
      this.spanPut(reservation, span),
      ...(estimatedCharge
        ? [
            this.entryPut(
              reservation,
              {
                costUsd: amount,
                usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 },
                priceVersion: 'estimated',
                estimated: true,
              },
              estimatedCharge,
              now,
            ),
            ...costRollupUpdates(
              this.tables.ledger,
              reservation,
              estimatedCharge,
              {
                costUsd: amount,
                usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 },
                estimated: true,
              },
              now,
            ),
            runCostUpdate(
              this.tables.workflow,
              reservation.tenantId,
              reservation.runId,
              { key: chargeKey(reservation), costUsd: amount, model: reservation.model },
              now,
            ),
          ]
        : []),
    ];
    try {
      await this.transact(items, DynamoGatewayStore.token('release', reservation));
    } catch (error) {
      if (DynamoGatewayStore.endedAs(error, reservation, HOLD.released)) return;
      throw error;
    }
  }

  /** Releases a hold whose lease expired: its owner is dead, and no answer is known. */
  private async sweepHold(item: Item): Promise<void> {
    const reservation = JSON.parse(String(item['reservation'])) as Reservation;
    try {
      await this.transact([
        this.holdUpdate(reservation, 'sweep', { settledUsd: 0 }, [...LEASE_INDEX]),
        {
          Update: {
            TableName: this.tables.ledger,
            Key: budgetKey(reservation.tenantId, reservation.month),
            UpdateExpression:
              'SET reservedUsd = reservedUsd - :amount, availableUsd = availableUsd + :amount',
            ExpressionAttributeValues: { ':amount': reservation.amountUsd },
          },
        },
      ]);
    } catch (error) {
      // Ended by someone else meanwhile (its owner, another sweep): nothing left to do.
      if (cancellation(error)?.some(failed)) return;
      throw error;
    }
  }

  async sweepExpired(tenantId: string, now: Date): Promise<string[]> {
    const ended: string[] = [];
    const [indexName, partitionKey, sortKey] = ['byLease', LEASE_INDEX[0], LEASE_INDEX[1]];
    let startKey: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.ledger,
          IndexName: indexName,
          KeyConditionExpression: `${partitionKey} = :pk AND ${sortKey} < :now`,
          ExpressionAttributeValues: {
            ':pk': leaseIndexKeys({ tenantId, leaseUntil: 0, runId: '', attempt: 0 })[partitionKey],
            ':now': leaseIndexKeys({ tenantId, leaseUntil: now.getTime(), runId: '', attempt: 0 })[sortKey],
          },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        try {
          const state = item['state'] as HoldState;
          const current = { state, owner: String(item['owner']), leaseUntil: Number(item['leaseUntil']) };
          if (state === HOLD.answered) await this.settleKept(item, now);
          else if (canTransition('sweep', current, '', now.getTime())) await this.sweepHold(item);
          else continue;
          ended.push(String(item['attemptKey']));
        } catch (error) {
          // One hold that cannot be ended now must not keep the others held; the next sweep tries again.
          this.warn('An expired hold could not be ended', {
            tenantId,
            attemptKey: item['attemptKey'],
            errorName: error instanceof Error ? error.name : 'unknown',
          });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return ended;
  }

  /** The holds of a run as stored, for tests and operators (one consistent query). */
  async holdsOf(tenantId: string, runId: string): Promise<Item[]> {
    const key = holdKey(tenantId, runId, 0);
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.ledger,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hold)',
        ExpressionAttributeValues: { ':pk': key.pk, ':hold': 'HOLD#' },
        ConsistentRead: true,
      }),
    );
    return result.Items ?? [];
  }
}
