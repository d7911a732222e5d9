import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCircuitBreaker } from '#shared/adapters/dynamodb/circuit-breaker.ts';
import { DynamoGatewayStore } from '#shared/adapters/dynamodb/gateway-store.ts';
import { DynamoLedger } from '#shared/adapters/dynamodb/ledger.ts';
import { DynamoTraceSink } from '#shared/adapters/dynamodb/trace-sink.ts';
import { DynamoWorkflowStore } from '#shared/adapters/dynamodb/workflow-store.ts';
import { BudgetExceededError } from '#shared/domain/errors.ts';
import { isHoldState } from '#shared/domain/hold.ts';
import { newId } from '#shared/domain/ids.ts';
import type { LedgerEntry, Reservation } from '#shared/ports/index.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import type { ModelServer } from '#infra/local/model-server/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { gatewayOps, runInterleaving, type GatewaySubject } from '../contract/gateway-contract.ts';
import {
  modelCallContainer,
  newRun,
  runWithContext,
  startTestStack,
  tableNamed as tableOf,
} from './local-stack.ts';

/**
 * The gateway's transactions on DynamoDB Local: the property contract the in-memory fake also
 * passes (test/unit/gateway-contract.test.ts), and what a model attempt costs in DynamoDB requests
 * when it goes through the real adapters (counted by a middleware on the client, per request).
 */

const ENV = 'local';
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

function tables() {
  return {
    ledger: tableOf(stack, 'LedgerTable'),
    workflow: tableOf(stack, 'WorkflowTable'),
    trace: tableOf(stack, 'TraceTable'),
  };
}

/** A document client that records every request it sends, by command name. */
function countingDocumentClient(): { doc: DynamoDBDocumentClient; requests: string[] } {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: stack.dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const requests: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      requests.push(context.commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { doc, requests };
}

/** The model-call Lambda's dependencies, with every DynamoDB adapter on one counting client. */
function modelCallDeps(budgetUsd = 25): { deps: Deps; requests: string[] } {
  const base = modelCallContainer(stack, { budgetUsd });
  const { doc, requests } = countingDocumentClient();
  const store = new DynamoWorkflowStore(doc, tables().workflow);
  return {
    deps: {
      ...base,
      sleep: () => Promise.resolve(),
      runs: store,
      drafts: store,
      traces: new DynamoTraceSink(doc, tables().trace, 1),
      ledger: new DynamoLedger(doc, tables().ledger, budgetUsd),
      gateway: new DynamoGatewayStore(doc, tables(), 1, budgetUsd),
      breaker: new DynamoCircuitBreaker(doc, tables().ledger, ENV, POLICY),
    },
    requests,
  };
}

describe('requests per model attempt, through the real adapters', () => {
  it('an answered attempt writes twice, reserve and settle (with its span); its reads go alongside', async () => {
    const { deps, requests } = modelCallDeps();
    const run = await runWithContext(deps, 'acme', 'acct-northwind');
    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 1 }); // warms the month's budget item
    requests.length = 0;

    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 2 });

    expect(requests.filter((name) => name.startsWith('TransactWrite'))).toHaveLength(2);
    expect(requests.filter((name) => /^(Put|Update|Delete|BatchWrite)/.test(name))).toEqual([]);
  });

  it('a 503 attempt writes its release (with its span) and a best-effort breaker failure beside it', async () => {
    const { deps, requests } = modelCallDeps();
    const run = await runWithContext(deps, 'acme', 'acct-northwind');
    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 1 });
    server.addFaults({ faults: [{ kind: 'server_error', status: 503 }] });
    requests.length = 0;

    await callModel(deps, { tenantId: run.tenantId, runId: run.runId, attempt: 2 });

    // reserve, release + breaker failure, reserve, settle + breaker clear.
    expect(requests.filter((name) => name !== 'GetItemCommand' && name !== 'QueryCommand')).toEqual([
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
    ]);
  });
});

