import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll } from 'vitest';
import { createApp, type CreateAppOptions, type ReinApp } from '../../infra/app-factory.ts';
import type { EnvName } from '../../infra/config/types.ts';

// One scratch directory per test file for the cloud assemblies, removed after the file's tests
// (this module is evaluated again for every test file, so the hook joins that file's root suite).
const scratch = mkdtempSync(join(tmpdir(), 'rein-infra-test-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Builds the app without bundling (placeholder code assets, same templates) in a temp dir. */
export function buildApp(options: Omit<CreateAppOptions, 'bundling' | 'outdir'> = {}): ReinApp & {
  outdir: string;
} {
  const outdir = mkdtempSync(join(scratch, 'app-'));
  return { ...createApp({ ...options, bundling: false, outdir }), outdir };
}

export interface StageTemplates {
  stateful: Template;
  stateless: Template;
}

export function templatesOf(reinApp: ReinApp, env: EnvName): StageTemplates {
  const stage = reinApp.stages[env];
  return { stateful: Template.fromStack(stage.stateful), stateless: Template.fromStack(stage.stateless) };
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The one resource of a type; fails when there is not exactly one. */
export function onlyResource(template: Template, type: string): [string, CfnResource] {
  const entries = Object.entries(resourcesOf(template, type));
  if (entries.length !== 1) throw new Error(`Expected one ${type}, found ${entries.length}.`);
  return entries[0] as [string, CfnResource];
}

/** The table whose logical id starts with the construct id (`WorkflowTable…`). */
export function tableNamed(template: Template, id: string): [string, CfnResource] {
  const entries = Object.entries(resourcesOf(template, 'AWS::DynamoDB::Table')).filter(([logicalId]) =>
    logicalId.startsWith(id),
  );
  if (entries.length !== 1) throw new Error(`Expected one table ${id}, found ${entries.length}.`);
  return entries[0] as [string, CfnResource];
}

export const FUNCTION_ENTRIES = {
  api: 'functions/api/handler.ts',
  context: 'functions/context/handler.ts',
  modelCall: 'functions/model-call/handler.ts',
  validate: 'functions/validate/handler.ts',
  review: 'functions/review/handler.ts',
  actions: 'functions/actions/handler.ts',
} as const;
export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/** The Lambda function whose `rein:entry` metadata names the handler module. */
export function functionByEntry(template: Template, entry: string): [string, CfnResource] {
  const matches = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(
    ([, resource]) => resource.Metadata?.['rein:entry'] === entry,
  );
  if (matches.length !== 1) throw new Error(`Expected one function for ${entry}, found ${matches.length}.`);
  return matches[0] as [string, CfnResource];
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** A readable label for a policy resource: which table, index, secret, log group or machine. */
function resourceLabel(resource: unknown): string {
  if (resource === '*') return '*';
  const text = JSON.stringify(resource);
  const kind = [
    'WorkflowTable',
    'RecordsTable',
    'TraceTable',
    'LedgerTable',
    'OpenAiApiKey',
    'LogGroup',
  ].find((name) => text.includes(name));
  if (kind && /\/index\//.test(text)) return `${kind}/index`;
  if (kind) return kind;
  if (text.includes('WorkflowStateMachine') || text.includes(':stateMachine:')) return 'StateMachine';
  // Connector secrets are named at run time, under the stage's prefix only.
  const connectors = /:secret:(rein\/(?:dev|staging|prod)\/connectors\/\*)"/.exec(text);
  if (connectors) return `ConnectorSecrets(${connectors[1] ?? ''})`;
  if (/:secret:rein\/[a-z]+\/action-targets\/\*/.test(text)) return 'SigningSecrets';
  if (text.includes('Function')) return 'Function';
  return text;
}

/** Every statement of the policies attached to a role, with resources labelled. */
export function permissionsOfRole(template: Template, roleLogicalId: string): Record<string, Set<string>> {
  const [, role] =
    Object.entries(resourcesOf(template, 'AWS::IAM::Role')).find(([id]) => id === roleLogicalId) ?? [];
  if (!role) throw new Error(`No role ${roleLogicalId}.`);
  const statements: Statement[] = [];
  for (const inline of (role.Properties?.['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]) ??
    []) {
    statements.push(...inline.PolicyDocument.Statement);
  }
  for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const roles = JSON.stringify(policy.Properties?.['Roles']);
    if (!roles.includes(`"${roleLogicalId}"`)) continue;
    const document = policy.Properties?.['PolicyDocument'] as { Statement: Statement[] };
    statements.push(...document.Statement);
  }
  const byResource: Record<string, Set<string>> = {};
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    for (const resource of asArray(statement.Resource)) {
      const label = resourceLabel(resource);
      byResource[label] ??= new Set();
      for (const action of asArray(statement.Action)) byResource[label].add(action);
    }
  }
  return byResource;
}

export function roleOfFunction(fn: CfnResource): string {
  const role = fn.Properties?.['Role'] as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

/** Permissions of a function's role as `{ resourceLabel: sorted actions }`. */
export function functionPermissions(template: Template, entry: string): Record<string, string[]> {
  const [, fn] = functionByEntry(template, entry);
  const permissions = permissionsOfRole(template, roleOfFunction(fn));
  return Object.fromEntries(
    Object.entries(permissions).map(([label, actions]) => [label, [...actions].sort()] as const),
  );
}

/**
 * Resolves the intrinsics of a state machine definition the way a deployment would, enough to
 * parse it: Lambda ARNs by logical id, pseudo parameters by fixed values.
 */
export function resolveDefinition(definitionString: unknown): {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  QueryLanguage?: string;
} {
  const resolvePart = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const object = part as Record<string, unknown>;
    if ('Fn::GetAtt' in object) {
      const [logicalId] = object['Fn::GetAtt'] as [string, string];
      return `arn:aws:lambda:us-east-1:123456789012:function:${logicalId}`;
    }
    if ('Ref' in object) {
      const refs: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': 'us-east-1',
        'AWS::AccountId': '123456789012',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      const name = String(object['Ref']);
      return refs[name] ?? name;
    }
    throw new Error(`Unexpected intrinsic in the definition: ${JSON.stringify(part)}`);
  };
  const text =
    typeof definitionString === 'string'
      ? definitionString
      : ((definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
          .map(resolvePart)
          .join('');
  return JSON.parse(text) as ReturnType<typeof resolveDefinition>;
}
