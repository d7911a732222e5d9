import middy from '@middy/core';
import { parseEnv, type Env } from '#shared/config.ts';
import { createLogger } from '../commons/logger.ts';
import { taskLogging } from '../commons/observability.ts';
import { ValidateFunctionTaskSchema } from '#shared/workflows/tasks.ts';
import { storeDraft, validateOutput } from '#shared/usecases/validate.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';

/** Layer 4: the ValidateOutput and StoreDraft tasks. */
export function createHandler(deps: () => Deps, env: () => Readonly<Env> = () => parseEnv()) {
  const logger = createLogger('rein-validate');
  return middy<unknown, unknown>()
    .use(taskLogging(logger, env))
    .handler(async (event) => {
      const task = ValidateFunctionTaskSchema.parse(event);
      return task.action === 'validateOutput' ? validateOutput(deps(), task) : storeDraft(deps(), task);
    });
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = {};

export const handler = createHandler(lambdaDeps(adapters));