describe('DynamoGatewayStore', () => {
  const NOW = new Date('2026-11-24T10:00:30Z');

  async function fixture(budgetUsd = 1) {
    const { doc } = countingDocumentClient();
    const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
    const store = new DynamoWorkflowStore(doc, tables().workflow);
    const run = newRun(tenantId);
    await store.createRun(run);
    const reservation = (attemptKey: string, amountUsd = 0.4, owner = 'inv_a', attempt = 1): Reservation => ({
      tenantId,
      runId: run.runId,
      attempt,
      attemptKey,
      model: 'm',
      amountUsd,
      month: NOW.toISOString().slice(0, 7),
      owner,
      leaseUntil: NOW.getTime() + 60_000,
    });
    const tokens = (count: number, limit = 1000) => ({
      key: `${tenantId}#tpm`,
      tokens: count,
      limitPerMinute: limit,
    });
    return {
      doc,
      tenantId,
      run,
      reservation,
      tokens,
      gateway: new DynamoGatewayStore(doc, tables(), 1, budgetUsd),
      ledger: new DynamoLedger(doc, tables().ledger, budgetUsd),
      breaker: new DynamoCircuitBreaker(doc, tables().ledger, ENV, POLICY),
    };
  }

  it('takes the token window and the hold together, and neither when the window is full', async () => {
    const f = await fixture();

    expect(await f.gateway.reserve(f.reservation('1.m.1', 0.1), 5, f.tokens(600), NOW)).toEqual({
      reserved: true,
    });
    const full = await f.gateway.reserve(f.reservation('2.m.1', 0.1, 'inv_a', 2), 5, f.tokens(600), NOW);

    expect(full).toEqual({ reserved: false, retryAfterMs: 30_000 });
    expect(await f.ledger.getBudget(f.tenantId, '2026-11')).toMatchObject({
      reservedUsd: 0.1,
      availableUsd: 0.9,
    });
  });

  it('refuses a hold the settled spend cannot cover, naming the month and its figures, and asks to wait when holds of others are in the way', async () => {
    const f = await fixture(0.5);
    await f.gateway.reserve(f.reservation('1.m.1', 0.4), 5, f.tokens(100), NOW);
    const month = { budget: 'tenant_month', month: '2026-11', limitUsd: 0.5, spentUsd: 0, reservedUsd: 0.4 };

    expect(await f.gateway.reserve(f.reservation('2.m.1', 0.4, 'inv_b', 2), 5, f.tokens(100), NOW)).toEqual({
      reserved: false,
      heldByOthers: { ...month, attemptUsd: 0.4 },
    });
    const refused = f.gateway.reserve(f.reservation('2.m.1', 0.6, 'inv_b', 2), 5, f.tokens(100), NOW);
    await expect(refused).rejects.toThrow(BudgetExceededError);
    await expect(refused).rejects.toMatchObject({
      refusal: { ...month, attemptUsd: 0.6 },
      details: expect.arrayContaining([{ path: 'budget', message: 'tenant_month' }]) as unknown,
    });
  });

  it("refuses a hold that would pass the run's cost cap, naming the cap and the run's spend", async () => {
    const f = await fixture();

    await expect(f.gateway.reserve(f.reservation('1.m.1', 0.4), 0.3, f.tokens(1), NOW)).rejects.toMatchObject(
      {
        code: 'budget_exceeded',
        refusal: { budget: 'run_cost_cap', limitUsd: 0.3, spentUsd: 0, attemptUsd: 0.4 },
        details: [
          { path: 'budget', message: 'run_cost_cap' },
          { path: 'limitUsd', message: '0.3' },
          { path: 'spentUsd', message: '0' },
          { path: 'attemptUsd', message: '0.4' },
        ],
      },
    );
  });

  it('a breaker opens after the threshold of failures, half-opens after the cool-down, and a clear resets it', async () => {
    const f = await fixture();
    const model = `breaker-model-${newId('m')}`;
    const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    await f.breaker.recordFailure(model, NOW);
    await f.breaker.recordFailure(model, NOW);

    expect(await f.breaker.check(model, at(1))).toEqual({ open: true, failures: 2 });
    expect(await f.breaker.check(model, at(31))).toEqual({ open: false, failures: 2 });
    await f.breaker.clearFailures(model);

    expect(await f.breaker.check(model, at(32))).toEqual({ open: false, failures: 0 });
    const item = await f.doc.send(
      new GetCommand({ TableName: tables().ledger, Key: { pk: `BREAKER#${ENV}#${model}`, sk: 'STATE' } }),
    );
    expect(item.Item).toMatchObject({ failures: 0 });
  });
});

