import middy from '@middy/core';
import { CallModelTaskSchema } from '#shared/workflows/tasks.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';
import { openAi } from '../commons/openai.ts';

/**
 * Layer 3: the CallModel task, through the model gateway. The hold's lease lasts as long as this
 * invocation can (the Lambda's remaining time); runtimes without one (the local stack) get the
 * workflow's deadline.
 */
export function createHandler(deps: () => Deps) {
  return middy<unknown, { attempt: number; model: string }>().handler(async (event, context) => {
    const remaining: unknown = (context as Partial<typeof context> | undefined)?.getRemainingTimeInMillis;
    const leaseMs = typeof remaining === 'function' ? context.getRemainingTimeInMillis() : undefined;
    return callModel(deps(), CallModelTaskSchema.parse(event), leaseMs === undefined ? {} : { leaseMs });
  });
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = openAi;

export const handler = createHandler(lambdaDeps(adapters));
