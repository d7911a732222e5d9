import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { failureCodeOf } from '#shared/usecases/review.ts';
import { buildApp, functionByEntry, onlyResource, resolveDefinition, templatesOf } from './support.ts';

const reinApp = buildApp();
const { stateless } = templatesOf(reinApp, 'dev');
const [, machine] = onlyResource(stateless, 'AWS::StepFunctions::StateMachine');
const definition = resolveDefinition(machine.Properties?.['DefinitionString']);
const states = definition.States;
const arnOf = (entry: string): string =>
  `arn:aws:lambda:us-east-1:123456789012:function:${functionByEntry(stateless, entry)[0]}`;
const FN = {
  context: arnOf('functions/context/handler.ts'),
  modelCall: arnOf('functions/model-call/handler.ts'),
  validate: arnOf('functions/validate/handler.ts'),
  review: arnOf('functions/review/handler.ts'),
  actions: arnOf('functions/actions/handler.ts'),
};
/** Each function's Lambda timeout in seconds, as the template declares it. */
const timeoutOf = (entry: string): unknown => functionByEntry(stateless, entry)[1].Properties?.['Timeout'];
const TIMEOUT = {
  context: timeoutOf('functions/context/handler.ts'),
  modelCall: timeoutOf('functions/model-call/handler.ts'),
  validate: timeoutOf('functions/validate/handler.ts'),
  review: timeoutOf('functions/review/handler.ts'),
  actions: timeoutOf('functions/actions/handler.ts'),
};
const IDS = { 'tenantId.$': '$.tenantId', 'runId.$': '$.runId' };
const LAMBDA_SERVICE_RETRY = [
  {
    ErrorEquals: [
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
  },
];
/**
 * CallModel is retried, besides, while another invocation holds the attempt's live lease and while
 * an answer waits on its hold for a settle the store refused: both end within a lease.
 */
const CALL_MODEL_RETRY = [
  ...LAMBDA_SERVICE_RETRY,
  {
    ErrorEquals: ['Rein.LeaseHeld', 'Rein.SettlePending'],
    IntervalSeconds: 2,
    MaxAttempts: 8,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
  },
];
/** ExecuteActions is retried on any error: every action is claimed by a conditional write, so nothing is sent twice. */
const EXECUTE_ACTIONS_RETRY = [
  ...LAMBDA_SERVICE_RETRY,
  { ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 },
];
const retryOf = (name: string) =>
  name === 'CallModel'
    ? CALL_MODEL_RETRY
    : name === 'ExecuteActions'
      ? EXECUTE_ACTIONS_RETRY
      : LAMBDA_SERVICE_RETRY;
const CATCH_ALL = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'MarkFailed' };

function state(name: string): Record<string, unknown> {
  const found = states[name];
  if (!found) throw new Error(`No state ${name}.`);
  return found;
}

