import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/types.ts';
import { RETRYABLE_STEP_ERRORS } from '#shared/domain/errors.ts';

/** Every state of the workflow, as named in the contract of `shared/workflows/tasks.ts`. */
export const WORKFLOW_STATE_NAMES = [
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
] as const;
export type WorkflowStateName = (typeof WORKFLOW_STATE_NAMES)[number];

/**
 * The errors Step Functions retries for a Lambda task: only failures of the Lambda service itself.
 * Model-provider retries (429, 5xx, timeouts) belong to the model gateway in `functions/model-call`,
 * which knows the budget reservation and the deadline; retrying them here would bill twice.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * The error ModelTimedOut records when CallModel runs past its TimeoutSeconds (its Lambda's
 * timeout): the model step ran out of deadline, which is `model_unavailable`, never an internal error.
 */
export const MODEL_TIMED_OUT_ERROR = {
  Error: 'Rein.model_unavailable',
  Cause: 'The model step ran out of its deadline.',
} as const;

/** A Lambda's own default timeout, for a function that sets none. */
const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

/** The error InvalidOutput records when the repair attempt also failed validation. */
export const INVALID_OUTPUT_ERROR = {
  Error: 'InvalidModelOutputError',
  Cause: 'The model output failed validation after a repair attempt.',
} as const;

/** Functions with their timeouts known: every Task state's TimeoutSeconds is its Lambda's timeout. */
export interface WorkflowFunctions {
  readonly context: lambda.Function;
  readonly modelCall: lambda.Function;
  readonly validate: lambda.Function;
  readonly review: lambda.Function;
  /** ExecuteActions: sends approved actions to the tenant's action targets. */
  readonly actions: lambda.Function;
}

export interface WorkflowStateMachineProps {
  readonly config: EnvironmentConfig;
  readonly functions: WorkflowFunctions;
  /** A fixed name, so functions the definition invokes can know the ARN without a reference cycle. */
  readonly stateMachineName: string;
}

const ids = { 'tenantId.$': '$.tenantId', 'runId.$': '$.runId' } as const;

/**
 * The renewal workflow as a Standard state machine in JSONPath mode (the local engine,
 * aws-local-stepfunctions, ignores JSONata). This is the only definition of the workflow: the
 * local stack runs the definition synthesized from this construct.
 *
 * FetchContext → CallModel → ValidateOutput → CanRepair? (valid → StoreDraft; canRepair →
 * PrepareRepair → CallModel; else InvalidOutput → MarkFailed) → StoreDraft → AwaitReview
 * (.waitForTaskToken, timeout → ExpireReview → Done) → RecordOutcome → ExecuteActions → Done.
 * ExecuteActions sends only the actions approved at review (nothing for a rejected or expired
 * draft); it is safe to retry, since every action is claimed by a conditional write. Every task catches
 * States.ALL into `$.error` and goes to MarkFailed → Failed.
 */
export class WorkflowStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowStateMachineProps) {
    super(scope, id);
    const { functions, config } = props;

