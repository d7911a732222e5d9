import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { DomainEventSchema, type DomainEvent } from '../../domain/events.ts';
import {
  DeliverySchema,
  WebhookSchema,
  type StoredDelivery,
  type StoredWebhook,
} from '../../domain/webhooks.ts';
import type { AttemptOutcome, DeliveryRef, WebhookStore } from '../../ports/index.ts';
import { isConditionFailure } from './client.ts';
import {
  DUE_DELIVERY,
  DUE_INDEX,
  DUE_OUTBOX,
  EVENT_RETENTION_SECONDS,
  deliveriesPartition,
  deliveryDueSk,
  deliveryKey,
  eventKey,
  webhookKey,
  webhooksPartition,
} from './outbox.ts';

/** Webhook subscriptions, deliveries and the outbox's waiting list in the workflow table (see ./outbox.ts). */
export class DynamoWebhookStore implements WebhookStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createWebhook(webhook: StoredWebhook): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...webhookKey(webhook.tenantId, webhook.webhookId), ...webhook },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listWebhooks(tenantId: string): Promise<StoredWebhook[]> {
    const items: StoredWebhook[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': webhooksPartition(tenantId) },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) items.push(toWebhook(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async getWebhook(tenantId: string, webhookId: string): Promise<StoredWebhook | null> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: webhookKey(tenantId, webhookId), ConsistentRead: true }),
    );
    return result.Item ? toWebhook(result.Item) : null;
  }

  async deleteWebhook(tenantId: string, webhookId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: webhookKey(tenantId, webhookId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordWebhookSuccess(tenantId: string, webhookId: string, at: Date): Promise<void> {
    await this.ifExists(tenantId, webhookId, 'SET lastSuccessAt = :at', { ':at': at.toISOString() });
  }

  async disableWebhook(tenantId: string, webhookId: string, reason: string, at: Date): Promise<void> {
    await this.ifExists(
      tenantId,
      webhookId,
      'SET #status = :disabled, disabledReason = :reason, disabledAt = :at',
      {
        ':disabled': 'disabled',
        ':reason': reason,
        ':at': at.toISOString(),
      },
    );
  }

  private async ifExists(
    tenantId: string,
    webhookId: string,
    update: string,
    values: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: webhookKey(tenantId, webhookId),
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(pk)',
          ...(update.includes('#status') ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // A subscription deleted meanwhile has nothing left to record.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async createDelivery(delivery: StoredDelivery): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...deliveryKey(delivery.tenantId, delivery.webhookId, delivery.deliveryId),
            ...delivery,
            ...this.dueEntry(delivery),
            expiresAt: Math.floor(Date.parse(delivery.createdAt) / 1000) + EVENT_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private dueEntry(
    delivery: Pick<StoredDelivery, 'tenantId' | 'webhookId' | 'deliveryId' | 'nextAttemptAt'>,
  ) {
    return delivery.nextAttemptAt === null
      ? {}
      : {
          duePk: DUE_DELIVERY,
          dueSk: deliveryDueSk(
            delivery.nextAttemptAt,
            delivery.tenantId,
            delivery.webhookId,
            delivery.deliveryId,
          ),
        };
  }

  async getDelivery(tenantId: string, webhookId: string, deliveryId: string): Promise<StoredDelivery | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: deliveryKey(tenantId, webhookId, deliveryId),
        ConsistentRead: true,
      }),
    );
    return result.Item ? toDelivery(result.Item) : null;
  }

  async listDeliveries(tenantId: string, webhookId: string, limit: number): Promise<StoredDelivery[]> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :d)',
        ExpressionAttributeValues: { ':p': deliveriesPartition(tenantId, webhookId), ':d': 'DELIVERY#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map(toDelivery);
  }

  async claimDelivery(ref: DeliveryRef, now: Date, leaseMs: number): Promise<StoredDelivery | null> {
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: deliveryKey(ref.tenantId, ref.webhookId, ref.deliveryId),
          UpdateExpression: 'SET leaseUntil = :until',
          ConditionExpression:
            'attribute_exists(pk) AND #status = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':until': now.getTime() + leaseMs,
            ':now': now.getTime(),
            ':pending': 'pending',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toDelivery(result.Attributes) : null;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async finishAttempt(ref: DeliveryRef, outcome: AttemptOutcome): Promise<StoredDelivery> {
    const at = outcome.at.toISOString();
    const status = outcome.ok ? 'succeeded' : outcome.nextAttemptAt === null ? 'dead' : 'pending';
    const next = !outcome.ok && outcome.nextAttemptAt !== null ? outcome.nextAttemptAt.toISOString() : null;
    const due = next === null ? null : { ...ref, nextAttemptAt: next };
    const result = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: deliveryKey(ref.tenantId, ref.webhookId, ref.deliveryId),
        UpdateExpression: [
          'SET #status = :status, attempts = attempts + :one, lastResponseCode = :code, lastError = :error,',
          'nextAttemptAt = :next, updatedAt = :at',
          due ? ', duePk = :duePk, dueSk = :dueSk REMOVE leaseUntil' : 'REMOVE leaseUntil, duePk, dueSk',
        ].join(' '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': status,
          ':one': 1,
          ':code': outcome.responseCode,
          ':error': outcome.ok ? null : outcome.error,
          ':next': next,
          ':at': at,
          ...(due ? { ':duePk': DUE_DELIVERY, ':dueSk': this.dueEntry(due).dueSk } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toDelivery(result.Attributes ?? {});
  }

  async redeliver(ref: DeliveryRef, now: Date): Promise<StoredDelivery | null> {
    const at = now.toISOString();
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: deliveryKey(ref.tenantId, ref.webhookId, ref.deliveryId),
          UpdateExpression:
            'SET #status = :pending, nextAttemptAt = :at, windowStartedAt = :at, updatedAt = :at, duePk = :duePk, dueSk = :dueSk',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':at': at,
            ':duePk': DUE_DELIVERY,
            ':dueSk': deliveryDueSk(at, ref.tenantId, ref.webhookId, ref.deliveryId),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toDelivery(result.Attributes) : null;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async listDueDeliveries(now: Date, limit: number): Promise<DeliveryRef[]> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: DUE_INDEX,
        KeyConditionExpression: 'duePk = :p AND dueSk <= :now',
        ExpressionAttributeValues: { ':p': DUE_DELIVERY, ':now': `${now.toISOString()}#\uffff` },
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => ({
      tenantId: String(item['tenantId']),
      webhookId: String(item['webhookId']),
      deliveryId: String(item['deliveryId']),
    }));
  }

  async listUndispatchedEvents(recordedBefore: Date, limit: number): Promise<DomainEvent[]> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: DUE_INDEX,
        KeyConditionExpression: 'duePk = :p AND dueSk <= :before',
        ExpressionAttributeValues: { ':p': DUE_OUTBOX, ':before': `${recordedBefore.toISOString()}#\uffff` },
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => DomainEventSchema.parse(item));
  }

  async markEventDispatched(event: DomainEvent, at: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: eventKey(event.tenantId, event.id),
          UpdateExpression: 'SET dispatchedAt = :at REMOVE duePk, dueSk',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
    } catch (error) {
      // An event past its retention (removed by TTL) has nothing left to mark.
      if (!isConditionFailure(error)) throw error;
    }
  }
}

function toWebhook(item: Record<string, unknown>): StoredWebhook {
  return { ...WebhookSchema.parse(item), secret: String(item['secret']) };
}

function toDelivery(item: Record<string, unknown>): StoredDelivery {
  return { ...DeliverySchema.parse(item), tenantId: String(item['tenantId']), body: String(item['body']) };
}
