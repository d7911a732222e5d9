import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_TOOLS_MARKER } from '../../infra/local/model-server/tools.ts';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { costOf, priceFor } from '#shared/domain/pricing.ts';
import { RunSchema, type Run } from '#shared/domain/run.ts';
import type { Budget, LedgerEntry } from '#shared/ports/index.ts';
import type { Fault, ModelServer, ModelServerStats } from '#infra/local/model-server/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  clientsFor,
  startTestStack,
  tableNamed,
  waitForRun,
  type ApiClient,
  type UserName,
} from './local-stack.ts';

/**
 * The model gateway against the local model server's fault injection: for each fault, how many
 * provider calls were made, whether the workflow fell back to its second model, how the run ended,
 * and that the ledger charged exactly the attempts the provider billed (answered ones, complete or
 * not) while every reservation went back to the budget.
 */

const PRIMARY = 'gpt-4.1-mini';
const FALLBACK = 'gpt-4o-mini';
const TENANT = 'acme';
// Short, so a hung response costs the suite little; far above what the local server needs to answer.
const ATTEMPT_TIMEOUT_MS = 1_500;

let stack: LocalStack;
let server: ModelServer;
let users: Record<UserName, ApiClient>;

beforeAll(async () => {
  stack = await startTestStack({
    functionEnv: { MODEL_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS) },
    // This file is about provider faults: the tenant's own rate limits must never be what stops a run.
    configOverrides: { rateLimits: { requestsPerMinute: 600, tokensPerMinute: 10_000_000 } },
  });
  if (!stack.modelServer) throw new Error('The test stack must run the local model server.');
  server = stack.modelServer;
  users = await clientsFor(stack);
});

afterAll(async () => {
  await stack.stop();
});

beforeEach(async () => {
  server.reset();
  await closeAllCircuits();
});

/**
 * The circuit breaker keeps its state in DynamoDB, shared by every test of this file: each test
 * starts with every circuit closed, so one test's failures never open a circuit for the next.
 */
