import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCircuitBreaker } from '#shared/adapters/dynamodb/circuit-breaker.ts';
import { DynamoGatewayStore } from '#shared/adapters/dynamodb/gateway-store.ts';
import { DynamoLedger } from '#shared/adapters/dynamodb/ledger.ts';
import { DynamoTraceSink } from '#shared/adapters/dynamodb/trace-sink.ts';
import { DynamoWorkflowStore } from '#shared/adapters/dynamodb/workflow-store.ts';
import { BudgetExceededError } from '#shared/domain/errors.ts';
import { newId } from '#shared/domain/ids.ts';
import type { AttemptRecord, LedgerEntryTags, Reservation, Settlement } from '#shared/ports/index.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import type { ModelServer } from '#infra/local/model-server/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  modelCallContainer,
  newRun,
  runWithContext,
  startTestStack,
  tableNamed as tableOf,
} from './local-stack.ts';

/**
 * The gateway's three transactions on DynamoDB Local, and what a model attempt costs in DynamoDB
 * writes when it goes through the real adapters (counted by a middleware on the client, per request).
 */

const ENV = 'local';
const PRIMARY = 'gpt-4.1-mini';
const POLICY = { failureThreshold: 2, coolDownMs: 30_000 };

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

function tableNamed(prefix: string): string {
  return tableOf(stack, prefix);
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

/** A document client that records every write request it sends, by command name. */
function countingDocumentClient(): { doc: DynamoDBDocumentClient; writes: string[] } {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: stack.dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const writes: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (WRITE_COMMANDS.has(context.commandName ?? '')) writes.push(context.commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'countWrites' },
  );
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { doc, writes };
}

function tables() {
  return { ledger: tableNamed('LedgerTable'), workflow: tableNamed('WorkflowTable') };
}

/** The model-call Lambda's dependencies, with every DynamoDB adapter on one counting client. */
function modelCallDeps(budgetUsd = 25): { deps: Deps; writes: string[] } {
  const base = modelCallContainer(stack, { budgetUsd });
  const { doc, writes } = countingDocumentClient();
  const store = new DynamoWorkflowStore(doc, tables().workflow);
  return {
    deps: {
      ...base,
      sleep: () => Promise.resolve(),
      runs: store,
      drafts: store,
      traces: new DynamoTraceSink(doc, tableNamed('TraceTable'), 1),
      ledger: new DynamoLedger(doc, tables().ledger, budgetUsd),
      gateway: new DynamoGatewayStore(doc, tables(), ENV, budgetUsd),
      breaker: new DynamoCircuitBreaker(doc, tables().ledger, ENV, POLICY),
    },
    writes,
  };
}

describe('writes per model attempt, through the real adapters', () => {
  it('an answered attempt sends three writes: reserve, settle, span', async () => {
    const { deps, writes } = modelCallDeps();
    const run = await runWithContext(deps, 'acme', 'acct-northwind');
    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 1 }); // warms the month's budget item
    writes.length = 0;

    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 2 });

    expect(writes).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand', 'PutItemCommand']);
  });

  it('an attempt answered with a 503 sends three writes too: reserve, release with the breaker failure, span', async () => {
    const { deps, writes } = modelCallDeps();
    const run = await runWithContext(deps, 'acme', 'acct-northwind');
    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 1 });
    server.addFaults({ faults: [{ kind: 'server_error', status: 503 }] });
    writes.length = 0;

    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 2 });

    // The 503 attempt, then the answered retry: three writes each.
    expect(writes).toEqual([
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'PutItemCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'PutItemCommand',
    ]);
  });
});

