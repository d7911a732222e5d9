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

describe.each(ENV_NAMES)('the %s event delivery', (env) => {
  const { stateless } = templatesOf(reinApp, env);
  const [functionId] = functionByEntry(stateless, FUNCTION_ENTRIES.events);

  it('has an EventBridge bus for the stage that only the delivery function may put events on', () => {
    const [busId, bus] = onlyResource(stateless, 'AWS::Events::EventBus');
    expect(bus.Properties?.['Name']).toBe(`rein-${env}-events`);
    const puts = Object.values(resourcesOf(stateless, 'AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes('events:PutEvents'),
    );
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0])).toContain(busId);
    expect(JSON.stringify(stateless.toJSON()['Outputs'])).toContain('EventBusName');
  });

  it('feeds new outbox items of the workflow table stream to the delivery function, with a dead-letter queue', () => {
    const [queueId] = onlyResource(stateless, 'AWS::SQS::Queue');
    stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId },
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('WorkflowTable.*StreamArn') },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { sk: { S: ['EVENT'] } } },
            }),
          },
        ],
      },
    });
    stateless.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('sweeps the outbox and due retries every minute', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          Input: JSON.stringify({ action: 'sweepOutbox' }),
        }),
      ],
    });
  });
});
