import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { PLATFORM_ROLES, TENANT_ROLES } from '#shared/domain/principal.ts';
import type { EnvironmentConfig } from '../config/types.ts';
import type { CognitoAuthResources } from '../constructs/http-api.ts';
import type { IndexedTable } from '../constructs/rein-function.ts';

/** The attribute DynamoDB TTL reads (epoch seconds) on every table where items expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Global secondary indexes per table; the adapters in `shared/adapters/dynamodb` query them by name. */
export const TABLE_INDEXES = {
  workflow: [
    { indexName: 'byTenant', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'byOwner', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    // Sparse: events not dispatched yet and webhook deliveries waiting for an attempt (shared/adapters/dynamodb/outbox.ts).
    { indexName: 'byDue', partitionKey: 'duePk', sortKey: 'dueSk' },
    // Runs and drafts of one status (the tenant's, an owner's, an account's), newest first; the keys
    // move with each status change (shared/adapters/dynamodb/workflow-store.ts).
    { indexName: 'byStatus', partitionKey: 'st1pk', sortKey: 'stsk' },
    { indexName: 'byOwnerStatus', partitionKey: 'st2pk', sortKey: 'stsk' },
    { indexName: 'byAccountStatus', partitionKey: 'st3pk', sortKey: 'stsk' },
    // Runs of a month by cost (a number the settle transaction adds to): the tenant's, and every tenant's.
    { indexName: 'byTenantCost', partitionKey: 'costPk', sortKey: 'costUsd', sortKeyType: 'number' },
    { indexName: 'byCost', partitionKey: 'costAllPk', sortKey: 'costUsd', sortKeyType: 'number' },
  ],
  records: [],
  trace: [],
  ledger: [
    { indexName: 'byDay', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    // Sparse: only holds that still reserve money carry it, so a sweep reads only expired leases.
    { indexName: 'byLease', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const satisfies Record<
  string,
  readonly { indexName: string; partitionKey: string; sortKey: string; sortKeyType?: 'number' }[]
>;

export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Everything that holds data and must survive a redeploy of the stateless stack: the four tables,
 * the OpenAI key's secret and (for `cognito` auth) the user pool. Removal follows the
 * environment's policy; with RETAIN, tables and the user pool also get deletion protection.
 */
export class StatefulStack extends Stack {
  readonly workflowTable: IndexedTable;
  readonly recordsTable: IndexedTable;
  readonly traceTable: IndexedTable;
  readonly ledgerTable: IndexedTable;
  readonly openAiSecret: secretsmanager.Secret;
  readonly cognito: CognitoAuthResources | undefined;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const retain = config.removalPolicy === RemovalPolicy.RETAIN;

    const table = (
      tableId: string,
      kind: keyof typeof TABLE_INDEXES,
      options: { ttl: boolean; description: string; stream?: boolean },
    ): IndexedTable => {
      const created = new dynamodb.Table(this, tableId, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy: config.removalPolicy,
        deletionProtection: retain,
        ...(options.ttl ? { timeToLiveAttribute: TTL_ATTRIBUTE } : {}),
        ...(options.stream ? { stream: dynamodb.StreamViewType.NEW_IMAGE } : {}),
      });
      for (const index of TABLE_INDEXES[kind]) {
        created.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: {
            name: index.sortKey,
            type:
              'sortKeyType' in index && index.sortKeyType === 'number'
                ? dynamodb.AttributeType.NUMBER
                : dynamodb.AttributeType.STRING,
          },
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      new CfnOutput(this, `${tableId}Name`, { description: options.description, value: created.tableName });
      return { table: created, indexNames: TABLE_INDEXES[kind].map((index) => index.indexName) };
    };

    this.workflowTable = table('WorkflowTable', 'workflow', {
      ttl: true,
      description:
        'Runs, drafts, contexts, idempotency keys, the event outbox, webhook subscriptions and deliveries (keys, events and deliveries expire by TTL).',
      // The outbox: new event items reach the event delivery function through the stream.
      stream: true,
    });
    this.recordsTable = table('RecordsTable', 'records', {
      ttl: false,
      description: 'Source records: CRM, usage, tickets, invoices, contracts.',
    });
    this.traceTable = table('TraceTable', 'trace', {
      ttl: true,
      description: `Trace spans, removed by TTL after ${config.traceRetentionDays} days.`,
    });
    // Budgets, reservations and ledger entries never set expiresAt; the per-minute rate-limit
    // windows kept in the same table do, and TTL removes them.
    this.ledgerTable = table('LedgerTable', 'ledger', {
      ttl: true,
      description: 'Budgets, reservations, ledger entries and rate-limit windows.',
    });

    // The value is set out of band by the operator (see infra/README.md); CloudFormation only
    // creates the secret with a random placeholder that OpenAI rejects.
    this.openAiSecret = new secretsmanager.Secret(this, 'OpenAiApiKey', {
      description: `Rein ${config.envName}: OpenAI API key used by the model gateway. Set the value with put-secret-value.`,
      removalPolicy: config.removalPolicy,
    });
    Validations.of(this.openAiSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Provider API keys are rotated by the operator in the OpenAI console and written with put-secret-value; Rein reads the secret through a short cache, so a rotation needs no redeploy and no rotation Lambda.',
    });
    new CfnOutput(this, 'OpenAiSecretArn', {
      description: 'Secret holding the OpenAI API key (set its value out of band).',
      value: this.openAiSecret.secretArn,
    });

    this.cognito =
      config.auth.kind === 'cognito' ? this.createUserPool(config, config.auth.threatProtection) : undefined;
  }

  /**
   * The identity provider for `cognito` auth: administrators create users (no self sign-up), set
   * `custom:tenant_id`, which clients cannot write, and add users to one group per role. The ID
   * token carries both claims, so clients send the ID token as the bearer token.
   */
  private createUserPool(config: EnvironmentConfig, threatProtection: boolean): CognitoAuthResources {
    const userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `rein-${config.envName}`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: { tenant_id: new cognito.StringAttribute({ minLen: 1, maxLen: 63, mutable: true }) },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      ...(threatProtection
        ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION }
        : {}),
      deletionProtection: config.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: config.removalPolicy,
    });
    if (!threatProtection) {
      Validations.of(userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason: `The ${config.envName} pool holds only test users; the Plus tier's per-user price buys threat protection that production enables (config auth.threatProtection).`,
      });
    }

    // `integration` belongs to machine clients (OAuth client credentials), never to a person: no group.
    for (const role of [...TENANT_ROLES, ...PLATFORM_ROLES].filter((r) => r !== 'integration')) {
      userPool.addGroup(`Group-${role}`, {
        groupName: role,
        description: `Rein role ${role}; the API reads roles from cognito:groups.`,
      });
    }

    const userPoolClient = userPool.addClient('ApiClient', {
      userPoolClientName: `rein-${config.envName}-api`,
      generateSecret: false,
      disableOAuth: true,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes('tenant_id'),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: userPoolClient.userPoolClientId });
    return { userPool, userPoolClient };
  }
}
