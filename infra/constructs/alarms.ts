import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/types.ts';
import { METRICS_NAMESPACE } from '../../functions/commons/metrics.ts';

export interface ReinAlarmsProps {
  readonly config: EnvironmentConfig;
  readonly stateMachine: sfn.IStateMachine;
  /** Functions by a short name used in the alarm's id and description. */
  readonly functions: Record<string, lambda.IFunction>;
  readonly httpApi: apigw.HttpApi;
  /** Tables by a short name. */
  readonly tables: Record<string, dynamodb.ITable>;
  /** Outbox stream records the delivery function could not process. */
  readonly outboxDeadLetters: sqs.IQueue;
}

/** The service dimension Powertools Metrics adds to every Rein metric (see functions/commons/metrics.ts). */
const SERVICE = 'rein';

/**
 * The alarms that matter, to the stage's alarm destination (its own SNS topic, exported as a stack
 * output, with the config's e-mail subscribed, and/or an existing topic from the config), and the
 * stage's dashboard. Failed runs alarm only on `internal_error`: `budget_exceeded`, `model_refused`,
 * `rate_limited` and the other business outcomes are recorded on the run and counted on the
 * dashboard, but page nobody. infra/README.md has the runbook for each alarm.
 */
export class ReinAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ReinAlarmsProps) {
    super(scope, id);
    const { config } = props;
    const env = config.envName;
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Rein ${env} alarms`,
      enforceSSL: true,
    });
    if (config.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    const alarmActions: cloudwatch.IAlarmAction[] = [new actions.SnsAction(this.topic)];
    if (config.alarmTopicArn) {
      alarmActions.push(
        new actions.SnsAction(sns.Topic.fromTopicArn(this, 'ExternalTopic', config.alarmTopicArn)),
      );
    }
    new CfnOutput(Stack.of(this), 'AlarmTopicArn', {
      description: `SNS topic receiving every Rein ${env} alarm (subscribe on-call tools to it).`,
      value: this.topic.topicArn,
    });

    const period = Duration.minutes(5);
    const add = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      description: string,
      options: { threshold?: number; evaluationPeriods?: number } = {},
    ): void => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: options.threshold ?? 1,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Rein ${env}: ${description} Runbook: infra/README.md#alarms.`,
      });
      for (const action of alarmActions) alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    };
    const rein = (metricName: string, dimensions: Record<string, string> = {}, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE, environment: env, ...dimensions },
        statistic,
        period,
      });

    add('Api5xx', props.httpApi.metricServerError({ period, statistic: 'Sum' }), 'the API answered 5xx.');
    add(
      'ApiLatency',
      props.httpApi.metricLatency({ period, statistic: 'p99' }),
      'the API p99 latency stayed above 5 s for 15 minutes.',
      { threshold: 5000, evaluationPeriods: 3 },
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${name}Errors`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        `the ${name} function reported errors.`,
      );
      add(
        `${name}Throttles`,
        fn.metricThrottles({ period, statistic: 'Sum' }),
        `the ${name} function was throttled.`,
      );
    }
    for (const [name, table] of Object.entries(props.tables)) {
      const throttle = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensionsMap: { TableName: table.tableName },
          statistic: 'Sum',
          period,
        });
      add(
        `${name}Throttles`,
        new cloudwatch.MathExpression({
          expression: 'reads + writes',
          usingMetrics: { reads: throttle('ReadThrottleEvents'), writes: throttle('WriteThrottleEvents') },
          label: `${name} throttle events`,
          period,
        }),
        `DynamoDB throttled requests on the ${name} table.`,
      );
    }
    add(
      'WebhookDeliveriesDeadLettered',
      rein('WebhookDeliveriesDeadLettered'),
      'a webhook delivery failed for its whole retry window and was dead-lettered.',
    );
    add(
      'OutboxDeadLetters',
      props.outboxDeadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'outbox stream records failed delivery and went to the dead-letter queue.',
    );
    add(
      'RunsFailedInternalError',
      rein('RunsFailed', { code: 'internal_error' }),
      'a run failed with internal_error (business outcomes such as budget_exceeded do not alarm).',
    );

    const search = (metricName: string, dimensions: string[], label: string, statistic = 'Sum') =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${['environment', 'service', ...dimensions].join(',')}} MetricName="${metricName}" environment="${env}"', '${statistic}', 300)`,
        usingMetrics: {},
        label,
        period,
      });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `rein-${env}`,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests, 4xx and 5xx',
        left: [
          props.httpApi.metricCount({ period }),
          props.httpApi.metricClientError({ period }),
          props.httpApi.metricServerError({ period }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency p50 / p99 (ms)',
        left: [
          props.httpApi.metricLatency({ period, statistic: 'p50' }),
          props.httpApi.metricLatency({ period, statistic: 'p99' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: Object.values(props.functions).map((fn) => fn.metricErrors({ period })),
        right: Object.values(props.functions).map((fn) => fn.metricThrottles({ period })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Model cost (USD) by tenant, workflow, model',
        left: [search('CostUsd', ['tenantId', 'workflowId', 'model'], 'cost')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Tokens in / out',
        left: [search('InputTokens', ['tenantId', 'workflowId', 'model'], 'input')],
        right: [search('OutputTokens', ['tenantId', 'workflowId', 'model'], 'output')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Provider errors by kind, fallbacks, breaker opens',
        left: [
          search('ProviderErrors', ['kind'], 'errors'),
          search('ModelFallbacks', ['model'], 'fallbacks'),
        ],
        right: [search('BreakerOpen', ['model'], 'breaker open')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Failed runs by code (only internal_error alarms)',
        left: [search('RunsFailed', ['code'], 'failed')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Budget refusals and rate-limited requests',
        left: [search('BudgetRefusals', ['budget'], 'budget')],
        right: [search('RateLimited', ['scope'], 'rate limited')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Time to decision (ms, p50)',
        left: [search('TimeToDecision', ['workflowId', 'decision'], 'time to decision', 'p50')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhook deliveries: failed attempts, dead-lettered',
        left: [search('WebhookDeliveryFailures', ['eventType'], 'failed attempts')],
        right: [rein('WebhookDeliveriesDeadLettered')],
      }),
    );
  }
}
