import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from '../../infra/local/model-server/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  approvalFor,
  ApiClient,
  clientsFor,
  startTestStack,
  waitForRun,
  type ApiResult,
  type UserName,
} from './local-stack.ts';

/**
 * The leak sweep: full runs (approve, reject, escalate, expire, and runs that fail) with a known
 * fake OpenAI key, then every log line, every trace span, every DynamoDB item and every API
 * response (bodies and headers) is searched for the key and for the task tokens. Task tokens may
 * live only in their dedicated TASK_TOKEN items, which are gone once the run is decided.
 */

const API_KEY = `sk-test-LEAKCANARY-${randomUUID()}`;
// Short, so one run expires during the sweep; every other run is decided right after it waits.
const REVIEW_TIMEOUT_SECONDS = 8;
/** The account whose model calls the provider refuses with a 401 that echoes the key, as OpenAI does. */
const KEY_ECHO_ACCOUNT = 'acct-massive-dynamic';
/** The account whose model calls fail with provider 5xx (model server faults). */
const FAULT_ACCOUNT = 'acct-hooli';

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let modelServer: ModelServer;
let provider: Server;
const providerAuthorizations = new Set<string>();

const logLines: string[] = [];
const restoreLogs: (() => void)[] = [];
const responses: { where: string; text: string }[] = [];
const tokens = new Set<string>();
const previousLogLevel = process.env['POWERTOOLS_LOG_LEVEL'];

/** Every write to stdout/stderr and every console call, passed through and kept for the sweep. */
function captureLogs(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    const forward = original as (...args: unknown[]) => boolean;
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return forward(chunk, ...rest);
    };
    restoreLogs.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      logLines.push(
        args.map((arg) => (typeof arg === 'string' ? arg : (JSON.stringify(arg) ?? String(arg)))).join(' '),
      );
      original(...args);
    };
    restoreLogs.push(() => {
      console[method] = original;
    });
  }
}

/**
 * The "provider": the local model server behind a proxy that notes the Authorization header it
 * receives (so the sweep knows the key was really in use) and, for one account, answers like
 * OpenAI does for a bad key, with the key itself in the error message.
 */
