import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { API_TYPES_PATH, generateApiTypes } from '../../web/scripts/api-types.ts';
import type { paths } from '../../web/src/api/schema.gen.ts';
import { startTestStack, USERS } from './local-stack.ts';

const run = promisify(execFile);
const BIN = new URL('../../node_modules/.bin/', import.meta.url).pathname;
const PRISM = new URL('../../node_modules/@stoplight/prism-cli/dist/index.js', import.meta.url).pathname;

let stack: LocalStack;
let workDir: string;
let documentPath: string;
let served: object;

beforeAll(async () => {
  stack = await startTestStack();
  workDir = await mkdtemp(join(tmpdir(), 'rein-contract-'));
  const response = await fetch(`${stack.url}/v1/openapi.json`);
  served = (await response.json()) as object;
  documentPath = join(workDir, 'openapi.json');
  await writeFile(documentPath, JSON.stringify(served));
});

afterAll(async () => {
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function clientFor(user: keyof typeof USERS, baseUrl: string) {
  const claims = USERS[user];
  const token = await stack.token({ ...claims, roles: [...claims.roles] });
  return createClient<paths, `${string}/json`>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
}

/** Starts Prism's validating proxy in front of the stack; every contract violation becomes an error answer. */
async function startPrismProxy(): Promise<{ url: string; stop: () => void; output: () => string }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const prism = spawn(
    process.execPath,
    [PRISM, 'proxy', documentPath, stack.url, '--errors', '--host', '127.0.0.1', '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  prism.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  prism.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const url = `http://127.0.0.1:${String(port)}`;
  for (let tries = 0; ; tries += 1) {
    try {
      await fetch(`${url}/v1/health`);
      break;
    } catch {
      if (tries > 300 || prism.exitCode !== null) throw new Error(`Prism did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, stop: () => prism.kill(), output: () => output };
}

describe('the served OpenAPI document', () => {
  it('passes swagger-cli validate', async () => {
    const { stdout } = await run(join(BIN, 'swagger-cli'), ['validate', documentPath]);
    expect(stdout).toContain('is valid');
  });

  it('passes redocly lint with the recommended rules and no errors', async () => {
    // redocly exits non-zero on any error, which rejects the promise and fails the test.
    const { stderr } = await run(join(BIN, 'redocly'), ['lint', documentPath, '--extends=recommended'], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    expect(stderr).toMatch(/Your API description is valid/);
  });

  it('generates exactly the committed client types (npm run web:api after a route change)', async () => {
    expect(await generateApiTypes(served)).toBe(await readFile(API_TYPES_PATH, 'utf8'));
  });
});

describe('the README walkthrough through a generated client (openapi-fetch, no casts)', () => {
  it('starts a run, reviews and approves its draft, then reads the ledger and the metrics', async () => {
    await walkthrough(stack.url);
  });

  it('runs the same walkthrough through Prism’s validating proxy with no contract violation', async () => {
    const prism = await startPrismProxy();
    try {
      await walkthrough(prism.url).catch((error: unknown) => {
        throw new Error(`${String(error)}\nPrism said:\n${prism.output().slice(-3000)}`);
      });
      // Every line Prism logged about a violation or an error, so a failure shows what it was.
      expect(
        prism
          .output()
          .split('\n')
          .filter((line) => /violation|\berror\b/i.test(line)),
      ).toEqual([]);
    } finally {
      prism.stop();
    }
  });

  it('answers 401 with a WWW-Authenticate challenge and the error shape', async () => {
    const anonymous = createClient<paths, `${string}/json`>({ baseUrl: stack.url });
    const result = await anonymous.GET('/v1/drafts', {});
    expect(result.response.status).toBe(401);
    expect(result.response.headers.get('www-authenticate')).toBe('Bearer realm="rein"');
    expect(result.error?.error.code).toBe('unauthorized');
  });
});

/** The README walkthrough: every call typed by the generated client, no casts. */
async function walkthrough(baseUrl: string): Promise<void> {
  const alice = await clientFor('alice', baseUrl);
  const dave = await clientFor('dave', baseUrl);
  const erin = await clientFor('erin', baseUrl);
  const frank = await clientFor('frank', baseUrl);

  const started = await alice.POST('/v1/workflows/{workflowId}/runs', {
    params: { path: { workflowId: 'renewal-brief' }, header: { 'idempotency-key': `walk-${Date.now()}` } },
    body: { accountId: 'acct-contoso' },
  });
  expect(started.response.status).toBe(202);
  if (!started.data) throw new Error('no run');
  expect(started.response.headers.get('location')).toBe(`/v1/runs/${started.data.runId}`);

  let draftId: string | null = null;
  for (let polls = 0; polls < 300 && draftId === null; polls += 1) {
    const polled = await alice.GET('/v1/runs/{runId}', { params: { path: { runId: started.data.runId } } });
    if (polled.data?.status === 'failed') throw new Error(`run failed: ${JSON.stringify(polled.data.error)}`);
    if (polled.data?.status === 'awaiting_review') draftId = polled.data.draftId;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (draftId === null) throw new Error('the run never reached review');

  const page = await alice.GET('/v1/drafts', {
    params: { query: { status: 'awaiting_review', limit: 10 } },
  });
  expect(page.data?.items.map((item) => item.draftId)).toContain(draftId);

  const read = await alice.GET('/v1/drafts/{draftId}', { params: { path: { draftId } } });
  if (!read.data) throw new Error(`no draft: ${read.response.status} ${JSON.stringify(read.error)}`);
  const etag = read.response.headers.get('etag') ?? '';
  expect(etag).toBe(`"${read.data.version}"`);
  const summary = `${read.data.content.summary} Checked with finance.`;
  // What a reviewer reads beside the draft: the account's name and everything the model saw.
  expect(read.data.accountName).toBe('Contoso Pharmaceuticals');
  const citedIds = read.data.evidence.map((item) => item.id);
  expect(read.data.seenEvidence.filter((item) => item.cited).map((item) => item.id)).toEqual(
    expect.arrayContaining(citedIds),
  );
  expect(read.data.seenEvidence.length).toBeGreaterThanOrEqual(citedIds.length);
  expect(read.data.edits).toEqual([]);

  const patched = await alice.PATCH('/v1/drafts/{draftId}', {
    params: { path: { draftId }, header: { 'if-match': etag } },
    body: { content: { summary } },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  expect(patched.error).toBeUndefined();
  expect(patched.data?.content.summary).toBe(summary);
  // The merge kept every field the patch did not name.
  expect(patched.data?.content.risks).toEqual(read.data.content.risks);
  expect(patched.data?.edits.map((entry) => [entry.version, entry.editor])).toEqual([
    [read.data.version + 1, USERS.alice.sub],
  ]);

  const approved = await alice.POST('/v1/drafts/{draftId}/approve', {
    params: { path: { draftId }, header: { 'if-match': patched.response.headers.get('etag') ?? '' } },
    body: {
      reason: 'Numbers checked.',
      // Every proposed action is decided; a CSM may not approve the customer e-mail, so she rejects it.
      actions: read.data.actions.map((action) => ({
        actionId: action.actionId,
        decision: action.type === 'email.customer_followup' ? ('reject' as const) : ('approve' as const),
      })),
    },
  });
  expect(approved.error).toBeUndefined();
  expect(approved.data?.status).toBe('approved');
  expect(approved.data?.outcome?.editDistance).toBeGreaterThan(0);

  const ledger = await dave.GET('/v1/ledger', { params: { query: { groupBy: 'workflow' } } });
  expect(ledger.data?.currency).toBe('USD');
  expect(ledger.data?.rows.map((row) => row.key)).toContain('renewal-brief');

  const byWorkflowAndModel = await dave.GET('/v1/ledger', {
    params: { query: { groupBy: 'workflow,model' } },
  });
  expect(byWorkflowAndModel.data?.dimensions).toEqual(['workflow', 'model']);
  const cell = byWorkflowAndModel.data?.rows.find((row) => row.group.workflow === 'renewal-brief');
  expect(cell?.group.model).toEqual(expect.any(String));
  expect(cell?.key).toBe(`renewal-brief|${cell?.group.model ?? ''}`);

  const top = await dave.GET('/v1/ledger/top-runs', { params: { query: { limit: 100 } } });
  const topCosts = top.data?.runs.map((run) => run.costUsd) ?? [];
  expect(topCosts).toEqual([...topCosts].sort((a, b) => b - a));
  expect(top.data?.runs.find((run) => run.runId === started.data.runId)?.costUsd).toBeGreaterThan(0);
  expect(top.data?.runs.every((run) => run.tenantId === 'acme')).toBe(true);

  const csv = await dave.GET('/v1/ledger', { params: { query: { format: 'csv' } }, parseAs: 'text' });
  expect(csv.response.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(csv.data?.split('\n')[0]).toBe(
    'tenant,currency,period_from,period_to,cost,attempts,runs,input_tokens,cached_input_tokens,output_tokens,estimated_cost',
  );

  const tenants = await erin.GET('/v1/tenants', { params: { query: { limit: 10 } } });
  const acme = tenants.data?.items.find((tenant) => tenant.tenantId === 'acme');
  expect(acme?.name).toBe('Acme Software');
  expect(acme?.budget.currency).toBe('USD');
  expect(acme?.budget.limitUsd).toBeGreaterThan(0);

  const unknown = await frank.GET('/v1/tenants/{tenantId}/budget', {
    params: { path: { tenantId: 'no-such-tenant' } },
  });
  expect(unknown.response.status).toBe(404);
  expect(unknown.error?.error.code).toBe('not_found');

  const metrics = await dave.GET('/v1/metrics', {
    params: {
      query: { from: new Date().toISOString().slice(0, 10), to: new Date().toISOString().slice(0, 10) },
    },
  });
  expect(metrics.data?.groups.map((group) => group.workflowId)).toContain('renewal-brief');

  const runs = await alice.GET('/v1/runs', {
    params: { query: { status: 'approved,failed', accountId: 'acct-contoso', limit: 5 } },
  });
  expect(runs.data?.items.map((item) => [item.runId, item.status])).toContainEqual([
    started.data.runId,
    'approved',
  ]);
  expect(runs.data?.items.every((item) => item.requestedBy === USERS.alice.sub)).toBe(true);
}
