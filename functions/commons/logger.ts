import { Logger } from '@aws-lambda-powertools/logger';
import type { Env } from '#shared/config.ts';
import type { LogSink } from '#shared/ports/index.ts';

/**
 * Structured logs only, at the configured level (LOG_LEVEL, default INFO). Never log secrets, task
 * tokens or customer content at info level.
 */
export function createLogger(serviceName: string, env?: Readonly<Pick<Env, 'LOG_LEVEL'>>): Logger {
  return new Logger({ serviceName, logLevel: env?.LOG_LEVEL ?? 'INFO' });
}

/** The use cases' log port over a Powertools logger. */
export function logSink(logger: Logger): LogSink {
  return {
    info: (message, details) => {
      logger.info(message, details ?? {});
    },
    warn: (message, details) => {
      logger.warn(message, details ?? {});
    },
  };
}
