/**
 * The integration tests' harness: the real local stack over loopback.
 *
 * One DynamoDB Local per `vitest run`: `global-setup.ts` (vitest `globalSetup` of the integration
 * project) starts it once and every file's stack uses it with tables of its own (a unique table
 * prefix, deleted on `stop`), so files never see each other's data and no file pays for a JVM start.
 *
 *   let stack: LocalStack;
 *   beforeAll(async () => { stack = await startTestStack({ ...options }); });
 *   afterAll(async () => { await stack.stop(); });
 *
 * `startTestStack` takes every `LocalStackOptions` (rate limits, review timeout, model server or a
 * fake provider, seed…); the API, engine and model server run in the test's own process, so tests
 * can inject faults and inspect stores. A stack with a `dataDir` (restart tests) starts its own
 * DynamoDB Local on that directory, since it must outlive a stop. Time-based behaviour (review
 * expiry, model deadlines) is tested with short configured timeouts, never with real long waits:
 * a test that needs a short review timeout starts a second stack with `reviewTimeoutSeconds`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { newId } from '#shared/domain/ids.ts';
import type { Run } from '#shared/domain/run.ts';
import { fetchContext } from '#shared/usecases/context.ts';
import { livePrompt } from '#shared/workflows/definition.ts';
import { getWorkflow } from '#shared/workflows/registry.ts';
import { parseEnv } from '#shared/config.ts';
import { StaticSecretSource } from '#shared/adapters/secrets/static-secret-source.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { buildDeps } from '../../functions/commons/deps.ts';
import { openAi } from '../../functions/commons/openai.ts';
import { DEMO_SEED_PATH } from '../../infra/local/seed-path.ts';
import { readSeedFile } from '../../infra/local/seed/load.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/stack.ts';

/** The physical name of the stack's table whose logical id starts with `prefix` (e.g. `LedgerTable`). */
export function tableNamed(stack: LocalStack, prefix: string): string {
  const name = Object.entries(stack.tables).find(([logicalId]) => logicalId.startsWith(prefix))?.[1];
  if (!name) throw new Error(`The stack has no ${prefix}.`);
  return name;
}

/**
 * A fresh model-call container on the stack's tables and local model server, built by the Lambdas'
 * own composition root with the model-call function's SDK adapters.
 */
export function modelCallContainer(stack: LocalStack, options: { budgetUsd?: number } = {}): Deps {
  if (!stack.modelServer) throw new Error('The test stack must run the local model server.');
  const env = parseEnv({
    REIN_ENV: 'local',
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: stack.dynamo.endpoint,
    WORKFLOW_TABLE: tableNamed(stack, 'WorkflowTable'),
    RECORDS_TABLE: tableNamed(stack, 'RecordsTable'),
    TRACE_TABLE: tableNamed(stack, 'TraceTable'),
    LEDGER_TABLE: tableNamed(stack, 'LedgerTable'),
    TRACE_TTL_DAYS: '1',
    MODEL_ALLOW_LIST: 'gpt-4.1-mini,gpt-4o-mini',
    OPENAI_BASE_URL: stack.modelServer.url,
    DEFAULT_MONTHLY_BUDGET_USD: String(options.budgetUsd ?? 25),
    RATE_LIMIT_RPM: '600',
    RATE_LIMIT_TPM: '10000000',
  });
  return buildDeps(env, openAi, { secrets: new StaticSecretSource('local-model-server-key') });
}

