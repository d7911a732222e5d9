import middy from '@middy/core';
import { parseEnv, type Env } from '#shared/config.ts';
import { createLogger } from '../commons/logger.ts';
import { taskLogging } from '../commons/observability.ts';
import { FetchContextTaskSchema } from '#shared/workflows/tasks.ts';
import { fetchContext } from '#shared/usecases/context.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { connectorSecrets } from '../commons/connector-secrets.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';

/** Layer 2: the FetchContext task. */
export function createHandler(deps: () => Deps, env: () => Readonly<Env> = () => parseEnv()) {
  const logger = createLogger('rein-context');
  return middy<unknown, { items: number; dataGaps: number }>()
    .use(taskLogging(logger, env))
    .handler(async (event) => fetchContext(deps(), FetchContextTaskSchema.parse(event)));
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = connectorSecrets;

export const handler = createHandler(lambdaDeps(adapters));
