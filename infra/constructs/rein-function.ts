import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/types.ts';

/** The repository root: entries, the lockfile and `package.json` `imports` resolve from here. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Secrets Manager name prefix of a stage's connector secrets. */
export function connectorSecretPrefix(envName: string): string {
  return `rein/${envName}/connectors`;
}

/** A table together with the names of its global secondary indexes (queries need their ARNs). */
export interface IndexedTable {
  readonly table: dynamodb.ITable;
  readonly indexNames: readonly string[];
}

/** The DynamoDB actions each access mode allows; no wildcards, no Scan, no batch operations. */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

export type TableAccess = 'read' | 'readWrite';
export type TraceAccess = 'write' | 'readWrite';
export type StateMachineAction =
  'states:StartExecution' | 'states:SendTaskSuccess' | 'states:SendTaskFailure';

export interface ReinFunctionProps {
  /** Repo-relative path of the handler module, e.g. `functions/context/handler.ts`. */
  readonly entry: string;
  readonly config: EnvironmentConfig;
  readonly description: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 30 seconds */
  readonly timeout?: Duration;
}

/**
 * Every Rein Lambda: Node.js 24 on arm64, bundled by esbuild as minified ESM with source maps,
 * its own log group with the environment's retention, active X-Ray tracing and its own role that
 * starts with nothing but writing to that log group. The `bind…` helpers grant IAM and set the
 * environment variable the function reads (see `shared/config.ts`) together, so a function never
 * holds a permission it is not configured to use, nor a setting it is not allowed to use.
 *
 * The resource carries CloudFormation metadata `rein:entry` (the repo-relative entry) so the local
 * stack can bind each function of the template to its handler module.
 */
