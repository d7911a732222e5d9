import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { MODEL_CALL_MARGIN_SECONDS } from '../../infra/stacks/stateless.ts';
import { WORKFLOWS } from '#shared/workflows/registry.ts';
import {
  FUNCTION_ENTRIES,
  buildApp,
  functionByEntry,
  resourcesOf,
  templatesOf,
  type FunctionName,
} from './support.ts';

const reinApp = buildApp();

/** The settings each function reads (shared/config.ts), and no others. */
const EXPECTED_VARIABLES: Record<FunctionName, string[]> = {
  api: [
    'ACTION_SECRETS_PREFIX',
    'AUTH_ROLES_CLAIM',
    'AUTH_TENANT_CLAIM',
    'CONNECTOR_SECRET_PREFIX',
    'DEFAULT_MONTHLY_BUDGET_USD',
    'LEDGER_TABLE',
    'MODEL_ALLOW_LIST',
    'RATE_LIMIT_RPM',
    'RATE_LIMIT_TPM',
    'RECORDS_TABLE',
    'STATE_MACHINE_ARN',
    'TRACE_TABLE',
    'TRACE_TTL_DAYS',
    'WORKFLOW_TABLE',
  ],
  context: ['CONNECTOR_SECRET_PREFIX', 'RECORDS_TABLE', 'TRACE_TABLE', 'TRACE_TTL_DAYS', 'WORKFLOW_TABLE'],
  modelCall: [
    'CONNECTOR_SECRET_PREFIX',
    'DEFAULT_MONTHLY_BUDGET_USD',
    'LEDGER_TABLE',
    'MODEL_ALLOW_LIST',
    'OPENAI_SECRET_ARN',
    'RATE_LIMIT_RPM',
    'RATE_LIMIT_TPM',
    'RECORDS_TABLE',
    'TRACE_TABLE',
    'TRACE_TTL_DAYS',
    'WORKFLOW_TABLE',
  ],
  validate: ['REVIEW_TIMEOUT_SECONDS', 'TRACE_TABLE', 'TRACE_TTL_DAYS', 'WORKFLOW_TABLE'],
  review: [
    'DEFAULT_MONTHLY_BUDGET_USD',
    'LEDGER_TABLE',
    'RATE_LIMIT_RPM',
    'RATE_LIMIT_TPM',
    'STATE_MACHINE_ARN',
    'TRACE_TABLE',
    'TRACE_TTL_DAYS',
    'WORKFLOW_TABLE',
  ],
  events: [
    'EVENT_BUS_NAME',
    'OUTBOX_SWEEP_GRACE_SECONDS',
    'WEBHOOK_RETRY_BASE_SECONDS',
    'WEBHOOK_RETRY_MAX_DELAY_SECONDS',
    'WEBHOOK_RETRY_WINDOW_SECONDS',
    'WORKFLOW_TABLE',
  ],
  actions: ['ACTION_SECRETS_PREFIX', 'TRACE_TABLE', 'TRACE_TTL_DAYS', 'WORKFLOW_TABLE'],
};
const COMMON_VARIABLES = ['LOG_LEVEL', 'NODE_OPTIONS', 'REIN_ENV'];

