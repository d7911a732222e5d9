import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { base64url, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#shared/domain/ids.ts';
import { ROUTES } from '#shared/http/routes.ts';
import { loadOrCreateDevIssuer } from '../../infra/local/dev-issuer.ts';
import { DEMO_SEED_PATH } from '../../infra/local/seed-path.ts';
import { readSeedFile } from '../../infra/local/seed/load.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalStack } from '../../infra/local/stack.ts';
import {
  ApiClient,
  clientsFor,
  startTestStack,
  USERS,
  waitForRun,
  type ApiResult,
  type UserName,
} from './local-stack.ts';

/**
 * The role × route × tenant matrix of DESIGN §3/§4, walked cell by cell against the local stack.
 * Every cell asserts the exact status; every error body its stable shape and that nothing leaked;
 * every 404 for another tenant's resource is compared with the answer for a missing one.
 */

const VALID_CALLERS = [
  'csmOwn',
  'csmOther',
  'manager',
  'admin',
  'finance',
  'operator',
  'integration',
] as const;
const BAD_CALLERS = ['noToken', 'expiredToken', 'otherKeyToken', 'algNoneToken', 'tamperedToken'] as const;
type ValidCaller = (typeof VALID_CALLERS)[number];
type BadCaller = (typeof BAD_CALLERS)[number];
type Caller = ValidCaller | BadCaller;
type Side = 'same' | 'other';

/** One fixture: a run of the renewal brief whose draft waits for review (or was escalated or approved). */
interface Target {
  tenantId: string;
  accountId: string;
  runId: string;
  draftId: string;
  version: number;
  content: Record<string, unknown>;
  /** The draft's proposed actions: an approval must decide each of them. */
  actionIds: string[];
}

/** An approval body deciding every proposed action (rejecting them: nothing is sent anywhere). */
function approvalOf(target: Target, reason: string) {
  return { reason, actions: target.actionIds.map((actionId) => ({ actionId, decision: 'reject' })) };
}

type FixtureState = 'awaiting' | 'escalated' | 'approved';

/**
 * A row of the matrix. `expect[caller]` is `[same tenant, other tenant]`. Rows whose accepted cells
 * would consume their target (approve, reject, escalate, edit) run those cells last, each on a fresh
 * fixture in the row's `state`; their refused cells run against the shared fixture, which must stay
 * unchanged. The other tenant's target is always a draft of globex awaiting review.
 */
interface Row {
  id: string;
  operation: string;
  sides: readonly Side[];
  /**
   * What the row addresses: a 404 for it is compared with the answer for a missing one. Path ids
   * are also compared with a malformed one (a body or query value in a bad format is a 400 instead).
   */
  resource?: { key: 'runId' | 'draftId' | 'accountId' | 'tenantId'; inPath: boolean };
  /** Fixture state of the same-tenant target (the other tenant's target always awaits review). */
  state?: FixtureState;
  query?: (target: Target) => string;
  body?: (target: Target) => unknown;
  headers?: (target: Target) => Record<string, string>;
  /** Accepted cells change their target: run them at the end on fresh fixtures. */
  consumes?: boolean;
  /** Accepted cells write (without consuming a fixture): run them at the end. */
  writes?: boolean;
  /**
   * `integration` (a tenant's machine client) may call only the ingestion routes: unless a row says
   * otherwise, it gets 403 on every authenticated route and 200 on the public ones.
   */
  expect: Record<Exclude<ValidCaller, 'integration'>, readonly [number, number]> & {
    integration?: readonly [number, number];
  };
}

const TODAY = new Date().toISOString().slice(0, 10);
const ACCEPTED_STATUSES = [200, 202];
/** Each tenant's monthly budget before the matrix runs (PUT sets it again, unchanged). */
const budgets = new Map<string, number>();

const RUN_IN_PATH = { key: 'runId', inPath: true } as const;
const DRAFT_IN_PATH = { key: 'draftId', inPath: true } as const;

/** The same expectation for both tenants. */
function both(status: number): readonly [number, number] {
  return [status, status];
}

const ROWS: readonly Row[] = [
  {
    id: 'GET /v1/health',
    operation: 'getHealth',
    sides: ['same'],
    expect: {
      csmOwn: both(200),
      csmOther: both(200),
      manager: both(200),
      admin: both(200),
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/openapi.json',
    operation: 'getOpenApi',
    sides: ['same'],
    expect: {
      csmOwn: both(200),
      csmOther: both(200),
      manager: both(200),
      admin: both(200),
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/workflows',
    operation: 'listWorkflows',
    sides: ['same'],
    expect: {
      csmOwn: both(200),
      csmOther: both(200),
      manager: both(200),
      admin: both(200),
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'POST /v1/workflows/{workflowId}/runs',
    operation: 'startRun',
    resource: { key: 'accountId', inPath: false },
    sides: ['same', 'other'],
    body: (target) => ({ accountId: target.accountId }),
    expect: {
      csmOwn: [202, 404],
      csmOther: [403, 404],
      manager: [202, 404],
      admin: [202, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'GET /v1/runs?tenantId=<target tenant>',
    operation: 'listRuns',
    sides: ['same', 'other'],
    query: (target) => `tenantId=${target.tenantId}`,
    expect: {
      csmOwn: [200, 403],
      csmOther: [200, 403],
      manager: [200, 403],
      admin: [200, 403],
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/prices',
    operation: 'getPrices',
    sides: ['same'],
    expect: {
      csmOwn: both(200),
      csmOther: both(200),
      manager: both(200),
      admin: both(200),
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/runs/{runId}',
    operation: 'getRun',
    resource: RUN_IN_PATH,
    sides: ['same', 'other'],
    expect: {
      csmOwn: [200, 404],
      csmOther: both(404),
      manager: [200, 404],
      admin: [200, 404],
      finance: both(403),
      operator: both(404),
    },
  },
  {
    id: 'GET /v1/runs/{runId}?tenantId=<target tenant>',
    operation: 'getRun',
    resource: RUN_IN_PATH,
    sides: ['same', 'other'],
    query: (target) => `tenantId=${target.tenantId}`,
    expect: {
      csmOwn: [200, 403],
      csmOther: [404, 403],
      manager: [200, 403],
      admin: [200, 403],
      finance: both(403),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/runs/{runId}/trace',
    operation: 'getRunTrace',
    resource: RUN_IN_PATH,
    sides: ['same', 'other'],
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [200, 404],
      finance: both(403),
      operator: both(404),
    },
  },
  {
    id: 'GET /v1/runs/{runId}/trace?tenantId=<target tenant>',
    operation: 'getRunTrace',
    resource: RUN_IN_PATH,
    sides: ['same', 'other'],
    query: (target) => `tenantId=${target.tenantId}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [200, 403],
      finance: both(403),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/drafts',
    operation: 'listDrafts',
    sides: ['same'],
    expect: {
      csmOwn: both(200),
      csmOther: both(200),
      manager: both(200),
      admin: both(200),
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'GET /v1/drafts/{draftId}',
    operation: 'getDraft',
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    expect: {
      csmOwn: [200, 404],
      csmOther: both(404),
      manager: [200, 404],
      admin: [200, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'PATCH /v1/drafts/{draftId}',
    operation: 'editDraft',
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    consumes: true,
    body: (target) => ({ content: target.content }),
    headers: (target) => ({ 'if-match': `"${target.version}"` }),
    expect: {
      csmOwn: [200, 404],
      csmOther: both(404),
      manager: [200, 404],
      admin: [200, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'PATCH /v1/drafts/{draftId} (escalated)',
    operation: 'editDraft',
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    state: 'escalated',
    consumes: true,
    body: (target) => ({ content: target.content }),
    headers: (target) => ({ 'if-match': `"${target.version}"` }),
    expect: {
      csmOwn: [403, 404],
      csmOther: both(404),
      manager: [200, 404],
      admin: [200, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  ...(['approve', 'reject', 'escalate'] as const).map((action): Row => ({
    id: `POST /v1/drafts/{draftId}/${action}`,
    operation: `${action}Draft`,
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    consumes: true,
    body: (target) =>
      action === 'approve' ? approvalOf(target, `matrix ${action}`) : { reason: `matrix ${action}` },
    expect: {
      csmOwn: [200, 404],
      csmOther: both(404),
      manager: [200, 404],
      admin: [200, 404],
      finance: both(403),
      operator: both(403),
    },
  })),
  ...(['approve', 'reject'] as const).map((action): Row => ({
    id: `POST /v1/drafts/{draftId}/${action} (escalated)`,
    operation: `${action}Draft`,
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    state: 'escalated',
    consumes: true,
    body: (target) =>
      action === 'approve'
        ? approvalOf(target, `matrix ${action} of an escalated draft`)
        : { reason: `matrix ${action} of an escalated draft` },
    expect: {
      csmOwn: [403, 404],
      csmOther: both(404),
      manager: [200, 404],
      admin: [200, 404],
      finance: both(403),
      operator: both(403),
    },
  })),
  {
    id: 'POST /v1/drafts/{draftId}/escalate (escalated)',
    operation: 'escalateDraft',
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    state: 'escalated',
    expect: {
      csmOwn: [409, 404],
      csmOther: both(404),
      manager: [409, 404],
      admin: [409, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'POST /v1/drafts/{draftId}/promote',
    operation: 'promoteDraft',
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [409, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'POST /v1/drafts/{draftId}/promote (approved)',
    operation: 'promoteDraft',
    resource: DRAFT_IN_PATH,
    sides: ['same', 'other'],
    state: 'approved',
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [200, 404],
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'GET /v1/ledger',
    operation: 'getLedger',
    sides: ['same'],
    query: () => `from=${TODAY}&to=${TODAY}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(200),
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/ledger?tenantId=<target tenant>',
    operation: 'getLedger',
    resource: { key: 'tenantId', inPath: false },
    sides: ['same', 'other'],
    query: (target) => `from=${TODAY}&to=${TODAY}&tenantId=${target.tenantId}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [200, 404],
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/ledger/top-runs',
    operation: 'getTopRuns',
    sides: ['same'],
    query: () => `from=${TODAY}&to=${TODAY}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(200),
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/ledger/top-runs?tenantId=<target tenant>',
    operation: 'getTopRuns',
    resource: { key: 'tenantId', inPath: false },
    sides: ['same', 'other'],
    query: (target) => `from=${TODAY}&to=${TODAY}&tenantId=${target.tenantId}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [200, 404],
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/metrics',
    operation: 'getMetrics',
    sides: ['same'],
    query: () => `from=${TODAY}&to=${TODAY}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(200),
      admin: both(200),
      finance: both(403),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/metrics?tenantId=<target tenant>',
    operation: 'getMetrics',
    sides: ['same', 'other'],
    query: (target) => `from=${TODAY}&to=${TODAY}&tenantId=${target.tenantId}`,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: [200, 403],
      admin: [200, 403],
      finance: both(403),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/tenants/{tenantId}/budget',
    operation: 'getBudget',
    resource: { key: 'tenantId', inPath: true },
    sides: ['same', 'other'],
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: [200, 404],
      finance: both(200),
      operator: both(200),
    },
  },
  {
    id: 'PUT /v1/tenants/{tenantId}/budget',
    operation: 'putBudget',
    resource: { key: 'tenantId', inPath: true },
    sides: ['same', 'other'],
    writes: true,
    // The budget the tenant already has, so the accepted cells change nothing else in this file.
    body: (target) => ({ limitUsd: budgets.get(target.tenantId) ?? 0 }),
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(403),
      finance: both(403),
      operator: both(200),
    },
  },
  {
    id: 'GET /v1/sources',
    operation: 'listSources',
    sides: ['same'],
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(200),
      finance: both(403),
      operator: both(403),
      integration: both(200),
    },
  },
  {
    id: 'PUT /v1/sources/{sourceId}/records',
    operation: 'pushRecords',
    sides: ['same'],
    writes: true,
    // Older than what is stored: the accepted cells answer `stale` and change nothing in this file.
    body: (target) => ({
      records: [
        {
          accountId: target.accountId,
          recordId: target.accountId,
          updatedAt: '2000-01-01T00:00:00Z',
          data: { activeUsers: 1, licensedSeats: 1 },
        },
      ],
    }),
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(200),
      finance: both(403),
      operator: both(403),
      integration: both(200),
    },
  },
  {
    id: 'DELETE /v1/sources/{sourceId}/records/{accountId}/{recordId}',
    operation: 'deleteRecord',
    // The other tenant's existing CRM record: the tenant comes from the token, so it reads as missing.
    sides: ['other'],
    resource: { key: 'accountId', inPath: true },
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(404),
      finance: both(403),
      operator: both(403),
      integration: both(404),
    },
  },
  ...(['PUT', 'GET', 'POST'] as const).map((method): Row => ({
    id: `${method} /v1/connectors/{sourceId}${method === 'POST' ? '/test' : ''}`,
    operation: { PUT: 'putConnector', GET: 'getConnector', POST: 'testConnector' }[method],
    sides: ['same'],
    // acme has no connector: an admin's GET and test read 404; an admin's PUT is a 400 (not https).
    body: () =>
      method === 'PUT'
        ? { kind: 'http', url: 'http://10.0.0.1/{accountId}', auth: { type: 'none' } }
        : method === 'POST'
          ? { accountId: 'acct-contoso' }
          : undefined,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(method === 'PUT' ? 400 : 404),
      finance: both(403),
      operator: both(403),
    },
  })),
  {
    id: 'PUT /v1/action-targets/{targetId}',
    operation: 'putActionTarget',
    // The target belongs to the caller's tenant (from the token): there is no other tenant to name.
    sides: ['same'],
    writes: true,
    // The URL it already has (set in beforeAll), so the accepted cell changes nothing else.
    body: () => ({ url: MATRIX_TARGET_URL }),
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(200),
      finance: both(403),
      operator: both(403),
    },
  },
  // Tenant webhooks are for the tenant's admins. The rows address a webhook that does not exist
  // and create none (a private target is refused after the role check), so they change nothing;
  // test/integration/webhooks.test.ts covers the accepted paths and the cross-tenant 404.
  {
    id: 'POST /v1/webhooks',
    operation: 'createWebhook',
    sides: ['same'],
    body: () => ({ url: 'http://10.0.0.1/hook', events: ['run.failed'] }),
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(400),
      finance: both(403),
      operator: both(403),
    },
  },
  {
    id: 'GET /v1/webhooks',
    operation: 'listWebhooks',
    sides: ['same'],
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(200),
      finance: both(403),
      operator: both(403),
    },
  },
  ...(
    [
      ['DELETE /v1/webhooks/{webhookId}', 'deleteWebhook'],
      ['GET /v1/webhooks/{webhookId}/deliveries', 'listWebhookDeliveries'],
      ['POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver', 'redeliverWebhook'],
    ] as const
  ).map(([id, operation]) => ({
    id,
    operation,
    sides: ['same'] as const,
    expect: {
      csmOwn: both(403),
      csmOther: both(403),
      manager: both(403),
      admin: both(404),
      finance: both(403),
      operator: both(403),
    },
  })),
];

