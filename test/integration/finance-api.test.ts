import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_TOOLS_MARKER } from '../../infra/local/model-server/tools.ts';
import { LedgerReportSchema, type LedgerReport, type LedgerRow } from '#shared/usecases/finance.ts';
import type { Budget, LedgerEntry } from '#shared/ports/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ApiClient, clientsFor, startTestStack, waitForRun, type UserName } from './local-stack.ts';

/**
 * The finance and operator API: the cost ledger as JSON or CSV, grouped over a date range, seen
 * whole by finance and operators and per tenant by admins; monthly budgets read by finance,
 * operators and admins and set by operators only; and the per-tenant request rate limit.
 */

const REQUESTS_PER_MINUTE = 3;
const PRIMARY = 'gpt-4.1-mini';
const FALLBACK = 'gpt-4o-mini';

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let entries: LedgerEntry[];

const today = new Date().toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const month = today.slice(0, 7);
const range = `from=${yesterday}&to=${today}`;

beforeAll(async () => {
  stack = await startTestStack({
    configOverrides: { rateLimits: { requestsPerMinute: REQUESTS_PER_MINUTE, tokensPerMinute: 1_000_000 } },
  });
  users = await clientsFor(stack);
  // One brief per tenant: Acme's from the primary model, Globex's from the fallback after a long 429.
  stack.modelServer?.addFaults({
    match: 'acct-cyberdyne',
    faults: [{ kind: 'rate_limit', retryAfterSeconds: 60 }],
  });
  const [acme, globex] = await Promise.all([
    // One model turn per brief (no tool calls), so each run's cost sits with one model.
    users.carol.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-northwind',
      notes: NO_TOOLS_MARKER,
    }),
    users.hank.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-cyberdyne',
      notes: NO_TOOLS_MARKER,
    }),
  ]);
  expect([acme.status, globex.status]).toEqual([202, 202]);
  await waitForRun(users.carol, String(acme.body['runId']), ['awaiting_review']);
  await waitForRun(users.hank, String(globex.body['runId']), ['awaiting_review']);
  entries = await stack.apiDeps.ledger.listEntries({ fromDay: yesterday, toDay: today });
});

afterAll(async () => {
  await stack.stop();
});

function report(result: { status: number; body: Record<string, unknown>; text: string }): LedgerReport {
  expect(result.status, result.text).toBe(200);
  return LedgerReportSchema.parse(result.body);
}

/** The rows the ledger entries should produce for one grouping, computed independently here. */
function expectedRows(of: readonly LedgerEntry[], key: (entry: LedgerEntry) => string) {
  const rows = new Map<string, { costUsd: number; attempts: number; runs: Set<string> }>();
  for (const entry of of) {
    const row = rows.get(key(entry)) ?? { costUsd: 0, attempts: 0, runs: new Set<string>() };
    row.costUsd += entry.costUsd;
    row.attempts += 1;
    row.runs.add(entry.runId);
    rows.set(key(entry), row);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([rowKey, row]) => ({
      key: rowKey,
      costUsd: expect.closeTo(row.costUsd, 6) as number,
      attempts: row.attempts,
      runs: row.runs.size,
    }));
}

function expectError(
  result: { status: number; body: Record<string, unknown>; text: string },
  status: number,
  code: string,
) {
  expect(result.status, result.text).toBe(status);
  expect(result.body['error']).toMatchObject({
    code,
    message: expect.any(String) as string,
    requestId: expect.any(String) as string,
  });
}