export class ReinFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly entry: string;
  private readonly config: EnvironmentConfig;

  constructor(scope: Construct, id: string, props: ReinFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.config = props.config;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.config.logRetention,
      removalPolicy: props.config.removalPolicy,
    });

    // An explicit role instead of the AWSLambdaBasicExecutionRole managed policy: log writes are
    // limited to this function's own log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Rein ${props.config.envName} ${id} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        REIN_ENV: props.config.envName,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // ESM output has no `require`; some CommonJS dependencies still call it.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata('rein:entry', props.entry);

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; every other statement of this role names its resources.',
    });
  }

  /** The function's ARN, for tasks and integrations. */
  get functionArn(): string {
    return this.function.functionArn;
  }

  private setEnv(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  private allowTable(target: IndexedTable, actions: readonly string[]): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...actions], resources: [target.table.tableArn] }),
    );
    // Indexes are only ever queried; each is named, never `index/*`.
    if (actions.includes('dynamodb:Query') && target.indexNames.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: target.indexNames.map((name) => `${target.table.tableArn}/index/${name}`),
        }),
      );
    }
  }

  /** Runs, drafts, contexts and idempotency keys (WORKFLOW_TABLE). Drafts' task tokens are deleted. */
  bindWorkflowTable(target: IndexedTable, access: TableAccess): this {
    this.allowTable(
      target,
      access === 'read' ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS, 'dynamodb:DeleteItem'],
    );
    this.setEnv('WORKFLOW_TABLE', target.table.tableName);
    return this;
  }

  /**
   * Source records and per-source stats (RECORDS_TABLE). Readers (the context task) only read; the
   * API writes them for the ingestion routes (conditional puts, deletes, stats updates in one transaction).
   */
  bindRecordsTable(target: IndexedTable, access: TableAccess = 'read'): this {
    this.allowTable(
      target,
      access === 'read' ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS, 'dynamodb:DeleteItem'],
    );
    this.setEnv('RECORDS_TABLE', target.table.tableName);
    return this;
  }

  /** Trace spans (TRACE_TABLE) and how long they live (TRACE_TTL_DAYS). Writers only put spans. */
  bindTraceTable(target: IndexedTable, access: TraceAccess): this {
    this.allowTable(
      target,
      access === 'write' ? ['dynamodb:PutItem'] : ['dynamodb:PutItem', ...READ_ACTIONS],
    );
    this.setEnv('TRACE_TABLE', target.table.tableName);
    this.setEnv('TRACE_TTL_DAYS', String(this.config.traceRetentionDays));
    return this;
  }

  /**
   * Budgets, reservations, ledger entries, rate-limit and circuit-breaker counters (LEDGER_TABLE),
   * with the settings every ledger-backed adapter needs: DEFAULT_MONTHLY_BUDGET_USD, RATE_LIMIT_RPM
   * and RATE_LIMIT_TPM.
   */
  bindLedgerTable(target: IndexedTable, access: TableAccess): this {
    this.allowTable(target, access === 'read' ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS]);
    this.setEnv('LEDGER_TABLE', target.table.tableName);
    this.setEnv('DEFAULT_MONTHLY_BUDGET_USD', String(this.config.defaultMonthlyBudgetUsd));
    this.setEnv('RATE_LIMIT_RPM', String(this.config.rateLimits.requestsPerMinute));
    this.setEnv('RATE_LIMIT_TPM', String(this.config.rateLimits.tokensPerMinute));
    return this;
  }

  /** The OpenAI key's secret (OPENAI_SECRET_ARN), read through a cached provider. */
  bindOpenAiSecret(secret: secretsmanager.ISecret): this {
    secret.grantRead(this.role);
    this.setEnv('OPENAI_SECRET_ARN', secret.secretArn);
    return this;
  }

  /**
   * Action targets' signing secrets (ACTION_SECRETS_PREFIX): `write` creates and replaces them (the
   * API, when an admin configures a target), `read` reads them (ExecuteActions). Only secrets under
   * the stage's own prefix; Secrets Manager appends a random suffix to every ARN, hence the `*`.
   */
  bindSigningSecrets(access: 'read' | 'write'): this {
    const stack = Stack.of(this);
    const prefix = `rein/${this.config.envName}/action-targets/`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions:
          access === 'read'
            ? ['secretsmanager:GetSecretValue']
            : [
                'secretsmanager:CreateSecret',
                'secretsmanager:PutSecretValue',
                'secretsmanager:GetSecretValue',
              ],
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${prefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}*]`,
      reason:
        "Signing secrets are created per tenant and target at run time under the stage's own prefix (rein/<env>/action-targets/); Secrets Manager adds a random suffix to each ARN, so the grant must end in a wildcard.",
    });
    this.setEnv('ACTION_SECRETS_PREFIX', prefix);
    return this;
  }

  /**
   * Tenants' connector secrets (CONNECTOR_SECRET_PREFIX = `rein/<env>/connectors`): one secret per
   * tenant connector, created by the API when a tenant admin configures a connector, read by the
   * API (connector test) and the context task. The policy reaches only this stage's prefix.
   */
  bindConnectorSecrets(access: 'read' | 'readWrite'): this {
    const prefix = connectorSecretPrefix(this.config.envName);
    const stack = Stack.of(this);
    const actions =
      access === 'read'
        ? ['secretsmanager:GetSecretValue']
        : [
            'secretsmanager:CreateSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:GetSecretValue',
            'secretsmanager:DescribeSecret',
          ];
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${prefix}/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${prefix}/*]`,
      reason:
        "Connector secrets are created at run time, one per tenant connector, so their names are not known at deploy time; the policy is limited to this stage's connector prefix.",
    });
    this.setEnv('CONNECTOR_SECRET_PREFIX', prefix);
    return this;
  }

  /** The workflow state machine (STATE_MACHINE_ARN) with exactly the given actions on it. */
  bindStateMachine(stateMachine: sfn.IStateMachine, actions: readonly StateMachineAction[]): this {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...actions], resources: [stateMachine.stateMachineArn] }),
    );
    this.setEnv('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    return this;
  }

  /** A plain setting (MODEL_ALLOW_LIST, AUTH_TENANT_CLAIM, …) that needs no permission. */
  withEnvironment(name: string, value: string): this {
    this.setEnv(name, value);
    return this;
  }
}
