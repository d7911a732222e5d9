import { z } from 'zod';
import { EventTypeSchema } from './events.ts';

/**
 * Tenant webhook subscriptions and their deliveries. A delivery is one event for one subscription;
 * its states and transitions live here and nowhere else:
 *
 * | status      | meaning                                              | next                          |
 * |-------------|------------------------------------------------------|-------------------------------|
 * | `pending`   | waiting for its first or next attempt (`nextAttemptAt`) | `succeeded`, `pending`, `dead` |
 * | `succeeded` | the endpoint answered 2xx                            | `pending` (redeliver)          |
 * | `dead`      | every retry of the window failed (dead-lettered)     | `pending` (redeliver)          |
 */
export const WebhookStatusSchema = z.enum(['active', 'disabled']);
export type WebhookStatus = z.infer<typeof WebhookStatusSchema>;

/** A subscription as the API shows it; the signing secret is shown once, at creation, and never again. */
export const WebhookSchema = z.object({
  webhookId: z.string(),
  tenantId: z.string(),
  url: z.string(),
  events: z.array(EventTypeSchema),
  description: z.string().nullable(),
  status: WebhookStatusSchema,
  disabledReason: z.string().nullable(),
  createdAt: z.iso.datetime(),
  lastSuccessAt: z.iso.datetime().nullable(),
});
export type Webhook = z.infer<typeof WebhookSchema>;

/** The stored subscription: the public fields and the signing secret. */
export interface StoredWebhook extends Webhook {
  secret: string;
}

export const DeliveryStatusSchema = z.enum(['pending', 'succeeded', 'dead']);
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

/** One event's delivery to one subscription, as `GET /v1/webhooks/{id}/deliveries` lists it. */
export const DeliverySchema = z.object({
  deliveryId: z.string(),
  webhookId: z.string(),
  eventId: z.string(),
  eventType: EventTypeSchema,
  status: DeliveryStatusSchema,
  attempts: z.number().int().nonnegative(),
  lastResponseCode: z.number().int().nullable(),
  /** Why the last attempt failed when there was no answer (timeout, connection, blocked address…). */
  lastError: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable(),
  /** When the current retry window started (creation, or the last redelivery). */
  windowStartedAt: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Delivery = z.infer<typeof DeliverySchema>;

/** The stored delivery: what the API shows, and the exact body every attempt sends. */
export interface StoredDelivery extends Delivery {
  tenantId: string;
  body: string;
}

/**
 * Retries: exponential backoff from `baseSeconds`, doubling per failed attempt up to `maxDelaySeconds`,
 * for as long as the next attempt still falls within `windowSeconds` of the window's start; then
 * the delivery is dead-lettered. AWS stages retry for at least 24 hours; the local stack for seconds.
 */
export interface RetryPolicy {
  baseSeconds: number;
  maxDelaySeconds: number;
  windowSeconds: number;
}

/** The time of the next attempt after `attempts` failed ones, or null when the window is over. */
export function nextAttemptAt(
  policy: RetryPolicy,
  attempts: number,
  windowStartedAt: Date,
  now: Date,
): Date | null {
  const exponent = Math.max(0, attempts - 1);
  const delaySeconds = Math.min(policy.baseSeconds * 2 ** Math.min(exponent, 40), policy.maxDelaySeconds);
  const next = new Date(now.getTime() + delaySeconds * 1000);
  const windowEnd = windowStartedAt.getTime() + policy.windowSeconds * 1000;
  return next.getTime() <= windowEnd ? next : null;
}

/** The default retry policy of deployed stages: 30 s doubling to 6 h between attempts, for 27 h. */
export const DEPLOYED_RETRY_POLICY: RetryPolicy = Object.freeze({
  baseSeconds: 30,
  maxDelaySeconds: 6 * 60 * 60,
  windowSeconds: 27 * 60 * 60,
});

/** How many subscriptions a tenant may have. */
export const MAX_WEBHOOKS_PER_TENANT = 20;