/** A renewal-brief run as the API creates it (status running, nothing spent), not yet stored. */
export function newRun(tenantId: string, accountId = 'acct-northwind'): Run {
  const workflow = getWorkflow('renewal-brief');
  const prompt = livePrompt(workflow.prompts);
  const now = new Date().toISOString();
  return {
    runId: newId('run'),
    tenantId,
    workflowId: workflow.id,
    requestedBy: 'mgr-carol',
    accountId,
    input: { accountId },
    status: 'running',
    draftId: null,
    error: null,
    costUsd: 0,
    promptId: prompt.id,
    promptVersion: prompt.version,
    model: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** A stored run with its context gathered by the real FetchContext use case. */
export async function runWithContext(deps: Deps, tenantId: string, accountId: string): Promise<Run> {
  const run = newRun(tenantId, accountId);
  await deps.runs.createRun(run);
  await fetchContext(deps, { tenantId, runId: run.runId });
  return run;
}

/**
 * Starts the real local stack (local model server, the CDK state machine, the API) with the demo
 * data, on the run's shared DynamoDB Local with tables of its own; with a `dataDir`, on a DynamoDB
 * Local of its own that keeps the data across a stop and start.
 */
export async function startTestStack(overrides: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  const endpoint = inject('reinDynamoEndpoint') as string | undefined;
  const persistent = overrides.dataDir !== undefined && overrides.dataDir !== null;
  return startLocalStack({
    port: 0,
    dataDir: null,
    seed: await readSeedFile(DEMO_SEED_PATH),
    ...(endpoint && !persistent
      ? { sharedDynamo: { endpoint, tablePrefix: `rein-test-${randomBytes(4).toString('hex')}-` } }
      : {}),
    ...overrides,
  });
}

/** A local stack running in a child process (see stack-process.ts), to be killed for real. */
export interface StackProcess {
  url: string;
  /** The stack's DynamoDB Local and its tables (logical id → name), to inspect what it stored. */
  dynamoEndpoint: string;
  tables: Record<string, string>;
  /** Clients of the demo users, with tokens from the stack's dev issuer (`POST /local/tokens`). */
  clients(): Promise<Record<UserName, ApiClient>>;
  /**
   * `kill -9` of the stack's whole process group (the stack and the DynamoDB Local it started, as a
   * terminal's kill or a crash would end them); resolves once no process of it is left.
   */
  kill(): Promise<void>;
}

/**
 * Starts the local stack on `dataDir` in a process group of its own and waits until it serves.
 * Its outbox drainer sweeps only at start, so events recorded while it runs stay in the outbox.
 */
export async function startStackProcess(dataDir: string): Promise<StackProcess> {
  const script = fileURLToPath(new URL('./stack-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const group = child.pid;
  if (group === undefined) throw new Error('The stack process did not start.');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const started = await new Promise<{
    url: string;
    dynamoEndpoint: string;
    tables: Record<string, string>;
  }>((resolveStarted, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (line) resolveStarted(JSON.parse(line) as Awaited<typeof started>);
    });
    child.once('exit', (code) => {
      reject(new Error(`The stack process exited (${String(code)}): ${stderr.slice(-2000)}`));
    });
  });
  const alive = (): boolean => {
    try {
      process.kill(-group, 0);
      return true;
    } catch {
      return false;
    }
  };
  const { url } = started;
  return {
    ...started,
    clients: async () => {
      const anonymous = new ApiClient(url, null);
      const entries = await Promise.all(
        Object.entries(USERS).map(async ([name, claims]) => {
          const issued = await anonymous.post('/local/tokens', { ...claims, roles: [...claims.roles] });
          if (issued.status !== 200) throw new Error(`POST /local/tokens answered ${issued.status}`);
          return [name, new ApiClient(url, String(issued.body['token']))];
        }),
      );
      return Object.fromEntries(entries) as Record<UserName, ApiClient>;
    },
    kill: async () => {
      process.kill(-group, 'SIGKILL');
      while (alive()) await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    },
  };
}

export interface ApiResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** A small HTTP client for the local API: real requests over loopback. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
  ) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; rawBody?: string | Buffer } = {},
  ): Promise<ApiResult> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : new Uint8Array(body) }),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = {};
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, headers ? { headers } : {});
  }
  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, {
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });
  }
  patch(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request('PATCH', path, { body, ...(headers ? { headers } : {}) });
  }
}

export const USERS = {
  alice: { sub: 'csm-alice', tenantId: 'acme', roles: ['csm'] },
  bob: { sub: 'csm-bob', tenantId: 'acme', roles: ['csm'] },
  carol: { sub: 'mgr-carol', tenantId: 'acme', roles: ['manager'] },
  dave: { sub: 'admin-dave', tenantId: 'acme', roles: ['admin'] },
  gina: { sub: 'csm-gina', tenantId: 'globex', roles: ['csm'] },
  hank: { sub: 'mgr-hank', tenantId: 'globex', roles: ['manager'] },
  frank: { sub: 'ops-frank', tenantId: 'rein-platform', roles: ['operator'] },
  erin: { sub: 'fin-erin', tenantId: 'rein-platform', roles: ['finance'] },
  /** Machine clients (OAuth client credentials in AWS) of each tenant, for the ingestion routes. */
  acmeIntegration: { sub: 'client-acme-etl', tenantId: 'acme', roles: ['integration'] },
  globexIntegration: { sub: 'client-globex-etl', tenantId: 'globex', roles: ['integration'] },
} as const;

export type UserName = keyof typeof USERS;

export async function clientsFor(stack: LocalStack): Promise<Record<UserName, ApiClient>> {
  const entries = await Promise.all(
    Object.entries(USERS).map(async ([name, claims]) => [
      name,
      new ApiClient(stack.url, await stack.token({ ...claims, roles: [...claims.roles] })),
    ]),
  );
  return Object.fromEntries(entries) as Record<UserName, ApiClient>;
}

/** Polls a run until it reaches one of `statuses` (or fails the test after `timeoutMs`). */
export async function waitForRun(
  client: ApiClient,
  runId: string,
  statuses: readonly string[],
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await client.get(`/v1/runs/${runId}`);
    if (result.status !== 200) throw new Error(`GET run answered ${result.status}: ${result.text}`);
    if (statuses.includes(String(result.body['status']))) return result.body;
    if (Date.now() > deadline) {
      throw new Error(`Run ${runId} stayed ${String(result.body['status'])}; expected ${statuses.join('|')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * An approval body that decides every action the draft proposes (rejecting them by default, so
 * nothing is sent anywhere): approving a draft with undecided actions is a 400.
 */
export async function approvalFor(
  client: ApiClient,
  draftId: string,
  extra: Record<string, unknown> = {},
  decision: 'approve' | 'reject' = 'reject',
): Promise<Record<string, unknown>> {
  const draft = await client.get(`/v1/drafts/${draftId}`);
  const actions = (draft.body['actions'] as { actionId: string }[] | undefined) ?? [];
  return { ...extra, actions: actions.map(({ actionId }) => ({ actionId, decision })) };
}
