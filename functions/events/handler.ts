import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { parseEnv, type Env } from '#shared/config.ts';
import { DomainEventSchema, type DomainEvent } from '#shared/domain/events.ts';
import { OUTBOX_SK } from '#shared/adapters/dynamodb/outbox.ts';
import { dispatchEvents, sweepOutbox } from '#shared/usecases/event-delivery.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { createLogger } from '../commons/logger.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';
import { eventBridge } from '../commons/eventbridge.ts';

/** A DynamoDB stream record as Lambda receives it (only the fields used here). */
const StreamRecordSchema = z.looseObject({
  eventID: z.string(),
  eventName: z.string().optional(),
  dynamodb: z.looseObject({ NewImage: z.record(z.string(), z.unknown()).optional() }).optional(),
});
const StreamEventSchema = z.object({ Records: z.array(StreamRecordSchema) });
/** The schedule's input (EventBridge rule): sweep the outbox and attempt due retries. */
const SweepEventSchema = z.object({ action: z.literal('sweepOutbox') });

/** The event of an inserted outbox item, or null for any other record of the table's stream. */
function eventOf(record: z.infer<typeof StreamRecordSchema>): DomainEvent | null {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return null;
  const item = unmarshall(image as Record<string, AttributeValue>);
  if (item['sk'] !== OUTBOX_SK) return null;
  return DomainEventSchema.parse(item);
}

/**
 * Event delivery: the workflow table's stream (filtered to new outbox items) dispatches each event
 * to the bus and to webhook subscriptions; a schedule sweeps what the stream missed and retries due
 * deliveries. A stream record that fails is reported alone (partial batch response), so Lambda
 * retries it and, past its retries, sends it to the dead-letter queue; the event stays in the
 * outbox's waiting list either way, so the sweep still dispatches it.
 */
export function createHandler(deps: () => Deps, env: () => Readonly<Env> = () => parseEnv()) {
  const logger = createLogger('rein-events');
  let configured = false;
  return middy<unknown, unknown>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      if (!configured) {
        logger.setLogLevel(env().LOG_LEVEL ?? 'INFO');
        configured = true;
      }
      const sweep = SweepEventSchema.safeParse(event);
      if (sweep.success) {
        const outcome = await sweepOutbox(deps());
        if (outcome.dispatched > 0 || outcome.attempted > 0) logger.info('Outbox swept', { ...outcome });
        return outcome;
      }
      const stream = StreamEventSchema.parse(event);
      const batchItemFailures: { itemIdentifier: string }[] = [];
      for (const record of stream.Records) {
        try {
          const domainEvent = eventOf(record);
          if (!domainEvent) continue;
          await dispatchEvents(deps(), [domainEvent]);
          logger.info('Event dispatched', { eventId: domainEvent.id, eventType: domainEvent.type });
        } catch (error) {
          logger.error('Event dispatch failed', { eventId: record.eventID, error: error as Error });
          batchItemFailures.push({ itemIdentifier: record.eventID });
        }
      }
      return { batchItemFailures };
    });
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = eventBridge;

export const handler = createHandler(lambdaDeps(adapters));
