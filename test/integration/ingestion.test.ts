/**
 * Push ingestion end to end on the local stack: a tenant's machine client (role `integration`) pushes
 * records through `PUT /v1/sources/{sourceId}/records`, deletes them, reads the catalogue, and a CSM's
 * brief of a newly pushed account cites the pushed values. Also `npm run import` against the stack.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import { ROUTES } from '#shared/http/routes.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  ApiClient,
  clientsFor,
  startTestStack,
  waitForRun,
  type ApiResult,
  type UserName,
} from './local-stack.ts';

const TSX = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
const NOW = new Date().toISOString();
const HOUR_AGO = new Date(Date.now() - 3_600_000).toISOString();

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  users = await clientsFor(stack);
  dir = await mkdtemp(join(tmpdir(), 'rein-import-'));
});

afterAll(async () => {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

function usageRecord(accountId: string, recordId: string, updatedAt: string, activeUsers: number) {
  return {
    accountId,
    recordId,
    updatedAt,
    data: { period: '2026-11', activeUsers, licensedSeats: 400, weeklyActiveTrend: -35 },
  };
}

async function counts(client: ApiClient): Promise<Record<string, number>> {
  const sources = await client.get('/v1/sources');
  expect(sources.status, sources.text).toBe(200);
  const items = sources.body['items'] as { sourceId: string; recordCount: number }[];
  return Object.fromEntries(items.map((item) => [item.sourceId, item.recordCount]));
}

function expectError(result: ApiResult, status: number, code: string): void {
  expect(result.status, result.text).toBe(status);
  const body = result.body as { error?: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error?.['code']).toBe(code);
  expect(body.error?.['requestId']).toBe(result.headers.get('x-request-id'));
}

describe('push ingestion API', () => {
  it('reports created, updated, unchanged, stale and invalid for one batch, and deletes a record once', async () => {
    const client = users.acmeIntegration;
    const seeded = await client.request('PUT', '/v1/sources/usage/records', {
      body: {
        records: [
          usageRecord('acct-batch', 'u-update', HOUR_AGO, 10),
          usageRecord('acct-batch', 'u-same', HOUR_AGO, 10),
          usageRecord('acct-batch', 'u-newer', NOW, 10),
        ],
      },
    });
    expect(seeded.status, seeded.text).toBe(200);

    const batch = await client.request('PUT', '/v1/sources/usage/records', {
      body: {
        records: [
          usageRecord('acct-batch', 'u-fresh', NOW, 1),
          usageRecord('acct-batch', 'u-update', NOW, 20),
          usageRecord('acct-batch', 'u-same', HOUR_AGO, 10),
          usageRecord('acct-batch', 'u-newer', HOUR_AGO, 99),
          { accountId: 'acct-batch', recordId: 'u-bad', updatedAt: NOW, data: { activeUsers: 'lots' } },
        ],
      },
    });

    expect(batch.status, batch.text).toBe(200);
    expect(batch.body['summary']).toEqual({ created: 1, updated: 1, unchanged: 1, stale: 1, invalid: 1 });
    expect(batch.body['results']).toEqual([
      { index: 0, accountId: 'acct-batch', recordId: 'u-fresh', outcome: 'created' },
      { index: 1, accountId: 'acct-batch', recordId: 'u-update', outcome: 'updated' },
      { index: 2, accountId: 'acct-batch', recordId: 'u-same', outcome: 'unchanged' },
      { index: 3, accountId: 'acct-batch', recordId: 'u-newer', outcome: 'stale' },
      {
        index: 4,
        accountId: 'acct-batch',
        recordId: 'u-bad',
        outcome: 'invalid',
        errors: [
          { path: 'data.activeUsers', message: 'Invalid input: expected number, received string' },
          { path: 'data.licensedSeats', message: 'Invalid input: expected number, received undefined' },
        ],
      },
    ]);
    const before = await counts(client);

    const deleted = await client.request('DELETE', '/v1/sources/usage/records/acct-batch/u-fresh');
    const again = await client.request('DELETE', '/v1/sources/usage/records/acct-batch/u-fresh');

    expect(deleted.status, deleted.text).toBe(204);
    expect(deleted.text).toBe('');
    expectError(again, 404, 'not_found');
    expect((await counts(client))['usage']).toBe((before['usage'] ?? 0) - 1);
  });

  it('lists the catalogue with record schemas and this tenant’s counts and last update', async () => {
    const sources = await users.acmeIntegration.get('/v1/sources');
    const globex = await users.globexIntegration.get('/v1/sources');

    expect(sources.status).toBe(200);
    const items = sources.body['items'] as Record<string, unknown>[];
    expect(items.map((item) => item['sourceId'])).toEqual([
      'crm',
      'usage',
      'tickets',
      'invoices',
      'contract',
    ]);
    const crm = items[0] ?? {};
    expect(crm['recordSchema']).toMatchObject({ type: 'object', required: ['name', 'ownerId', 'arr'] });
    // The demo data: 5 acme accounts, 2 globex accounts, each with one CRM record.
    expect(crm['recordCount']).toBe(5);
    expect(Date.parse(String(crm['lastUpdatedAt']))).not.toBeNaN();
    expect((globex.body['items'] as Record<string, unknown>[])[0]?.['recordCount']).toBe(2);
    // An admin of the tenant may read it too; other user roles may not.
    expect((await users.dave.get('/v1/sources')).status).toBe(200);
    expectError(await users.carol.get('/v1/sources'), 403, 'forbidden');
  });

  it('gives a new account pushed through the API a brief whose draft cites the pushed values', async () => {
    const accountId = 'acct-pushed-initrode';
    const machine = users.acmeIntegration;
    const push = (sourceId: string, records: unknown[]) =>
      machine.request('PUT', `/v1/sources/${sourceId}/records`, { body: { records } });
    const results = await Promise.all([
      push('crm', [
        {
          accountId,
          recordId: accountId,
          updatedAt: NOW,
          data: {
            name: 'Initrode',
            ownerId: 'csm-alice',
            arr: 64000,
            segment: 'mid-market',
            creditScore: 480,
          },
        },
      ]),
      push('usage', [usageRecord(accountId, accountId, NOW, 23)]),
      push('contract', [
        {
          accountId,
          recordId: 'CTR-INITRODE',
          updatedAt: NOW,
          data: { contractId: 'CTR-INITRODE', endDate: '2027-01-31' },
        },
      ]),
      push('invoices', [
        {
          accountId,
          recordId: 'INV-IR-1',
          updatedAt: NOW,
          data: {
            invoiceId: 'INV-IR-1',
            amount: 16000,
            currency: 'USD',
            status: 'overdue',
            dueDate: '2026-10-01',
          },
        },
      ]),
    ]);
    for (const result of results) expect(result.body['summary'], result.text).toMatchObject({ created: 1 });

    const started = await users.alice.post('/v1/workflows/renewal-brief/runs', { accountId });
    expect(started.status, started.text).toBe(202);
    const run = await waitForRun(users.alice, String(started.body['runId']), ['awaiting_review', 'failed']);
    expect(run['status'], JSON.stringify(run)).toBe('awaiting_review');
    const draft = await users.alice.get(`/v1/drafts/${String(run['draftId'])}`);
    const brief = RenewalBriefSchema.parse(draft.body['content']);
    const evidence = draft.body['evidence'] as {
      id: string;
      fields: Record<string, unknown>;
      provenance: Record<string, unknown>;
    }[];

    const usage = evidence.find((item) => item.id === `usage:${accountId}`);
    expect(usage?.fields).toEqual({
      period: '2026-11',
      activeUsers: 23,
      licensedSeats: 400,
      weeklyActiveTrend: -35,
    });
    expect(usage?.provenance['updatedAt']).toBe(NOW);
    expect(Date.parse(String(usage?.provenance['receivedAt']))).not.toBeNaN();
    const cited = new Set(brief.risks.flatMap((risk) => risk.evidence));
    expect(cited).toContain(`usage:${accountId}`);
    expect(cited).toContain('invoice:INV-IR-1');
    expect(JSON.stringify(brief)).toMatch(/23 of 400/);
    // The hidden CRM field pushed with the record never reaches the draft.
    expect(draft.text).not.toContain('creditScore');
    // Bob does not own it: the CRM record names its owner.
    const bobs = await users.bob.post('/v1/workflows/renewal-brief/runs', { accountId });
    expectError(bobs, 403, 'forbidden');
  });

  it('keeps tenants apart: another tenant’s client can neither read, write nor delete this tenant’s records', async () => {
    const globex = users.globexIntegration;
    // Globex pushes a CRM record for an account id acme uses: it lands in globex only.
    const pushed = await globex.request('PUT', '/v1/sources/crm/records', {
      body: {
        records: [
          {
            accountId: 'acct-globex-only',
            recordId: 'acct-globex-only',
            updatedAt: NOW,
            data: { name: 'Globex side', ownerId: 'csm-alice', arr: 1 },
          },
        ],
      },
    });
    expect(pushed.body['summary']).toMatchObject({ created: 1 });
    const acmeRun = await users.alice.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-globex-only',
    });
    expectError(acmeRun, 404, 'not_found');

    const acmeBefore = await counts(users.acmeIntegration);
    const deleted = await globex.request('DELETE', '/v1/sources/crm/records/acct-northwind/acct-northwind');
    const missing = await globex.request('DELETE', '/v1/sources/crm/records/acct-no-such/acct-no-such');
    expectError(deleted, 404, 'not_found');
    expect(deleted.text.replace(/"requestId":"[^"]+"/, '')).toBe(
      missing.text.replace(/"requestId":"[^"]+"/, ''),
    );
    expect(await counts(users.acmeIntegration)).toEqual(acmeBefore);
    const northwind = await users.alice.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-northwind',
    });
    expect(northwind.status).toBe(202);
  });

  it('lets an integration client call no route but the ingestion ones', async () => {
    const ingestion = new Set(['listSources', 'pushRecords', 'deleteRecord']);
    for (const route of ROUTES) {
      if (!route.auth || ingestion.has(route.operation)) continue;
      const path = route.path
        .replace('{workflowId}', 'renewal-brief')
        .replace('{runId}', 'run_01jd0000000000000000000000')
        .replace('{draftId}', 'drf_01jd0000000000000000000000')
        .replace('{tenantId}', 'acme');
      const bodies: Record<string, unknown> = {
        startRun: { accountId: 'acct-northwind' },
        editDraft: { content: {} },
        putBudget: { monthlyBudgetUsd: 1 },
      };
      const body = bodies[route.operation];
      const result = await users.acmeIntegration.request(
        route.method,
        path,
        body === undefined ? {} : { body },
      );
      expect(result.status, `${route.method} ${route.path}`).toBe(403);
      expectError(result, 403, 'forbidden');
    }
  });

  it('refuses hostile input with the stable error shape and writes nothing', async () => {
    const client = users.acmeIntegration;
    const before = await counts(client);
    const big = 'x'.repeat(300 * 1024);
    const tooManyRecords = Array.from({ length: 101 }, (_, i) =>
      usageRecord('acct-hostile', `u-${i}`, NOW, i),
    );

    expectError(
      await client.request('PUT', '/v1/sources/usage/records', {
        body: {
          records: [
            {
              ...usageRecord('acct-hostile', 'u-1', NOW, 1),
              data: { activeUsers: 1, licensedSeats: 1, pad: big },
            },
          ],
        },
      }),
      413,
      'payload_too_large',
    );
    expectError(
      await client.request('PUT', '/v1/sources/usage/records', { body: { records: tooManyRecords } }),
      413,
      'payload_too_large',
    );
    expectError(
      await client.request('PUT', '/v1/sources/billing/records', { body: { records: [] } }),
      404,
      'not_found',
    );
    const traversal = await client.request('PUT', '/v1/sources/usage/records', {
      body: {
        records: [
          usageRecord('acct-hostile', 'fine', NOW, 1),
          usageRecord('acct-hostile', '../../../etc/passwd', NOW, 1),
          usageRecord('acct-hostile\r\nx-injected: 1', 'ok', NOW, 1),
        ],
      },
    });
    expectError(traversal, 400, 'invalid_request');
    expect(traversal.body['error']).toMatchObject({
      details: [
        { path: 'records.1.recordId', message: 'is not a valid id' },
        { path: 'records.2.accountId', message: 'is not a valid id' },
      ],
    });
    expectError(
      await client.request('DELETE', '/v1/sources/usage/records/acct-hostile/..%2F..%2Fx'),
      400,
      'invalid_request',
    );
    expectError(
      await client.request('DELETE', '/v1/sources/usage/records/acct%00hostile/x'),
      400,
      'invalid_request',
    );
    expectError(await client.request('DELETE', '/v1/sources/nope/records/acct-hostile/x'), 404, 'not_found');
    expectError(
      await client.request('PUT', '/v1/sources/usage/records', {
        rawBody: '{"records":[',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'invalid_request',
    );
    expectError(
      await client.request('PUT', '/v1/sources/usage/records', { body: { records: [], extra: 1 } }),
      400,
      'invalid_request',
    );

    expect(await counts(client)).toEqual(before);
  });
});

describe('npm run import', () => {
  it('pushes a JSON Lines file through the API and prints the outcome summary', async () => {
    const file = join(dir, 'usage.jsonl');
    const lines = [
      ...Array.from({ length: 150 }, (_, i) => JSON.stringify(usageRecord('acct-import', `u-${i}`, NOW, i))),
      '',
      JSON.stringify({
        accountId: 'acct-import',
        recordId: 'u-bad',
        updatedAt: NOW,
        data: { activeUsers: -1 },
      }),
      'not json',
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    const token = await stack.token({ sub: 'client-acme-etl', tenantId: 'acme', roles: ['integration'] });
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [
        TSX,
        'infra/cli/import.ts',
        '--source',
        'usage',
        file,
        '--url',
        stack.url,
        ...args,
      ]).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: unknown) => {
          const failed = error as { code?: number; stdout?: string; stderr?: string };
          return { code: failed.code ?? -1, stdout: String(failed.stdout), stderr: String(failed.stderr) };
        },
      );

    const first = await run(['--token', token]);
    const second = await run(['--token', token]);

    expect(first.code, first.stderr).toBe(2);
    expect(first.stdout).toContain(
      'usage: 152 record(s) — created 150 · updated 0 · unchanged 0 · stale 0 · invalid 2',
    );
    expect(first.stdout).toMatch(/line 152: data\.activeUsers: Too small/);
    expect(first.stdout).toContain('line 153: (line): not valid JSON');
    expect(first.stderr).toContain('usage 100/152');
    expect(second.stdout).toContain('created 0 · updated 0 · unchanged 150');
    const refused = await run([
      '--token',
      await stack.token({ sub: 'csm-alice', tenantId: 'acme', roles: ['csm'] }),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Rein answered 403');
  });
});
