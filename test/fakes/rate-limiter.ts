import type { CircuitBreaker, RateLimiter } from '#shared/ports/index.ts';

const WINDOW_MS = 60_000;

/** Fixed one-minute windows, like the DynamoDB limiter, kept in memory. */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly used = new Map<string, number>();
  readonly calls: { key: string; amount: number; limit: number; allowed: boolean }[] = [];

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

/** A circuit breaker whose open models a test chooses; it records what the gateway reports. */
export class FakeCircuitBreaker implements CircuitBreaker {
  readonly open = new Set<string>();
  readonly failures: string[] = [];
  readonly successes: string[] = [];

  constructor(openModels: readonly string[] = []) {
    for (const model of openModels) this.open.add(model);
  }

  isOpen(model: string): Promise<boolean> {
    return Promise.resolve(this.open.has(model));
  }

  recordFailure(model: string): Promise<void> {
    this.failures.push(model);
    return Promise.resolve();
  }

  recordSuccess(model: string): Promise<void> {
    this.successes.push(model);
    return Promise.resolve();
  }
}
