import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { EventTypeSchema } from '../domain/events.ts';
import { newId } from '../domain/ids.ts';
import type { Principal } from '../domain/principal.ts';
import { safeText } from '../domain/text.ts';
import {
  MAX_WEBHOOKS_PER_TENANT,
  WebhookSchema,
  type Delivery,
  type StoredDelivery,
  type StoredWebhook,
  type Webhook,
} from '../domain/webhooks.ts';
import { newSigningSecret } from '../outbound/signing.ts';
import type { Deps } from './deps.ts';

/**
 * The tenant webhooks API (tenant admins; roles are checked at the door by the route records):
 * subscriptions, their delivery log and redelivery.
 * Delivery itself is `./event-delivery.ts`.
 */
export const CreateWebhookBodySchema = z
  .object({
    url: z.string().min(1).max(2048),
    events: z
      .array(EventTypeSchema)
      .min(1)
      .max(20)
      .refine((events) => new Set(events).size === events.length, 'Each event type may be listed once.'),
    description: safeText(500).optional(),
  })
  .strict();

/** A new subscription with its signing secret: the only answer that ever contains the secret. */
export const CreatedWebhookSchema = WebhookSchema.extend({ secret: z.string() });
export type CreatedWebhook = z.infer<typeof CreatedWebhookSchema>;

export const ListDeliveriesQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(100).default(50) })
  .strict();

function publicWebhook(stored: StoredWebhook): Webhook {
  return WebhookSchema.parse(stored);
}

function publicDelivery(stored: StoredDelivery): Delivery {
  const { tenantId: _tenant, body: _body, ...delivery } = stored;
  return delivery;
}

function invalid(message: string, issues: readonly z.core.$ZodIssue[]): ValidationError {
  return new ValidationError(
    message,
    issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  );
}

/** POST /v1/webhooks: checks the target with the outbound policy and answers with the secret, once. */
export async function createWebhook(
  deps: Pick<Deps, 'clock' | 'webhooks' | 'webhookTransport'>,
  principal: Principal,
  body: unknown,
): Promise<CreatedWebhook> {
  const parsed = CreateWebhookBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw invalid('The request body is invalid.', parsed.error.issues);
  try {
    await deps.webhookTransport.checkTarget(parsed.data.url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'The URL is not allowed.';
    throw new ValidationError('The webhook URL is not allowed.', [{ path: 'url', message: reason }]);
  }
  const existing = await deps.webhooks.listWebhooks(principal.tenantId);
  if (existing.length >= MAX_WEBHOOKS_PER_TENANT) {
    throw new ConflictError(`A tenant may have at most ${MAX_WEBHOOKS_PER_TENANT} webhooks.`);
  }
  const now = deps.clock.now();
  const stored: StoredWebhook = {
    webhookId: newId('whk', now.getTime()),
    tenantId: principal.tenantId,
    url: parsed.data.url,
    events: parsed.data.events,
    description: parsed.data.description ?? null,
    status: 'active',
    disabledReason: null,
    createdAt: now.toISOString(),
    lastSuccessAt: null,
    secret: newSigningSecret(),
  };
  await deps.webhooks.createWebhook(stored);
  return { ...publicWebhook(stored), secret: stored.secret };
}

export async function listWebhooks(
  deps: Pick<Deps, 'webhooks'>,
  principal: Principal,
): Promise<{ items: Webhook[] }> {
  const items = await deps.webhooks.listWebhooks(principal.tenantId);
  return { items: items.map(publicWebhook).sort((a, b) => a.createdAt.localeCompare(b.createdAt)) };
}

export async function deleteWebhook(
  deps: Pick<Deps, 'webhooks'>,
  principal: Principal,
  webhookId: string,
): Promise<void> {
  if (!(await deps.webhooks.deleteWebhook(principal.tenantId, webhookId))) throw new NotFoundError('Webhook');
}

async function requireWebhook(
  deps: Pick<Deps, 'webhooks'>,
  principal: Principal,
  webhookId: string,
): Promise<StoredWebhook> {
  const webhook = await deps.webhooks.getWebhook(principal.tenantId, webhookId);
  if (!webhook) throw new NotFoundError('Webhook');
  return webhook;
}

/** GET /v1/webhooks/{id}/deliveries: status, attempts, last response code and next retry, newest first. */
export async function listDeliveries(
  deps: Pick<Deps, 'webhooks'>,
  principal: Principal,
  webhookId: string,
  query: Record<string, string | undefined>,
): Promise<{ items: Delivery[] }> {
  await requireWebhook(deps, principal, webhookId);
  const parsed = ListDeliveriesQuerySchema.safeParse(query);
  if (!parsed.success) throw invalid('The query string is invalid.', parsed.error.issues);
  const items = await deps.webhooks.listDeliveries(principal.tenantId, webhookId, parsed.data.limit);
  return { items: items.map(publicDelivery) };
}

/** POST …/deliveries/{deliveryId}/redeliver: the delivery is attempted again at once, with a new retry window. */
export async function redeliver(
  deps: Pick<Deps, 'clock' | 'webhooks'>,
  principal: Principal,
  webhookId: string,
  deliveryId: string,
): Promise<Delivery> {
  const webhook = await requireWebhook(deps, principal, webhookId);
  if (webhook.status === 'disabled') {
    throw new ConflictError('The webhook is disabled; create a new one for a working endpoint.', [
      { path: 'status', message: 'disabled' },
    ]);
  }
  const delivery = await deps.webhooks.redeliver(
    { tenantId: principal.tenantId, webhookId, deliveryId },
    deps.clock.now(),
  );
  if (!delivery) throw new NotFoundError('Delivery');
  return publicDelivery(delivery);
}
