import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DomainEvent } from '../../domain/events.ts';
import type { EventBus } from '../../ports/index.ts';

/** EventBridge accepts at most 10 entries per PutEvents call. */
const BATCH = 10;

/**
 * The stage's EventBridge bus: every domain event as one entry, `source` `rein.<env>`, `detail-type`
 * the event type, `detail` the event (id included, for de-duplication by rules' targets). A batch
 * with a failed entry throws, so the event stays in the outbox and is published again.
 */
export class EventBridgeBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly environment: string,
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += BATCH) {
      const batch = events.slice(start, start + BATCH);
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: `rein.${this.environment}`,
            DetailType: event.type,
            Time: new Date(event.occurredAt),
            Detail: JSON.stringify(event),
          })),
        }),
      );
      if ((result.FailedEntryCount ?? 0) > 0) {
        throw new Error(`EventBridge refused ${result.FailedEntryCount ?? 0} of ${batch.length} events.`);
      }
    }
  }
}
