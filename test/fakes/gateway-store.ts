import type {
  GatewayStore,
  ReserveOutcome,
  Reservation,
  Settlement,
  SweepResult,
  TokenCharge,
} from '#shared/ports/index.ts';
import type { InMemoryLedger } from './ledger.ts';
import type { FakeCircuitBreaker, InMemoryRateLimiter } from './rate-limiter.ts';
import type { InMemoryWorkflowStore } from './workflow-store.ts';

type Operation = 'reserve' | 'settle' | 'release';

/**
 * The gateway's three transactions over the in-memory fakes, all or nothing like the DynamoDB
 * ones: the token window lives in the rate limiter, money in the ledger, the attempt and run cost in
 * the workflow store, failures in the breaker. Failures are scripted three ways:
 * - `ledger.failNext(op)`: the Lambda dies before the transaction (nothing written, nothing marked);
 * - `failSettleTransaction(error)`: a transient store failure on the settle transaction (it throws
 *   after keeping the answer on the reservation, as the DynamoDB adapter does for transient errors);
 * - `failAfterNext(op)`: the Lambda dies right after the transaction committed.
 */
export class InMemoryGatewayStore implements GatewayStore {
  private readonly afterFailures: { operation: Operation; error: Error }[] = [];
  private readonly settleFailures: Error[] = [];

  constructor(
    private readonly ledger: InMemoryLedger,
    private readonly store: InMemoryWorkflowStore,
    private readonly limiter: InMemoryRateLimiter,
    private readonly breaker: FakeCircuitBreaker,
  ) {}

  failAfterNext(operation: Operation, error: Error): void {
    this.afterFailures.push({ operation, error });
  }

  failSettleTransaction(error: Error): void {
    this.settleFailures.push(error);
  }

  private committed(operation: Operation): void {
    const index = this.afterFailures.findIndex((f) => f.operation === operation);
    if (index < 0) return;
    const [failure] = this.afterFailures.splice(index, 1);
    if (failure) throw failure.error;
  }

  async reserve(reservation: Reservation, tokens: TokenCharge, now: Date): Promise<ReserveOutcome> {
    // The DynamoDB transaction's verdicts, in its order: a key taken already, the budget, the window.
    if (this.ledger.isTaken(reservation)) {
      const mine = this.ledger.heldBy(reservation);
      await this.ledger.reserve(reservation, now); // records the refusal
      return mine ? { reserved: true } : { reserved: false, taken: true };
    }
    if (this.ledger.fits(reservation)) {
      if (!this.limiter.fits(tokens.key, tokens.tokens, tokens.limitPerMinute, now)) {
        const refused = await this.limiter.consume(tokens.key, tokens.tokens, tokens.limitPerMinute, now);
        if (!refused.allowed) return { reserved: false, retryAfterMs: refused.retryAfterMs };
      }
    }
    await this.ledger.reserve(reservation, now);
    await this.limiter.consume(tokens.key, tokens.tokens, tokens.limitPerMinute, now);
    this.committed('reserve');
    return { reserved: true };
  }

  /** 'settled', 'late' when another invocation's attempt record was kept, or null when not held so. */
  private async settleFrom(
    settlement: Settlement,
    now: Date,
    from: 'reserved' | 'answered',
  ): Promise<'settled' | 'late' | null> {
    const { attempt, tags } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    if (!this.store.canRecordAnsweredAttempt(reservation.tenantId, reservation.runId, attempt)) {
      this.ledger.calls.push({ operation: 'settle', attemptKey: reservation.attemptKey, applied: false });
      return null;
    }
    const applied = await this.ledger.settle(
      reservation,
      { costUsd: attempt.costUsd, ...usage, priceVersion },
      tags,
      now,
      from,
    );
    if (!applied) return null;
    const recorded = this.store.recordAnsweredAttempt(reservation.tenantId, reservation.runId, attempt, now);
    if (settlement.clearBreakerOf !== null) this.breaker.clearFailures(settlement.clearBreakerOf);
    return recorded ? 'settled' : 'late';
  }

  async settle(settlement: Settlement, now: Date): Promise<'settled' | 'late' | 'already'> {
    const reservation = settlement.attempt.billing.reservation;
    const storeFailure = this.settleFailures.shift();
    if (storeFailure) {
      const kept = this.ledger.markAnswered(reservation, { ...settlement, clearBreakerOf: null }, now);
      // Like the adapter: an answer whose hold was swept meanwhile can only be charged late.
      if (!kept && this.ledger.stateOf(reservation) === 'swept') return this.settleLate(settlement, now);
      throw storeFailure;
    }
    const settled = await this.settleFrom(settlement, now, 'reserved');
    if (settled !== null) {
      this.committed('settle');
      return settled;
    }
    // The hold was swept while the provider answered: charge the answer all the same (money, entry,
    // run cost), leaving the attempt record to the invocation that took over.
    if (this.ledger.stateOf(reservation) !== 'swept') return 'already';
    return this.settleLate(settlement, now);
  }

  private async settleLate(settlement: Settlement, now: Date): Promise<'late' | 'already'> {
    const reservation = settlement.attempt.billing.reservation;
    const { attempt, tags } = settlement;
    // Like the real transaction: no run to cost means nothing is written at all.
    if (!this.store.canRecordAnsweredAttempt(reservation.tenantId, reservation.runId, attempt))
      return 'already';
    const late = await this.ledger.settle(
      reservation,
      { costUsd: attempt.costUsd, ...attempt.billing.usage, priceVersion: attempt.billing.priceVersion },
      tags,
      now,
      'swept',
    );
    if (!late) return 'already';
    this.store.addRunCost(reservation.tenantId, reservation.runId, attempt, now);
    return 'late';
  }

  async release(reservation: Reservation, failedModel: string | null, _now: Date): Promise<boolean> {
    const applied = await this.ledger.release(reservation);
    if (applied && failedModel !== null) this.breaker.recordFailure(failedModel);
    this.committed('release');
    return applied || this.ledger.stateOf(reservation) !== 'swept';
  }

  async releaseHeld(tenantId: string, runId: string, now: Date): Promise<SweepResult> {
    const result: SweepResult = { released: [], settled: [], failed: [] };
    for (const { reservation, settlement, answeredAt } of this.ledger.heldOf(tenantId, runId)) {
      // One reservation that cannot be ended must not keep the others held.
      try {
        if (settlement) {
          if ((await this.settleFrom(settlement, answeredAt ?? now, 'answered')) !== null)
            result.settled.push(reservation.attemptKey);
        } else if (await this.ledger.release(reservation, true)) {
          result.released.push(reservation.attemptKey);
        }
      } catch {
        result.failed.push(reservation.attemptKey);
      }
    }
    return result;
  }
}