describe.each(ENV_NAMES)('the %s functions', (env) => {
  const { stateless } = templatesOf(reinApp, env);
  const config = reinApp.stages[env].config;

  it('are exactly the six entries, each marked with its rein:entry, besides the console deployment handler', () => {
    const functions = Object.entries(resourcesOf(stateless, 'AWS::Lambda::Function'));
    // The one function that is not Rein's: CDK's BucketDeployment handler, which uploads the console.
    const others = functions.filter(([logicalId]) => !logicalId.startsWith('CustomCDKBucketDeployment'));
    expect(functions.length - others.length).toBe(1);
    const entries = others.map(([, fn]) => fn.Metadata?.['rein:entry']);
    expect(entries.sort()).toEqual(Object.values(FUNCTION_ENTRIES).sort());
  });

  it.each(Object.entries(FUNCTION_ENTRIES))(
    '%s runs Node.js 24 on arm64 with active tracing',
    (_name, entry) => {
      const [, fn] = functionByEntry(stateless, entry);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
    },
  );

  it.each(Object.entries(FUNCTION_ENTRIES))(
    '%s logs to its own log group with the configured retention',
    (_name, entry) => {
      const [, fn] = functionByEntry(stateless, entry);
      const logGroup = (fn.Properties?.['LoggingConfig'] as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const group = resourcesOf(stateless, 'AWS::Logs::LogGroup')[logGroup];
      expect(group?.Properties?.['RetentionInDays']).toBe(config.logRetention);
    },
  );

  it.each(Object.entries(EXPECTED_VARIABLES))('%s gets exactly the settings it reads', (name, expected) => {
    const [, fn] = functionByEntry(stateless, FUNCTION_ENTRIES[name as FunctionName]);
    const variables = (fn.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables).sort()).toEqual([...expected, ...COMMON_VARIABLES].sort());
    expect(variables['REIN_ENV']).toBe(env);
    expect(variables['LOG_LEVEL']).toBe(config.logLevel);
  });

  it('passes the environment settings to the functions that read them', () => {
    const variables = (name: FunctionName): Record<string, unknown> =>
      (
        functionByEntry(stateless, FUNCTION_ENTRIES[name])[1].Properties?.['Environment'] as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    expect(variables('modelCall')).toMatchObject({
      MODEL_ALLOW_LIST: config.modelAllowList.join(','),
      DEFAULT_MONTHLY_BUDGET_USD: String(config.defaultMonthlyBudgetUsd),
      RATE_LIMIT_RPM: String(config.rateLimits.requestsPerMinute),
      RATE_LIMIT_TPM: String(config.rateLimits.tokensPerMinute),
      TRACE_TTL_DAYS: String(config.traceRetentionDays),
    });
    expect(variables('events')).toMatchObject({
      WEBHOOK_RETRY_BASE_SECONDS: String(config.webhooks.retryBaseSeconds),
      WEBHOOK_RETRY_WINDOW_SECONDS: String(config.webhooks.retryWindowSeconds),
    });
    expect(config.webhooks.retryWindowSeconds).toBeGreaterThanOrEqual(24 * 60 * 60);
    expect(variables('api')).toMatchObject({
      AUTH_TENANT_CLAIM: 'custom:tenant_id',
      AUTH_ROLES_CLAIM: 'cognito:groups',
      MODEL_ALLOW_LIST: config.modelAllowList.join(','),
    });
  });

  it('reads table names from the stateful stack through its exports', () => {
    const [, api] = functionByEntry(stateless, FUNCTION_ENTRIES.api);
    const variables = (api.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    for (const [name, table] of [
      ['WORKFLOW_TABLE', 'WorkflowTable'],
      ['RECORDS_TABLE', 'RecordsTable'],
      ['TRACE_TABLE', 'TraceTable'],
      ['LEDGER_TABLE', 'LedgerTable'],
    ] as const) {
      expect(Object.keys(variables[name] as object)).toEqual(['Fn::ImportValue']);
      expect((variables[name] as { 'Fn::ImportValue': string })['Fn::ImportValue']).toMatch(
        new RegExp(`:ExportsOutputRef${table}`),
      );
    }
  });

  it("gives the model gateway every workflow's total deadline plus its margin, and the API less than the HTTP API limit", () => {
    const timeout = Number(functionByEntry(stateless, FUNCTION_ENTRIES.modelCall)[1].Properties?.['Timeout']);
    for (const workflow of WORKFLOWS.values()) {
      expect(timeout * 1000).toBeGreaterThanOrEqual(
        workflow.modelPolicy.totalDeadlineMs + MODEL_CALL_MARGIN_SECONDS * 1000,
      );
    }
    expect(timeout).toBe(120);
    expect(functionByEntry(stateless, FUNCTION_ENTRIES.api)[1].Properties?.['Timeout']).toBeLessThan(30);
  });
});
