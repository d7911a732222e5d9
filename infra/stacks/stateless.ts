import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { authClaims, type EnvironmentConfig } from '../config/types.ts';
import { ReinAlarms } from '../constructs/alarms.ts';
import { ReinConsole, type ConsoleAssets } from '../constructs/console.ts';
import { ReinHttpApi, type CognitoAuthResources } from '../constructs/http-api.ts';
import { ReinFunction, type IndexedTable } from '../constructs/rein-function.ts';
import { WorkflowStateMachine } from '../constructs/workflow-state-machine.ts';
import { WORKFLOWS } from '#shared/workflows/registry.ts';

/**
 * What the model-call Lambda needs beyond a workflow's total model deadline: reading the run before
 * the deadline starts, and settling and tracing the last attempt after it ends (with DynamoDB's own
 * retries). The Lambda timeout is derived from the workflow policies, so a longer deadline can never
 * outgrow it.
 */
export const MODEL_CALL_MARGIN_SECONDS = 20;
export const MODEL_CALL_TIMEOUT_SECONDS =
  Math.ceil(Math.max(...[...WORKFLOWS.values()].map((w) => w.modelPolicy.totalDeadlineMs)) / 1000) +
  MODEL_CALL_MARGIN_SECONDS;

/** The stateful resources the stateless stack uses, passed as constructs (CDK wires the exports). */
export interface StatefulResources {
  readonly workflowTable: IndexedTable;
  readonly recordsTable: IndexedTable;
  readonly traceTable: IndexedTable;
  readonly ledgerTable: IndexedTable;
  readonly openAiSecret: secretsmanager.ISecret;
  readonly cognito: CognitoAuthResources | undefined;
}

export interface StatelessStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly stateful: StatefulResources;
  /** The review console's files; false leaves the console out (the local stack serves its own). */
  readonly console: ConsoleAssets | false;
}

/** The repo-relative handler module of each function; the local stack reads it from `rein:entry`. */
export const FUNCTION_ENTRIES = {
  api: 'functions/api/handler.ts',
  context: 'functions/context/handler.ts',
  modelCall: 'functions/model-call/handler.ts',
  validate: 'functions/validate/handler.ts',
  review: 'functions/review/handler.ts',
  actions: 'functions/actions/handler.ts',
} as const;

/**
 * Everything that can be replaced without losing data: the five functions, the workflow state
 * machine, the HTTP API and the alarms. Each function gets exactly the tables and actions its
 * use cases need, through the `bind…` helpers of ReinFunction.
 */
export class StatelessStack extends Stack {
  readonly functions: Record<keyof typeof FUNCTION_ENTRIES, ReinFunction>;
  readonly workflow: WorkflowStateMachine;
  readonly api: ReinHttpApi;
  readonly alarms: ReinAlarms;
  /** The review console (Cognito stages only: it signs in through the user pool's managed login). */
  readonly console: ReinConsole | undefined;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const modelAllowList = config.modelAllowList.join(',');
    const claims = authClaims(config.auth);

    // The review function is invoked by the state machine and may itself complete the review task
    // (a draft decided before AwaitReview registered its token), so it needs the machine's ARN.
    // A fixed name gives that ARN without a reference cycle between the function and the machine.
    const stateMachineName = `rein-${config.envName}-workflow`;
    const stateMachineByName = sfn.StateMachine.fromStateMachineName(
      this,
      'WorkflowStateMachineByName',
      stateMachineName,
    );

    const api = new ReinFunction(this, 'Api', {
      entry: FUNCTION_ENTRIES.api,
      config,
      description: 'Rein HTTP API: authenticates, validates and starts runs; reviewers decide drafts.',
      timeout: Duration.seconds(29),
    })
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      .bindRecordsTable(stateful.recordsTable, 'readWrite')
      .bindConnectorSecrets('readWrite')
      .bindTraceTable(stateful.traceTable, 'readWrite')
      .bindLedgerTable(stateful.ledgerTable, 'readWrite')
      .withEnvironment('AUTH_TENANT_CLAIM', claims.tenantClaim)
      .withEnvironment('AUTH_ROLES_CLAIM', claims.rolesClaim)
      .withEnvironment('MODEL_ALLOW_LIST', modelAllowList)
      // Creates a target's signing secret when an admin configures the target (shown once).
      .bindSigningSecrets('write');

