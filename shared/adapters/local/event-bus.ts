import type { DomainEvent } from '../../domain/events.ts';
import type { EventBus } from '../../ports/index.ts';

/**
 * The local stand-in for the stage's EventBridge bus: keeps the most recent events in memory, so
 * the local stack (and its tests) can see what would have gone to the bus.
 */
export class InMemoryEventBus implements EventBus {
  readonly published: DomainEvent[] = [];
  constructor(private readonly keep = 1000) {}

  publish(events: readonly DomainEvent[]): Promise<void> {
    this.published.push(...events.map((event) => structuredClone(event)));
    if (this.published.length > this.keep) this.published.splice(0, this.published.length - this.keep);
    return Promise.resolve();
  }
}