async function closeAllCircuits(): Promise<void> {
  const doc = createDocumentClient({ region: 'us-east-1', endpoint: stack.dynamo.endpoint });
  const table = tableNamed(stack, 'LedgerTable');
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(pk, :breaker)',
        ExpressionAttributeValues: { ':breaker': 'BREAKER#' },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      await doc.send(
        new DeleteCommand({ TableName: table, Key: { pk: String(item['pk']), sk: String(item['sk']) } }),
      );
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

async function budget(): Promise<Budget> {
  return stack.apiDeps.ledger.getBudget(TENANT, currentMonth());
}

async function entriesOf(runId: string): Promise<LedgerEntry[]> {
  const entries = await stack.apiDeps.ledger.listEntries({
    fromDay: day(-1),
    toDay: day(1),
    tenantId: TENANT,
  });
  return entries.filter((entry) => entry.runId === runId).sort((a, b) => (a.at < b.at ? -1 : 1));
}

interface Served {
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

/** What the model server served per model between two snapshots (models it was not asked about are left out). */
function servedBetween(before: ModelServerStats, after: ModelServerStats): Record<string, Served> {
  const served: Record<string, Served> = {};
  for (const [model, stats] of Object.entries(after.byModel)) {
    const earlier = before.byModel[model];
    const requests = stats.requests - (earlier?.requests ?? 0);
    if (requests === 0) continue;
    served[model] = {
      requests,
      inputTokens: stats.inputTokens - (earlier?.inputTokens ?? 0),
      cachedInputTokens: stats.cachedInputTokens - (earlier?.cachedInputTokens ?? 0),
      outputTokens: stats.outputTokens - (earlier?.outputTokens ?? 0),
    };
  }
  return served;
}

interface Outcome {
  run: Run;
  /** Provider calls per model. */
  calls: Record<string, number>;
  served: Record<string, Served>;
  entries: LedgerEntry[];
  budgetBefore: Budget;
  budgetAfter: Budget;
}

/** Queues `faults` for the account's requests, runs a brief to its end and collects what happened. */
async function briefWithFaults(accountId: string, faults: Fault[]): Promise<Outcome> {
  if (faults.length > 0) server.addFaults({ match: accountId, faults });
  const statsBefore = server.stats();
  const budgetBefore = await budget();
  // One model turn per attempt: these are the gateway's provider faults, not the tool loop's turns.
  const started = await users.carol.post('/v1/workflows/renewal-brief/runs', {
    accountId,
    notes: NO_TOOLS_MARKER,
  });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = RunSchema.parse(await waitForRun(users.carol, runId, ['awaiting_review', 'failed']));
  const served = servedBetween(statsBefore, server.stats());
  const calls = Object.fromEntries(Object.entries(served).map(([model, s]) => [model, s.requests]));
  return { run, calls, served, entries: await entriesOf(runId), budgetBefore, budgetAfter: await budget() };
}

function sumUsd(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0);
}

/**
 * The ledger charged exactly what the provider billed: one reported entry per answered attempt (per
 * model as `billed` says), the tokens of those entries are the tokens the server reported, their
 * cost is that usage at the price table; attempts with no usage (timeouts, resets) are charged at
 * their reservation as `estimated` entries (as many per model as `estimated` says); the run's cost
 * and the month's spend grew by the sum of both, and every hold was settled or released.
 */
function expectChargedExactlyWhatWasBilled(
  outcome: Outcome,
  billed: Record<string, number>,
  estimated: Record<string, number> = {},
): void {
  const { entries, served, run, budgetBefore, budgetAfter } = outcome;
  const reported = entries.filter((entry) => !entry.estimated);
  const guessed = entries.filter((entry) => entry.estimated);
  const perModel = (list: LedgerEntry[]) => {
    const counts: Record<string, number> = {};
    for (const entry of list) counts[entry.model] = (counts[entry.model] ?? 0) + 1;
    return counts;
  };
  expect(perModel(reported)).toEqual(billed);
  expect(perModel(guessed)).toEqual(estimated);

  let expectedCost = 0;
  for (const [model, usage] of Object.entries(served)) {
    const charged = reported.filter((entry) => entry.model === model);
    expect({
      model,
      inputTokens: sumUsd(charged.map((e) => e.inputTokens)),
      cachedInputTokens: sumUsd(charged.map((e) => e.cachedInputTokens)),
      outputTokens: sumUsd(charged.map((e) => e.outputTokens)),
    }).toEqual({
      model,
      inputTokens: usage.inputTokens,
      cachedInputTokens: usage.cachedInputTokens,
      outputTokens: usage.outputTokens,
    });
    expectedCost += costOf({ ...usage, reasoningTokens: 0 }, priceFor(model, new Date()));
  }
  expect(sumUsd(reported.map((entry) => entry.costUsd))).toBeCloseTo(expectedCost, 5);
  const charged = sumUsd(entries.map((entry) => entry.costUsd));
  expect(run.costUsd).toBeCloseTo(charged, 6);
  expect(budgetAfter.spentUsd - budgetBefore.spentUsd).toBeCloseTo(charged, 6);
  expect(budgetAfter.reservedUsd).toBe(budgetBefore.reservedUsd);
  expect(budgetAfter.reservedUsd).toBe(0);
}

describe('model gateway under provider faults (local model server)', () => {
  it('retries the same model after a 429 whose Retry-After is short, and charges only the answer', async () => {
    const outcome = await briefWithFaults('acct-northwind', [{ kind: 'rate_limit', retryAfterSeconds: 1 }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: PRIMARY, error: null });
    expect(outcome.entries.map((entry) => entry.attemptKey)).toEqual([`1.${PRIMARY}.2`]);
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 1 });
  });

  it('honours a retry-after-ms header below the cap the same way', async () => {
    const outcome = await briefWithFaults('acct-contoso', [{ kind: 'rate_limit', retryAfterMs: 200 }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: PRIMARY });
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 1 });
  });

  it('falls back to gpt-4o-mini at once when a 429 asks to wait longer than the cap', async () => {
    const outcome = await briefWithFaults('acct-initech', [{ kind: 'rate_limit', retryAfterSeconds: 60 }]);

    // One call to the primary, no retry of it, then the fallback answers.
    expect(outcome.calls).toEqual({ [PRIMARY]: 1, [FALLBACK]: 1 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: FALLBACK });
    expect(outcome.entries.map((entry) => entry.attemptKey)).toEqual([`1.${FALLBACK}.1`]);
    expectChargedExactlyWhatWasBilled(outcome, { [FALLBACK]: 1 });
  });

  it('falls back after a 500/503 burst longer than the tries per model, charging nothing for the errors', async () => {
    const outcome = await briefWithFaults('acct-vandelay', [
      { kind: 'server_error', status: 500 },
      { kind: 'server_error', status: 503 },
      { kind: 'server_error', status: 500 },
    ]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 3, [FALLBACK]: 1 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: FALLBACK });
    expectChargedExactlyWhatWasBilled(outcome, { [FALLBACK]: 1 });
  });

  it('gives up on a hung response at the attempt timeout, charges it at its reservation as estimated, and retries the same model', async () => {
    const outcome = await briefWithFaults('acct-hooli', [{ kind: 'timeout', delayMs: 20_000 }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: PRIMARY });
    expect(outcome.entries.map((entry) => [entry.attemptKey, entry.estimated])).toEqual([
      [`1.${PRIMARY}.1`, true],
      [`1.${PRIMARY}.2`, false],
    ]);
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 1 }, { [PRIMARY]: 1 });
  });

  it('retries after the provider resets the connection, charging the reset attempt as estimated', async () => {
    const outcome = await briefWithFaults('acct-northwind', [{ kind: 'connection_reset' }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: PRIMARY });
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 1 }, { [PRIMARY]: 1 });
  });

  it('fails the run model_unavailable after one call when the provider account has no quota, charging nothing', async () => {
    const outcome = await briefWithFaults('acct-contoso', [{ kind: 'insufficient_quota' }]);

    // Not retried, and no fallback: another model on the same account has no quota either.
    expect(outcome.calls).toEqual({ [PRIMARY]: 1 });
    expect(outcome.run).toMatchObject({
      status: 'failed',
      error: { code: 'model_unavailable' },
      costUsd: 0,
      model: null,
      draftId: null,
    });
    expectChargedExactlyWhatWasBilled(outcome, {});
  });

  it('fails the run model_refused on a refusal and charges the refused attempt once', async () => {
    const outcome = await briefWithFaults('acct-initech', [{ kind: 'refusal' }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 1 });
    expect(outcome.run).toMatchObject({
      status: 'failed',
      error: { code: 'model_refused' },
      model: PRIMARY,
      draftId: null,
    });
    expect(outcome.run.costUsd).toBeGreaterThan(0);
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 1 });
  });

  it('repairs a truncated (incomplete) answer with a second attempt and charges both', async () => {
    const outcome = await briefWithFaults('acct-vandelay', [{ kind: 'truncated' }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: PRIMARY });
    expect(outcome.entries.map((entry) => entry.attemptKey)).toEqual([`1.${PRIMARY}.1`, `2.${PRIMARY}.1`]);
    // The cut-short attempt ran to the output limit, and the provider bills all of it.
    expect(outcome.entries[0]?.outputTokens).toBe(2_000);
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 2 });
  });

  it('repairs schema-invalid JSON with a second attempt and charges both', async () => {
    const outcome = await briefWithFaults('acct-hooli', [{ kind: 'schema_invalid' }]);

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run).toMatchObject({ status: 'awaiting_review', model: PRIMARY });
    expect(outcome.entries.map((entry) => entry.attemptKey)).toEqual([`1.${PRIMARY}.1`, `2.${PRIMARY}.1`]);
    expectChargedExactlyWhatWasBilled(outcome, { [PRIMARY]: 2 });
  });

  it('opens the circuit after five consecutive failures, so the next run skips the model without calling it', async () => {
    const burst: Fault[] = [
      { kind: 'server_error', status: 503 },
      { kind: 'server_error', status: 500 },
      { kind: 'server_error', status: 503 },
    ];
    // Three failures, then three more: the fifth consecutive failure of the primary opens its circuit.
    const first = await briefWithFaults('acct-northwind', burst);
    expect(first.calls).toEqual({ [PRIMARY]: 3, [FALLBACK]: 1 });
    const second = await briefWithFaults('acct-contoso', burst);
    expect(second.calls).toEqual({ [PRIMARY]: 3, [FALLBACK]: 1 });

    // No fault queued: the primary would answer, but its circuit is open.
    const third = await briefWithFaults('acct-initech', []);
    expect(third.calls).toEqual({ [FALLBACK]: 1 });
    expect(third.run).toMatchObject({ status: 'awaiting_review', model: FALLBACK });
    expectChargedExactlyWhatWasBilled(third, { [FALLBACK]: 1 });
  });
});
