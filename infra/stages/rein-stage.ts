import { RemovalPolicy, Stage, Tags, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/types.ts';
import type { ConsoleAssets } from '../constructs/console.ts';
import { StatefulStack } from '../stacks/stateful.ts';
import { StatelessStack } from '../stacks/stateless.ts';

export interface ReinStageProps extends StageProps {
  readonly config: EnvironmentConfig;
  /** The review console's files, or false to leave the console out. */
  readonly console: ConsoleAssets | false;
}

/**
 * One environment: a stateful stack (tables, secret, user pool) and a stateless stack (functions,
 * state machine, API, alarms) that receives the stateful constructs and so depends on that stack.
 * Account and region come from the config (CDK context); without them the stage is env-agnostic.
 */
export class ReinStage extends Stage {
  readonly config: EnvironmentConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;

  constructor(scope: Construct, id: string, props: ReinStageProps) {
    const { config, console, ...stageProps } = props;
    super(scope, id, {
      ...stageProps,
      env: { account: config.account, region: config.region },
    });
    this.config = config;
    const protect = config.removalPolicy === RemovalPolicy.RETAIN;

    this.stateful = new StatefulStack(this, 'Stateful', {
      stackName: `rein-${config.envName}-stateful`,
      description: `Rein ${config.envName}: tables, OpenAI key secret and identity (data that outlives deploys).`,
      terminationProtection: protect,
      config,
    });
    this.stateless = new StatelessStack(this, 'Stateless', {
      stackName: `rein-${config.envName}-stateless`,
      description: `Rein ${config.envName}: HTTP API, functions, workflow state machine and alarms.`,
      config,
      stateful: this.stateful,
      console,
    });

    Tags.of(this).add('project', 'rein');
    Tags.of(this).add('environment', config.envName);
  }
}
