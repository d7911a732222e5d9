import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/types.ts';

export interface ReinAlarmsProps {
  readonly config: EnvironmentConfig;
  readonly stateMachine: sfn.IStateMachine;
  /** Functions by a short name used in the alarm's id and description. */
  readonly functions: Record<string, lambda.IFunction>;
}

/**
 * Operational alarms to one SNS topic (publishers must use TLS): any failed workflow execution and
 * any Lambda error. A failed run is already recorded as `failed` with an error code; the alarm is
 * there so an operator looks at the trace.
 */
export class ReinAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ReinAlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Rein ${props.config.envName} alarms`,
      enforceSSL: true,
    });
    if (props.config.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.config.alarmEmail));
    }
    const action = new actions.SnsAction(this.topic);

    const add = (alarmId: string, metric: cloudwatch.IMetric, description: string): void => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    };

    add(
      'ExecutionsFailed',
      props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      `Rein ${props.config.envName}: a workflow execution failed.`,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${name}Errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `Rein ${props.config.envName}: the ${name} function reported errors.`,
      );
    }
  }
}
