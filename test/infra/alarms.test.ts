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

describe.each(ENV_NAMES)('the %s alarms', (env) => {
  const { stateless } = templatesOf(reinApp, env);
  const [topicId] = onlyResource(stateless, 'AWS::SNS::Topic');
  const [machineId] = onlyResource(stateless, 'AWS::StepFunctions::StateMachine');
  const alarms = Object.values(resourcesOf(stateless, 'AWS::CloudWatch::Alarm'));

  it('alarm on any failed workflow execution', () => {
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it.each(Object.entries(FUNCTION_ENTRIES))('alarm on errors of the %s function', (_name, entry) => {
    const [functionId] = functionByEntry(stateless, entry);
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
      Threshold: 1,
    });
  });

  it('notify one topic from every alarm', () => {
    expect(alarms).toHaveLength(Object.keys(FUNCTION_ENTRIES).length + 1);
    for (const alarm of alarms) expect(alarm.Properties?.['AlarmActions']).toEqual([{ Ref: topicId }]);
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
});

describe('an alarm e-mail in the config', () => {
  it('subscribes the address to the topic', () => {
    const withEmail = buildApp({ stages: ['prod'], overrides: { alarmEmail: 'oncall@example.com' } });
    templatesOf(withEmail, 'prod').stateless.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    templatesOf(reinApp, 'prod').stateless.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
