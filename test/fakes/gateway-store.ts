import type { GatewayStore, Reservation, Settlement, TokenCharge } from '#shared/ports/index.ts';
import type { InMemoryLedger } from './ledger.ts';
import type { FakeCircuitBreaker, InMemoryRateLimiter } from './rate-limiter.ts';
import type { InMemoryWorkflowStore } from './workflow-store.ts';

type Operation = 'reserve' | 'settle' | 'release';

/**
 * The gateway's three transactions over the in-memory fakes, all or nothing like the DynamoDB
 * ones: the token window lives in the rate limiter, money in the ledger, the attempt and run cost in
 * the workflow store, failures in the breaker. Crashes *before* a transaction are scripted with
 * `ledger.failNext`; `failAfterNext` scripts one *after* it committed (the Lambda dies before returning).
 */
export class InMemoryGatewayStore implements GatewayStore {
  private readonly afterFailures: { operation: Operation; error: Error }[] = [];

  constructor(
    private readonly ledger: InMemoryLedger,
    private readonly store: InMemoryWorkflowStore,
    private readonly limiter: InMemoryRateLimiter,
    private readonly breaker: FakeCircuitBreaker,
  ) {}

  failAfterNext(operation: Operation, error: Error): void {
    this.afterFailures.push({ operation, error });
  }

  private committed(operation: Operation): void {
    const index = this.afterFailures.findIndex((f) => f.operation === operation);
    if (index < 0) return;
    const [failure] = this.afterFailures.splice(index, 1);
    if (failure) throw failure.error;
  }

  async reserve(
    reservation: Reservation,
    tokens: TokenCharge,
    now: Date,
  ): Promise<{ reserved: true } | { reserved: false; retryAfterMs: number }> {
    // The DynamoDB transaction's verdicts, in its order: a key taken already, the budget, the window.
    const taken = this.ledger.isTaken(reservation);
    if (!taken && this.ledger.fits(reservation)) {
      if (!this.limiter.fits(tokens.key, tokens.tokens, tokens.limitPerMinute, now)) {
        const refused = await this.limiter.consume(tokens.key, tokens.tokens, tokens.limitPerMinute, now);
        if (!refused.allowed) return { reserved: false, retryAfterMs: refused.retryAfterMs };
      }
    }
    await this.ledger.reserve(reservation, now);
    if (!taken) await this.limiter.consume(tokens.key, tokens.tokens, tokens.limitPerMinute, now);
    this.committed('reserve');
    return { reserved: true };
  }

  async settle(settlement: Settlement, now: Date): Promise<boolean> {
    const { attempt, tags } = settlement;
    const { reservation, usage, priceVersion } = attempt.billing;
    if (!this.store.canRecordAnsweredAttempt(reservation.tenantId, reservation.runId, attempt)) {
      this.ledger.calls.push({ operation: 'settle', attemptKey: reservation.attemptKey, applied: false });
      return false;
    }
    const applied = await this.ledger.settle(
      reservation,
      { costUsd: attempt.costUsd, ...usage, priceVersion },
      tags,
      now,
    );
    if (!applied) return false;
    this.store.recordAnsweredAttempt(reservation.tenantId, reservation.runId, attempt, now);
    if (settlement.clearBreakerOf !== null) this.breaker.clearFailures(settlement.clearBreakerOf);
    this.committed('settle');
    return true;
  }

  async release(reservation: Reservation, failedModel: string | null, _now: Date): Promise<void> {
    const applied = await this.ledger.release(reservation);
    if (applied && failedModel !== null) this.breaker.recordFailure(failedModel);
    this.committed('release');
  }

  async releaseHeld(tenantId: string, runId: string, now: Date): Promise<string[]> {
    const released: string[] = [];
    for (const held of this.ledger.heldOf(tenantId, runId)) {
      await this.release(held, null, now);
      released.push(held.attemptKey);
    }
    return released;
  }
}