describe('the workflow state machine', () => {
  it('is a Standard machine with logging of every event (without execution data) and tracing', () => {
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('is written in JSONPath: no JSONata anywhere', () => {
    expect(definition.QueryLanguage).not.toBe('JSONata');
    for (const value of Object.values(states)) expect(value['QueryLanguage']).toBeUndefined();
    expect(JSON.stringify(definition)).not.toContain('{%');
  });

  it('has exactly the states of the contract in shared/workflows/tasks.ts', () => {
    expect(definition.StartAt).toBe('FetchContext');
    expect(Object.keys(states).sort()).toEqual(
      [
        'FetchContext',
        'CallModel',
        'ValidateOutput',
        'CanRepair',
        'PrepareRepair',
        'InvalidOutput',
        'ModelTimedOut',
        'StoreDraft',
        'AwaitReview',
        'ExpireReview',
        'RecordOutcome',
        'ExecuteActions',
        'MarkFailed',
        'Done',
        'Failed',
      ].sort(),
    );
  });

  it('gives every Lambda task an explicit TimeoutSeconds equal to its Lambda timeout', () => {
    const byResource = new Map<string, unknown>([
      [FN.context, TIMEOUT.context],
      [FN.modelCall, TIMEOUT.modelCall],
      [FN.validate, TIMEOUT.validate],
      [FN.review, TIMEOUT.review],
      [FN.actions, TIMEOUT.actions],
    ]);
    for (const [name, value] of Object.entries(states)) {
      if (value['Type'] !== 'Task' || name === 'AwaitReview') continue;
      const expected = byResource.get(String(value['Resource']));
      expect(typeof expected, name).toBe('number');
      expect(value['TimeoutSeconds'], name).toBe(expected);
    }
  });

  it('ends a model step that runs out of its deadline as model_unavailable, not internal_error', () => {
    const catches = state('CallModel')['Catch'] as { ErrorEquals: string[]; Next: string }[];
    expect(catches[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      ResultPath: '$.timeout',
      Next: 'ModelTimedOut',
    });
    expect(state('ModelTimedOut')).toEqual({
      Type: 'Pass',
      Result: { Error: 'Rein.model_unavailable', Cause: 'The model step ran out of its deadline.' },
      ResultPath: '$.error',
      Next: 'MarkFailed',
    });
    expect(failureCodeOf('Rein.model_unavailable')).toBe('model_unavailable');
  });

  it.each([
    ['FetchContext', FN.context, { action: 'fetchContext', ...IDS }, '$.context', 'CallModel'],
    [
      'CallModel',
      FN.modelCall,
      {
        action: 'callModel',
        ...IDS,
        'attempt.$': '$.attempt',
        'workflowId.$': '$.context.workflowId',
        'inputTokens.$': '$.context.inputTokens',
      },
      '$.model',
      'ValidateOutput',
    ],
    [
      'ValidateOutput',
      FN.validate,
      { action: 'validateOutput', ...IDS, 'attempt.$': '$.attempt' },
      '$.validation',
      'CanRepair',
    ],
    [
      'StoreDraft',
      FN.validate,
      { action: 'storeDraft', ...IDS, 'attempt.$': '$.attempt' },
      '$.draft',
      'AwaitReview',
    ],
    [
      'RecordOutcome',
      FN.review,
      { action: 'recordOutcome', ...IDS, 'draftId.$': '$.draft.draftId' },
      '$.outcome',
      'ExecuteActions',
    ],
    [
      'ExecuteActions',
      FN.actions,
      { action: 'executeActions', ...IDS, 'draftId.$': '$.draft.draftId' },
      '$.actions',
      'Done',
    ],
    [
      'ExpireReview',
      FN.review,
      { action: 'expireReview', ...IDS, 'draftId.$': '$.draft.draftId' },
      '$.outcome',
      'Done',
    ],
  ])(
    '%s invokes its function directly with an ids-only payload',
    (name, resource, parameters, resultPath, next) => {
      expect(state(name)).toEqual({
        Type: 'Task',
        Resource: resource,
        Parameters: parameters,
        ResultPath: resultPath,
        Next: next,
        TimeoutSeconds: expect.any(Number) as number,
        Retry: retryOf(name),
        Catch:
          name === 'CallModel'
            ? [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'ModelTimedOut' }, CATCH_ALL]
            : [CATCH_ALL],
      });
    },
  );

  it('chooses to store, repair once more, or fail after validation', () => {
    expect(state('CanRepair')).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.validation.valid', BooleanEquals: true, Next: 'StoreDraft' },
        { Variable: '$.validation.canRepair', BooleanEquals: true, Next: 'PrepareRepair' },
      ],
      Default: 'InvalidOutput',
    });
    expect(state('PrepareRepair')).toEqual({
      Type: 'Pass',
      InputPath: '$.validation.nextAttempt',
      ResultPath: '$.attempt',
      Next: 'CallModel',
    });
    expect(state('InvalidOutput')).toEqual({
      Type: 'Pass',
      Result: {
        Error: 'InvalidModelOutputError',
        Cause: 'The model output failed validation after a repair attempt.',
      },
      ResultPath: '$.error',
      Next: 'MarkFailed',
    });
  });

  it('waits for the review with a task token, for the review timeout, and expires on timeout', () => {
    expect(state('AwaitReview')).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: FN.review,
        Payload: {
          action: 'awaitReview',
          ...IDS,
          'draftId.$': '$.draft.draftId',
          'taskToken.$': '$$.Task.Token',
        },
      },
      TimeoutSeconds: reinApp.stages.dev.config.reviewTimeoutSeconds,
      ResultPath: '$.review',
      Next: 'RecordOutcome',
      Retry: LAMBDA_SERVICE_RETRY,
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'ExpireReview' }, CATCH_ALL],
    });
  });

  it('catches every error of every task state into $.error and goes to MarkFailed, except MarkFailed itself', () => {
    const tasks = Object.entries(states).filter(([, value]) => value['Type'] === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        'AwaitReview',
        'CallModel',
        'ExpireReview',
        'FetchContext',
        'ExecuteActions',
        'MarkFailed',
        'RecordOutcome',
        'StoreDraft',
        'ValidateOutput',
      ].sort(),
    );
    for (const [name, value] of tasks) {
      if (name === 'MarkFailed') {
        expect(value['Catch']).toBeUndefined();
        continue;
      }
      expect(value['Catch']).toContainEqual(CATCH_ALL);
    }
  });

  it("retries only Lambda service errors (and the gateway's not-yet errors): model retries belong to the gateway", () => {
    for (const [name, value] of Object.entries(states)) {
      if (value['Type'] !== 'Task' || name === 'MarkFailed') continue;
      expect(value['Retry']).toEqual(retryOf(name));
    }
  });

  it('records the failure with the review function, then fails with the caught error', () => {
    expect(state('MarkFailed')).toEqual({
      Type: 'Task',
      Resource: FN.review,
      Parameters: { action: 'markFailed', ...IDS, 'error.$': '$.error' },
      ResultPath: null,
      TimeoutSeconds: TIMEOUT.review,
      Next: 'Failed',
      // Idempotent, so retried on any error (a store outage): a failed run is always recorded.
      Retry: [
        ...LAMBDA_SERVICE_RETRY,
        { ErrorEquals: ['States.ALL'], IntervalSeconds: 10, MaxAttempts: 8, BackoffRate: 2 },
      ],
    });
    expect(state('Failed')).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(state('Done')).toEqual({ Type: 'Succeed' });
  });

  it.each(ENV_NAMES)('waits %s review for the configured timeout', (env) => {
    const template = templatesOf(reinApp, env).stateless;
    const [, envMachine] = onlyResource(template, 'AWS::StepFunctions::StateMachine');
    const awaitReview = resolveDefinition(envMachine.Properties?.['DefinitionString']).States['AwaitReview'];
    expect(awaitReview?.['TimeoutSeconds']).toBe(reinApp.stages[env].config.reviewTimeoutSeconds);
  });
});
