import type { TestProject } from 'vitest/node';
import { startDynamoLocal } from '../../infra/local/dynamo.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The endpoint of the DynamoDB Local every integration file shares (see local-stack.ts). */
    reinDynamoEndpoint: string;
  }
}

/**
 * Runs once per `vitest run` for the integration project: starts the one DynamoDB Local (a JVM,
 * the slow part of a stack's start) that every file's stack shares, each with its own tables, and
 * stops it after the last file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynamoLocal(null);
  project.provide('reinDynamoEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
