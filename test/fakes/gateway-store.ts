import {
  BudgetExceededError,
  InternalError,
  NotFoundError,
  RetryableStepError,
  SETTLE_PENDING_ERROR,
} from '#shared/domain/errors.ts';
import {
  canTransition,
  HOLD,
  HOLD_TRANSITIONS,
  type HoldEvent,
  type HoldState,
} from '#shared/domain/hold.ts';
import { roundUsd } from '#shared/domain/pricing.ts';
import type {
  GatewayStore,
  LedgerEntryTags,
  Release,
  Reservation,
  ReserveOutcome,
  Settlement,
  TokenCharge,
} from '#shared/ports/index.ts';
import type { InMemoryLedger } from './ledger.ts';
import type { InMemoryRateLimiter } from './rate-limiter.ts';
import type { InMemoryTraceSink } from './trace-sink.ts';
import type { InMemoryWorkflowStore } from './workflow-store.ts';

/** What a charge is idempotent per, as in the DynamoDB adapter: the try and its invocation. */
function chargeKeyOf(r: Reservation): string {
  return `${r.attemptKey}#${r.owner}`;
}

export type GatewayOperation = 'reserve' | 'settle' | 'release' | 'sweep';

/** A hold as the fake keeps it (the DynamoDB adapter's item, in memory). */
export interface FakeHold {
  state: HoldState;
  reservation: Reservation;
  settlement: Settlement | null;
  answeredAt: Date | null;
}

/**
 * The gateway's transactions over the in-memory fakes, all or nothing like the DynamoDB ones, and
 * moving holds only along `HOLD_TRANSITIONS` (domain/hold.ts). Failures are scripted:
 * - `failNext(op, error)`: the Lambda dies (or the store fails) before the transaction: nothing written;
 * - `failNext(op, error, 'after')`: the Lambda dies right after the transaction committed;
 * - `failSettleTransiently()`: the store refuses the next settle transaction transiently; the answer
 *   is kept on the hold and the retryable Rein.SettlePending is thrown, as the adapter does.
 */
export class InMemoryGatewayStore implements GatewayStore {
  private readonly holds = new Map<string, FakeHold>();
  private readonly failures: { operation: GatewayOperation; error: Error; when: 'before' | 'after' }[] = [];
  private transientSettles = 0;
  /** Every transaction, in order, with its try and whether it changed anything. */
  readonly calls: { operation: GatewayOperation; attemptKey: string; applied: boolean }[] = [];

  constructor(
    private readonly ledger: InMemoryLedger,
    private readonly store: InMemoryWorkflowStore,
    private readonly limiter: InMemoryRateLimiter,
    private readonly traces: InMemoryTraceSink,
  ) {}

  failNext(operation: GatewayOperation, error: Error, when: 'before' | 'after' = 'before'): void {
    this.failures.push({ operation, error, when });
  }

  failSettleTransiently(times = 1): void {
    this.transientSettles += times;
  }

  private failure(operation: GatewayOperation, when: 'before' | 'after'): void {
    const index = this.failures.findIndex((f) => f.operation === operation && f.when === when);
    if (index < 0) return;
    const [failure] = this.failures.splice(index, 1);
    if (failure) throw failure.error;
  }

  private static key(r: Pick<Reservation, 'tenantId' | 'runId' | 'attempt'>): string {
    return `${r.tenantId}#${r.runId}#${r.attempt}`;
  }

  /** The hold of a run's attempt, as stored, or null. */
  holdOf(tenantId: string, runId: string, attempt: number): FakeHold | null {
    const hold = this.holds.get(InMemoryGatewayStore.key({ tenantId, runId, attempt }));
    return hold ? structuredClone(hold) : null;
  }

  /** Every hold of a tenant, as stored. */
  holdsOf(tenantId: string): FakeHold[] {
    return [...this.holds.values()]
      .filter((hold) => hold.reservation.tenantId === tenantId)
      .map((hold) => structuredClone(hold));
  }

  private move(hold: FakeHold, event: HoldEvent, actor: string, now: Date): void {
    const current = {
      state: hold.state,
      owner: hold.reservation.owner,
      leaseUntil: hold.reservation.leaseUntil,
    };
    if (!canTransition(event, current, actor, now.getTime())) {
      throw new InternalError(`The hold cannot ${event} from ${hold.state}.`);
    }
    hold.state = HOLD_TRANSITIONS[event].to;
  }