    const context = new ReinFunction(this, 'Context', {
      entry: FUNCTION_ENTRIES.context,
      config,
      description: 'Rein FetchContext task: gathers the scoped, allow-listed context object.',
    })
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      .bindRecordsTable(stateful.recordsTable)
      .bindConnectorSecrets('read')
      .bindTraceTable(stateful.traceTable, 'write');

    const modelCall = new ReinFunction(this, 'ModelCall', {
      entry: FUNCTION_ENTRIES.modelCall,
      config,
      description: 'Rein CallModel task: the model gateway (budget reservation, OpenAI call, settlement).',
      timeout: Duration.seconds(MODEL_CALL_TIMEOUT_SECONDS),
    })
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      .bindLedgerTable(stateful.ledgerTable, 'readWrite')
      .bindTraceTable(stateful.traceTable, 'write')
      .bindOpenAiSecret(stateful.openAiSecret)
      .withEnvironment('MODEL_ALLOW_LIST', modelAllowList);

    const validate = new ReinFunction(this, 'Validate', {
      entry: FUNCTION_ENTRIES.validate,
      config,
      description: 'Rein ValidateOutput and StoreDraft tasks.',
    })
      // StoreDraft starts the review and stores its absolute deadline (expiresAt) with the draft.
      .withEnvironment('REVIEW_TIMEOUT_SECONDS', String(config.reviewTimeoutSeconds))
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      .bindTraceTable(stateful.traceTable, 'write');

    const review = new ReinFunction(this, 'Review', {
      entry: FUNCTION_ENTRIES.review,
      config,
      memorySize: 256,
      description: 'Rein AwaitReview, ExpireReview, RecordOutcome and MarkFailed tasks.',
    })
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      // MarkFailed releases the budget reservations a dead model-call invocation left held.
      .bindLedgerTable(stateful.ledgerTable, 'readWrite')
      .bindTraceTable(stateful.traceTable, 'write')
      .bindStateMachine(stateMachineByName, ['states:SendTaskSuccess']);

    const actions = new ReinFunction(this, 'Actions', {
      entry: FUNCTION_ENTRIES.actions,
      config,
      memorySize: 256,
      description: "Rein ExecuteActions task: sends approved actions to the tenant's action targets, signed.",
      // Several actions, each up to 4 bounded tries with backoff (see ACTION_DELIVERY).
      timeout: Duration.minutes(5),
    })
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      .bindTraceTable(stateful.traceTable, 'write')
      .bindSigningSecrets('read');

    this.workflow = new WorkflowStateMachine(this, 'Workflow', {
      config,
      stateMachineName,
      functions: {
        context: context.function,
        modelCall: modelCall.function,
        validate: validate.function,
        review: review.function,
        actions: actions.function,
      },
    });
    api.bindStateMachine(this.workflow.stateMachine, [
      'states:StartExecution',
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
    ]);

    this.functions = { api, context, modelCall, validate, review, actions };

    this.console =
      props.console !== false && stateful.cognito
        ? new ReinConsole(this, 'Console', {
            config,
            userPool: stateful.cognito.userPool,
            assets: props.console,
          })
        : undefined;
    this.api = new ReinHttpApi(this, 'Http', {
      config,
      handler: api.function,
      ...(stateful.cognito ? { cognito: stateful.cognito } : {}),
      ...(this.console ? { console: { client: this.console.client, origin: this.console.url } } : {}),
    });
    this.console?.deploy(this.api.stage.url);

    this.alarms = new ReinAlarms(this, 'Alarms', {
      config,
      stateMachine: this.workflow.stateMachine,
      functions: Object.fromEntries(
        Object.entries(this.functions).map(([name, fn]) => [name, fn.function] as const),
      ),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: `Base URL of the Rein ${config.envName} API`,
      value: this.api.stage.url,
    });
    new CfnOutput(this, 'StateMachineArn', {
      description: 'The renewal workflow state machine.',
      value: this.workflow.stateMachine.stateMachineArn,
    });
  }
}