const MATRIX_TARGET_URL = 'https://crm.example.com/rein';

const ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
};

const HIDDEN_CRM_FIELDS = ['creditScore', 'internalNotes', 'contactPhone', 'discountFloorPct'];
const TENANT_CALLERS: readonly Caller[] = ['csmOwn', 'csmOther', 'manager', 'admin', 'integration'];

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let callers: Record<Caller, ApiClient>;
let otherKeyDir: string;
/** Strings that must never appear in an error body (and, for finance, in any body). */
const draftContent = new Set<string>();
const hiddenValues = new Set<string>();
const fixtureIds = new Set<string>();
let taskTokens: string[] = [];

let shared: { same: Target; other: Target; escalated: Target; approved: Target };
/** Fresh fixtures for the accepted cells of consuming rows, by `${row.id}|${caller}`. */
const fresh = new Map<string, Target>();
const MISSING_WEBHOOK = newId('whk');
const MISSING_DELIVERY = newId('dlv');

function routeOf(row: Row) {
  return ROUTES.find((route) => route.operation === row.operation && row.id.startsWith(route.method));
}

const ACTIVE_ROWS = ROWS.filter((row) => routeOf(row) !== undefined);

function fill(path: string, target: Target): string {
  return path
    .replace('{workflowId}', 'renewal-brief')
    .replace('{runId}', target.runId)
    .replace('{draftId}', target.draftId)
    .replace('{tenantId}', target.tenantId)
    .replace('{sourceId}', 'usage')
    .replace('{accountId}', target.accountId)
    .replace('{recordId}', target.accountId)
    .replace('{targetId}', 'crm')
    .replace('{webhookId}', MISSING_WEBHOOK)
    .replace('{deliveryId}', MISSING_DELIVERY);
}

