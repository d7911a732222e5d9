import middy from '@middy/core';
import { parseEnv, type Env } from '#shared/config.ts';
import { createLogger } from '../commons/logger.ts';
import { taskLogging } from '../commons/observability.ts';
import { ReviewFunctionTaskSchema } from '#shared/workflows/tasks.ts';
import { awaitReview, expireReview, markFailed, recordOutcome } from '#shared/usecases/review.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';
import { stepFunctions } from '../commons/step-functions.ts';

/** Layer 5: the AwaitReview (task token), ExpireReview, RecordOutcome and MarkFailed tasks. */
export function createHandler(deps: () => Deps, env: () => Readonly<Env> = () => parseEnv()) {
  const logger = createLogger('rein-review');
  return middy<unknown, unknown>()
    .use(taskLogging(logger, env))
    .handler(async (event) => {
      const task = ReviewFunctionTaskSchema.parse(event);
      switch (task.action) {
        case 'awaitReview':
          await awaitReview(deps(), task);
          return { registered: true };
        case 'expireReview':
          await expireReview(deps(), task);
          return { expired: true };
        case 'recordOutcome':
          await recordOutcome(deps(), task);
          return { recorded: true };
        case 'markFailed':
          return markFailed(deps(), task);
      }
    });
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = stepFunctions;

export const handler = createHandler(lambdaDeps(adapters));
