import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import {
  FUNCTION_ENTRIES,
  buildApp,
  functionByEntry,
  functionPermissions,
  onlyResource,
  permissionsOfRole,
  resourcesOf,
  roleOfFunction,
  templatesOf,
  type FunctionName,
} from './support.ts';

const reinApp = buildApp();

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const READ = ['dynamodb:GetItem', 'dynamodb:Query'];
const READ_WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
const WORKFLOW_READ_WRITE = [...READ_WRITE, 'dynamodb:DeleteItem'].sort();
const TRACE_WRITE = ['dynamodb:PutItem'];
const TRACE_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'];
const QUERY = ['dynamodb:Query'];

/** Per function: resource → exact actions. Index ARNs only carry what queries them. */
const EXPECTED: Record<FunctionName, Record<string, string[]>> = {
  api: {
    LogGroup: LOGS,
    '*': XRAY,
    WorkflowTable: WORKFLOW_READ_WRITE,
    'WorkflowTable/index': QUERY,
    RecordsTable: WORKFLOW_READ_WRITE,
    ConnectorSecrets: [
      'secretsmanager:CreateSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ],
    TraceTable: TRACE_READ_WRITE,
    LedgerTable: READ_WRITE,
    'LedgerTable/index': QUERY,
    StateMachine: ['states:SendTaskFailure', 'states:SendTaskSuccess', 'states:StartExecution'],
    // Creates a target's signing secret when an admin configures the target.
    SigningSecrets: [
      'secretsmanager:CreateSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ],
  },
  context: {
    LogGroup: LOGS,
    '*': XRAY,
    WorkflowTable: WORKFLOW_READ_WRITE,
    'WorkflowTable/index': QUERY,
    RecordsTable: READ,
    ConnectorSecrets: ['secretsmanager:GetSecretValue'],
    TraceTable: TRACE_WRITE,
  },
  modelCall: {
    LogGroup: LOGS,
    '*': XRAY,
    WorkflowTable: WORKFLOW_READ_WRITE,
    'WorkflowTable/index': QUERY,
    LedgerTable: READ_WRITE,
    'LedgerTable/index': QUERY,
    TraceTable: TRACE_WRITE,
    // Read-only tools read sources as the context task does.
    RecordsTable: READ,
    ConnectorSecrets: ['secretsmanager:GetSecretValue'],
    OpenAiApiKey: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
  },
  validate: {
    LogGroup: LOGS,
    '*': XRAY,
    WorkflowTable: WORKFLOW_READ_WRITE,
    'WorkflowTable/index': QUERY,
    TraceTable: TRACE_WRITE,
  },
  review: {
    LogGroup: LOGS,
    '*': XRAY,
    WorkflowTable: WORKFLOW_READ_WRITE,
    'WorkflowTable/index': QUERY,
    TraceTable: TRACE_WRITE,
    // MarkFailed releases the reservations a dead model-call invocation left held.
    LedgerTable: READ_WRITE,
    'LedgerTable/index': QUERY,
    // AwaitReview completes the task itself when the draft was decided before the token was stored.
    StateMachine: ['states:SendTaskSuccess'],
  },
  events: {
    LogGroup: LOGS,
    '*': [...XRAY, 'dynamodb:ListStreams'].sort(),
    // The table and its stream (the outbox), both imported from the stateful stack.
    WorkflowTable: [
      ...WORKFLOW_READ_WRITE,
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
    ].sort(),
    'WorkflowTable/index': QUERY,
    '{"Fn::GetAtt":["EventBus7B8748AA","Arn"]}': ['events:PutEvents'],
    '{"Fn::GetAtt":["OutboxDeadLettersA73F12D9","Arn"]}': [
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ],
  },
  actions: {
    LogGroup: LOGS,
    '*': XRAY,
    WorkflowTable: WORKFLOW_READ_WRITE,
    'WorkflowTable/index': QUERY,
    TraceTable: TRACE_WRITE,
    // Only the execution step reads the signing secrets of action targets.
    SigningSecrets: ['secretsmanager:GetSecretValue'],
  },
};

/** The stage's connector-secret prefix replaces the generic label, so each stage is checked on its own. */
function forStage(expected: Record<string, string[]>, env: string): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(expected).map(([label, actions]) => [
      label === 'ConnectorSecrets' ? `ConnectorSecrets(rein/${env}/connectors/*)` : label,
      actions,
    ]),
  );
}

