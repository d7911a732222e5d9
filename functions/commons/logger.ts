import { Logger } from '@aws-lambda-powertools/logger';

/** Structured logs only. Never log secrets, task tokens or customer content at info level. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
