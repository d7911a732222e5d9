import type { DomainEvent } from '../../domain/events.ts';

/**
 * The outbox, webhook subscriptions and deliveries: items of the workflow table, so an event is
 * written in the same transaction as the run or draft change it reports (and the gateway's settle
 * transaction, which writes the run's cost there already, can add a budget event).
 *
 * | item         | pk                           | sk                       | byDue index (duePk / dueSk)               |
 * |--------------|------------------------------|--------------------------|-------------------------------------------|
 * | event        | `<t>#EVENT#<eventId>`        | `EVENT`                  | `OUTBOX` / `<occurredAt>#<t>#<eventId>` until dispatched |
 * | subscription | `<t>#WEBHOOKS`               | `WEBHOOK#<webhookId>`    | —                                         |
 * | delivery     | `<t>#WEBHOOK#<webhookId>`    | `DELIVERY#<deliveryId>`  | `DELIVERY` / `<nextAttemptAt>#<t>#<webhookId>#<deliveryId>` while pending |
 *
 * In AWS the table's stream (filtered to inserted `EVENT` items) feeds the delivery Lambda; the
 * byDue index lets a scheduled sweep (and the local stack's drainer) find events not dispatched yet
 * and deliveries whose next attempt is due. Both index partitions are sparse: an item leaves the
 * index when it no longer waits.
 */
export const OUTBOX_SK = 'EVENT';
export const DUE_INDEX = 'byDue';
export const DUE_OUTBOX = 'OUTBOX';
export const DUE_DELIVERY = 'DELIVERY';
/** Events and deliveries are kept 30 days for the delivery log, then removed by TTL. */
export const EVENT_RETENTION_SECONDS = 30 * 24 * 60 * 60;

export function eventKey(tenantId: string, eventId: string) {
  return { pk: `${tenantId}#EVENT#${eventId}`, sk: OUTBOX_SK };
}

export function webhookKey(tenantId: string, webhookId: string) {
  return { pk: `${tenantId}#WEBHOOKS`, sk: `WEBHOOK#${webhookId}` };
}

export function webhooksPartition(tenantId: string): string {
  return `${tenantId}#WEBHOOKS`;
}

export function deliveryKey(tenantId: string, webhookId: string, deliveryId: string) {
  return { pk: `${tenantId}#WEBHOOK#${webhookId}`, sk: `DELIVERY#${deliveryId}` };
}

export function deliveriesPartition(tenantId: string, webhookId: string): string {
  return `${tenantId}#WEBHOOK#${webhookId}`;
}

export function deliveryDueSk(
  nextAttemptAt: string,
  tenantId: string,
  webhookId: string,
  deliveryId: string,
): string {
  return `${nextAttemptAt}#${tenantId}#${webhookId}#${deliveryId}`;
}

/** The stored form of an event: its fields, the outbox index entry and its expiry. */
export function outboxItem(event: DomainEvent): Record<string, unknown> {
  return {
    ...eventKey(event.tenantId, event.id),
    ...event,
    duePk: DUE_OUTBOX,
    dueSk: `${event.occurredAt}#${event.tenantId}#${event.id}`,
    expiresAt: Math.floor(Date.parse(event.occurredAt) / 1000) + EVENT_RETENTION_SECONDS,
  };
}

/**
 * The outbox write for a DynamoDB transaction: add it to the `TransactItems` of the state change the
 * event reports, so both commit or neither does. This is the one way to record an event.
 */
export function outboxPut(table: string, event: DomainEvent) {
  return {
    Put: {
      TableName: table,
      Item: outboxItem(event),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}
