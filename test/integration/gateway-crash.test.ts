import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { costOf, priceFor } from '#shared/domain/pricing.ts';
import { HOLD, LEASE_MARGIN_MS } from '#shared/domain/hold.ts';
import type { Budget, GatewayStore, LedgerEntry } from '#shared/ports/index.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import { markFailed } from '#shared/usecases/review.ts';
import type { ModelServer } from '#infra/local/model-server/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  modelCallContainer as modelCallInstance,
  runWithContext,
  startTestStack,
  tableNamed as tableOf,
} from './local-stack.ts';

/**
 * A model-call Lambda killed after the provider answered, and retried by Step Functions: the use
 * case runs against the stack's real DynamoDB tables and local model server, with a gateway store
 * that dies around its first `settle`. The answer, its charge and the run's cost are one
 * transaction, so:
 * - killed after that transaction committed, the retry finds the attempt: no second provider call,
 *   no second charge;
 * - killed before it (the answer existed only in the dead Lambda's memory): the dead invocation's
 *   hold keeps its lease until that Lambda could no longer be alive; a retry after that sweeps it,
 *   asks again and charges that answer once; with no retry (the run went to MarkFailed), the
 *   tenant's next model call sweeps the expired hold.
 * And a slow invocation is never pre-empted: a retry started alongside it waits, and the provider
 * is called once.
 */

const TENANT = 'acme';
const PRIMARY = 'gpt-4.1-mini';

let stack: LocalStack;
let server: ModelServer;

beforeAll(async () => {
  stack = await startTestStack();
  if (!stack.modelServer) throw new Error('The test stack must run the local model server.');
  server = stack.modelServer;
});

afterAll(async () => {
  await stack.stop();
});

beforeEach(() => {
  server.reset();
});

/** A fresh model-call container (a new Lambda instance) on the stack. */
function modelCallContainer(): Deps {
  return modelCallInstance(stack);
}

/** The stack's table whose logical id starts with `prefix`. */
function tableNamed(prefix: string): string {
  return tableOf(stack, prefix);
}

class LambdaKilledError extends Error {
  constructor(where: string) {
    super(`The Lambda was killed ${where}.`);
    this.name = 'LambdaKilledError';
  }
}

/** A gateway store whose first `settle` dies, before or after its transaction reached DynamoDB. */
function gatewayKilledOnFirstSettle(inner: GatewayStore, when: 'before' | 'after'): GatewayStore {
  let settles = 0;
  return {
    reserve: (reservation, limit, tokens, now) => inner.reserve(reservation, limit, tokens, now),
    release: (release, now) => inner.release(release, now),
    sweepExpired: (tenantId, now) => inner.sweepExpired(tenantId, now),
    settle: async (settlement, now) => {
      settles += 1;
      if (settles > 1) return inner.settle(settlement, now);
      if (when === 'before') throw new LambdaKilledError('before settling');
      await inner.settle(settlement, now);
      throw new LambdaKilledError('after settling, before returning');
    },
  };
}

function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

async function budget(deps: Deps): Promise<Budget> {
  return deps.ledger.getBudget(TENANT, currentMonth());
}

async function entriesOf(deps: Deps, runId: string): Promise<LedgerEntry[]> {
  const day = new Date().toISOString().slice(0, 10);
  const entries = await deps.ledger.listEntries({ fromDay: day, toDay: day, tenantId: TENANT });
  return entries.filter((entry) => entry.runId === runId);
}

