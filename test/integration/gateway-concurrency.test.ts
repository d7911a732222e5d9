import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_TOOLS_MARKER } from '../../infra/local/model-server/tools.ts';
import { costOf, priceFor } from '#shared/domain/pricing.ts';
import { RunSchema, type Run } from '#shared/domain/run.ts';
import type { Budget, LedgerEntry } from '#shared/ports/index.ts';
import type { ModelServer, ModelServerStats } from '#infra/local/model-server/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { clientsFor, startTestStack, type ApiClient, type UserName } from './local-stack.ts';

/**
 * Many runs at once against a budget that covers only a handful of model attempts: the one
 * conditional reservation per attempt must keep committed spend within the budget, every
 * reservation must come back when the runs end, and the ledger must add up — to the entries, to
 * the month's spend, and to the usage the model server actually served at the price table.
 */

const TENANT = 'acme';
const ACCOUNTS = ['acct-northwind', 'acct-contoso', 'acct-initech', 'acct-vandelay', 'acct-hooli'] as const;
const RUNS = 20;
// A renewal-brief attempt reserves about $0.004 (the whole input uncached plus 2,000 output tokens
// of gpt-4.1-mini) and costs about a third of that: roughly three holds at once, and fewer answered
// attempts in all than there are runs.
const SMALL_BUDGET_USD = 0.012;
/** More than any renewal-brief attempt reserves. */
const MAX_HOLD_USD = 0.005;

let stack: LocalStack;
let server: ModelServer;
let users: Record<UserName, ApiClient>;

beforeAll(async () => {
  stack = await startTestStack({
    // Only the budget may stop these runs, not the tenant's request or token rate.
    configOverrides: { rateLimits: { requestsPerMinute: 600, tokensPerMinute: 10_000_000 } },
  });
  if (!stack.modelServer) throw new Error('The test stack must run the local model server.');
  server = stack.modelServer;
  users = await clientsFor(stack);
});

afterAll(async () => {
  await stack.stop();
});

function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

async function budgetOf(client: ApiClient): Promise<Budget> {
  const result = await client.get(`/v1/tenants/${TENANT}/budget`);
  expect(result.status, result.text).toBe(200);
  return result.body as unknown as Budget;
}

async function monthEntries(): Promise<LedgerEntry[]> {
  return stack.apiDeps.ledger.listEntries({
    fromDay: `${currentMonth()}-01`,
    toDay: today(),
    tenantId: TENANT,
  });
}

/** Polls every run until none is `running` any more. */
async function waitUntilNoneRunning(runIds: readonly string[], timeoutMs = 45_000): Promise<Run[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await Promise.all(
      runIds.map(async (runId) => {
        const result = await users.carol.get(`/v1/runs/${runId}`);
        expect(result.status, result.text).toBe(200);
        return RunSchema.parse(result.body);
      }),
    );
    const running = runs.filter((run) => run.status === 'running');
    if (running.length === 0) return runs;
    if (Date.now() > deadline) throw new Error(`${running.length} runs are still running.`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The usage the model server served, per model, at the price table. */
function servedCostUsd(stats: ModelServerStats): number {
  let total = 0;
  for (const [model, usage] of Object.entries(stats.byModel)) {
    total += costOf({ ...usage, reasoningTokens: 0 }, priceFor(model, new Date()));
  }
  return total;
}

describe('model gateway budgets under concurrency', () => {
  it('keeps many concurrent runs within a small budget, and the ledger adds up to the cent', async () => {
    const set = await users.frank.request('PUT', `/v1/tenants/${TENANT}/budget`, {
      body: { limitUsd: SMALL_BUDGET_USD },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({
      tenantId: TENANT,
      limitUsd: SMALL_BUDGET_USD,
      spentUsd: 0,
      reservedUsd: 0,
    });
    server.reset();

    const started = await Promise.all(
      Array.from({ length: RUNS }, (_, index) =>
        users.carol.post('/v1/workflows/renewal-brief/runs', {
          accountId: ACCOUNTS[index % ACCOUNTS.length],
          // One model turn per run, so a refused run is one whose only hold was refused.
          notes: NO_TOOLS_MARKER,
        }),
      ),
    );
    for (const result of started) expect(result.status, result.text).toBe(202);
    const runs = await waitUntilNoneRunning(started.map((result) => String(result.body['runId'])));

    // Every run either got its brief or could not reserve its attempt.
    const succeeded = runs.filter((run) => run.status === 'awaiting_review');
    const refused = runs.filter((run) => run.status === 'failed');
    expect(succeeded.length + refused.length).toBe(RUNS);
    expect(refused.map((run) => run.error?.code)).toEqual(refused.map(() => 'budget_exceeded'));
    expect(succeeded.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const run of refused) {
      expect(run).toMatchObject({ costUsd: 0, draftId: null, error: { code: 'budget_exceeded' } });
    }

    const budget = await budgetOf(users.erin);
    const entries = await monthEntries();
    const ledgerTotal = entries.reduce((sum, entry) => sum + entry.costUsd, 0);
    const stats = server.stats();

    expect(budget.spentUsd).toBeLessThanOrEqual(SMALL_BUDGET_USD);
    // No over-blocking: runs were refused only once settled spend left no room for their own hold
    // (other runs' in-flight holds only made them wait).
    expect(SMALL_BUDGET_USD - budget.spentUsd).toBeLessThan(MAX_HOLD_USD);
    expect(budget.reservedUsd).toBe(0);
    expect(budget.availableUsd).toBeCloseTo(SMALL_BUDGET_USD - budget.spentUsd, 6);
    // The ledger, the budget and the provider's usage agree to the cent.
    expect(ledgerTotal).toBeCloseTo(budget.spentUsd, 2);
    expect(ledgerTotal).toBeCloseTo(servedCostUsd(stats), 2);
    // One answered attempt per brief: every entry belongs to a run that got its brief, and back.
    expect(new Set(entries.map((entry) => entry.runId))).toEqual(new Set(succeeded.map((run) => run.runId)));
    expect(entries).toHaveLength(stats.requests);
    for (const run of succeeded) {
      const own = entries.filter((entry) => entry.runId === run.runId);
      expect(run.costUsd).toBeCloseTo(
        own.reduce((sum, entry) => sum + entry.costUsd, 0),
        6,
      );
    }
  });

  it('answers 402 budget_exceeded to a run requested once the month is spent', async () => {
    const spent = (await budgetOf(users.erin)).spentUsd;
    const set = await users.frank.request('PUT', `/v1/tenants/${TENANT}/budget`, {
      body: { limitUsd: spent },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ limitUsd: spent, availableUsd: 0, reservedUsd: 0 });

    const requestsBefore = server.stats().requests;
    const refused = await users.carol.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-northwind',
    });
    expect(refused.status, refused.text).toBe(402);
    expect(refused.body).toEqual({
      error: {
        code: 'budget_exceeded',
        message: expect.stringContaining("The tenant's monthly budget") as string,
        // Which budget blocked, and its figures.
        details: expect.arrayContaining([
          { path: 'budget', message: 'tenant_month' },
          { path: 'limitUsd', message: String(spent) },
        ]) as unknown,
        requestId: expect.any(String) as string,
      },
    });
    expect(server.stats().requests).toBe(requestsBefore);
  });
});
