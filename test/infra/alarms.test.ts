import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import {
  FUNCTION_ENTRIES,
  buildApp,
  functionByEntry,
  onlyResource,
  resourcesOf,
  templatesOf,
} from './support.ts';

const reinApp = buildApp();

/** The business outcomes of a run: recorded on the run, never paged. */
const BUSINESS_OUTCOMES = ['budget_exceeded', 'model_refused', 'rate_limited', 'invalid_model_output'];

describe.each(ENV_NAMES)('the %s alarms', (env) => {
  const { stateless, stateful } = templatesOf(reinApp, env);
  const [topicId] = onlyResource(stateless, 'AWS::SNS::Topic');
  const alarms = Object.values(resourcesOf(stateless, 'AWS::CloudWatch::Alarm'));
  const tables = Object.keys(resourcesOf(stateful, 'AWS::DynamoDB::Table'));

  it('page on runs failing with internal_error only, never on business outcomes or every failed execution', () => {
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Rein',
      MetricName: 'RunsFailed',
      Dimensions: Match.arrayWith([{ Name: 'code', Value: 'internal_error' }]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(JSON.stringify(alarms)).not.toContain('ExecutionsFailed');
    const dimensionValues = alarms.flatMap((alarm) =>
      ((alarm.Properties?.['Dimensions'] ?? []) as { Value: unknown }[]).map((d) => d.Value),
    );
    for (const outcome of BUSINESS_OUTCOMES) expect(dimensionValues).not.toContain(outcome);
    const runAlarms = alarms.filter((alarm) => alarm.Properties?.['MetricName'] === 'RunsFailed');
    expect(runAlarms).toHaveLength(1);
  });

  it.each(Object.entries(FUNCTION_ENTRIES))(
    'alarm on errors and throttles of the %s function',
    (_name, entry) => {
      const [functionId] = functionByEntry(stateless, entry);
      for (const metric of ['Errors', 'Throttles']) {
        stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
          Threshold: 1,
        });
      }
    },
  );

  it('alarm on API 5xx and p99 latency', () => {
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
    });
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 5000,
    });
  });

  it('alarm on DynamoDB throttling of every table', () => {
    const throttleAlarms = alarms.filter((alarm) =>
      JSON.stringify(alarm.Properties?.['Metrics'] ?? []).includes('WriteThrottleEvents'),
    );
    expect(throttleAlarms).toHaveLength(tables.length);
  });

  it('alarm on dead-lettered webhook deliveries and on the outbox dead-letter queue', () => {
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Rein',
      MetricName: 'WebhookDeliveriesDeadLettered',
      Dimensions: Match.arrayWith([{ Name: 'environment', Value: env }]),
    });
    const [queueId] = onlyResource(stateless, 'AWS::SQS::Queue');
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    });
  });

  it('notify the stage topic from every alarm, and export the topic', () => {
    const functions = Object.keys(FUNCTION_ENTRIES).length;
    // errors + throttles per function, API 5xx and latency, a throttle alarm per table, dead letters ×2, internal errors.
    expect(alarms).toHaveLength(functions * 2 + 2 + tables.length + 3);
    for (const alarm of alarms) expect(alarm.Properties?.['AlarmActions']).toEqual([{ Ref: topicId }]);
    expect(JSON.stringify(stateless.toJSON()['Outputs'])).toContain('AlarmTopicArn');
  });

  it('deny publishing to the topic without TLS', () => {
    stateless.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('have a dashboard for the stage with the product metrics', () => {
    const [, dashboard] = onlyResource(stateless, 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties?.['DashboardName']).toBe(`rein-${env}`);
    const body = JSON.stringify(dashboard.Properties?.['DashboardBody']);
    for (const metric of [
      'CostUsd',
      'InputTokens',
      'ProviderErrors',
      'ModelFallbacks',
      'BreakerOpen',
      'BudgetRefusals',
      'RateLimited',
      'TimeToDecision',
      'WebhookDeliveryFailures',
      'RunsFailed',
    ]) {
      expect(body).toContain(metric);
    }
  });
});

describe('the alarm destination', () => {
  it('is required in staging and prod', () => {
    expect(() => buildApp({ stages: ['prod'], overrides: { alarmEmail: undefined } })).toThrow(
      /alarm destination/,
    );
  });

  it('subscribes the configured e-mail to the topic', () => {
    templatesOf(reinApp, 'prod').stateless.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: reinApp.stages.prod.config.alarmEmail,
    });
    templatesOf(reinApp, 'dev').stateless.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('adds a configured SNS topic to every alarm', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:oncall-pager';
    const withTopic = buildApp({ stages: ['staging'], overrides: { alarmTopicArn: arn } });
    const alarms = Object.values(
      resourcesOf(templatesOf(withTopic, 'staging').stateless, 'AWS::CloudWatch::Alarm'),
    );
    for (const alarm of alarms) expect(alarm.Properties?.['AlarmActions']).toContainEqual(arn);
  });
});