/** The hold items of a run (one per attempt), as stored. */
async function holdsOf(runId: string): Promise<Record<string, unknown>[]> {
  const doc = createDocumentClient({ region: 'us-east-1', endpoint: stack.dynamo.endpoint });
  const result = await doc.send(
    new QueryCommand({
      TableName: tableNamed('LedgerTable'),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hold)',
      ExpressionAttributeValues: { ':pk': `${TENANT}#RUN#${runId}`, ':hold': 'HOLD#' },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

/** A container whose clock runs `ms` ahead: a later invocation, after a dead one's lease ended. */
function laterContainer(ms: number): Deps {
  return { ...modelCallContainer(), clock: { now: () => new Date(Date.now() + ms) } };
}

/** How far past a dead invocation's lease (given `leaseMs: 0`) a later one must be. */
const AFTER_LEASE_MS = LEASE_MARGIN_MS + 1_000;

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error('The condition never held.');
}

function primaryCalls(): number {
  return server.stats().byModel[PRIMARY]?.requests ?? 0;
}

/** The answered attempt's cost, from the usage the model server reported, at the price table. */
interface Served {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

function served(): Served {
  const usage = server.stats().byModel[PRIMARY];
  if (!usage) throw new Error(`The model server served nothing for ${PRIMARY}.`);
  return usage;
}

/** The cost, at the price table, of what the model server served (since `before`, if given). */
function servedCostUsd(before: Served = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 }): number {
  const usage = served();
  return costOf(
    {
      inputTokens: usage.inputTokens - before.inputTokens,
      cachedInputTokens: usage.cachedInputTokens - before.cachedInputTokens,
      outputTokens: usage.outputTokens - before.outputTokens,
      reasoningTokens: 0,
    },
    priceFor(PRIMARY, new Date()),
  );
}

describe('model-call Lambda killed after the provider answered', () => {
  it('killed before the settle transaction: the retry sweeps the dead hold once its lease ended, asks again and charges once', async () => {
    const first = modelCallContainer();
    const run = await runWithContext(first, TENANT, 'acct-contoso');
    const task = { tenantId: TENANT, runId: run.runId, attempt: 1 };
    const budgetBefore = await budget(first);

    await expect(
      callModel({ ...first, gateway: gatewayKilledOnFirstSettle(first.gateway, 'before') }, task, {
        leaseMs: 0,
      }),
    ).rejects.toThrow(LambdaKilledError);
    // The provider answered; the answer died with the Lambda, its reservation is still held.
    expect(primaryCalls()).toBe(1);
    const firstAnswer = served();
    expect(await entriesOf(first, run.runId)).toEqual([]);
    expect(await first.runs.getAttempt(TENANT, run.runId, 1)).toBeNull();
    expect((await budget(first)).reservedUsd).toBeGreaterThan(budgetBefore.reservedUsd);

    // While the dead invocation's lease lasts, a retry calls nothing and asks to be retried.
    await expect(callModel(modelCallContainer(), task)).rejects.toMatchObject({ name: 'Rein.LeaseHeld' });
    expect(primaryCalls()).toBe(1);
    // Step Functions retries the task after the lease ended, possibly in a new container; then once more.
    expect(await callModel(laterContainer(AFTER_LEASE_MS), task)).toEqual({ attempt: 1, model: PRIMARY });
    expect(await callModel(laterContainer(AFTER_LEASE_MS), task)).toEqual({ attempt: 1, model: PRIMARY });

    expect(primaryCalls()).toBe(2);
    const entries = await entriesOf(first, run.runId);
    expect(entries.map((entry) => entry.attemptKey)).toEqual([`1.${PRIMARY}.1`]);
    const [entry] = entries;
    // Charged: the answer the retry kept (the second one, cheaper by the prompt cache). The first
    // answer was lost with the Lambda before any write could record it.
    expect(entry?.costUsd).toBeCloseTo(servedCostUsd(firstAnswer), 6);
    const stored = await first.runs.getRun(TENANT, run.runId);
    expect(stored?.costUsd).toBe(entry?.costUsd);
    expect(stored?.model).toBe(PRIMARY);
    // The dead invocation's hold was swept by the retry, which held the attempt again and settled it.
    expect(await holdsOf(run.runId)).toMatchObject([{ state: HOLD.settled, settledUsd: entry?.costUsd }]);
    const budgetAfter = await budget(first);
    expect(budgetAfter.reservedUsd).toBe(budgetBefore.reservedUsd);
    expect(budgetAfter.spentUsd - budgetBefore.spentUsd).toBeCloseTo(entry?.costUsd ?? Number.NaN, 6);
  });

  it("killed and not retried (a Lambda timeout): MarkFailed fails the run, and the tenant's next model call sweeps the expired hold", async () => {
    const first = modelCallContainer();
    const run = await runWithContext(first, TENANT, 'acct-vandelay');
    const budgetBefore = await budget(first);
    await expect(
      callModel(
        { ...first, gateway: gatewayKilledOnFirstSettle(first.gateway, 'before') },
        { tenantId: TENANT, runId: run.runId, attempt: 1 },
        { leaseMs: 0 },
      ),
    ).rejects.toThrow(LambdaKilledError);

    // Step Functions catches the task's Sandbox.Timedout into MarkFailed (the review function).
    await markFailed(modelCallContainer(), {
      tenantId: TENANT,
      runId: run.runId,
      error: { Error: 'Sandbox.Timedout' },
    });
    expect((await first.runs.getRun(TENANT, run.runId))?.status).toBe('failed');

    // Another run of the tenant, once the dead lease ended.
    const later = laterContainer(AFTER_LEASE_MS);
    const other = await runWithContext(later, TENANT, 'acct-hooli');
    await callModel(later, { tenantId: TENANT, runId: other.runId, attempt: 1 });

    expect(await holdsOf(run.runId)).toMatchObject([{ state: HOLD.released }]);
    expect((await budget(first)).reservedUsd).toBe(budgetBefore.reservedUsd);
  });

  it('a slow first invocation is not pre-empted: the retry alongside it waits, and the provider is called once', async () => {
    const first = modelCallContainer();
    const run = await runWithContext(first, TENANT, 'acct-northwind');
    const task = { tenantId: TENANT, runId: run.runId, attempt: 1 };
    const budgetBefore = await budget(first);
    // The first invocation's answer is slow to come back; Step Functions starts a retry while it is
    // on its way (a Lambda service error on the invoke, say), then retries that retry on Rein.LeaseHeld.
    let answerArrives = (): void => undefined;
    const arrival = new Promise<void>((resolve) => (answerArrives = resolve));
    const slowModel: Deps['model'] = {
      generate: async (request) => {
        const response = await first.model.generate(request);
        await arrival;
        return response;
      },
    };
    const slow = callModel({ ...first, model: slowModel }, task, { leaseMs: 60_000 });
    await waitUntil(() => primaryCalls() === 1);

    await expect(callModel(modelCallContainer(), task)).rejects.toMatchObject({ name: 'Rein.LeaseHeld' });
    answerArrives();
    expect(await slow).toEqual({ attempt: 1, model: PRIMARY });
    expect(await callModel(modelCallContainer(), task)).toEqual({ attempt: 1, model: PRIMARY });

    expect(primaryCalls()).toBe(1);
    const entries = await entriesOf(first, run.runId);
    expect(entries).toHaveLength(1);
    const budgetAfter = await budget(first);
    expect(budgetAfter.reservedUsd).toBe(budgetBefore.reservedUsd);
    expect(budgetAfter.spentUsd - budgetBefore.spentUsd).toBeCloseTo(entries[0]?.costUsd ?? Number.NaN, 6);
    expect((await first.runs.getRun(TENANT, run.runId))?.costUsd).toBe(entries[0]?.costUsd);
  });

  it('killed after the settle transaction: the retry finds the attempt, calls nothing and charges nothing', async () => {
    const first = modelCallContainer();
    const run = await runWithContext(first, TENANT, 'acct-initech');
    const task = { tenantId: TENANT, runId: run.runId, attempt: 1 };
    const budgetBefore = await budget(first);

    await expect(
      callModel({ ...first, gateway: gatewayKilledOnFirstSettle(first.gateway, 'after') }, task),
    ).rejects.toThrow(LambdaKilledError);
    const settled = await entriesOf(first, run.runId);
    const budgetSettled = await budget(first);
    expect(settled).toHaveLength(1);

    expect(await callModel(modelCallContainer(), task)).toEqual({ attempt: 1, model: PRIMARY });

    expect(primaryCalls()).toBe(1);
    expect(await entriesOf(first, run.runId)).toEqual(settled);
    expect(await budget(first)).toEqual(budgetSettled);
    expect(budgetSettled.reservedUsd).toBe(budgetBefore.reservedUsd);
    expect((await first.runs.getRun(TENANT, run.runId))?.costUsd).toBe(settled[0]?.costUsd);
  });
});