    // Payloads are ids only and results are the handlers' return values (payloadResponseOnly), so
    // the Resource of each task is the function ARN itself. Every task says explicitly how long it
    // may run, its Lambda's timeout: AWS and the local engine (whose default would be 60 s) both
    // enforce what the definition says.
    const lambdaTask = (
      stateName: WorkflowStateName,
      fn: lambda.Function,
      payload: Record<string, unknown>,
      resultPath: string,
    ): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, stateName, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
        taskTimeout: sfn.Timeout.duration(fn.timeout ?? LAMBDA_DEFAULT_TIMEOUT),
      });
      return withLambdaServiceRetry(task);
    };

    const markFailed = lambdaTask(
      'MarkFailed',
      functions.review,
      { action: 'markFailed', ...ids, 'error.$': '$.error' },
      sfn.JsonPath.DISCARD,
    );
    // MarkFailed is idempotent: it is retried on any error (a store outage), so a failed run is
    // always recorded as failed.
    markFailed.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(10),
      maxAttempts: 8,
      backoffRate: 2,
    });
    const failed = new sfn.Fail(this, 'Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    markFailed.next(failed);

    const fetchContext = lambdaTask(
      'FetchContext',
      functions.context,
      { action: 'fetchContext', ...ids },
      '$.context',
    );
    const callModel = lambdaTask(
      'CallModel',
      functions.modelCall,
      {
        action: 'callModel',
        ...ids,
        'attempt.$': '$.attempt',
        // FetchContext's estimate: the model call reserves before reading anything.
        'workflowId.$': '$.context.workflowId',
        'inputTokens.$': '$.context.inputTokens',
      },
      '$.model',
    );
    // Not yet, not failed: another invocation holds the attempt's live lease (it ends with that
    // invocation's Lambda timeout), or an answer waits on its hold for a settle the store refused.
    callModel.addRetry({
      errors: [...RETRYABLE_STEP_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 8,
      backoffRate: 2,
      maxDelay: Duration.seconds(30),
    });
    const validateOutput = lambdaTask(
      'ValidateOutput',
      functions.validate,
      { action: 'validateOutput', ...ids, 'attempt.$': '$.attempt' },
      '$.validation',
    );
    const storeDraft = lambdaTask(
      'StoreDraft',
      functions.validate,
      { action: 'storeDraft', ...ids, 'attempt.$': '$.attempt' },
      '$.draft',
    );
    const awaitReview = withLambdaServiceRetry(
      new tasks.LambdaInvoke(this, 'AwaitReview', {
        lambdaFunction: functions.review,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: sfn.TaskInput.fromObject({
          action: 'awaitReview',
          ...ids,
          'draftId.$': '$.draft.draftId',
          taskToken: sfn.JsonPath.taskToken,
        }),
        retryOnServiceExceptions: false,
        resultPath: '$.review',
        taskTimeout: sfn.Timeout.duration(Duration.seconds(config.reviewTimeoutSeconds)),
      }),
    );
    const expireReview = lambdaTask(
      'ExpireReview',
      functions.review,
      { action: 'expireReview', ...ids, 'draftId.$': '$.draft.draftId' },
      '$.outcome',
    );
    const recordOutcome = lambdaTask(
      'RecordOutcome',
      functions.review,
      { action: 'recordOutcome', ...ids, 'draftId.$': '$.draft.draftId' },
      '$.outcome',
    );
    const executeActions = lambdaTask(
      'ExecuteActions',
      functions.actions,
      { action: 'executeActions', ...ids, 'draftId.$': '$.draft.draftId' },
      '$.actions',
    );
    // Retrying cannot send an action twice (each is claimed with a conditional write and a lease),
    // so any error is retried: a store outage must not leave approved actions unsent.
    executeActions.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(5),
      maxAttempts: 3,
      backoffRate: 2,
    });
    const done = new sfn.Succeed(this, 'Done');

    const prepareRepair = new sfn.Pass(this, 'PrepareRepair', {
      inputPath: '$.validation.nextAttempt',
      resultPath: '$.attempt',
    });
    const invalidOutput = new sfn.Pass(this, 'InvalidOutput', {
      result: sfn.Result.fromObject(INVALID_OUTPUT_ERROR),
      resultPath: '$.error',
    });
    const canRepair = new sfn.Choice(this, 'CanRepair')
      .when(sfn.Condition.booleanEquals('$.validation.valid', true), storeDraft)
      .when(sfn.Condition.booleanEquals('$.validation.canRepair', true), prepareRepair)
      .otherwise(invalidOutput);

    // The review timeout is an outcome, not a failure: it must be caught before States.ALL.
    awaitReview.addCatch(expireReview, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.timeout' });
    // A model step cut at its TimeoutSeconds ran out of deadline: model_unavailable, caught before States.ALL.
    const modelTimedOut = new sfn.Pass(this, 'ModelTimedOut', {
      result: sfn.Result.fromObject(MODEL_TIMED_OUT_ERROR),
      resultPath: '$.error',
    });
    callModel.addCatch(modelTimedOut, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.timeout' });
    modelTimedOut.next(markFailed);
    for (const task of [
      fetchContext,
      callModel,
      validateOutput,
      storeDraft,
      awaitReview,
      expireReview,
      recordOutcome,
      executeActions,
    ]) {
      task.addCatch(markFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    }

    fetchContext.next(callModel).next(validateOutput).next(canRepair);
    prepareRepair.next(callModel);
    invalidOutput.next(markFailed);
    storeDraft.next(awaitReview).next(recordOutcome).next(executeActions).next(done);
    expireReview.next(done);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(fetchContext),
      comment: `Rein ${config.envName}: bounded AI workflow with human review`,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });

    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions requires the CloudWatch Logs delivery actions (logs:CreateLogDelivery, logs:PutResourcePolicy, …) and the X-Ray write actions on "*": none supports resource-level permissions.',
    });
    const stack = Stack.of(this);
    const invoked = new Set<lambda.IFunction>([
      functions.context,
      functions.modelCall,
      functions.validate,
      functions.review,
      functions.actions,
    ]);
    for (const fn of invoked) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason:
          'LambdaInvoke grants lambda:InvokeFunction on the function and its versions/aliases (ARN:*); the resource is still this one function.',
      });
    }
  }
}

function withLambdaServiceRetry(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
  // Only Lambda service faults are retried here; the model gateway owns provider retries.
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
  });
  return task;
}
