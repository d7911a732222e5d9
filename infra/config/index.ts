import type { Node } from 'constructs';
import { devConfig } from './dev.ts';
import { prodConfig } from './prod.ts';
import { stagingConfig } from './staging.ts';
import {
  EnvironmentConfigSchema,
  type EnvName,
  type EnvironmentConfig,
  type EnvironmentConfigInput,
} from './types.ts';

export * from './types.ts';

const CONFIGS: Record<EnvName, EnvironmentConfigInput> = {
  dev: devConfig,
  staging: stagingConfig,
  prod: prodConfig,
};

function contextString(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`CDK context "${key}" must be a string.`);
  return value;
}

/**
 * An environment's config: its file, then `overrides` (tests, the local stack), then account and
 * region from CDK context (`-c account=123456789012 -c region=eu-west-1`), validated with zod.
 */
export function loadEnvironmentConfig(
  envName: EnvName,
  node: Node,
  overrides: Partial<EnvironmentConfigInput> = {},
): EnvironmentConfig {
  const account = contextString(node, 'account');
  const region = contextString(node, 'region');
  const result = EnvironmentConfigSchema.safeParse({
    ...CONFIGS[envName],
    ...overrides,
    envName,
    ...(account === undefined ? {} : { account }),
    ...(region === undefined ? {} : { region }),
  });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid ${envName} configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}
