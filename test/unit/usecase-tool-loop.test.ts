import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SourceUnavailableError } from '#shared/domain/context.ts';
import type { ModelRequest, ModelResponse } from '#shared/domain/model.ts';
import { turnSlot } from '#shared/domain/tools.ts';
import { callModelStep } from '#shared/usecases/tool-loop.ts';
import { validateOutput } from '#shared/usecases/validate.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import type { ContextSource, SourceRecord } from '#shared/ports/index.ts';
import { makeDeps } from '../fakes/deps.ts';
import { ScriptedContextSource, sourceMap, ThrowingContextSource } from '../fakes/context-sources.ts';
import { completedResponse, ScriptedModelClient, type ScriptedAnswer } from '../fakes/model-client.ts';
import { ACCOUNT, seedRun, TENANT, validAnswer } from '../fakes/fixtures.ts';

const TICKET: SourceRecord = {
  recordId: 'T-100',
  data: {
    ticketId: 'T-100',
    status: 'open',
    priority: 'high',
    subject: 'Exports fail',
    body: 'Our nightly export fails.',
    thread: [
      { from: 'customer', at: '2026-09-20T08:00:00Z', body: 'Our nightly export fails.' },
      { from: 'support', at: '2026-09-21T08:00:00Z', body: 'A fix ships next week.' },
      {
        from: 'customer',
        at: '2026-09-29T08:00:00Z',
        body: 'Still failing; we are evaluating other vendors.',
      },
    ],
  },
};
const CLOSED_TICKET: SourceRecord = {
  recordId: 'T-090',
  data: { ticketId: 'T-090', status: 'closed', priority: 'low', body: 'closed long ago' },
};
const USAGE: SourceRecord = {
  recordId: ACCOUNT,
  data: {
    period: '2026-09',
    activeUsers: 41,
    licensedSeats: 100,
    history: [
      { period: '2026-07', activeUsers: 70, licensedSeats: 100 },
      { period: '2026-08', activeUsers: 55, licensedSeats: 100 },
    ],
  },
};

function toolCall(name: string, args: Record<string, unknown>, callId: string): ModelResponse {
  return completedResponse(null, { toolCalls: [{ callId, name, arguments: JSON.stringify(args) }] });
}

/** An answer that cites every evidence id the tool results carried to the model. */
function citingAnswer(request: ModelRequest): ModelResponse {
  const outputs = typeof request.input === 'string' ? [] : request.input;
  const cited = outputs.flatMap((item) =>
    item.type === 'function_call_output'
      ? ((JSON.parse(item.output) as { items?: { id: string }[] }).items ?? []).map((row) => row.id)
      : [],
  );
  const failed = outputs.flatMap((item) => {
    if (item.type !== 'function_call_output') return [];
    const result = JSON.parse(item.output) as { ok: boolean; source: string };
    return result.ok ? [] : [result.source];
  });
  const answer = validAnswer({
    risks: [
      { title: 'Seat utilisation is low', severity: 'high', evidence: ['usage:acct-northwind'] },
      ...(cited.length > 0
        ? [{ title: 'What the tools showed', severity: 'high' as const, evidence: cited }]
        : []),
    ],
    dataGaps: [...new Set(failed)].map((source) => ({ source, description: 'The tool failed.' })),
  });
  return completedResponse(JSON.stringify(answer));
}

async function setup(
  answers: ScriptedAnswer[],
  sources: ContextSource[] = [
    new ScriptedContextSource('tickets', [TICKET, CLOSED_TICKET]),
    new ScriptedContextSource('usage', [USAGE]),
  ],
) {
  const deps = makeDeps({ model: new ScriptedModelClient(answers), sources: sourceMap(...sources) });
  const run = await seedRun(deps);
  return { deps, run, task: { tenantId: TENANT, runId: run.runId, attempt: 1 } };
}

beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('the tool loop', () => {
  it('executes the call for the run’s account, returns the result, and the answer may cite the new evidence', async () => {
    const { deps, run, task } = await setup([
      toolCall('get_ticket_thread', { ticketId: 'T-100' }, 'call_1'),
      citingAnswer,
    ]);

    expect(await callModelStep(deps, task)).toEqual({ attempt: 1, model: 'gpt-4.1-mini' });

    // The first turn offers both tools; the second carries the call and its result.
    const [first, second] = deps.model.requests;
    expect(first?.tools?.map((tool) => tool.name)).toEqual(['get_ticket_thread', 'get_usage_trend']);
    expect(first?.toolChoice).toBe('auto');
    const items = typeof second?.input === 'string' ? [] : (second?.input ?? []);
    expect(items.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call_output']);
    const output: unknown = items[2]?.type === 'function_call_output' ? JSON.parse(items[2].output) : null;
    expect(output).toMatchObject({ ok: true, tool: 'get_ticket_thread', source: 'tickets' });
    expect((output as { items: { id: string }[] }).items.map((item) => item.id)).toEqual([
      'thread:T-100.1',
      'thread:T-100.2',
      'thread:T-100.3',
    ]);
    // The source was read for the run's tenant and account, whatever the arguments said.
    const tickets = deps.sources.get('tickets') as ScriptedContextSource;
    expect(tickets.fetches).toEqual([{ tenantId: TENANT, accountId: ACCOUNT }]);

    // The evidence is in the context, so validation accepts the brief that cites it.
    const context = await deps.runs.getContext(TENANT, run.runId);
    expect(context?.items.map((item) => item.id)).toContain('thread:T-100.3');
    expect(context?.items.find((item) => item.id === 'thread:T-100.3')?.fields).toEqual({
      ticketId: 'T-100',
      message: 3,
      from: 'customer',
      at: '2026-09-29T08:00:00Z',
      body: 'Still failing; we are evaluating other vendors.',
    });
    expect(context?.toolCalls).toEqual([
      expect.objectContaining({
        callId: 'call_1',
        tool: 'get_ticket_thread',
        outcome: 'ok',
        attempt: 1,
        turn: 1,
      }),
    ]);
    expect(await validateOutput(deps, task)).toMatchObject({ valid: true });

    // Two turns, two holds, both settled and charged: each turn is its own ledger entry.
    expect(deps.gateway.calls.map((call) => `${call.operation} ${call.attemptKey}`)).toEqual([
      `reserve ${turnSlot(1, 1)}.gpt-4.1-mini.1`,
      `settle ${turnSlot(1, 1)}.gpt-4.1-mini.1`,
      `reserve ${turnSlot(1, 2)}.gpt-4.1-mini.1`,
      `settle ${turnSlot(1, 2)}.gpt-4.1-mini.1`,
    ]);
    expect(deps.ledger.entries.map((entry) => entry.attemptKey)).toEqual([
      '1.gpt-4.1-mini.1',
      '102.gpt-4.1-mini.1',
    ]);
    const charged = deps.ledger.entries.reduce((sum, entry) => sum + entry.costUsd, 0);
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBeCloseTo(charged, 9);

    // The call is a span of its own: tool, argument hash, latency, result size, outcome.
    const span = deps.traces.spansOf(TENANT, run.runId).find((s) => s.kind === 'tool_call');
    expect(span?.attributes).toMatchObject({
      'gen_ai.tool.name': 'get_ticket_thread',
      'rein.tool.args_hash': expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      'rein.tool.outcome': 'ok',
      'rein.tool.result_bytes': expect.any(Number) as unknown,
      'rein.latency_ms': expect.any(Number) as unknown,
    });
  });

  it('answers a closed ticket, arguments naming another tenant and an unknown tool with errors, without a data gap', async () => {
    const tickets = new ScriptedContextSource('tickets', [TICKET, CLOSED_TICKET], {
      tenantId: TENANT,
      accountId: ACCOUNT,
    });
    const { deps, run, task } = await setup(
      [
        completedResponse(null, {
          toolCalls: [
            { callId: 'c1', name: 'get_ticket_thread', arguments: '{"ticketId":"T-090"}' },
            {
              callId: 'c2',
              name: 'get_ticket_thread',
              arguments: '{"ticketId":"T-100","tenantId":"globex"}',
            },
            { callId: 'c3', name: 'delete_account', arguments: '{}' },
          ],
        }),
        citingAnswer,
      ],
      [tickets, new ScriptedContextSource('usage', [USAGE])],
    );

    await callModelStep(deps, task);

    const context = await deps.runs.getContext(TENANT, run.runId);
    expect(context?.toolCalls?.map((call) => call.outcome)).toEqual([
      'not_found',
      'invalid_arguments',
      'unknown_tool',
    ]);
    expect(context?.dataGaps).toEqual([]);
    expect(tickets.fetches.every((fetch) => fetch.tenantId === TENANT && fetch.accountId === ACCOUNT)).toBe(
      true,
    );
  });

  it('gives a model that keeps calling tools one final turn without tools once the round limit is hit', async () => {
    const { maxRounds } = renewalBrief.toolPolicy;
    const forever = (request: ModelRequest): ModelResponse =>
      request.toolChoice === 'none'
        ? citingAnswer(request)
        : toolCall('get_usage_trend', { months: 3 }, `call_${deps.model.requests.length}`);
    const { deps, run, task } = await setup([]);
    for (let turn = 0; turn <= maxRounds + 2; turn += 1) deps.model.enqueue(forever);

    await callModelStep(deps, task);

    expect(deps.model.requests.map((request) => request.toolChoice)).toEqual([
      ...Array.from({ length: maxRounds }, () => 'auto'),
      'none',
    ]);
    expect(deps.ledger.entries).toHaveLength(maxRounds + 1);
    expect((await deps.runs.getContext(TENANT, run.runId))?.toolCalls).toHaveLength(maxRounds);
    expect(await validateOutput(deps, task)).toMatchObject({ valid: true });
  });

  it('stops a model that reuses one call id in every turn at the round limit too', async () => {
    const { maxRounds } = renewalBrief.toolPolicy;
    const { deps, run, task } = await setup([]);
    for (let turn = 0; turn <= maxRounds + 2; turn += 1) {
      deps.model.enqueue((request) =>
        request.toolChoice === 'none'
          ? citingAnswer(request)
          : toolCall('get_usage_trend', { months: 2 }, 'call_same'),
      );
    }

    await callModelStep(deps, task);

    expect(deps.model.requests).toHaveLength(maxRounds + 1);
    expect((await deps.runs.getContext(TENANT, run.runId))?.toolCalls?.map((call) => call.turn)).toEqual(
      Array.from({ length: maxRounds }, (_, index) => index + 1),
    );
  });

  it('answers calls beyond the per-run limit with a limit error and executes none of them', async () => {
    const { maxCallsPerRun } = renewalBrief.toolPolicy;
    const calls = Array.from({ length: maxCallsPerRun + 2 }, (_, index) => ({
      callId: `c${index}`,
      name: 'get_usage_trend',
      arguments: '{"months":2}',
    }));
    const usage = new ScriptedContextSource('usage', [USAGE]);
    const { deps, run, task } = await setup(
      [completedResponse(null, { toolCalls: calls }), citingAnswer],
      [usage],
    );

    await callModelStep(deps, task);

    const log = (await deps.runs.getContext(TENANT, run.runId))?.toolCalls ?? [];
    expect(log.filter((call) => call.outcome === 'limit')).toHaveLength(2);
    expect(usage.fetches).toHaveLength(maxCallsPerRun);
    expect(deps.model.requests[1]?.toolChoice).toBe('none');
  });

  it('returns a failing tool’s error to the model, records it, and leaves its source as a data gap', async () => {
    const { deps, run, task } = await setup(
      [toolCall('get_usage_trend', { months: 6 }, 'call_u'), citingAnswer],
      [
        new ScriptedContextSource('tickets', [TICKET]),
        new ThrowingContextSource('usage', new SourceUnavailableError('timeout', 'connector timed out')),
      ],
    );

    await callModelStep(deps, task);

    const second = deps.model.requests[1];
    const items = typeof second?.input === 'string' ? [] : (second?.input ?? []);
    const output = items.find((item) => item.type === 'function_call_output');
    expect(output?.type === 'function_call_output' ? JSON.parse(output.output) : null).toMatchObject({
      ok: false,
      tool: 'get_usage_trend',
      source: 'usage',
      error: { code: 'timeout' },
    });
    const context = await deps.runs.getContext(TENANT, run.runId);
    expect(context?.toolCalls?.[0]?.outcome).toBe('timeout');
    expect(context?.dataGaps).toEqual([expect.objectContaining({ source: 'usage', reason: 'timeout' })]);
    const span = deps.traces.spansOf(TENANT, run.runId).find((s) => s.kind === 'tool_call');
    expect(span).toMatchObject({ status: 'error', attributes: { 'rein.tool.outcome': 'timeout' } });
    // The brief declares the gap (the validation rule demands it), so it is valid.
    expect(await validateOutput(deps, task)).toMatchObject({ valid: true });
  });

  it('a retried invocation after a settle failure neither calls the model again for settled turns nor re-executes tools', async () => {
    const usage = new ScriptedContextSource('usage', [USAGE]);
    const { deps, run, task } = await setup(
      [toolCall('get_usage_trend', { months: 3 }, 'call_1'), citingAnswer],
      [new ScriptedContextSource('tickets', [TICKET]), usage],
    );
    // The second turn's settle fails transiently: its answer is kept on the hold.
    deps.gateway.calls.length = 0;
    const settle = deps.gateway.settle.bind(deps.gateway);
    let settles = 0;
    deps.gateway.settle = async (settlement, now) => {
      settles += 1;
      if (settles === 2) deps.gateway.failSettleTransiently();
      return settle(settlement, now);
    };

    await expect(callModelStep(deps, task)).rejects.toMatchObject({ name: 'Rein.SettlePending' });
    expect(await deps.runs.getAttempt(TENANT, run.runId, 1)).toBeNull();

    // Step Functions retries the task: the kept answer is settled, nothing is called or read twice.
    expect(await callModelStep(deps, task)).toEqual({ attempt: 1, model: 'gpt-4.1-mini' });
    expect(deps.model.requests).toHaveLength(2);
    expect(usage.fetches).toHaveLength(1);
    expect(deps.ledger.entries).toHaveLength(2);
    expect(await validateOutput(deps, task)).toMatchObject({ valid: true });
  });

  it('leaves a workflow without tools on the single-call path', async () => {
    const deps = makeDeps({
      model: new ScriptedModelClient([completedResponse(JSON.stringify(validAnswer()))]),
    });
    const run = await seedRun(deps);
    vi.spyOn(renewalBrief, 'tools', 'get').mockReturnValue([]);

    await callModelStep(deps, { tenantId: TENANT, runId: run.runId, attempt: 1 });

    expect(deps.model.requests[0]?.tools).toBeUndefined();
    expect(deps.ledger.entries.map((entry) => entry.attemptKey)).toEqual(['1.gpt-4.1-mini.1']);
  });
});