describe('ledger report', () => {
  it('groups every tenant by tenant, workflow, model and day for finance, totals included', async () => {
    expect(entries.map((entry) => entry.tenantId).sort()).toEqual(['acme', 'globex']);

    const byTenant = report(await users.erin.get(`/v1/ledger?${range}&groupBy=tenant`));
    expect(byTenant).toMatchObject({
      from: yesterday,
      to: today,
      groupBy: 'tenant',
      tenantId: null,
      currency: 'USD',
    });
    expect(byTenant.rows).toMatchObject(expectedRows(entries, (entry) => entry.tenantId));
    expect(byTenant.totalUsd).toBeCloseTo(
      entries.reduce((sum, entry) => sum + entry.costUsd, 0),
      6,
    );
    expect(byTenant.totalUsd).toBeGreaterThan(0);

    const byWorkflow = report(await users.erin.get(`/v1/ledger?${range}&groupBy=workflow`));
    expect(byWorkflow.rows).toMatchObject(expectedRows(entries, () => 'renewal-brief'));
    const byModel = report(await users.erin.get(`/v1/ledger?${range}&groupBy=model`));
    expect(byModel.rows.map((row) => row.key)).toEqual([PRIMARY, FALLBACK]);
    expect(byModel.rows).toMatchObject(expectedRows(entries, (entry) => entry.model));
    const byDay = report(await users.erin.get(`/v1/ledger?${range}&groupBy=day`));
    expect(byDay.rows).toMatchObject(expectedRows(entries, (entry) => entry.day));
    for (const grouped of [byWorkflow, byModel, byDay]) expect(grouped.totalUsd).toBe(byTenant.totalUsd);

    // Tokens add up too, so finance can check the price table's arithmetic.
    const tokens = (rows: LedgerRow[]) =>
      rows.reduce((sum, row) => sum + row.inputTokens + row.outputTokens, 0);
    expect(tokens(byModel.rows)).toBe(
      entries.reduce((sum, entry) => sum + entry.inputTokens + entry.outputTokens, 0),
    );
  });

  it('groups by tenant when no grouping is given, and is empty for a range without entries', async () => {
    const defaulted = report(await users.erin.get(`/v1/ledger?${range}`));
    expect(defaulted.groupBy).toBe('tenant');
    expect(defaulted.rows.map((row) => row.key)).toEqual(['acme', 'globex']);

    const empty = report(await users.erin.get('/v1/ledger?from=2020-01-01&to=2020-01-31&groupBy=day'));
    expect(empty).toMatchObject({ rows: [], totalUsd: 0 });
  });

  it('lets finance and operators narrow the report to one tenant', async () => {
    const globex = report(await users.erin.get(`/v1/ledger?${range}&tenantId=globex&groupBy=model`));
    expect(globex.tenantId).toBe('globex');
    expect(globex.rows).toMatchObject(
      expectedRows(
        entries.filter((entry) => entry.tenantId === 'globex'),
        (entry) => entry.model,
      ),
    );
    const all = report(await users.frank.get(`/v1/ledger?${range}`));
    expect(all.rows.map((row) => row.key)).toEqual(['acme', 'globex']);
  });

  it('serves the same report as CSV with a header row for Accept: text/csv', async () => {
    const json = report(await users.erin.get(`/v1/ledger?${range}&groupBy=model`));
    const csv = await users.erin.get(`/v1/ledger?${range}&groupBy=model`, { accept: 'text/csv' });

    expect(csv.status, csv.text).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv\b/);
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.csv"$/);
    expect(csv.text.trimEnd().split('\n')).toEqual([
      'model,currency,period_from,period_to,cost,attempts,runs,input_tokens,cached_input_tokens,output_tokens,estimated_cost',
      ...json.rows.map((row) =>
        [
          row.key,
          'USD',
          json.from,
          json.to,
          row.costUsd.toFixed(6),
          row.attempts,
          row.runs,
          row.inputTokens,
          row.cachedInputTokens,
          row.outputTokens,
          row.estimatedUsd.toFixed(6),
        ].join(','),
      ),
    ]);
    expectError(
      await users.erin.get(`/v1/ledger?${range}`, { accept: 'application/xml' }),
      406,
      'not_acceptable',
    );
  });

  it("shows an admin only their own tenant's costs, and another tenant's as not found", async () => {
    const own = report(await users.dave.get(`/v1/ledger?${range}`));
    expect(own.tenantId).toBe('acme');
    expect(own.rows).toMatchObject(
      expectedRows(
        entries.filter((entry) => entry.tenantId === 'acme'),
        (entry) => entry.tenantId,
      ),
    );
    expect(report(await users.dave.get(`/v1/ledger?${range}&tenantId=acme`)).rows).toEqual(own.rows);
    expectError(await users.dave.get(`/v1/ledger?${range}&tenantId=globex`), 404, 'not_found');
  });

  it('refuses CSMs and managers, and anonymous callers', async () => {
    expectError(await users.alice.get(`/v1/ledger?${range}`), 403, 'forbidden');
    expectError(await users.carol.get(`/v1/ledger?${range}`), 403, 'forbidden');
    expect((await new ApiClient(stack.url, null).get(`/v1/ledger?${range}`)).status).toBe(401);
  });

  it('answers 400 with details to an invalid range or grouping', async () => {
    for (const query of [
      `from=${today}&to=${yesterday}`,
      'from=2026-1-1&to=2026-01-31',
      'month=2026-13',
      `month=2026-01&from=${today}`,
      'from=2026-01-01&to=2026-06-30',
      `${range}&groupBy=prompt`,
      `${range}&groupBy=tenant,model,day`,
      `${range}&groupBy=model,model`,
      `${range}&cursor=x`,
    ]) {
      const result = await users.erin.get(`/v1/ledger?${query}`);
      expectError(result, 400, 'invalid_request');
      expect((result.body['error'] as Record<string, unknown>)['details'], query).toEqual(
        expect.arrayContaining([expect.objectContaining({ message: expect.any(String) as string })]),
      );
    }
  });
  it('groups by two dimensions, account and user included, each row naming its values', async () => {
    const byTenantModel = report(await users.erin.get(`/v1/ledger?${range}&groupBy=tenant,model`));
    expect(byTenantModel.dimensions).toEqual(['tenant', 'model']);
    expect(byTenantModel.rows).toMatchObject(
      expectedRows(entries, (entry) => `${entry.tenantId}|${entry.model}`).map((row) => ({
        ...row,
        group: {
          tenant: row.key.split('|')[0],
          model: row.key.split('|')[1],
        },
      })),
    );
    const byAccountDay = report(await users.erin.get(`/v1/ledger?${range}&groupBy=account,day`));
    expect(byAccountDay.rows).toMatchObject(
      expectedRows(entries, (entry) => `${entry.accountId ?? ''}|${entry.day}`),
    );
    expect(byAccountDay.rows.map((row) => row.group.account).sort()).toEqual([
      'acct-cyberdyne',
      'acct-northwind',
    ]);
    const byUserMonth = report(await users.erin.get(`/v1/ledger?${range}&groupBy=user,month`));
    expect(byUserMonth.rows).toMatchObject(
      expectedRows(entries, (entry) => `${entry.userId}|${entry.day.slice(0, 7)}`),
    );
    for (const grouped of [byTenantModel, byAccountDay, byUserMonth]) {
      expect(grouped.totalUsd).toBeCloseTo(
        entries.reduce((sum, entry) => sum + entry.costUsd, 0),
        6,
      );
    }
    const csv = await users.erin.get(`/v1/ledger?${range}&groupBy=tenant,model&format=csv`);
    const [header, ...lines] = csv.text.trim().split('\n');
    expect(header?.split(',').slice(0, 5)).toEqual([
      'tenant',
      'model',
      'currency',
      'period_from',
      'period_to',
    ]);
    expect(lines).toHaveLength(byTenantModel.rows.length);
    for (const line of lines) expect(line.split(',').slice(2, 5)).toEqual(['USD', yesterday, today]);
  });

  it('keeps rollups equal to the sum of the ledger entries, per tenant and across tenants', async () => {
    for (const tenantId of [undefined, 'acme', 'globex']) {
      const of = entries.filter((entry) => tenantId === undefined || entry.tenantId === tenantId);
      for (const detail of [false, true]) {
        const cells = await stack.apiDeps.ledger.readCostRollups({
          fromDay: yesterday,
          toDay: today,
          detail,
          ...(tenantId ? { tenantId } : {}),
        });
        const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
        expect(sum(cells.map((cell) => cell.costUsd))).toBeCloseTo(sum(of.map((entry) => entry.costUsd)), 9);
        expect(sum(cells.map((cell) => cell.calls))).toBe(of.length);
        expect(sum(cells.map((cell) => cell.inputTokens))).toBe(sum(of.map((entry) => entry.inputTokens)));
        expect(sum(cells.map((cell) => cell.outputTokens))).toBe(sum(of.map((entry) => entry.outputTokens)));
      }
    }
  });

  it('lists the most expensive runs of a period, most expensive first, with cost fields only', async () => {
    const top = await users.erin.get(`/v1/ledger/top-runs?${range}&limit=5`);
    expect(top.status, top.text).toBe(200);
    const runs = top.body['runs'] as Record<string, unknown>[];
    const costs = runs.map((run) => Number(run['costUsd']));
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
    // Every run this file charged, with the cost the ledger entries add up to.
    const perRun = new Map<string, number>();
    for (const entry of entries) perRun.set(entry.runId, (perRun.get(entry.runId) ?? 0) + entry.costUsd);
    for (const [runId, cost] of perRun) {
      const run = runs.find((candidate) => candidate['runId'] === runId);
      expect(Number(run?.['costUsd'])).toBeCloseTo(cost, 9);
    }
    for (const run of runs) {
      expect(Object.keys(run).sort()).toEqual(
        [
          'accountId',
          'costUsd',
          'createdAt',
          'model',
          'requestedBy',
          'runId',
          'status',
          'tenantId',
          'workflowId',
        ].sort(),
      );
    }
    const one = await users.erin.get(`/v1/ledger/top-runs?${range}&limit=1`);
    expect((one.body['runs'] as unknown[]).length).toBe(1);
    expect((one.body['runs'] as Record<string, unknown>[])[0]?.['runId']).toBe(runs[0]?.['runId']);
    // An admin sees only their own tenant's runs; another tenant's answers 404.
    const admin = await users.dave.get(`/v1/ledger/top-runs?${range}`);
    expect(admin.status, admin.text).toBe(200);
    expect((admin.body['runs'] as Record<string, unknown>[]).every((run) => run['tenantId'] === 'acme')).toBe(
      true,
    );
    expectError(await users.dave.get(`/v1/ledger/top-runs?${range}&tenantId=globex`), 404, 'not_found');
    expect((await users.carol.get(`/v1/ledger/top-runs?${range}`)).status).toBe(403);
    expectError(await users.erin.get('/v1/ledger/top-runs?limit=0'), 400, 'invalid_request');
  });

  it('defaults the period to the current month, and reads month=YYYY-MM as that month', async () => {
    const month = today.slice(0, 7);
    const current = report(await users.erin.get('/v1/ledger'));
    expect([current.from.slice(0, 7), current.to.slice(0, 7), current.from.slice(8)]).toEqual([
      month,
      month,
      '01',
    ]);
    const february = report(await users.erin.get('/v1/ledger?month=2028-02'));
    expect([february.from, february.to]).toEqual(['2028-02-01', '2028-02-29']);
  });
  it('answers 400 to a date that does not exist', async () => {
    for (const query of ['from=2026-02-31&to=2026-03-05', 'from=2026-04-01&to=2026-04-31']) {
      expectError(await users.erin.get(`/v1/ledger?${query}`), 400, 'invalid_request');
    }
  });
});

