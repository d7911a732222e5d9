import type { DomainEvent } from '#shared/domain/events.ts';
import type { StoredDelivery, StoredWebhook } from '#shared/domain/webhooks.ts';
import type {
  AttemptOutcome,
  DeliveryRef,
  EventBus,
  LogSink,
  MetricsSink,
  WebhookStore,
  WebhookTransport,
} from '#shared/ports/index.ts';

type StoredDeliveryWithLease = StoredDelivery & { leaseUntil?: number };

/**
 * Subscriptions, deliveries and the outbox's waiting list in memory, with the DynamoDB store's
 * conditional semantics: a delivery is created once, claimed by one attempt at a time, and only
 * pending deliveries are due. Events enter the waiting list with `record` (what the outbox write
 * does in DynamoDB).
 */
export class InMemoryWebhookStore implements WebhookStore {
  private readonly webhooks = new Map<string, StoredWebhook>();
  private readonly deliveries = new Map<string, StoredDeliveryWithLease>();
  private readonly waiting = new Map<string, DomainEvent>();
  readonly dispatched: string[] = [];

  record(event: DomainEvent): void {
    this.waiting.set(event.id, structuredClone(event));
  }

  private deliveryKey(ref: DeliveryRef): string {
    return `${ref.tenantId}#${ref.webhookId}#${ref.deliveryId}`;
  }

  createWebhook(webhook: StoredWebhook): Promise<void> {
    this.webhooks.set(`${webhook.tenantId}#${webhook.webhookId}`, structuredClone(webhook));
    return Promise.resolve();
  }
  listWebhooks(tenantId: string): Promise<StoredWebhook[]> {
    return Promise.resolve(
      [...this.webhooks.values()].filter((w) => w.tenantId === tenantId).map((w) => structuredClone(w)),
    );
  }
  getWebhook(tenantId: string, webhookId: string): Promise<StoredWebhook | null> {
    const found = this.webhooks.get(`${tenantId}#${webhookId}`);
    return Promise.resolve(found ? structuredClone(found) : null);
  }
  deleteWebhook(tenantId: string, webhookId: string): Promise<boolean> {
    return Promise.resolve(this.webhooks.delete(`${tenantId}#${webhookId}`));
  }
  recordWebhookSuccess(tenantId: string, webhookId: string, at: Date): Promise<void> {
    const found = this.webhooks.get(`${tenantId}#${webhookId}`);
    if (found) found.lastSuccessAt = at.toISOString();
    return Promise.resolve();
  }
  disableWebhook(tenantId: string, webhookId: string, reason: string): Promise<void> {
    const found = this.webhooks.get(`${tenantId}#${webhookId}`);
    if (found) {
      found.status = 'disabled';
      found.disabledReason = reason;
    }
    return Promise.resolve();
  }
  createDelivery(delivery: StoredDelivery): Promise<boolean> {
    const key = this.deliveryKey(delivery);
    if (this.deliveries.has(key)) return Promise.resolve(false);
    this.deliveries.set(key, structuredClone(delivery));
    return Promise.resolve(true);
  }
  getDelivery(tenantId: string, webhookId: string, deliveryId: string): Promise<StoredDelivery | null> {
    const found = this.deliveries.get(this.deliveryKey({ tenantId, webhookId, deliveryId }));
    return Promise.resolve(found ? structuredClone(found) : null);
  }
  listDeliveries(tenantId: string, webhookId: string, limit: number): Promise<StoredDelivery[]> {
    return Promise.resolve(
      [...this.deliveries.values()]
        .filter((d) => d.tenantId === tenantId && d.webhookId === webhookId)
        .sort((a, b) => b.deliveryId.localeCompare(a.deliveryId))
        .slice(0, limit)
        .map((d) => structuredClone(d)),
    );
  }
  claimDelivery(ref: DeliveryRef, now: Date, leaseMs: number): Promise<StoredDelivery | null> {
    const found = this.deliveries.get(this.deliveryKey(ref));
    if (!found || found.status !== 'pending') return Promise.resolve(null);
    if (found.leaseUntil !== undefined && found.leaseUntil >= now.getTime()) return Promise.resolve(null);
    found.leaseUntil = now.getTime() + leaseMs;
    return Promise.resolve(structuredClone(found));
  }
  finishAttempt(ref: DeliveryRef, outcome: AttemptOutcome): Promise<StoredDelivery> {
    const found = this.deliveries.get(this.deliveryKey(ref));
    if (!found) throw new Error('No such delivery.');
    found.attempts += 1;
    found.lastResponseCode = outcome.responseCode;
    found.updatedAt = outcome.at.toISOString();
    delete found.leaseUntil;
    if (outcome.ok) {
      found.status = 'succeeded';
      found.lastError = null;
      found.nextAttemptAt = null;
    } else {
      found.lastError = outcome.error;
      found.nextAttemptAt = outcome.nextAttemptAt?.toISOString() ?? null;
      found.status = outcome.nextAttemptAt === null ? 'dead' : 'pending';
    }
    return Promise.resolve(structuredClone(found));
  }
  redeliver(ref: DeliveryRef, now: Date): Promise<StoredDelivery | null> {
    const found = this.deliveries.get(this.deliveryKey(ref));
    if (!found) return Promise.resolve(null);
    found.status = 'pending';
    found.nextAttemptAt = now.toISOString();
    found.windowStartedAt = now.toISOString();
    found.updatedAt = now.toISOString();
    return Promise.resolve(structuredClone(found));
  }
  listDueDeliveries(now: Date, limit: number): Promise<DeliveryRef[]> {
    return Promise.resolve(
      [...this.deliveries.values()]
        .filter(
          (d) => d.status === 'pending' && d.nextAttemptAt !== null && d.nextAttemptAt <= now.toISOString(),
        )
        .sort((a, b) => (a.nextAttemptAt ?? '').localeCompare(b.nextAttemptAt ?? ''))
        .slice(0, limit)
        .map((d) => ({ tenantId: d.tenantId, webhookId: d.webhookId, deliveryId: d.deliveryId })),
    );
  }
  listUndispatchedEvents(recordedBefore: Date, limit: number): Promise<DomainEvent[]> {
    return Promise.resolve(
      [...this.waiting.values()]
        .filter((e) => e.occurredAt <= recordedBefore.toISOString())
        .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt))
        .slice(0, limit)
        .map((e) => structuredClone(e)),
    );
  }
  markEventDispatched(event: DomainEvent): Promise<void> {
    if (this.waiting.delete(event.id)) this.dispatched.push(event.id);
    return Promise.resolve();
  }
}

