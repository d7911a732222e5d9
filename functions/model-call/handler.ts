import middy from '@middy/core';
import { parseEnv, type Env } from '#shared/config.ts';
import { createLogger } from '../commons/logger.ts';
import { taskLogging } from '../commons/observability.ts';
import { CallModelTaskSchema } from '#shared/workflows/tasks.ts';
import { callModelStep } from '#shared/usecases/tool-loop.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';
import { openAi } from '../commons/openai.ts';
import { connectorSecrets } from '../commons/connector-secrets.ts';

/**
 * Layer 3: the CallModel task, through the model gateway (and its tool loop for workflows with tools). The hold's lease lasts as long as this
 * invocation can (the Lambda's remaining time); runtimes without one (the local stack) get the
 * workflow's deadline.
 */
export function createHandler(deps: () => Deps, env: () => Readonly<Env> = () => parseEnv()) {
  const logger = createLogger('rein-model-call');
  return middy<unknown, { attempt: number; model: string }>()
    .use(taskLogging(logger, env))
    .handler(async (event, context) => {
      const remaining: unknown = (context as Partial<typeof context> | undefined)?.getRemainingTimeInMillis;
      const leaseMs = typeof remaining === 'function' ? context.getRemainingTimeInMillis() : undefined;
      return callModelStep(
        deps(),
        CallModelTaskSchema.parse(event),
        leaseMs === undefined ? {} : { leaseMs },
      );
    });
}

/**
 * The SDK adapters this function uses (the local stack builds it from the same list): the model, and
 * the connector secrets its read-only tools need to read a tenant's sources live.
 */
export const adapters: SdkAdapters = { ...openAi, ...connectorSecrets };

export const handler = createHandler(lambdaDeps(adapters));
