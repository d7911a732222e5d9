import middy from '@middy/core';
import { CallModelTaskSchema } from '#shared/workflows/tasks.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { lambdaDeps } from '../commons/deps.ts';

/** Layer 3: the CallModel task, through the model gateway. */
export function createHandler(deps: () => Deps) {
  return middy<unknown, { attempt: number; model: string }>().handler(async (event) =>
    callModel(deps(), CallModelTaskSchema.parse(event)),
  );
}

export const handler = createHandler(lambdaDeps);
