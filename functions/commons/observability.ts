import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Env } from '#shared/config.ts';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}

/**
 * The logging every task Lambda shares: Powertools `injectLambdaContext` (cold start, request id,
 * function), the run's ids and the task's action as keys of every line, the level from LOG_LEVEL
 * (set at the first invocation, when the config is parsed), and one line per invocation with the
 * outcome: `Task finished` with the task's small result, or `Task failed` with the error's name.
 * Task tokens and content never reach a log line: only ids, the action and the result are logged.
 */
export function taskLogging(logger: Logger, env: () => Readonly<Env>): MiddlewareObj<unknown, unknown>[] {
  let configured = false;
  const started = new WeakMap<object, number>();
  const outcome: MiddlewareObj<unknown, unknown> = {
    before: (request) => {
      if (!configured) {
        logger.setLogLevel(env().LOG_LEVEL ?? 'INFO');
        configured = true;
      }
      const event = (
        typeof request.event === 'object' && request.event !== null ? request.event : {}
      ) as Record<string, unknown>;
      logger.appendKeys({
        tenantId: text(event['tenantId']),
        runId: text(event['runId']),
        action: text(event['action']),
        attempt: typeof event['attempt'] === 'number' ? event['attempt'] : undefined,
      });
      started.set(request, performance.now());
    },
    after: (request) => {
      logger.info('Task finished', {
        outcome: 'succeeded',
        result: request.response,
        durationMs: Math.round(performance.now() - (started.get(request) ?? performance.now())),
      });
    },
    onError: (request) => {
      logger.warn('Task failed', {
        outcome: 'failed',
        errorName: request.error?.name ?? 'unknown',
        durationMs: Math.round(performance.now() - (started.get(request) ?? performance.now())),
      });
    },
  };
  return [injectLambdaContext(logger, { resetKeys: true }), outcome];
}