function requestFor(row: Row, target: Target) {
  const route = routeOf(row);
  if (!route) throw new Error(`No route for ${row.id}`);
  const query = row.query?.(target);
  const path = `${fill(route.path, target)}${query ? `?${query}` : ''}`;
  const body = row.body?.(target);
  const headers = row.headers?.(target);
  return {
    method: route.method,
    path,
    options: { ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) },
  };
}

/** The same request for a missing resource of the same kind: an unused or a malformed id. */
function missingLike(target: Target, key: NonNullable<Row['resource']>['key'], malformed: boolean): Target {
  const missing: Record<typeof key, string> = {
    tenantId: malformed ? 'No_Such..Tenant' : 'no-such-tenant',
    accountId: 'acct-no-such-account',
    runId: malformed ? `..%2F..%2F${target.runId}` : newId('run'),
    draftId: malformed ? `${target.draftId}%00x` : newId('drf'),
  };
  return { ...target, [key]: missing[key] };
}

function normalized(result: ApiResult): string {
  const requestId = result.headers.get('x-request-id') ?? '';
  return requestId ? result.text.split(requestId).join('<requestId>') : result.text;
}

function comparableHeaders(result: ApiResult): [string, string][] {
  return [...result.headers.entries()]
    .filter(([name]) => !['x-request-id', 'date', 'connection', 'keep-alive'].includes(name))
    .sort(([a], [b]) => a.localeCompare(b));
}

