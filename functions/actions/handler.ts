import middy from '@middy/core';
import { ExecuteActionsTaskSchema } from '#shared/workflows/tasks.ts';
import { executeActions } from '#shared/usecases/actions.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';
import { signingSecrets } from '../commons/signing-secrets.ts';

/** The ExecuteActions task: sends the approved actions of a decided draft to the tenant's action targets. */
export function createHandler(deps: () => Deps) {
  return middy<unknown, unknown>().handler(async (event) => {
    const task = ExecuteActionsTaskSchema.parse(event);
    return executeActions(deps(), task);
  });
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = signingSecrets;

export const handler = createHandler(lambdaDeps(adapters));
