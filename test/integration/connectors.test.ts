/**
 * Pull connectors end to end on the local stack: the demo tenant `globex` reads its CRM live from
 * the demo CRM service; a tenant's admin configures connectors whose timeouts, invalid answers and
 * refused redirects become data gaps with reasons; the connector secret appears in no response,
 * stored item, trace or log line.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ApiClient, clientsFor, startTestStack, waitForRun, type UserName } from './local-stack.ts';

/** A tenant of its own, so its connectors change nothing the other tests read. */
const TENANT = 'pulltest';
const SECRET = `s3cr3t-${Math.random().toString(36).slice(2)}-connector`;
const NOW = new Date().toISOString();

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let admin: ApiClient;
let csm: ApiClient;
let machine: ApiClient;
let globexAdmin: ApiClient;
const output: string[] = [];
const restore: (() => void)[] = [];
const responses: string[] = [];

/** Captures everything the stack logs to stdout and stderr while the tests run. */
function capture(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream);
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
  restore.push(() => {
    stream.write = original;
  });
}

async function call(client: ApiClient, method: string, path: string, body?: unknown) {
  const result = await client.request(method, path, body === undefined ? {} : { body });
  responses.push(result.text, JSON.stringify([...result.headers.entries()]));
  return result;
}

beforeAll(async () => {
  capture(process.stdout);
  capture(process.stderr);
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      output.push(args.map(String).join(' '));
      original(...args);
    };
    restore.push(() => {
      console[level] = original;
    });
  }
  stack = await startTestStack({ logLevel: 'DEBUG' });
  users = await clientsFor(stack);
  const sign = (sub: string, tenantId: string, roles: string[]) =>
    stack.token({ sub, tenantId, roles }).then((token) => new ApiClient(stack.url, token));
  admin = await sign('admin-pat', TENANT, ['admin']);
  csm = await sign('csm-pia', TENANT, ['csm']);
  machine = await sign('client-pulltest', TENANT, ['integration']);
  globexAdmin = await sign('admin-globex', 'globex', ['admin']);
  // Two accounts pushed through the ingestion API, with stored usage and contract records.
  for (const accountId of ['acct-pull-one', 'acct-pull-two']) {
    for (const [sourceId, recordId, data] of [
      ['crm', accountId, { name: `Pull ${accountId}`, ownerId: 'csm-pia', arr: 50000 }],
      ['usage', accountId, { activeUsers: 80, licensedSeats: 100 }],
      ['contract', `CTR-${accountId}`, { contractId: `CTR-${accountId}`, endDate: '2027-06-30' }],
    ] as const) {
      const pushed = await call(machine, 'PUT', `/v1/sources/${sourceId}/records`, {
        records: [{ accountId, recordId, updatedAt: NOW, data }],
      });
      expect(pushed.status, pushed.text).toBe(200);
    }
  }
});

afterAll(async () => {
  await stack.stop();
  for (const undo of restore) undo();
});

async function brief(client: ApiClient, accountId: string) {
  const started = await call(client, 'POST', '/v1/workflows/renewal-brief/runs', { accountId });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = await waitForRun(client, runId, ['awaiting_review', 'failed']);
  expect(run['status'], JSON.stringify(run)).toBe('awaiting_review');
  const draft = await call(client, 'GET', `/v1/drafts/${String(run['draftId'])}`);
  return { runId, draft };
}

/** A connector to the demo CRM; its secret is the demo CRM's token unless another is given. */
function connector(path: string, timeoutMs = 2000, secret = stack.demoCrm.token) {
  return {
    kind: 'http',
    url: `${stack.demoCrm.url}/${path}/accounts/{accountId}`,
    auth: { type: 'bearer', secret },
    timeoutMs,
  };
}

