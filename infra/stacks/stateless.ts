import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { OUTBOX_SK } from '#shared/adapters/dynamodb/outbox.ts';
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
  events: 'functions/events/handler.ts',
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
  readonly eventBus: events.EventBus;
  readonly outboxDeadLetters: sqs.Queue;
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
      // Read-only tools read sources as the context task does: stored records or a tenant's connector.
      .bindRecordsTable(stateful.recordsTable)
      .bindConnectorSecrets('read')
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

    // Events: the outbox (workflow table stream) → the delivery function → webhooks and the bus.
    this.eventBus = new events.EventBus(this, 'EventBus', {
      eventBusName: `rein-${config.envName}-events`,
      description: `Rein ${config.envName} domain events (run.*, draft.*, budget.*, action.*), source rein.${config.envName}.`,
    });
    const eventsFn = new ReinFunction(this, 'Events', {
      entry: FUNCTION_ENTRIES.events,
      config,
      memorySize: 256,
      // Attempts are sequential, each bounded by the webhook timeout (10 s).
      timeout: Duration.minutes(5),
      description: 'Rein event delivery: outbox stream and schedule → tenant webhooks and the event bus.',
    })
      .bindWorkflowTable(stateful.workflowTable, 'readWrite')
      .bindEventBus(this.eventBus)
      .withWebhookSettings();
    this.outboxDeadLetters = new sqs.Queue(this, 'OutboxDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.outboxDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the outbox stream; the events stay in the outbox and the scheduled sweep dispatches them.',
    });
    eventsFn.function.addEventSource(
      new sources.DynamoEventSource(stateful.workflowTable.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        retryAttempts: 5,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new sources.SqsDlq(this.outboxDeadLetters),
        filters: [
          lambda.FilterCriteria.filter({
            // FilterRule.isEqual is typed `any`; its value is the pattern's list of accepted values.
            eventName: lambda.FilterRule.isEqual('INSERT') as string[],
            dynamodb: { NewImage: { sk: { S: lambda.FilterRule.isEqual(OUTBOX_SK) as string[] } } },
          }),
        ],
      }),
    );
    Validations.of(eventsFn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams (added by the stream event source) supports no resource-level permission; stream reads name the workflow table stream.',
    });
    new events.Rule(this, 'OutboxSweep', {
      description: 'Every minute: dispatch outbox events the stream missed and attempt due webhook retries.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(eventsFn.function, {
          event: events.RuleTargetInput.fromObject({ action: 'sweepOutbox' }),
          retryAttempts: 2,
        }),
      ],
    });

    this.functions = { api, context, modelCall, validate, review, actions, events: eventsFn };

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
      httpApi: this.api.httpApi,
      tables: {
        workflow: stateful.workflowTable.table,
        records: stateful.recordsTable.table,
        trace: stateful.traceTable.table,
        ledger: stateful.ledgerTable.table,
      },
      outboxDeadLetters: this.outboxDeadLetters,
      stateMachine: this.workflow.stateMachine,
      functions: Object.fromEntries(
        Object.entries(this.functions).map(([name, fn]) => [name, fn.function] as const),
      ),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: `Base URL of the Rein ${config.envName} API`,
      value: this.api.stage.url,
    });
    new CfnOutput(this, 'EventBusName', {
      description: 'EventBridge bus receiving every Rein domain event (route them with rules).',
      value: this.eventBus.eventBusName,
    });
    new CfnOutput(this, 'StateMachineArn', {
      description: 'The renewal workflow state machine.',
      value: this.workflow.stateMachine.stateMachineArn,
    });
  }
}