function expectErrorShape(result: ApiResult): void {
  expect(result.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(result.text) as { error?: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  const error = body.error ?? {};
  expect(['code', 'message', 'details', 'requestId']).toEqual(expect.arrayContaining(Object.keys(error)));
  expect(error['code']).toBe(ERROR_CODES[result.status]);
  expect(typeof error['message']).toBe('string');
  expect(error['requestId']).toBe(result.headers.get('x-request-id'));
}

const STACK_TRACE = /\bat (?:async )?\S+ \((?:file:|node:|\/)|node_modules|\/work\/|\.ts:\d+:\d+/;

function expectNoLeak(result: ApiResult, caller: Caller): void {
  const everything = `${result.text}\n${JSON.stringify([...result.headers.entries()])}`;
  for (const field of HIDDEN_CRM_FIELDS) expect(everything).not.toMatch(new RegExp(`"${field}"\\s*:`));
  for (const value of hiddenValues) expect(everything).not.toContain(value);
  for (const token of taskTokens) expect(everything).not.toContain(token);
  expect(everything).not.toMatch(STACK_TRACE);
  if (TENANT_CALLERS.includes(caller)) {
    // Nothing of the other tenant ever reaches an acme user.
    for (const value of [shared.other.runId, shared.other.draftId, shared.other.accountId])
      expect(everything).not.toContain(value);
  }
  if (result.status >= 400) {
    expect(result.text).not.toMatch(/Exception|Error:|\bstack\b/i);
    for (const id of fixtureIds) expect(result.text).not.toContain(id);
    for (const text of draftContent) expect(result.text).not.toContain(text);
  }
  if (caller === 'finance') for (const text of draftContent) expect(result.text).not.toContain(text);
}

async function scanTaskTokens(): Promise<string[]> {
  const table = Object.entries(stack.tables).find(([id]) => id.startsWith('WorkflowTable'))?.[1];
  if (!table) throw new Error('No workflow table');
  const tokens: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.dynamo.client.send(
      new ScanCommand({ TableName: table, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    for (const item of page.Items ?? []) {
      const token = item['taskToken']?.S;
      if (item['sk']?.S === 'TASK_TOKEN' && token) tokens.push(token);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return tokens;
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    // Long strings only: short ones ("high", "open") are not content that identifies a draft.
    if (value.length >= 24) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) collectStrings(item, into);
  }
}

async function createFixture(
  owner: ApiClient,
  accountId: string,
  state: FixtureState,
  tenantId: string,
): Promise<Target> {
  const started = await owner.post('/v1/workflows/renewal-brief/runs', { accountId });
  if (started.status !== 202) throw new Error(`Fixture run answered ${started.status}: ${started.text}`);
  const runId = String(started.body['runId']);
  const run = await waitForRun(owner, runId, ['awaiting_review', 'failed']);
  if (run['status'] !== 'awaiting_review') throw new Error(`Fixture run failed: ${JSON.stringify(run)}`);
  const draftId = String(run['draftId']);
  if (state !== 'awaiting') {
    const action = state === 'escalated' ? 'escalate' : 'approve';
    const proposed = (await owner.get(`/v1/drafts/${draftId}`)).body['actions'] as { actionId: string }[];
    const changed = await owner.post(`/v1/drafts/${draftId}/${action}`, {
      reason: 'matrix fixture',
      ...(action === 'approve'
        ? { actions: proposed.map(({ actionId }) => ({ actionId, decision: 'reject' })) }
        : {}),
    });
    if (changed.status !== 200) throw new Error(`${action} of the fixture answered ${changed.status}`);
  }
  const draft = await owner.get(`/v1/drafts/${draftId}`);
  collectStrings(draft.body['content'], draftContent);
  for (const item of draft.body['evidence'] as { fields: Record<string, unknown> }[])
    collectStrings(item.fields, draftContent);
  fixtureIds.add(runId);
  fixtureIds.add(draftId);
  return {
    tenantId,
    accountId,
    runId,
    draftId,
    version: Number(draft.body['version']),
    content: draft.body['content'] as Record<string, unknown>,
    actionIds: (draft.body['actions'] as { actionId: string }[]).map((action) => action.actionId),
  };
}

function isAccepted(status: number): boolean {
  return ACCEPTED_STATUSES.includes(status);
}

/** Forges a token: header and payload re-encoded, signature kept or dropped. */
function forge(token: string, edit: { header?: object; payload?: object; signature?: string }): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return [
    edit.header ? encode(edit.header) : header,
    edit.payload ? encode(edit.payload) : payload,
    edit.signature ?? signature,
  ].join('.');
}

beforeAll(async () => {
  const seed = await readSeedFile(DEMO_SEED_PATH);
  for (const tenant of seed.tenants) {
    for (const account of tenant.accounts) {
      for (const field of ['internalNotes', 'contactPhone'] as const) {
        const value = account.crm[field];
        if (typeof value === 'string') hiddenValues.add(value);
      }
    }
  }
  stack = await startTestStack({
    seed,
    configOverrides: { rateLimits: { requestsPerMinute: 10_000, tokensPerMinute: 100_000_000 } },
  });
  users = await clientsFor(stack);
  const target = await users.dave.request('PUT', '/v1/action-targets/crm', {
    body: { url: MATRIX_TARGET_URL },
  });
  if (target.status !== 201) throw new Error(`The action target could not be created: ${target.text}`);

  const alice = { ...USERS.alice, roles: [...USERS.alice.roles] };
  const valid = await stack.issuer.sign(alice);
  const kid = stack.issuer.jwks().keys[0]?.kid;
  otherKeyDir = await mkdtemp(join(tmpdir(), 'rein-matrix-other-key-'));
  const otherIssuer = await loadOrCreateDevIssuer({
    dir: otherKeyDir,
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
  });
  const adminPayload = { ...decodeJwt(valid), tenant_id: 'acme', roles: ['admin'], sub: 'admin-dave' };
  callers = {
    csmOwn: users.alice,
    csmOther: users.bob,
    manager: users.carol,
    admin: users.dave,
    finance: users.erin,
    operator: users.frank,
    integration: users.acmeIntegration,
    noToken: new ApiClient(stack.url, null),
    expiredToken: new ApiClient(stack.url, await stack.issuer.sign(alice, { expiresInSeconds: -600 })),
    otherKeyToken: new ApiClient(stack.url, await otherIssuer.sign({ ...alice, roles: ['admin'] })),
    algNoneToken: new ApiClient(
      stack.url,
      forge(valid, { header: { alg: 'none', typ: 'JWT', kid }, payload: adminPayload, signature: '' }),
    ),
    tamperedToken: new ApiClient(stack.url, forge(valid, { payload: adminPayload })),
  };

  // The shared fixtures, and one fresh fixture per accepted cell of a consuming row.
  const jobs: Promise<void>[] = [];
  const aliceAccounts = ['acct-northwind', 'acct-contoso'];
  let n = 0;
  for (const row of ACTIVE_ROWS.filter((r) => r.consumes)) {
    for (const caller of VALID_CALLERS) {
      if (!isAccepted(expected(row, caller)[0])) continue;
      const account = aliceAccounts[n++ % aliceAccounts.length] ?? 'acct-northwind';
      jobs.push(
        createFixture(users.alice, account, row.state ?? 'awaiting', 'acme').then((target) => {
          fresh.set(`${row.id}|${caller}`, target);
        }),
      );
    }
  }
  const [same, other, escalated, approved] = await Promise.all([
    createFixture(users.alice, 'acct-contoso', 'awaiting', 'acme'),
    createFixture(users.gina, 'acct-cyberdyne', 'awaiting', 'globex'),
    createFixture(users.alice, 'acct-northwind', 'escalated', 'acme'),
    createFixture(users.alice, 'acct-hooli', 'approved', 'acme'),
    ...jobs,
  ]);
  if (!same || !other || !escalated || !approved) throw new Error('Fixtures missing');
  shared = { same, other, escalated, approved };
  taskTokens = await scanTaskTokens();
  for (const tenantId of ['acme', 'globex']) {
    const budget = await users.frank.get(`/v1/tenants/${tenantId}/budget`);
    budgets.set(tenantId, Number(budget.body['limitUsd']));
  }
});

afterAll(async () => {
  await stack.stop();
  await rm(otherKeyDir, { recursive: true, force: true });
});

function sharedTarget(row: Row, side: Side): Target {
  if (side === 'other') return shared.other;
  if (row.state === 'escalated') return shared.escalated;
  return row.state === 'approved' ? shared.approved : shared.same;
}

function expected(row: Row, caller: ValidCaller): readonly [number, number] {
  if (caller !== 'integration') return row.expect[caller];
  return row.expect.integration ?? both(routeOf(row)?.auth === false ? 200 : 403);
}

interface Cell {
  name: string;
  row: Row;
  caller: Caller;
  side: Side;
  status: number;
}

function cells(filter: (cell: Cell) => boolean): Cell[] {
  const all: Cell[] = [];
  for (const row of ACTIVE_ROWS) {
    const route = routeOf(row);
    for (const side of row.sides) {
      for (const caller of [...VALID_CALLERS, ...BAD_CALLERS]) {
        const status = (VALID_CALLERS as readonly string[]).includes(caller)
          ? expected(row, caller as ValidCaller)[side === 'same' ? 0 : 1]
          : route?.auth === false
            ? 200
            : 401;
        all.push({ name: `${row.id} · ${caller} · ${side} tenant → ${status}`, row, caller, side, status });
      }
    }
  }
  return all.filter(filter);
}

const deferred = (cell: Cell) =>
  isAccepted(cell.status) && (cell.row.consumes === true || cell.row.writes === true);

describe('security matrix: every route × role × tenant', () => {
  it('arms its leak checks with real task tokens, hidden CRM values and draft content', () => {
    expect(taskTokens.length).toBeGreaterThanOrEqual(fresh.size + 2);
    expect(hiddenValues.size).toBeGreaterThan(0);
    expect(draftContent.size).toBeGreaterThan(10);
  });

  it('has a row for every route of the API', () => {
    const covered = new Set(ACTIVE_ROWS.map((row) => `${routeOf(row)?.method ?? ''} ${row.operation}`));
    expect(ROUTES.filter((route) => !covered.has(`${route.method} ${route.operation}`))).toEqual([]);
  });

  describe('reads and refused requests', () => {
    it.each(cells((cell) => !deferred(cell)))('$name', async ({ row, caller, side, status }) => {
      const target = sharedTarget(row, side);
      const client = callers[caller];
      const { method, path, options } = requestFor(row, target);
      const result = await client.request(method, path, options);

      expect(result.status, `${method} ${path}: ${result.text}`).toBe(status);
      expect(result.headers.get('x-content-type-options')).toBe('nosniff');
      if (status >= 400) expectErrorShape(result);
      expectNoLeak(result, caller);

      if (status === 404 && row.resource) {
        // Another tenant's (or an invisible) resource reads exactly like a missing or malformed one.
        for (const malformed of row.resource.inPath ? [false, true] : [false]) {
          const missing = requestFor(row, missingLike(target, row.resource.key, malformed));
          const absent = await client.request(missing.method, missing.path, missing.options);
          expect(absent.status, `${missing.method} ${missing.path}`).toBe(404);
          expect(normalized(absent)).toBe(normalized(result));
          expect(comparableHeaders(absent)).toEqual(comparableHeaders(result));
        }
      }
    });

    it('left the shared fixtures exactly as they were', async () => {
      for (const [owner, target] of [
        [users.alice, shared.same],
        [users.alice, shared.escalated],
        [users.alice, shared.approved],
        [users.gina, shared.other],
      ] as const) {
        const draft = await owner.get(`/v1/drafts/${target.draftId}`);
        expect(draft.status).toBe(200);
        expect(draft.body['version']).toBe(target.version);
        expect(draft.body['content']).toEqual(target.content);
      }
      expect((await users.alice.get(`/v1/drafts/${shared.approved.draftId}`)).body['status']).toBe(
        'approved',
      );
      expect((await users.alice.get(`/v1/drafts/${shared.same.draftId}`)).body['status']).toBe(
        'awaiting_review',
      );
      expect((await users.alice.get(`/v1/drafts/${shared.escalated.draftId}`)).body['status']).toBe(
        'escalated',
      );
    });

    it("lists only the drafts a caller may see, never another tenant's", async () => {
      const ids = async (client: ApiClient) => {
        const page = await client.get('/v1/drafts?limit=100');
        expect(page.status).toBe(200);
        return (page.body['items'] as { draftId: string; ownerId: string; tenantId: string }[]).map(
          (item) => item.draftId,
        );
      };
      const alice = await ids(users.alice);
      const bob = await ids(users.bob);
      const carol = await ids(users.carol);
      const gina = await ids(users.gina);
      expect(alice).toContain(shared.same.draftId);
      expect(alice).not.toContain(shared.other.draftId);
      expect(bob).not.toContain(shared.same.draftId);
      expect(carol).toEqual(expect.arrayContaining([shared.same.draftId, shared.escalated.draftId]));
      expect(carol).not.toContain(shared.other.draftId);
      expect(gina).toContain(shared.other.draftId);
      expect(gina).not.toContain(shared.same.draftId);
    });

    it('never shows finance any draft content, in JSON or CSV', async () => {
      const responses = await Promise.all([
        users.erin.get(`/v1/ledger?from=${TODAY}&to=${TODAY}`),
        users.erin.get(`/v1/ledger?from=${TODAY}&to=${TODAY}&groupBy=workflow`, { accept: 'text/csv' }),
        users.erin.get(`/v1/ledger?from=${TODAY}&to=${TODAY}&tenantId=acme&groupBy=day`),
        users.erin.get('/v1/tenants/acme/budget'),
        users.erin.get(`/v1/drafts/${shared.same.draftId}`),
        users.erin.get(`/v1/runs/${shared.same.runId}?tenantId=acme`),
      ]);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 403, 403]);
      for (const response of responses) {
        for (const text of draftContent) expect(response.text).not.toContain(text);
        expect(response.text).not.toContain(shared.same.draftId);
      }
    });
  });

  describe('accepted changes, each on a fresh fixture', () => {
    it.each(cells(deferred))('$name', async ({ row, caller, side, status }) => {
      const target = row.consumes === true ? fresh.get(`${row.id}|${caller}`) : sharedTarget(row, side);
      if (!target) throw new Error(`No fresh fixture for ${row.id} ${caller}`);
      const { method, path, options } = requestFor(row, target);
      const result = await callers[caller].request(method, path, options);

      expect(result.status, `${method} ${path}: ${result.text}`).toBe(status);
      expectNoLeak(result, caller);
      const expectedStatus: Record<string, string> = {
        approveDraft: 'approved',
        rejectDraft: 'rejected',
        escalateDraft: 'escalated',
      };
      const draftStatus = expectedStatus[row.operation];
      if (draftStatus) {
        expect(result.body['status']).toBe(draftStatus);
        expect(result.body['version']).toBe(target.version + 1);
      }
      if (row.operation === 'editDraft') expect(result.body['version']).toBe(target.version + 1);
      if (row.operation === 'putBudget') expect(result.body['limitUsd']).toBe(budgets.get(target.tenantId));
    });
  });
});