describe('pull connectors', () => {
  it('reads the demo tenant’s CRM live from the demo CRM service, with provenance', async () => {
    const before = stack.demoCrm.requests.length;
    const { runId, draft } = await brief(users.gina, 'acct-cyberdyne');
    // The run's context object (the draft shows only the evidence its brief cites).
    const context = await stack.apiDeps.runs.getContext('globex', runId);
    const crm = context?.items.find((item) => item.id === 'crm:acct-cyberdyne');

    // The demo CRM says 165000; the seed's stored CRM record says 150000.
    expect(crm?.fields['arr']).toBe(165000);
    expect(Date.parse(String(crm?.provenance.updatedAt))).not.toBeNaN();
    expect(crm?.provenance.receivedAt).toBeTypeOf('string');
    expect(stack.demoCrm.requests.slice(before)).toContain('/crm/accounts/acct-cyberdyne');
    // The hidden field of the live record stays hidden.
    expect(draft.text).not.toContain('price lock');

    const shown = await call(globexAdmin, 'GET', '/v1/connectors/crm');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      sourceId: 'crm',
      kind: 'http',
      auth: { type: 'bearer', secretSetAt: expect.any(String) as unknown },
    });
    expect(shown.text).not.toContain(stack.demoCrm.token);
  });

  it('turns a connector timeout and an invalid answer into data gaps, and the run goes on', async () => {
    const usage = await call(admin, 'PUT', '/v1/connectors/usage', connector('slow', 300));
    const contract = await call(admin, 'PUT', '/v1/connectors/contract', connector('invalid'));
    expect(usage.status, usage.text).toBe(200);
    expect(contract.status, contract.text).toBe(200);
    expect(usage.body['auth']).toEqual({ type: 'bearer', secretSetAt: expect.any(String) as unknown });

    const { runId, draft } = await brief(csm, 'acct-pull-one');
    const content = RenewalBriefSchema.parse(draft.body['content']);
    const trace = await call(admin, 'GET', `/v1/runs/${runId}/trace`);
    const spans = trace.body['spans'] as { name: string; attributes: Record<string, unknown> }[];
    const gapOf = (source: string) =>
      spans.find((span) => span.name === `context ${source}`)?.attributes['rein.context.gap'];

    expect(gapOf('usage')).toBe('timeout');
    expect(gapOf('contract')).toBe('invalid_response');
    expect(gapOf('crm')).toBeNull();
    expect(content.dataGaps.map((gap) => gap.source)).toEqual(expect.arrayContaining(['usage', 'contract']));
    const context = await stack.apiDeps.runs.getContext(TENANT, runId);
    const sources = context?.items.map((item) => item.source) ?? [];
    expect(context?.dataGaps.map((gap) => [gap.source, gap.reason])).toEqual(
      expect.arrayContaining([
        ['usage', 'timeout'],
        ['contract', 'invalid_response'],
      ]),
    );
    // The connector replaces the stored usage and contract records: nothing invented, nothing stale shown.
    expect(sources).not.toContain('usage');
    expect(sources).not.toContain('contract');
    expect(sources).toContain('crm');
  });

  it('reports what the context layer would get, and refuses a redirect to the metadata address', async () => {
    await call(admin, 'PUT', '/v1/connectors/invoices', connector('redirect'));
    const redirected = await call(admin, 'POST', '/v1/connectors/invoices/test', {
      accountId: 'acct-pull-two',
    });
    expect(redirected.status).toBe(200);
    expect(redirected.body, redirected.text).toMatchObject({
      ok: false,
      records: 0,
      gap: { reason: 'blocked' },
    });

    await call(admin, 'PUT', '/v1/connectors/crm', connector('crm'));
    const unknown = await call(admin, 'POST', '/v1/connectors/crm/test', { accountId: 'acct-pull-two' });
    expect(unknown.body).toMatchObject({ ok: true, records: 0, fields: [] });
    await call(admin, 'PUT', '/v1/connectors/usage', connector('crm', 2000, SECRET));
    const wrongSecret = await call(admin, 'POST', '/v1/connectors/usage/test', {
      accountId: 'acct-pull-two',
    });
    expect(wrongSecret.body).toMatchObject({
      ok: false,
      gap: { reason: 'http_error', detail: 'the connector answered HTTP 401' },
    });
    const globex = await call(globexAdmin, 'POST', '/v1/connectors/crm/test', {
      accountId: 'acct-cyberdyne',
    });
    expect(globex.body).toMatchObject({ ok: true, records: 1, gap: null });
    expect(globex.body['fields']).toEqual(
      expect.arrayContaining(['name', 'ownerId', 'arr', 'internalNotes']),
    );
    expect(globex.body['latencyMs']).toBeTypeOf('number');
  });

  it('refuses connector targets outside the outbound policy when they are configured', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/{accountId}',
      'http://10.0.0.1/crm/{accountId}',
      'ftp://example.com/{accountId}',
      'https://user:pw@example.com/{accountId}',
    ]) {
      const refused = await call(admin, 'PUT', '/v1/connectors/tickets', {
        kind: 'http',
        url,
        auth: { type: 'none' },
      });
      expect(refused.status, url).toBe(400);
      expect(refused.body['error']).toMatchObject({ code: 'invalid_request', details: [{ path: 'url' }] });
    }
    expect((await call(admin, 'GET', '/v1/connectors/tickets')).status).toBe(404);
    expect((await call(csm, 'PUT', '/v1/connectors/usage', connector('crm'))).status).toBe(403);
    expect((await call(machine, 'GET', '/v1/connectors/usage')).status).toBe(403);
    expect((await call(admin, 'PUT', '/v1/connectors/billing', connector('crm'))).status).toBe(404);
  });

  it('keeps the connector secret out of every response, stored item, trace and log line', async () => {
    const secrets = [SECRET, stack.demoCrm.token];
    for (const text of responses) for (const secret of secrets) expect(text).not.toContain(secret);
    const logged = output.join('');
    for (const secret of secrets) expect(logged).not.toContain(secret);
    for (const table of Object.values(stack.tables)) {
      let startKey: Record<string, never> | undefined;
      do {
        const page = await stack.dynamo.client.send(
          new ScanCommand({ TableName: table, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
        );
        const text = JSON.stringify(page.Items ?? []);
        for (const secret of secrets) expect(text, table).not.toContain(secret);
        startKey = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (startKey);
    }
  });
});