describe('monthly budgets', () => {
  function budgetOf(result: { status: number; body: Record<string, unknown>; text: string }): Budget {
    expect(result.status, result.text).toBe(200);
    return result.body as unknown as Budget;
  }

  it('shows the seed budget with what was spent and reserved to finance, operators and the own admin', async () => {
    const acmeSpent = entries
      .filter((entry) => entry.tenantId === 'acme')
      .reduce((sum, entry) => sum + entry.costUsd, 0);
    const acme = budgetOf(await users.erin.get('/v1/tenants/acme/budget'));
    expect(acme).toEqual({
      tenantId: 'acme',
      month,
      limitUsd: 200,
      spentUsd: expect.closeTo(acmeSpent, 6) as number,
      reservedUsd: 0,
      availableUsd: expect.closeTo(200 - acmeSpent, 6) as number,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
    expect(budgetOf(await users.frank.get('/v1/tenants/acme/budget'))).toEqual(acme);
    expect(budgetOf(await users.dave.get('/v1/tenants/acme/budget'))).toEqual(acme);
    expect(budgetOf(await users.frank.get('/v1/tenants/globex/budget'))).toMatchObject({
      tenantId: 'globex',
      limitUsd: 100,
    });
    // A month nobody set yet reads as the environment's default budget, untouched.
    expect(budgetOf(await users.erin.get('/v1/tenants/acme/budget?month=2020-01'))).toMatchObject({
      month: '2020-01',
      spentUsd: 0,
      reservedUsd: 0,
    });
  });

  it("refuses budgets to CSMs and managers, and shows an admin another tenant's as not found", async () => {
    expectError(await users.dave.get('/v1/tenants/globex/budget'), 404, 'not_found');
    expectError(await users.alice.get('/v1/tenants/acme/budget'), 403, 'forbidden');
    expectError(await users.carol.get('/v1/tenants/acme/budget'), 403, 'forbidden');
  });

  it('lets an operator set a budget, keeping what was spent and reserved', async () => {
    const before = budgetOf(await users.erin.get('/v1/tenants/globex/budget'));
    const set = budgetOf(
      await users.frank.request('PUT', '/v1/tenants/globex/budget', { body: { limitUsd: 150 } }),
    );
    expect(set).toEqual({
      ...before,
      limitUsd: 150,
      availableUsd: expect.closeTo(150 - before.spentUsd - before.reservedUsd, 6) as number,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
    expect(budgetOf(await users.erin.get('/v1/tenants/globex/budget'))).toEqual(set);

    const future = budgetOf(
      await users.frank.request('PUT', '/v1/tenants/globex/budget', {
        body: { limitUsd: 80, month: '2031-01' },
      }),
    );
    expect(future).toEqual({
      tenantId: 'globex',
      month: '2031-01',
      limitUsd: 80,
      spentUsd: 0,
      reservedUsd: 0,
      availableUsd: 80,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
    expect(budgetOf(await users.erin.get('/v1/tenants/globex/budget?month=2031-01'))).toEqual(future);
    expect(budgetOf(await users.erin.get('/v1/tenants/globex/budget'))).toEqual(set);
  });

  it('lets nobody but an operator set a budget', async () => {
    for (const user of ['erin', 'dave', 'carol', 'alice'] as const) {
      const result = await users[user].request('PUT', '/v1/tenants/acme/budget', {
        body: { limitUsd: 1 },
      });
      expectError(result, 403, 'forbidden');
    }
    expect(budgetOf(await users.erin.get('/v1/tenants/acme/budget')).limitUsd).toBe(200);
  });

  it('answers 400 to an invalid budget body', async () => {
    for (const body of [
      {},
      { limitUsd: -5 },
      { limitUsd: '100' },
      { limitUsd: 100, extra: true },
      { limitUsd: 100, month: '2026-1' },
      { limitUsd: 2_000_000 },
    ]) {
      const result = await users.frank.request('PUT', '/v1/tenants/acme/budget', { body });
      expectError(result, 400, 'invalid_request');
    }
    const malformed = await users.frank.request('PUT', '/v1/tenants/acme/budget', {
      rawBody: '{"limitUsd":',
      headers: { 'content-type': 'application/json' },
    });
    expectError(malformed, 400, 'invalid_request');
    expect(budgetOf(await users.erin.get('/v1/tenants/acme/budget')).limitUsd).toBe(200);
  });

  it('answers 400 to a budget for a month that does not exist', async () => {
    const result = await users.frank.request('PUT', '/v1/tenants/acme/budget', {
      body: { limitUsd: 100, month: '2026-13' },
    });
    expectError(result, 400, 'invalid_request');
  });
});

describe('request rate limit per tenant', () => {
  it('answers 429 rate_limited with Retry-After once the tenant passes its requests per minute', async () => {
    // Fixed one-minute windows: within 2 × limit + 1 requests, some window must overflow.
    const accepted: string[] = [];
    let limited: Awaited<ReturnType<ApiClient['post']>> | null = null;
    for (let i = 0; i < 2 * REQUESTS_PER_MINUTE + 1 && limited === null; i += 1) {
      const result = await users.gina.post('/v1/workflows/renewal-brief/runs', {
        accountId: 'acct-massive-dynamic',
      });
      if (result.status === 429) limited = result;
      else {
        expect(result.status, result.text).toBe(202);
        accepted.push(String(result.body['runId']));
      }
    }
    if (limited === null) throw new Error('No request was rate limited.');
    expectError(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(accepted.length).toBeGreaterThanOrEqual(REQUESTS_PER_MINUTE - 1);
    // Another tenant's window is its own.
    const other = await users.alice.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-contoso' });
    expect(other.status, other.text).toBe(202);
    for (const runId of accepted) await waitForRun(users.gina, runId, ['awaiting_review']);
    await waitForRun(users.alice, String(other.body['runId']), ['awaiting_review']);
  });
});
