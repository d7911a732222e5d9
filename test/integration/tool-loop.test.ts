/**
 * The read-only tool loop end to end on the local stack: the local model server calls the renewal
 * brief's tools for what it sees in the context, the gateway executes them against the stored
 * records (or a tenant's connector), the brief cites the new evidence, every turn is charged in
 * the ledger, the round limit stops a model that keeps calling tools, and a failing tool becomes an
 * error result and a data gap.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '#shared/ports/index.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ApiClient, clientsFor, startTestStack, waitForRun, type UserName } from './local-stack.ts';

/** A tenant of its own, so its connector changes nothing the other tests read. */
const TENANT = 'tooltest';
const ACCOUNT = 'acct-tool-one';
const NOW = new Date().toISOString();

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let admin: ApiClient;
let manager: ApiClient;
let ticketsServer: Server;
let ticketsUrl: string;
let ticketReads = 0;

interface SpanView {
  kind: string;
  status: string;
  attributes: Record<string, unknown>;
}

beforeAll(async () => {
  stack = await startTestStack();
  users = await clientsFor(stack);
  const sign = (sub: string, roles: string[]) =>
    stack.token({ sub, tenantId: TENANT, roles }).then((token) => new ApiClient(stack.url, token));
  admin = await sign('admin-tia', ['admin']);
  manager = await sign('mgr-tom', ['manager']);
  const machine = await sign('client-tooltest', ['integration']);
  for (const [sourceId, recordId, data] of [
    ['crm', ACCOUNT, { name: 'Tool One', ownerId: 'csm-tess', arr: 60000 }],
    ['usage', ACCOUNT, { period: NOW.slice(0, 7), activeUsers: 80, licensedSeats: 100 }],
  ] as const) {
    const pushed = await machine.request('PUT', `/v1/sources/${sourceId}/records`, {
      body: { records: [{ accountId: ACCOUNT, recordId, updatedAt: NOW, data }] },
    });
    expect(pushed.status, pushed.text).toBe(200);
  }
  // The tenant's tickets come live from its own service, which answers the context layer's read
  // and then stops answering: the ticket-thread tool's read times out.
  ticketsServer = createServer((_req, res) => {
    ticketReads += 1;
    if (ticketReads > 1) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        records: [
          {
            recordId: 'TT-1',
            updatedAt: NOW,
            data: { ticketId: 'TT-1', status: 'open', priority: 'high', subject: 'Exports fail' },
          },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => ticketsServer.listen(0, '127.0.0.1', resolve));
  ticketsUrl = `http://127.0.0.1:${(ticketsServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await stack.stop();
  ticketsServer.closeAllConnections();
  await new Promise((resolve) => ticketsServer.close(resolve));
});

async function briefFor(client: ApiClient, accountId: string, notes?: string) {
  const started = await client.post('/v1/workflows/renewal-brief/runs', {
    accountId,
    ...(notes === undefined ? {} : { notes }),
  });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = await waitForRun(client, runId, ['awaiting_review', 'failed']);
  expect(run['status'], JSON.stringify(run)).toBe('awaiting_review');
  return { runId, run, draftId: String(run['draftId']) };
}

async function ledgerOf(tenantId: string, runId: string): Promise<LedgerEntry[]> {
  const day = new Date().toISOString().slice(0, 10);
  const entries = await stack.apiDeps.ledger.listEntries({ fromDay: day, toDay: day, tenantId });
  return entries.filter((entry) => entry.runId === runId);
}

async function spansOf(client: ApiClient, runId: string): Promise<SpanView[]> {
  const trace = await client.get(`/v1/runs/${runId}/trace`);
  expect(trace.status, trace.text).toBe(200);
  return trace.body['spans'] as SpanView[];
}

describe('the tool loop on the local stack', () => {
  it('calls the tools for the open ticket and the usage trend, cites the new evidence, and charges every turn', async () => {
    const { runId, run, draftId } = await briefFor(users.carol, 'acct-contoso');

    // The gateway executed both calls against the stored records of the run's account.
    const context = await stack.apiDeps.runs.getContext('acme', runId);
    expect(context?.toolCalls?.map((call) => [call.tool, call.outcome])).toEqual([
      ['get_ticket_thread', 'ok'],
      ['get_usage_trend', 'ok'],
    ]);
    const threadIds = context?.items.filter((item) => item.id.startsWith('thread:')).map((item) => item.id);
    const trendIds = context?.items.filter((item) => item.id.startsWith('trend:')).map((item) => item.id);
    expect(threadIds?.length).toBeGreaterThan(1);
    expect(trendIds).toHaveLength(6);

    // The brief cites them, and the draft's evidence carries them with their provenance.
    const draft = await users.carol.get(`/v1/drafts/${draftId}`);
    expect(draft.status, draft.text).toBe(200);
    const evidence = (draft.body['evidence'] as { id: string }[]).map((item) => item.id);
    expect(evidence).toEqual(expect.arrayContaining([...(threadIds ?? []), ...(trendIds ?? [])]));

    // Two turns, each reserved and settled on its own: both in the ledger, summing to the run's cost.
    const entries = await ledgerOf('acme', runId);
    expect(entries.map((entry) => entry.attemptKey).sort()).toEqual([
      '1.gpt-4.1-mini.1',
      '102.gpt-4.1-mini.1',
    ]);
    expect(entries.every((entry) => entry.costUsd > 0 && !entry.estimated)).toBe(true);
    const charged = entries.reduce((sum, entry) => sum + entry.costUsd, 0);
    expect(Number(run['costUsd'])).toBeCloseTo(charged, 6);
    const holds = await (
      stack.apiDeps.gateway as unknown as {
        holdsOf(t: string, r: string): Promise<Record<string, unknown>[]>;
      }
    ).holdsOf('acme', runId);
    expect(holds.map((hold) => hold['state'])).toEqual(['settled', 'settled']);

    // Each call is a span: tool, argument hash, latency, result size, outcome.
    const spans = await spansOf(users.dave, runId);
    const tools = spans.filter((span) => span.kind === 'tool_call');
    expect(tools.map((span) => span.attributes['gen_ai.tool.name']).sort()).toEqual([
      'get_ticket_thread',
      'get_usage_trend',
    ]);
    for (const span of tools) {
      expect(span.status).toBe('ok');
      expect(span.attributes['rein.tool.args_hash']).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(span.attributes['rein.tool.result_bytes']).toBeGreaterThan(0);
      expect(span.attributes['rein.latency_ms']).toBeGreaterThanOrEqual(0);
      expect(span.attributes['rein.tool.outcome']).toBe('ok');
    }
    expect(spans.filter((span) => span.kind === 'model_attempt')).toHaveLength(2);
  });

  it('stops a model that keeps calling tools at the round limit and makes it answer', async () => {
    const { maxRounds } = renewalBrief.toolPolicy;
    const { runId } = await briefFor(users.carol, 'acct-vandelay', '[local-model:tools-forever]');

    const context = await stack.apiDeps.runs.getContext('acme', runId);
    expect(new Set(context?.toolCalls?.map((call) => call.turn)).size).toBe(maxRounds);
    const entries = await ledgerOf('acme', runId);
    expect(entries).toHaveLength(maxRounds + 1);
    const attempts = (await spansOf(users.dave, runId)).filter((span) => span.kind === 'model_attempt');
    expect(attempts.map((span) => span.attributes['rein.tools.offered'])).toEqual([
      ...Array.from({ length: maxRounds }, () => true),
      false,
    ]);
  });

  it('returns a timed-out tool as an error result, records it, and declares the missing source', async () => {
    const configured = await admin.request('PUT', '/v1/connectors/tickets', {
      body: {
        kind: 'http',
        url: `${ticketsUrl}/tickets/{accountId}`,
        auth: { type: 'none' },
        timeoutMs: 300,
      },
    });
    expect(configured.status, configured.text).toBe(200);

    const { runId, draftId } = await briefFor(manager, ACCOUNT);

    expect(ticketReads).toBe(2);
    const context = await stack.apiDeps.runs.getContext(TENANT, runId);
    const thread = context?.toolCalls?.find((call) => call.tool === 'get_ticket_thread');
    expect(thread).toMatchObject({ outcome: 'timeout', source: 'tickets' });
    expect(JSON.parse(thread?.output ?? '{}')).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(context?.dataGaps).toEqual(
      expect.arrayContaining([expect.objectContaining({ source: 'tickets', reason: 'timeout' })]),
    );
    const draft = await manager.get(`/v1/drafts/${draftId}`);
    const gaps = (draft.body['content'] as { dataGaps: { source: string }[] }).dataGaps;
    expect(gaps.map((gap) => gap.source)).toContain('tickets');
    const failed = (await spansOf(admin, runId)).find(
      (span) => span.kind === 'tool_call' && span.attributes['gen_ai.tool.name'] === 'get_ticket_thread',
    );
    expect(failed).toMatchObject({ status: 'error', attributes: { 'rein.tool.outcome': 'timeout' } });
  });
});
