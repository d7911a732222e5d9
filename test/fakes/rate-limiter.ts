import type { CircuitBreaker, RateLimiter } from '#shared/ports/index.ts';

const WINDOW_MS = 60_000;

/** Fixed one-minute windows, like the DynamoDB limiter, kept in memory. */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly used = new Map<string, number>();
  readonly calls: { key: string; amount: number; limit: number; allowed: boolean }[] = [];

  /** Whether `amount` still fits the current window of `key`, without taking it. */
  fits(key: string, amount: number, limit: number, now: Date): boolean {
    const windowStart = Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
    return (this.used.get(`${key}#${windowStart}`) ?? 0) + amount <= limit;
  }

  consume(
    key: string,
    amount: number,
    limit: number,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
    const windowStart = Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
    const retryAfterMs = windowStart + WINDOW_MS - now.getTime();
    const slot = `${key}#${windowStart}`;
    const used = this.used.get(slot) ?? 0;
    const allowed = used + amount <= limit;
    this.calls.push({ key, amount, limit, allowed });
    if (!allowed) return Promise.resolve({ allowed: false, retryAfterMs });
    this.used.set(slot, used + amount);
    return Promise.resolve({ allowed: true });
  }
}

/**
 * A circuit breaker whose open models a test chooses. It counts consecutive failures per model as
 * the gateway reports them (best effort, beside its money transactions).
 */
export class FakeCircuitBreaker implements CircuitBreaker {
  readonly open = new Set<string>();
  /** Every failure counted and every clearing, by model, in order. */
  readonly failures: string[] = [];
  readonly successes: string[] = [];
  private readonly consecutive = new Map<string, number>();

  constructor(openModels: readonly string[] = []) {
    for (const model of openModels) this.open.add(model);
  }

  check(model: string): Promise<{ open: boolean; failures: number }> {
    return Promise.resolve({ open: this.open.has(model), failures: this.consecutive.get(model) ?? 0 });
  }

  recordFailure(model: string): Promise<void> {
    this.failures.push(model);
    this.consecutive.set(model, (this.consecutive.get(model) ?? 0) + 1);
    return Promise.resolve();
  }

  clearFailures(model: string): Promise<void> {
    this.successes.push(model);
    this.consecutive.set(model, 0);
    return Promise.resolve();
  }
}
