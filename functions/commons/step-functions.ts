import { SFNClient } from '@aws-sdk/client-sfn';
import { required } from '#shared/config.ts';
import { StepFunctionsEngine } from '#shared/adapters/sfn/workflow-engine.ts';
import type { SdkAdapters } from './deps.ts';

/** Step Functions, for the functions that start executions or complete review tasks. */
export const stepFunctions: SdkAdapters = {
  engine: (env) =>
    env.STATE_MACHINE_ARN
      ? new StepFunctionsEngine(new SFNClient({ region: required(env, 'AWS_REGION') }), env.STATE_MACHINE_ARN)
      : undefined,
};