async function startProvider(upstream: ModelServer): Promise<string> {
  provider = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      providerAuthorizations.add(req.headers['authorization'] ?? '');
      if (raw.toString('utf8').includes(KEY_ECHO_ACCOUNT)) {
        res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': 'req_bad_key' });
        res.end(
          JSON.stringify({
            error: {
              message: `Incorrect API key provided: ${API_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
              type: 'invalid_request_error',
              param: null,
              code: 'invalid_api_key',
            },
          }),
        );
        return;
      }
      const answer = await fetch(`${upstream.url}${(req.url ?? '').replace(/^\/v1/, '')}`, {
        method: req.method ?? 'POST',
        headers: { 'content-type': 'application/json' },
        body: raw,
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(await answer.text());
    })().catch(() => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"proxy failure","type":"server_error","param":null,"code":null}}');
    });
  });
  await new Promise<void>((resolve) => {
    provider.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  return `http://127.0.0.1:${(provider.address() as AddressInfo).port}/v1`;
}

function keep(where: string, result: ApiResult): ApiResult {
  responses.push({
    where,
    text: `${result.status}\n${JSON.stringify([...result.headers.entries()])}\n${result.text}`,
  });
  return result;
}

async function call(
  client: ApiClient,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  return keep(`${method} ${path}`, await client.request(method, path, options));
}

async function scanAll(): Promise<{ table: string; sk: string; json: string }[]> {
  const items: { table: string; sk: string; json: string }[] = [];
  for (const [logicalId, table] of Object.entries(stack.tables)) {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await stack.dynamo.client.send(
        new ScanCommand({
          TableName: table,
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        items.push({ table: logicalId, sk: item['sk']?.S ?? '', json: JSON.stringify(item) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return items;
}

/** Items other than TASK_TOKEN ones that held a task token while it was live. */
const liveLeaks: string[] = [];

/**
 * Notes the task tokens stored now (a run waiting for review holds one), and checks that no other
 * item holds any token while it is live.
 */
async function collectStoredTokens(): Promise<void> {
  const items = await scanAll();
  for (const item of items) {
    if (item.sk !== 'TASK_TOKEN') continue;
    const token = (JSON.parse(item.json) as { taskToken?: { S?: string } }).taskToken?.S;
    if (token) tokens.add(token);
  }
  for (const item of items) {
    if (item.sk === 'TASK_TOKEN') continue;
    for (const token of tokens)
      if (item.json.includes(token)) liveLeaks.push(`item of ${item.table}: ${token}`);
  }
}

async function waiting(client: ApiClient, accountId: string, tenant = 'acme') {
  const started = await call(client, 'POST', '/v1/workflows/renewal-brief/runs', {
    body: { accountId },
    headers: { 'idempotency-key': `leak-sweep-${accountId}` },
  });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = await waitForRun(client, runId, ['awaiting_review']);
  await collectStoredTokens();
  return { runId, draftId: String(run['draftId']), tenant };
}

async function failed(client: ApiClient, accountId: string, tenant: string) {
  const started = await call(client, 'POST', '/v1/workflows/renewal-brief/runs', { body: { accountId } });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = await waitForRun(client, runId, ['failed']);
  return { runId, tenant, error: run['error'] };
}

const finished: { runId: string; draftId: string | null; tenant: string; owner: UserName }[] = [];

beforeAll(async () => {
  captureLogs();
  process.env['POWERTOOLS_LOG_LEVEL'] = 'DEBUG';
  modelServer = await startModelServer();
  const baseUrl = await startProvider(modelServer);
  stack = await startTestStack({
    openAiApiKey: API_KEY,
    openAiBaseUrl: baseUrl,
    reviewTimeoutSeconds: REVIEW_TIMEOUT_SECONDS,
    logLevel: 'DEBUG',
  });
  users = await clientsFor(stack);
  const engine = stack.engine;
  const success = engine.sendTaskSuccess.bind(engine);
  const failure = engine.sendTaskFailure.bind(engine);
  engine.sendTaskSuccess = (token, output) => {
    tokens.add(token);
    return success(token, output);
  };
  engine.sendTaskFailure = (token, error, cause) => {
    tokens.add(token);
    return failure(token, error, cause);
  };
});

afterAll(async () => {
  await stack.stop();
  await new Promise<void>((resolve) => {
    provider.close(() => {
      resolve();
    });
  });
  await modelServer.close();
  for (const restore of restoreLogs) restore();
  if (previousLogLevel === undefined) delete process.env['POWERTOOLS_LOG_LEVEL'];
  else process.env['POWERTOOLS_LOG_LEVEL'] = previousLogLevel;
});

describe('leak sweep: the API key and task tokens', () => {
  it('runs every path to its end: approve, reject, escalate, expire, provider failures', async () => {
    modelServer.addFaults({
      match: FAULT_ACCOUNT,
      faults: Array.from({ length: 6 }, () => ({ kind: 'server_error' as const, status: 503 as const })),
    });

    const expiring = waiting(users.bob, 'acct-vandelay');
    const approve = async () => {
      const run = await waiting(users.alice, 'acct-contoso');
      const draft = await call(users.alice, 'GET', `/v1/drafts/${run.draftId}`);
      const edited = {
        ...(draft.body['content'] as object),
        summary: 'Edited by Alice during the leak sweep.',
      };
      expect(
        (
          await call(users.alice, 'PATCH', `/v1/drafts/${run.draftId}`, {
            body: { content: edited },
            headers: { 'if-match': '"1"' },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await call(users.alice, 'POST', `/v1/drafts/${run.draftId}/approve`, {
            body: await approvalFor(users.alice, run.draftId, { reason: 'ok' }),
          })
        ).status,
      ).toBe(200);
      await waitForRun(users.alice, run.runId, ['approved']);
      finished.push({ ...run, owner: 'alice' });
    };
    const reject = async () => {
      const run = await waiting(users.bob, 'acct-initech');
      expect(
        (await call(users.bob, 'POST', `/v1/drafts/${run.draftId}/reject`, { body: { reason: 'wrong' } }))
          .status,
      ).toBe(200);
      await waitForRun(users.bob, run.runId, ['rejected']);
      finished.push({ ...run, owner: 'bob' });
    };
    const escalate = async () => {
      const run = await waiting(users.alice, 'acct-northwind');
      expect(
        (
          await call(users.alice, 'POST', `/v1/drafts/${run.draftId}/escalate`, {
            body: { reason: 'pricing' },
          })
        ).status,
      ).toBe(200);
      await waitForRun(users.alice, run.runId, ['escalated']);
      await collectStoredTokens();
      expect(
        (
          await call(users.carol, 'POST', `/v1/drafts/${run.draftId}/approve`, {
            body: await approvalFor(users.carol, run.draftId),
          })
        ).status,
      ).toBe(200);
      await waitForRun(users.alice, run.runId, ['approved']);
      finished.push({ ...run, owner: 'alice' });
    };
    const escalateReject = async () => {
      const run = await waiting(users.gina, 'acct-cyberdyne', 'globex');
      expect((await call(users.gina, 'POST', `/v1/drafts/${run.draftId}/escalate`)).status).toBe(200);
      expect(
        (await call(users.hank, 'POST', `/v1/drafts/${run.draftId}/reject`, { body: { reason: 'no' } }))
          .status,
      ).toBe(200);
      await waitForRun(users.gina, run.runId, ['rejected']);
      finished.push({ ...run, owner: 'gina' });
    };
    const providerFailure = async () => {
      const run = await failed(users.alice, FAULT_ACCOUNT, 'acme');
      expect(run.error).toMatchObject({ code: 'model_unavailable' });
      finished.push({ runId: run.runId, draftId: null, tenant: 'acme', owner: 'alice' });
    };
    const keyEcho = async () => {
      const run = await failed(users.gina, KEY_ECHO_ACCOUNT, 'globex');
      expect(run.error).toEqual({ code: 'model_unavailable', message: 'No model could produce an answer.' });
      finished.push({ runId: run.runId, draftId: null, tenant: 'globex', owner: 'gina' });
    };

    await Promise.all([approve(), reject(), escalate(), escalateReject(), providerFailure(), keyEcho()]);
    const expired = await expiring;
    await waitForRun(users.bob, expired.runId, ['expired'], (REVIEW_TIMEOUT_SECONDS + 20) * 1000);
    finished.push({ ...expired, owner: 'bob' });

    // The sweep is only meaningful if the key was really in use and tokens were really issued.
    expect(providerAuthorizations).toEqual(new Set([`Bearer ${API_KEY}`]));
    expect(tokens.size).toBeGreaterThanOrEqual(5);
    expect(logLines.join('\n')).toMatch(/Local execution ended with an error|Task failed/);
  });

  it('reads back every run, draft, trace, list, report and budget through the API', async () => {
    const platform = { tenant: (tenant: string) => `tenantId=${tenant}` };
    for (const run of finished) {
      await call(users[run.owner], 'GET', `/v1/runs/${run.runId}`);
      await call(users.frank, 'GET', `/v1/runs/${run.runId}?${platform.tenant(run.tenant)}`);
      await call(users.frank, 'GET', `/v1/runs/${run.runId}/trace?${platform.tenant(run.tenant)}`);
      if (run.tenant === 'acme') await call(users.dave, 'GET', `/v1/runs/${run.runId}/trace`);
      if (run.draftId) {
        await call(users[run.owner], 'GET', `/v1/drafts/${run.draftId}`);
        if (run.tenant === 'acme') await call(users.dave, 'POST', `/v1/drafts/${run.draftId}/promote`);
      }
    }
    const today = new Date().toISOString().slice(0, 10);
    for (const user of ['alice', 'bob', 'carol', 'dave', 'gina', 'hank'] as const) {
      await call(users[user], 'GET', '/v1/drafts?limit=100');
    }
    for (const user of ['erin', 'frank', 'dave'] as const) {
      await call(users[user], 'GET', `/v1/ledger?from=${today}&to=${today}&groupBy=day`);
      await call(users[user], 'GET', `/v1/ledger?from=${today}&to=${today}`, {
        headers: { accept: 'text/csv' },
      });
      await call(users[user], 'GET', '/v1/tenants/acme/budget');
    }
    await call(users.frank, 'GET', '/v1/tenants/globex/budget');
    await call(users.frank, 'GET', `/v1/metrics?from=${today}&to=${today}&tenantId=acme`);
    await call(users.dave, 'GET', `/v1/metrics?from=${today}&to=${today}`);
    await call(users.alice, 'GET', '/v1/workflows');
    await call(new ApiClient(stack.url, null), 'GET', '/v1/openapi.json');
    const spans = responses.filter((response) => response.where.includes('/trace'));
    expect(spans.length).toBeGreaterThanOrEqual(finished.length);
    expect(spans.every((response) => response.text.startsWith('200'))).toBe(true);
  });

  it('finds the API key in no log line, trace, DynamoDB item or API response', async () => {
    const items = await scanAll();
    const places: [string, string][] = [
      ...logLines.map((line): [string, string] => ['log', line]),
      ...responses.map(({ where, text }): [string, string] => [`response ${where}`, text]),
      ...items.map(({ table, json }): [string, string] => [`item of ${table}`, json]),
    ];
    expect(places.filter(([, text]) => text.includes(API_KEY)).map(([where]) => where)).toEqual([]);
    // Not even a recognisable part of it.
    const secretPart = API_KEY.slice('sk-test-LEAKCANARY-'.length);
    expect(places.filter(([, text]) => text.includes(secretPart)).map(([where]) => where)).toEqual([]);
  });

  it('finds task tokens only in their TASK_TOKEN items, and none of those once every run is decided', async () => {
    const items = await scanAll();
    expect(items.filter((item) => item.sk === 'TASK_TOKEN')).toEqual([]);
    const places: [string, string][] = [
      ...logLines.map((line): [string, string] => ['log', line]),
      ...responses.map(({ where, text }): [string, string] => [`response ${where}`, text]),
      ...items.map(({ table, json }): [string, string] => [`item of ${table}`, json]),
    ];
    const leaks = places.flatMap(([where, text]) =>
      [...tokens].filter((token) => text.includes(token)).map((token) => `${where}: ${token}`),
    );
    expect(leaks).toEqual([]);
    expect(liveLeaks).toEqual([]);
  });
});
