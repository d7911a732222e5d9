import { webhookBody, type DomainEvent } from '../domain/events.ts';
import { nextAttemptAt, type StoredDelivery, type StoredWebhook } from '../domain/webhooks.ts';
import { signatureHeaders } from '../outbound/signing.ts';
import type { AttemptOutcome, DeliveryRef } from '../ports/index.ts';
import type { Deps } from './deps.ts';

/**
 * Delivery of domain events from the outbox: to the stage's event bus and to every active webhook
 * subscription of the event's tenant that asked for its type. At-least-once: a dispatcher that dies
 * part-way leaves the event in the outbox's waiting list and the next one repeats the idempotent
 * steps; receivers de-duplicate by the event id, which is the `webhook-id` of every attempt.
 *
 * AWS: the workflow table's stream calls `dispatchEvents` for new events; a schedule calls
 * `sweepOutbox` (events the stream missed, due retries). Locally the stack's drainer calls
 * `sweepOutbox` every few hundred milliseconds, through the same Lambda handler.
 */
type DeliveryDeps = Pick<
  Deps,
  'clock' | 'webhooks' | 'eventBus' | 'webhookTransport' | 'metrics' | 'settings' | 'log'
>;

/** How long one attempt holds its delivery: past the transport's timeout, so attempts never overlap. */
const ATTEMPT_LEASE_MS = 60_000;
const SWEEP_BATCH = 25;

export interface DispatchResult {
  dispatched: number;
  deliveries: number;
}

/** Dispatches events: creates their deliveries, publishes them to the bus, then attempts each delivery once. */
export async function dispatchEvents(
  deps: DeliveryDeps,
  events: readonly DomainEvent[],
): Promise<DispatchResult> {
  if (events.length === 0) return { dispatched: 0, deliveries: 0 };
  const created: DeliveryRef[] = [];
  const subscriptionsByTenant = new Map<string, StoredWebhook[]>();
  for (const event of events) {
    let subscriptions = subscriptionsByTenant.get(event.tenantId);
    if (!subscriptions) {
      subscriptions = await deps.webhooks.listWebhooks(event.tenantId);
      subscriptionsByTenant.set(event.tenantId, subscriptions);
    }
    const now = deps.clock.now();
    for (const webhook of subscriptions) {
      if (webhook.status !== 'active' || !webhook.events.includes(event.type)) continue;
      // One delivery per event and subscription: its id comes from the event id (unique within the
      // subscription's partition), so a repeated dispatch finds it and creates nothing.
      const delivery: StoredDelivery = {
        deliveryId: `dlv_${event.id.slice(event.id.indexOf('_') + 1)}`,
        webhookId: webhook.webhookId,
        tenantId: event.tenantId,
        eventId: event.id,
        eventType: event.type,
        status: 'pending',
        attempts: 0,
        lastResponseCode: null,
        lastError: null,
        nextAttemptAt: now.toISOString(),
        windowStartedAt: now.toISOString(),
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        body: webhookBody(event),
      };
      if (await deps.webhooks.createDelivery(delivery)) created.push(delivery);
    }
  }
  await deps.eventBus.publish(events);
  const now = deps.clock.now();
  for (const event of events) await deps.webhooks.markEventDispatched(event, now);
  for (const ref of created) await attemptDelivery(deps, ref);
  return { dispatched: events.length, deliveries: created.length };
}

/** What a scheduled sweep did. */
export interface SweepOutcome {
  dispatched: number;
  attempted: number;
}

/**
 * Dispatches events the stream has not (older than the grace period; locally at once) and
 * attempts every delivery whose next attempt is due.
 */
export async function sweepOutbox(deps: DeliveryDeps): Promise<SweepOutcome> {
  const now = deps.clock.now();
  const graceMs = deps.settings.outboxSweepGraceSeconds * 1000;
  const waiting = await deps.webhooks.listUndispatchedEvents(new Date(now.getTime() - graceMs), SWEEP_BATCH);
  const { dispatched } = await dispatchEvents(deps, waiting);
  const due = await deps.webhooks.listDueDeliveries(deps.clock.now(), SWEEP_BATCH);
  let attempted = 0;
  for (const ref of due) {
    if (await attemptDelivery(deps, ref)) attempted += 1;
  }
  return { dispatched, attempted };
}

/**
 * One signed attempt of a pending delivery, if no other dispatcher holds it. A 2xx answer
 * succeeds; anything else (another status, a timeout, a refused address) is retried with
 * exponential backoff within the retry window, then dead-lettered. A subscription whose delivery
 * dies without any success since that delivery was created is disabled, with the reason.
 */
export async function attemptDelivery(deps: DeliveryDeps, ref: DeliveryRef): Promise<boolean> {
  const delivery = await deps.webhooks.claimDelivery(ref, deps.clock.now(), ATTEMPT_LEASE_MS);
  if (!delivery) return false;
  const webhook = await deps.webhooks.getWebhook(ref.tenantId, ref.webhookId);
  if (!webhook || webhook.status !== 'active') {
    await deps.webhooks.finishAttempt(ref, {
      ok: false,
      responseCode: null,
      error: webhook ? 'The webhook is disabled.' : 'The webhook was deleted.',
      at: deps.clock.now(),
      nextAttemptAt: null,
    });
    return true;
  }

  const sentAt = deps.clock.now();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Rein-Webhooks/1',
    ...signatureHeaders(webhook.secret, delivery.eventId, sentAt, delivery.body),
  };
  let responseCode: number | null = null;
  let error: string | null = null;
  try {
    responseCode = (await deps.webhookTransport.post(webhook.url, headers, delivery.body)).status;
  } catch (failure) {
    error = failure instanceof Error ? failure.message : 'The request failed.';
  }
  const at = deps.clock.now();
  const dimensions = { eventType: delivery.eventType };
  if (responseCode !== null && responseCode >= 200 && responseCode < 300) {
    await deps.webhooks.finishAttempt(ref, { ok: true, responseCode, at });
    await deps.webhooks.recordWebhookSuccess(ref.tenantId, ref.webhookId, at);
    deps.metrics.count('WebhookDeliveriesSucceeded', 1, dimensions);
    return true;
  }

  const next = nextAttemptAt(
    deps.settings.webhookRetry,
    delivery.attempts + 1,
    new Date(delivery.windowStartedAt),
    at,
  );
  const outcome: AttemptOutcome = { ok: false, responseCode, error, at, nextAttemptAt: next };
  await deps.webhooks.finishAttempt(ref, outcome);
  deps.metrics.count('WebhookDeliveryFailures', 1, dimensions);
  deps.log.warn('Webhook delivery attempt failed', {
    tenantId: ref.tenantId,
    webhookId: ref.webhookId,
    deliveryId: ref.deliveryId,
    eventId: delivery.eventId,
    attempt: delivery.attempts + 1,
    responseCode,
    error,
    deadLettered: next === null,
  });
  if (next === null) {
    // No event-type dimension: the dead-letter alarm watches this one series.
    deps.metrics.count('WebhookDeliveriesDeadLettered', 1, {});
    const noSuccessSince = webhook.lastSuccessAt === null || webhook.lastSuccessAt < delivery.createdAt;
    if (noSuccessSince) {
      const last = responseCode === null ? (error ?? 'no answer') : `HTTP ${responseCode}`;
      await deps.webhooks.disableWebhook(
        ref.tenantId,
        ref.webhookId,
        `Every attempt failed for the whole retry window (${delivery.attempts + 1} attempts of delivery ${delivery.deliveryId}; last: ${last}).`,
        at,
      );
    }
  }
  return true;
}