  async reserve(
    reservation: Reservation,
    runCostLimitUsd: number,
    tokens: TokenCharge,
    now: Date,
  ): Promise<ReserveOutcome> {
    this.failure('reserve', 'before');
    const key = InMemoryGatewayStore.key(reservation);
    for (;;) {
      const existing = this.holds.get(key);
      const current = existing
        ? {
            state: existing.state,
            owner: existing.reservation.owner,
            leaseUntil: existing.reservation.leaseUntil,
          }
        : { state: 'absent' as const, owner: null, leaseUntil: null };
      if (existing && !canTransition('hold', current, reservation.owner, now.getTime())) {
        this.calls.push({ operation: 'reserve', attemptKey: reservation.attemptKey, applied: false });
        if (existing.state === HOLD.settled)
          return { reserved: false, done: { model: existing.reservation.model } };
        if (existing.state === HOLD.answered) {
          this.settleKept(existing, now);
          return { reserved: false, done: { model: existing.reservation.model } };
        }
        if (!canTransition('sweep', current, reservation.owner, now.getTime())) {
          return { reserved: false, leaseUntil: existing.reservation.leaseUntil };
        }
        this.sweepHold(existing, now);
        continue;
      }
      break;
    }
    const runCost = this.store.runCostOf(reservation.tenantId, reservation.runId);
    if (runCost === null) throw new NotFoundError('Run');
    if (runCost > roundUsd(runCostLimitUsd - reservation.amountUsd)) {
      throw new BudgetExceededError({
        budget: 'run_cost_cap',
        limitUsd: runCostLimitUsd,
        spentUsd: runCost,
        attemptUsd: reservation.amountUsd,
      });
    }
    const row = this.ledger.row(reservation.tenantId, reservation.month);
    if (roundUsd(row.limitUsd - row.spentUsd - row.reservedUsd) < reservation.amountUsd) {
      this.calls.push({ operation: 'reserve', attemptKey: reservation.attemptKey, applied: false });
      const figures = {
        budget: 'tenant_month' as const,
        month: reservation.month,
        limitUsd: row.limitUsd,
        spentUsd: row.spentUsd,
        reservedUsd: row.reservedUsd,
        attemptUsd: reservation.amountUsd,
      };
      if (roundUsd(row.spentUsd + reservation.amountUsd) > row.limitUsd) {
        throw new BudgetExceededError(figures);
      }
      return { reserved: false, heldByOthers: figures };
    }
    const window = await this.limiter.consume(tokens.key, tokens.tokens, tokens.limitPerMinute, now);
    if (!window.allowed) return { reserved: false, retryAfterMs: window.retryAfterMs };
    row.reservedUsd = roundUsd(row.reservedUsd + reservation.amountUsd);
    this.holds.set(key, {
      state: HOLD_TRANSITIONS.hold.to,
      reservation: { ...reservation },
      settlement: null,
      answeredAt: null,
    });
    this.calls.push({ operation: 'reserve', attemptKey: reservation.attemptKey, applied: true });
    this.failure('reserve', 'after');
    return { reserved: true };
  }

  /** The settle transaction's writes; throws (changing nothing) where a DynamoDB condition would. */
  private capture(
    hold: FakeHold,
    settlement: Settlement,
    event: 'settle' | 'settleKept',
    actor: string,
    now: Date,
  ): void {
    const { attempt, tags, span } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    if (
      !this.store.canChargeRun(reservation.tenantId, reservation.runId, chargeKeyOf(reservation)) ||
      this.ledger.hasEntry(reservation.tenantId, reservation.runId, reservation.attemptKey, reservation.owner)
    ) {
      throw new InternalError('The settle transaction was cancelled by a condition.');
    }
    this.move(hold, event, actor, now);
    hold.settlement = null;
    const costUsd = roundUsd(attempt.costUsd);
    const row = this.ledger.row(reservation.tenantId, reservation.month);
    row.reservedUsd = roundUsd(row.reservedUsd - reservation.amountUsd);
    row.spentUsd = roundUsd(row.spentUsd + costUsd);
    this.ledger.addEntry(
      {
        ...tags,
        at: now.toISOString(),
        day: now.toISOString().slice(0, 10),
        attemptKey: reservation.attemptKey,
        costUsd,
        ...usage,
        priceVersion,
        estimated: false,
      },
      reservation.owner,
    );
    this.store.storeAttempt(reservation.tenantId, reservation.runId, attempt);
    this.store.chargeRun(
      reservation.tenantId,
      reservation.runId,
      { key: chargeKeyOf(reservation), costUsd: attempt.costUsd, model: attempt.model },
      now,
    );
    void this.traces.record(reservation.tenantId, reservation.runId, span);
  }