/** The DynamoDB adapter as a contract subject; its client can be told to fail the next settle. */
function dynamoSubject(): GatewaySubject {
  const { doc } = countingDocumentClient();
  let failSettle = false;
  // Fails the next settle transaction (six items) as an outage would: a 503 from the service.
  const faulty = {
    send: (command: unknown) => {
      if (
        failSettle &&
        command instanceof TransactWriteCommand &&
        (command.input.TransactItems?.length ?? 0) >= 6
      ) {
        failSettle = false;
        const error = new Error('Service unavailable');
        error.name = 'ServiceUnavailable';
        Object.assign(error, { $metadata: { httpStatusCode: 503 } });
        return Promise.reject(error);
      }
      return doc.send(command as TransactWriteCommand);
    },
  } as unknown as DynamoDBDocumentClient;
  const gateway = new DynamoGatewayStore(faulty, tables(), 1, 25, () => Promise.resolve());
  const ledger = new DynamoLedger(doc, tables().ledger, 25);
  const store = new DynamoWorkflowStore(doc, tables().workflow);
  return {
    gateway,
    tenant: async (limitUsd, runs, now) => {
      const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
      await ledger.setBudget(tenantId, now.toISOString().slice(0, 7), limitUsd, now);
      const runIds: string[] = [];
      for (let i = 0; i < runs; i += 1) {
        const run = newRun(tenantId);
        await store.createRun(run);
        runIds.push(run.runId);
      }
      return { tenantId, runIds };
    },
    budget: (tenantId, month) => ledger.getBudget(tenantId, month),
    entries: async (tenantId, month) => {
      const result = await doc.send(
        new QueryCommand({
          TableName: tables().ledger,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${tenantId}#LEDGER#${month}` },
          ConsistentRead: true,
        }),
      );
      return (result.Items ?? []).map((item) => ({
        ...(item as unknown as LedgerEntry),
        estimated: item['estimated'] === true,
        owner: String(item['owner']),
      }));
    },
    rollups: (tenantId, month, detail) =>
      ledger.readCostRollups({ fromDay: `${month}-01`, toDay: `${month}-31`, tenantId, detail }),
    holds: async (tenantId, runIds) => {
      const items = (await Promise.all(runIds.map((runId) => gateway.holdsOf(tenantId, runId)))).flat();
      return items.map((item) => {
        const state: unknown = item['state'];
        if (!isHoldState(state)) throw new Error(`A hold has an unknown state: ${String(state)}`);
        return { state, amountUsd: Number(item['amountUsd']), leaseUntil: Number(item['leaseUntil']) };
      });
    },
    failNextSettle: () => {
      failSettle = true;
    },
  };
}

describe('the gateway contract (DynamoDB adapter on DynamoDB Local)', () => {
  it('keeps spend, holds and charges consistent under random interleavings of reserve, answer, settle, release, crash, retry, lease expiry and sweep', async () => {
    await fc.assert(
      fc.asyncProperty(gatewayOps, (ops) => runInterleaving(dynamoSubject(), ops)),
      { numRuns: 40 },
    );
  });
});
