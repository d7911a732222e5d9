import type { Logger } from '@aws-lambda-powertools/logger';

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** The local stack's outbox drainer. */
export interface OutboxDrainer {
  /** Stops polling and waits for a sweep in progress to finish. */
  stop(): Promise<void>;
}

/**
 * The local stand-in for the workflow table's stream and the delivery schedule: every `intervalMs`
 * it invokes the event delivery Lambda handler (the same module and use case as in AWS) with the
 * schedule's input, which dispatches every event still waiting in the outbox (grace 0 locally) and
 * attempts due webhook retries. Events recorded before a stop stay in the outbox and go out after
 * the next start. One sweep at a time.
 */
export function startOutboxDrainer(
  handler: LambdaHandler,
  intervalMs: number,
  logger: Logger,
): OutboxDrainer {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const tick = (): void => {
    running = handler(
      { action: 'sweepOutbox' },
      { awsRequestId: 'local-outbox', functionName: 'OutboxDrainer' },
    )
      .then(() => undefined)
      .catch((error: unknown) => {
        logger.warn('Outbox sweep failed', {
          errorName: error instanceof Error ? error.name : 'unknown',
          errorMessage: error instanceof Error ? error.message : undefined,
        });
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, 0);

  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