  private settleKept(hold: FakeHold, now: Date): void {
    if (!hold.settlement) throw new InternalError('A kept answer has no settlement.');
    this.capture(hold, hold.settlement, 'settleKept', '', hold.answeredAt ?? now);
    this.calls.push({ operation: 'settle', attemptKey: hold.reservation.attemptKey, applied: true });
  }

  settle(settlement: Settlement, now: Date): Promise<void> {
    this.failure('settle', 'before');
    const reservation = settlement.attempt.billing.reservation;
    const hold = this.holds.get(InMemoryGatewayStore.key(reservation));
    if (!hold || hold.reservation.attemptKey !== reservation.attemptKey) {
      return Promise.reject(new InternalError('The hold of this try is gone.'));
    }
    if (hold.state === HOLD.settled) return Promise.resolve();
    if (this.transientSettles > 0) {
      this.transientSettles -= 1;
      this.move(hold, 'keepAnswer', reservation.owner, now);
      hold.settlement = structuredClone(settlement);
      hold.answeredAt = now;
      this.calls.push({ operation: 'settle', attemptKey: reservation.attemptKey, applied: false });
      return Promise.reject(
        new RetryableStepError(
          SETTLE_PENDING_ERROR,
          'The answer is kept on its hold; the store could not settle it yet.',
        ),
      );
    }
    this.capture(hold, settlement, 'settle', reservation.owner, now);
    this.calls.push({ operation: 'settle', attemptKey: reservation.attemptKey, applied: true });
    this.failure('settle', 'after');
    return Promise.resolve();
  }

  release(release: Release, now: Date): Promise<void> {
    this.failure('release', 'before');
    const { reservation, span, estimatedCharge } = release;
    const hold = this.holds.get(InMemoryGatewayStore.key(reservation));
    if (!hold || hold.reservation.attemptKey !== reservation.attemptKey || hold.state === HOLD.released) {
      this.calls.push({ operation: 'release', attemptKey: reservation.attemptKey, applied: false });
      return Promise.resolve();
    }
    this.move(hold, 'release', reservation.owner, now);
    const row = this.ledger.row(reservation.tenantId, reservation.month);
    row.reservedUsd = roundUsd(row.reservedUsd - reservation.amountUsd);
    if (estimatedCharge) this.chargeEstimated(reservation, estimatedCharge, row, now);
    void this.traces.record(reservation.tenantId, reservation.runId, span);
    this.calls.push({ operation: 'release', attemptKey: reservation.attemptKey, applied: true });
    this.failure('release', 'after');
    return Promise.resolve();
  }

  private chargeEstimated(
    reservation: Reservation,
    tags: LedgerEntryTags,
    row: { spentUsd: number },
    now: Date,
  ): void {
    row.spentUsd = roundUsd(row.spentUsd + reservation.amountUsd);
    this.ledger.addEntry(
      {
        ...tags,
        at: now.toISOString(),
        day: now.toISOString().slice(0, 10),
        attemptKey: reservation.attemptKey,
        costUsd: reservation.amountUsd,
        inputTokens: 0,
        cachedInputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
        priceVersion: 'estimated',
        estimated: true,
      },
      reservation.owner,
    );
    this.store.chargeRun(
      reservation.tenantId,
      reservation.runId,
      { key: chargeKeyOf(reservation), costUsd: reservation.amountUsd, model: reservation.model },
      now,
    );
  }

  private sweepHold(hold: FakeHold, now: Date): void {
    this.move(hold, 'sweep', '', now);
    const row = this.ledger.row(hold.reservation.tenantId, hold.reservation.month);
    row.reservedUsd = roundUsd(row.reservedUsd - hold.reservation.amountUsd);
    this.calls.push({ operation: 'sweep', attemptKey: hold.reservation.attemptKey, applied: true });
  }

  sweepExpired(tenantId: string, now: Date): Promise<string[]> {
    this.failure('sweep', 'before');
    const ended: string[] = [];
    for (const hold of this.holds.values()) {
      if (hold.reservation.tenantId !== tenantId) continue;
      const current = {
        state: hold.state,
        owner: hold.reservation.owner,
        leaseUntil: hold.reservation.leaseUntil,
      };
      // A kept answer is settled by whoever comes (its lease no longer matters); a hold only as the table allows.
      if (hold.state === HOLD.answered && hold.reservation.leaseUntil < now.getTime())
        this.settleKept(hold, now);
      else if (canTransition('sweep', current, '', now.getTime())) this.sweepHold(hold, now);
      else continue;
      ended.push(hold.reservation.attemptKey);
    }
    return Promise.resolve(ended);
  }
}