describe.each(ENV_NAMES)('least privilege in %s', (env) => {
  const { stateless } = templatesOf(reinApp, env);
  const permissions = Object.fromEntries(
    Object.entries(FUNCTION_ENTRIES).map(([name, entry]) => [name, functionPermissions(stateless, entry)]),
  ) as Record<FunctionName, Record<string, string[]>>;

  it.each(Object.keys(FUNCTION_ENTRIES) as FunctionName[])(
    '%s holds exactly the actions its use cases need',
    (name) => {
      expect(permissions[name]).toEqual(
        Object.fromEntries(
          Object.entries(forStage(EXPECTED[name], env)).map(([label, actions]) => [
            label,
            [...actions].sort(),
          ]),
        ),
      );
    },
  );

  it('grants no wildcard action and no managed policy to any function', () => {
    for (const [name, byResource] of Object.entries(permissions)) {
      for (const actions of Object.values(byResource)) {
        for (const action of actions) expect(action, `${name}: ${action}`).not.toContain('*');
      }
      const [, fn] = functionByEntry(stateless, FUNCTION_ENTRIES[name as FunctionName]);
      const role = resourcesOf(stateless, 'AWS::IAM::Role')[roleOfFunction(fn)];
      expect(role?.Properties?.['ManagedPolicyArns']).toBeUndefined();
    }
  });

  it('lets only the model gateway read the OpenAI key', () => {
    const readers = Object.entries(permissions).filter(([, byResource]) => 'OpenAiApiKey' in byResource);
    expect(readers.map(([name]) => name)).toEqual(['modelCall']);
  });

  it('lets only the API start executions or fail review tasks', () => {
    const holders = (action: string): string[] =>
      Object.entries(permissions)
        .filter(([, byResource]) => (byResource['StateMachine'] ?? []).includes(action))
        .map(([name]) => name)
        .sort();
    expect(holders('states:StartExecution')).toEqual(['api']);
    expect(holders('states:SendTaskFailure')).toEqual(['api']);
    expect(holders('states:SendTaskSuccess')).toEqual(['api', 'review']);
  });

  it('lets only the API (its ingestion routes) write the records table; every other function only reads it', () => {
    for (const [name, byResource] of Object.entries(permissions)) {
      if (name === 'api') continue;
      for (const action of byResource['RecordsTable'] ?? []) expect(READ).toContain(action);
    }
  });

  it('lets the state machine invoke only the four task functions and write its logs and traces', () => {
    const [, machine] = onlyResource(stateless, 'AWS::StepFunctions::StateMachine');
    const roleId = (machine.Properties?.['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const byResource = permissionsOfRole(stateless, roleId);
    expect([...(byResource['Function'] ?? [])]).toEqual(['lambda:InvokeFunction']);
    const invoked = JSON.stringify(
      Object.values(resourcesOf(stateless, 'AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties?.['Roles']).includes(roleId))
        .map((policy) => policy.Properties?.['PolicyDocument']),
    );
    for (const name of ['context', 'modelCall', 'validate', 'review'] as const) {
      expect(invoked).toContain(functionByEntry(stateless, FUNCTION_ENTRIES[name])[0]);
    }
    expect(invoked).not.toContain(functionByEntry(stateless, FUNCTION_ENTRIES.api)[0]);
    for (const action of byResource['*'] ?? []) expect(action).toMatch(/^(logs|xray):[A-Za-z]+$/);
  });

  it('queries indexes by name, never through index/*', () => {
    expect(JSON.stringify(stateless.toJSON())).not.toContain('/index/*');
  });
});
