import { z } from 'zod';
import { RUN_FAILURE_CODES } from './errors.ts';
import { newId } from './ids.ts';

/**
 * Rein's domain events: what product teams hear about through webhooks and the stage's EventBridge
 * bus. This module owns the event types and their payload schemas; payloads carry ids, statuses and
 * figures only, never draft content, reasons typed by people, or secrets.
 *
 * An event is written in the same DynamoDB transaction as the state change it reports (the outbox
 * item of `shared/adapters/dynamodb/outbox.ts`), so no event is lost or invented; delivery from the
 * outbox is at-least-once, and receivers de-duplicate by `id`.
 */
const Ids = { runId: z.string(), workflowId: z.string() };

export const EVENT_PAYLOADS = {
  'run.awaiting_review': z.object({ ...Ids, draftId: z.string() }),
  'run.failed': z.object({ runId: z.string(), code: z.enum(RUN_FAILURE_CODES) }),
  'draft.escalated': z.object({ ...Ids, draftId: z.string(), escalatedBy: z.string() }),
  'draft.decided': z.object({
    ...Ids,
    draftId: z.string(),
    decision: z.enum(['approved', 'rejected', 'expired']),
    reviewer: z.string().nullable(),
  }),
  'budget.threshold_reached': z.object({
    /** Which budget: the tenant's monthly budget (the only budget with thresholds so far). */
    budget: z.literal('tenant_month'),
    month: z.string(),
    thresholdPercent: z.number().int().positive(),
    limitUsd: z.number(),
    spentUsd: z.number(),
    /** The run whose settled cost crossed the threshold. */
    runId: z.string(),
  }),
  'action.executed': z.object({ ...Ids, draftId: z.string(), actionId: z.string() }),
  'action.failed': z.object({ ...Ids, draftId: z.string(), actionId: z.string(), code: z.string() }),
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;
export const EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as [EventType, ...EventType[]];
export const EventTypeSchema = z.enum(EVENT_TYPES);

export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_PAYLOADS)[T]>;

const envelope = <T extends EventType>(type: T) =>
  z.object({
    id: z.string(),
    type: z.literal(type),
    tenantId: z.string(),
    occurredAt: z.iso.datetime(),
    data: EVENT_PAYLOADS[type],
  });

/** One domain event: unique id, type, time, tenant and a small payload. */
export const DomainEventSchema = z.discriminatedUnion('type', [
  envelope('run.awaiting_review'),
  envelope('run.failed'),
  envelope('draft.escalated'),
  envelope('draft.decided'),
  envelope('budget.threshold_reached'),
  envelope('action.executed'),
  envelope('action.failed'),
]);
export type DomainEvent = z.infer<typeof DomainEventSchema>;

/** A new event with a fresh, time-ordered id; the payload is validated against its type's schema. */
export function newEvent<T extends EventType>(
  type: T,
  tenantId: string,
  data: EventPayload<T>,
  now: Date,
): DomainEvent {
  return DomainEventSchema.parse({
    id: newId('evt', now.getTime()),
    type,
    tenantId,
    occurredAt: now.toISOString(),
    data: EVENT_PAYLOADS[type].parse(data),
  });
}

/**
 * The JSON body a webhook receives (the Standard Webhooks payload shape: `type`, `timestamp`,
 * `data`, plus the event id and tenant). The same bytes are sent on every retry.
 */
export function webhookBody(event: DomainEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    timestamp: event.occurredAt,
    tenantId: event.tenantId,
    data: event.data,
  });
}
