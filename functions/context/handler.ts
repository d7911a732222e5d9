import middy from '@middy/core';
import { FetchContextTaskSchema } from '#shared/workflows/tasks.ts';
import { fetchContext } from '#shared/usecases/context.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { connectorSecrets } from '../commons/connector-secrets.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';

/** Layer 2: the FetchContext task. */
export function createHandler(deps: () => Deps) {
  return middy<unknown, { items: number; dataGaps: number }>().handler(async (event) =>
    fetchContext(deps(), FetchContextTaskSchema.parse(event)),
  );
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = connectorSecrets;

export const handler = createHandler(lambdaDeps(adapters));