/** Keeps what was published to the bus. */
export class RecordingEventBus implements EventBus {
  readonly published: DomainEvent[] = [];
  publish(events: readonly DomainEvent[]): Promise<void> {
    this.published.push(...events.map((e) => structuredClone(e)));
    return Promise.resolve();
  }
}

export interface SentRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A scripted webhook endpoint: answers the queued statuses in order (then 200), or throws a queued
 * error; records every request. `refused` lists URLs that `checkTarget` refuses.
 */
export class ScriptedWebhookTransport implements WebhookTransport {
  readonly sent: SentRequest[] = [];
  private readonly answers: (number | Error)[] = [];
  constructor(private readonly refused: readonly string[] = []) {}

  answer(...answers: (number | Error)[]): this {
    this.answers.push(...answers);
    return this;
  }
  post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
    this.sent.push({ url, headers: { ...headers }, body });
    const next = this.answers.shift() ?? 200;
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve({ status: next });
  }
  checkTarget(url: string): Promise<void> {
    if (this.refused.some((prefix) => url.startsWith(prefix))) {
      return Promise.reject(new Error('The target address is not allowed (private address).'));
    }
    return Promise.resolve();
  }
}

export class RecordingMetrics implements MetricsSink {
  /** Sums by metric name. */
  readonly counts = new Map<string, number>();
  /** Every data point, in order. */
  readonly points: { name: string; value: number; dimensions: Record<string, string> }[] = [];
  count(name: string, value: number, dimensions: Record<string, string>): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
    this.points.push({ name, value, dimensions: { ...dimensions } });
  }
  measure(name: string, value: number, _unit: string, dimensions: Record<string, string>): void {
    this.count(name, value, dimensions);
  }
}

export class RecordingLog implements LogSink {
  readonly lines: { level: string; message: string; details: Record<string, unknown> }[] = [];
  info(message: string, details: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, details });
  }
  warn(message: string, details: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', message, details });
  }
}