describe('DynamoGatewayStore', () => {
  const NOW = new Date('2026-11-24T10:00:30Z');
  const ANSWERED_AT = new Date('2026-11-24T10:00:31Z');
  const tags = (tenantId: string, runId: string): LedgerEntryTags => ({
    tenantId,
    workflowId: 'renewal-brief',
    runId,
    userId: 'mgr-carol',
    model: PRIMARY,
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    environment: ENV,
  });

  async function fixture(budgetUsd = 1) {
    const { doc, writes } = countingDocumentClient();
    // A fresh tenant, so its budget and token windows start empty.
    const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
    const store = new DynamoWorkflowStore(doc, tables().workflow);
    const run = newRun(tenantId);
    await store.createRun(run);
    const reservation = (attemptKey: string, amountUsd = 0.4, owner = 'inv_a'): Reservation => ({
      tenantId,
      runId: run.runId,
      attemptKey,
      amountUsd,
      month: NOW.toISOString().slice(0, 7),
      owner,
    });
    const tokens = (count: number, limit = 1000) => ({
      key: `${tenantId}#tpm`,
      tokens: count,
      limitPerMinute: limit,
    });
    const attempt = (held: Reservation, costUsd: number): AttemptRecord => ({
      attempt: 1,
      model: PRIMARY,
      outputText: '{}',
      refusal: null,
      finishReason: 'completed',
      validationErrors: null,
      costUsd,
      billing: {
        reservation: held,
        usage: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 50, reasoningTokens: 0 },
        priceVersion: 'test',
      },
    });
    return {
      doc,
      writes,
      tenantId,
      run,
      store,
      reservation,
      tokens,
      attempt,
      gateway: new DynamoGatewayStore(doc, tables(), ENV, budgetUsd),
      ledger: new DynamoLedger(doc, tables().ledger, budgetUsd),
      breaker: new DynamoCircuitBreaker(doc, tables().ledger, ENV, POLICY),
      /** Leaves an answer on inv_a's reservation as the adapter does when the store refuses a settle. */
      keepOnReservation: (attemptKey: string, state: 'answered' | 'answered_late', settlement: Settlement) =>
        doc.send(
          new UpdateCommand({
            TableName: tables().ledger,
            Key: { pk: `${tenantId}#RUN#${run.runId}`, sk: `RES#${attemptKey}#inv_a` },
            UpdateExpression: 'SET #state = :state, settlement = :settlement, answeredAt = :at',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':state': state,
              ':settlement': JSON.stringify(settlement),
              ':at': ANSWERED_AT.toISOString(),
            },
          }),
        ),
    };
  }

  it('takes the token window and the reservation together, and neither when the window is full', async () => {
    const f = await fixture();

    expect(await f.gateway.reserve(f.reservation('1.m.1', 0.1), f.tokens(600), NOW)).toEqual({
      reserved: true,
    });
    const full = await f.gateway.reserve(f.reservation('1.m.2', 0.1), f.tokens(600), NOW);

    expect(full).toEqual({ reserved: false, retryAfterMs: 30_000 });
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      reservedUsd: 0.1,
      availableUsd: 0.9,
    });
    // The next window has room again.
    expect(
      await f.gateway.reserve(f.reservation('1.m.2', 0.1), f.tokens(600), new Date('2026-11-24T10:01:00Z')),
    ).toEqual({ reserved: true });
  });

  it('refuses a reservation the budget cannot cover without taking any tokens', async () => {
    const f = await fixture(0.5);
    await f.gateway.reserve(f.reservation('1.m.1', 0.4), f.tokens(100), NOW);

    await expect(f.gateway.reserve(f.reservation('1.m.2', 0.4), f.tokens(100), NOW)).rejects.toThrow(
      BudgetExceededError,
    );

    // 100 of 1000 tokens were taken: 900 more still fit this window.
    expect(await f.gateway.reserve(f.reservation('1.m.3', 0.1), f.tokens(900), NOW)).toEqual({
      reserved: true,
    });
  });

  it('reserving again in the same invocation takes nothing more; another invocation gets its own hold', async () => {
    const f = await fixture();
    await f.gateway.reserve(f.reservation('1.m.1'), f.tokens(600), NOW);

    expect(await f.gateway.reserve(f.reservation('1.m.1'), f.tokens(600), NOW)).toEqual({ reserved: true });
    expect((await f.ledger.getBudget(f.tenantId, '2026-11')).reservedUsd).toBe(0.4);
    expect(await f.gateway.reserve(f.reservation('1.m.1', 0.3, 'inv_b'), f.tokens(400), NOW)).toEqual({
      reserved: true,
    });
    expect((await f.ledger.getBudget(f.tenantId, '2026-11')).reservedUsd).toBe(0.7);
  });

  it("never settles or releases another invocation's hold", async () => {
    const f = await fixture();
    const mine = f.reservation('1.m.1');
    await f.gateway.reserve(mine, f.tokens(10), NOW);
    const theirs = { ...mine, owner: 'inv_b' };

    await f.gateway.release(theirs, null, NOW);
    const settledByOther = await f.gateway.settle(
      { attempt: f.attempt(theirs, 0.1), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
      NOW,
    );

    expect(settledByOther).toBe('already');
    expect((await f.ledger.getBudget(f.tenantId, '2026-11')).reservedUsd).toBe(0.4);
    expect(
      await f.gateway.settle(
        { attempt: f.attempt(mine, 0.1), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
        NOW,
      ),
    ).toBe('settled');
  });

  it('settles an answer left on its reservation (the store failed the settle) when the run is swept', async () => {
    const f = await fixture();
    const held = f.reservation('1.m.1', 0.3);
    await f.gateway.reserve(held, f.tokens(10), NOW);
    const settlement = {
      attempt: f.attempt(held, 0.12),
      tags: tags(f.tenantId, f.run.runId),
      clearBreakerOf: null,
    };
    // What DynamoGatewayStore.settle leaves when its transaction cannot be written.
    await f.keepOnReservation('1.m.1', 'answered', settlement);

    // Swept a day later: the entry keeps the time the answer came.
    expect(await f.gateway.releaseHeld(f.tenantId, f.run.runId, new Date('2026-11-25T08:00:00Z'))).toEqual({
      released: [],
      settled: ['1.m.1'],
      failed: [],
    });
    const entries = await f.ledger.listEntries({
      fromDay: '2026-11-24',
      toDay: '2026-11-25',
      tenantId: f.tenantId,
    });
    expect(entries.map((e) => [e.attemptKey, e.at, e.costUsd])).toEqual([
      ['1.m.1', ANSWERED_AT.toISOString(), 0.12],
    ]);

    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({ spentUsd: 0.12, reservedUsd: 0 });
    expect(await f.store.getAttempt(f.tenantId, f.run.runId, 1)).toEqual(f.attempt(held, 0.12));
    expect(await f.store.getRun(f.tenantId, f.run.runId)).toMatchObject({ costUsd: 0.12 });
    const stored = await f.doc.send(
      new GetCommand({
        TableName: tables().ledger,
        Key: { pk: `${f.tenantId}#RUN#${f.run.runId}`, sk: 'RES#1.m.1#inv_a' },
        ConsistentRead: true,
      }),
    );
    expect(stored.Item).toMatchObject({ state: 'settled', settledUsd: 0.12 });
    expect(stored.Item?.['settlement']).toBeUndefined();
    expect(await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW)).toEqual({
      released: [],
      settled: [],
      failed: [],
    });
  });

  it('settles the reservation, budget, entry, attempt and run cost in one write, once', async () => {
    const f = await fixture();
    const held = f.reservation('1.m.1');
    await f.gateway.reserve(held, f.tokens(10), NOW);
    f.writes.length = 0;

    const first = await f.gateway.settle(
      { attempt: f.attempt(held, 0.123), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
      NOW,
    );
    const again = await f.gateway.settle(
      { attempt: f.attempt(held, 0.123), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
      NOW,
    );

    expect([first, again]).toEqual(['settled', 'already']);
    expect(f.writes).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      spentUsd: 0.123,
      reservedUsd: 0,
      availableUsd: 0.877,
    });
    const entries = await f.ledger.listEntries({
      fromDay: '2026-11-24',
      toDay: '2026-11-24',
      tenantId: f.tenantId,
    });
    expect(entries.map((e) => [e.attemptKey, e.costUsd, e.inputTokens, e.outputTokens])).toEqual([
      ['1.m.1', 0.123, 100, 50],
    ]);
    expect(await f.store.getAttempt(f.tenantId, f.run.runId, 1)).toEqual(f.attempt(held, 0.123));
    expect(await f.store.getRun(f.tenantId, f.run.runId)).toMatchObject({ costUsd: 0.123, model: PRIMARY });
  });

  it('releases once, and a released reservation can no longer be settled', async () => {
    const f = await fixture();
    const held = f.reservation('1.m.1');
    await f.gateway.reserve(held, f.tokens(10), NOW);

    await f.gateway.release(held, null, NOW);
    await f.gateway.release(held, null, NOW);

    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      reservedUsd: 0,
      availableUsd: 1,
    });
    expect(
      await f.gateway.settle(
        { attempt: f.attempt(held, 0.1), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
        NOW,
      ),
    ).toBe('already');
    expect(await f.store.getAttempt(f.tenantId, f.run.runId, 1)).toBeNull();
  });

  it('charges an answer late when a sweep released its hold while the provider was answering', async () => {
    const f = await fixture();
    const held = f.reservation('1.m.1', 0.3);
    await f.gateway.reserve(held, f.tokens(10), NOW);
    // A retry Step Functions started alongside sweeps the run.
    expect((await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW)).released).toEqual(['1.m.1']);

    const outcome = await f.gateway.settle(
      { attempt: f.attempt(held, 0.1), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
      NOW,
    );

    expect(outcome).toBe('late');
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      spentUsd: 0.1,
      reservedUsd: 0,
      availableUsd: 0.9,
    });
    expect(await f.store.getRun(f.tenantId, f.run.runId)).toMatchObject({ costUsd: 0.1 });
    // The attempt record belongs to the invocation that took over.
    expect(await f.store.getAttempt(f.tenantId, f.run.runId, 1)).toBeNull();
    expect(
      await f.gateway.settle(
        { attempt: f.attempt(held, 0.1), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
        NOW,
      ),
    ).toBe('already');
  });

  it("keeps another invocation's attempt record and still charges this answer", async () => {
    const f = await fixture();
    const theirs = f.reservation('1.m.1', 0.2, 'inv_b');
    const mine = f.reservation('1.m.1', 0.2, 'inv_a');
    await f.gateway.reserve(theirs, f.tokens(10), NOW);
    await f.gateway.reserve(mine, f.tokens(10), NOW);
    const settle = (held: Reservation, costUsd: number) =>
      f.gateway.settle(
        { attempt: f.attempt(held, costUsd), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
        NOW,
      );

    expect(await settle(theirs, 0.05)).toBe('settled');
    expect(await settle(mine, 0.07)).toBe('late');

    expect(await f.store.getAttempt(f.tenantId, f.run.runId, 1)).toEqual(f.attempt(theirs, 0.05));
    expect(await f.store.getRun(f.tenantId, f.run.runId)).toMatchObject({ costUsd: 0.12 });
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({ spentUsd: 0.12, reservedUsd: 0 });
  });

  it('sweeps a hold written in an earlier key format by its own key', async () => {
    const f = await fixture();
    await f.gateway.reserve(f.reservation('9.m.9', 0.25), f.tokens(1), NOW);
    // As reserved before reservations were keyed per invocation: no owner in the key, no attemptKey.
    await f.doc.send(
      new PutCommand({
        TableName: tables().ledger,
        Item: {
          pk: `${f.tenantId}#RUN#${f.run.runId}`,
          sk: 'RES#1.m.1',
          state: 'reserved',
          amountUsd: 0.25,
          month: '2026-11',
          createdAt: NOW.toISOString(),
        },
      }),
    );
    await f.doc.send(
      new UpdateCommand({
        TableName: tables().ledger,
        Key: { pk: `${f.tenantId}#BUDGET`, sk: 'MONTH#2026-11' },
        UpdateExpression: 'SET availableUsd = availableUsd - :a, reservedUsd = reservedUsd + :a',
        ExpressionAttributeValues: { ':a': 0.25 },
      }),
    );

    const swept = await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW);

    expect({ ...swept, released: swept.released.sort() }).toEqual({
      released: ['1.m.1', '9.m.9'],
      settled: [],
      failed: [],
    });
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      reservedUsd: 0,
      availableUsd: 1,
    });
  });

  it('charges a late answer kept on a swept hold (answered_late) when the run is swept again', async () => {
    const f = await fixture();
    const held = f.reservation('1.m.1', 0.3);
    await f.gateway.reserve(held, f.tokens(10), NOW);
    await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW); // swept: 0.3 back in the budget
    const settlement = {
      attempt: f.attempt(held, 0.08),
      tags: tags(f.tenantId, f.run.runId),
      clearBreakerOf: null,
    };
    // What settleLate leaves when the store cannot write the late settlement.
    await f.keepOnReservation('1.m.1', 'answered_late', settlement);

    expect(await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW)).toEqual({
      released: [],
      settled: ['1.m.1'],
      failed: [],
    });

    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      spentUsd: 0.08,
      reservedUsd: 0,
      availableUsd: 0.92,
    });
    expect(await f.store.getRun(f.tenantId, f.run.runId)).toMatchObject({ costUsd: 0.08 });
    expect(await f.store.getAttempt(f.tenantId, f.run.runId, 1)).toBeNull();
  });

  it('releases every reservation of a run still held, and only those', async () => {
    const f = await fixture();
    const settledKey = f.reservation('1.m.1', 0.1);
    await f.gateway.reserve(settledKey, f.tokens(1), NOW);
    await f.gateway.settle(
      { attempt: f.attempt(settledKey, 0.05), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: null },
      NOW,
    );
    await f.gateway.reserve(f.reservation('1.m.2', 0.1), f.tokens(1), NOW);
    await f.gateway.reserve(f.reservation('2.m.1', 0.2), f.tokens(1), NOW);

    const released = await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW);

    expect({ ...released, released: released.released.sort() }).toEqual({
      released: ['1.m.2', '2.m.1'],
      settled: [],
      failed: [],
    });
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      spentUsd: 0.05,
      reservedUsd: 0,
      availableUsd: 0.95,
    });
    expect(await f.gateway.releaseHeld(f.tenantId, f.run.runId, NOW)).toEqual({
      released: [],
      settled: [],
      failed: [],
    });
  });

  it('opens the circuit after the threshold of failures counted by releases, half-opens after the cool-down, and a settle clears it', async () => {
    const f = await fixture();
    const model = `breaker-model-${newId('m')}`;
    const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    for (const key of ['1.m.1', '1.m.2']) {
      await f.gateway.reserve(f.reservation(key, 0.01), f.tokens(1), NOW);
      await f.gateway.release(f.reservation(key, 0.01), model, NOW);
    }

    expect(await f.breaker.check(model, at(1))).toEqual({ open: true, failures: 2 });
    expect(await f.breaker.check(model, at(31))).toEqual({ open: false, failures: 2 });

    const held = f.reservation('1.m.3', 0.01);
    await f.gateway.reserve(held, f.tokens(1), at(31));
    await f.gateway.settle(
      { attempt: f.attempt(held, 0.001), tags: tags(f.tenantId, f.run.runId), clearBreakerOf: model },
      at(31),
    );

    expect(await f.breaker.check(model, at(32))).toEqual({ open: false, failures: 0 });
    const item = await f.doc.send(
      new GetCommand({ TableName: tables().ledger, Key: { pk: `BREAKER#${ENV}#${model}`, sk: 'STATE' } }),
    );
    expect(item.Item).toMatchObject({ failures: 0 });
  });
});
