import { describe, expect, it } from 'vitest';
import { WorkflowStepError } from '#shared/domain/errors.ts';
import { canonicalJson } from '#shared/domain/edit-distance.ts';
import { SourceUnavailableError } from '#shared/domain/context.ts';
import { applyAllowList, fetchContext } from '#shared/usecases/context.ts';
import { estimateInputTokens } from '#shared/usecases/prompt.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import { sha256 } from '#shared/usecases/tracing.ts';
import { ScriptedContextSource, sourceMap, ThrowingContextSource } from '../fakes/context-sources.ts';
import { makeDeps } from '../fakes/deps.ts';
import {
  ACCOUNT,
  contractRecord,
  crmRecord,
  demoSources,
  invoiceRecord,
  seedRun,
  TENANT,
  usageRecord,
} from '../fakes/fixtures.ts';

const FETCHED_AT = '2026-10-01T09:00:00.000Z';

function evidence(id: string, source: string, recordId: string, fields: Record<string, unknown>) {
  return {
    id,
    source,
    recordId,
    fields,
    provenance: { fetchedAt: FETCHED_AT, contentHash: sha256(canonicalJson(fields)) },
  };
}

async function runContext(sources = demoSources().map) {
  const deps = makeDeps({ sources });
  const run = await seedRun(deps, { context: null });
  const result = await fetchContext(deps, { tenantId: TENANT, runId: run.runId });
  const context = await deps.runs.getContext(TENANT, run.runId);
  return { deps, run, result, context };
}

describe('fetchContext', () => {
  it('copies only allow-listed fields of each record and keeps only open tickets', async () => {
    const { result, context } = await runContext();

    // The first model attempt's input estimate travels to CallModel with the workflow id.
    expect(result).toEqual({
      items: 5,
      dataGaps: 0,
      workflowId: 'renewal-brief',
      inputTokens: context ? estimateInputTokens(renewalBrief, context, null) : -1,
    });
    expect(context).toEqual({
      workflowId: 'renewal-brief',
      accountId: ACCOUNT,
      fetchedAt: FETCHED_AT,
      notes: null,
      items: [
        evidence('crm:acct-northwind', 'crm', ACCOUNT, {
          name: 'Northwind Traders',
          segment: 'enterprise',
          arr: 120000,
          industry: 'logistics',
          region: 'EMEA',
          ownerName: 'Alice Chen',
        }),
        evidence('usage:acct-northwind', 'usage', ACCOUNT, {
          period: '2026-09',
          activeUsers: 41,
          licensedSeats: 100,
          weeklyActiveTrend: -18.5,
          lastLoginAt: '2026-09-30T17:00:00Z',
        }),
        evidence('ticket:T-100', 'tickets', 'T-100', {
          ticketId: 'T-100',
          subject: 'Exports time out',
          status: 'open',
          priority: 'high',
          openedAt: '2026-09-20',
          body: 'Our nightly export fails.',
        }),
        evidence('invoice:INV-1', 'invoices', 'INV-1', {
          invoiceId: 'INV-1',
          amount: 30000,
          currency: 'USD',
          status: 'overdue',
          dueDate: '2026-09-01',
        }),
        evidence('contract:C-1', 'contract', 'C-1', {
          contractId: 'C-1',
          startDate: '2025-11-01',
          endDate: '2026-10-31',
          autoRenew: false,
        }),
      ],
      dataGaps: [],
    });
  });

  it('never lets hidden fields reach the context', async () => {
    const { context } = await runContext();
    const text = JSON.stringify(context);
    for (const hidden of [
      'creditScore',
      'internalNotes',
      'billingContact',
      'ownerId',
      'requesterEmail',
      'rawEvents',
    ]) {
      expect(text).not.toContain(hidden);
    }
  });

  it('truncates long strings and drops nested values of allow-listed fields', () => {
    const crmSpec = renewalBrief.sources.find((spec) => spec.source.id === 'crm');
    if (!crmSpec) throw new Error('the renewal brief reads the CRM');
    const fields = applyAllowList(crmSpec, {
      name: 'N'.repeat(500),
      ownerId: 'csm-alice',
      arr: 5,
      region: { code: 'EU' },
      segment: ['a'],
    });
    expect(fields).toEqual({ name: 'N'.repeat(200), arr: 5 });
  });

  it('turns a record of the wrong shape for its catalogue schema into an error gap', async () => {
    const crm = new ScriptedContextSource('crm', [
      {
        recordId: ACCOUNT,
        data: { name: 'Northwind', ownerId: 'csm-alice', arr: 5, region: { code: 'EU' } },
      },
    ]);
    const sources = demoSources();
    const { context } = await runContext(sourceMap(crm, sources.usage));
    expect(context?.dataGaps[0]).toEqual({
      source: 'crm',
      reason: 'error',
      detail: `The crm source failed: record ${ACCOUNT} does not match the crm schema`,
    });
  });

  it('carries the source updatedAt and receivedAt into provenance, and turns records older than the maximum age into a stale gap', async () => {
    // The fake clock reads 2026-10-01; usage may be 62 days old, so 2026-07-01 is stale, 2026-09-30 fresh.
    const crm = new ScriptedContextSource('crm', [
      { ...crmRecord, updatedAt: '2026-09-30T00:00:00.000Z', receivedAt: '2026-09-30T00:00:05.000Z' },
    ]);
    const usage = new ScriptedContextSource('usage', [
      { ...usageRecord, updatedAt: '2026-07-01T00:00:00.000Z' },
    ]);
    const { context } = await runContext(sourceMap(crm, usage));

    expect(
      context?.items.map((item) => [item.id, item.provenance.updatedAt, item.provenance.receivedAt]),
    ).toEqual([['crm:acct-northwind', '2026-09-30T00:00:00.000Z', '2026-09-30T00:00:05.000Z']]);
    expect(context?.dataGaps).toContainEqual({
      source: 'usage',
      reason: 'stale',
      detail: '1 usage record(s) were last updated more than 62 days ago.',
    });
  });

  it('records a connector failure with its own reason', async () => {
    const sources = demoSources();
    const { context } = await runContext(
      sourceMap(
        sources.crm,
        new ThrowingContextSource('usage', new SourceUnavailableError('timeout', 'no answer within 2000 ms')),
      ),
    );
    expect(context?.dataGaps).toContainEqual({
      source: 'usage',
      reason: 'timeout',
      detail: 'The usage source failed: no answer within 2000 ms',
    });
  });

  it('records a throwing source as an error data gap and keeps the other sources', async () => {
    const sources = demoSources();
    const { result, context } = await runContext(
      sourceMap(
        sources.crm,
        sources.usage,
        sources.tickets,
        new ThrowingContextSource('invoices'),
        sources.contract,
      ),
    );

    expect(result).toMatchObject({ items: 4, dataGaps: 1, workflowId: 'renewal-brief' });
    expect(context?.dataGaps).toEqual([
      { source: 'invoices', reason: 'error', detail: 'The invoices source failed: upstream timed out' },
    ]);
    expect(context?.items.map((item) => item.id)).toEqual([
      'crm:acct-northwind',
      'usage:acct-northwind',
      'ticket:T-100',
      'contract:C-1',
    ]);
  });

  it('records an empty CRM or usage source as a not_found gap, and no open tickets as no gap', async () => {
    const sources = sourceMap(
      new ScriptedContextSource('crm', []),
      new ScriptedContextSource('usage', []),
      new ScriptedContextSource('tickets', []),
      new ScriptedContextSource('invoices', [invoiceRecord]),
      new ScriptedContextSource('contract', [contractRecord]),
    );
    const { context } = await runContext(sources);
    expect(context?.dataGaps).toEqual([
      { source: 'crm', reason: 'not_found', detail: 'No crm record exists for this account.' },
      { source: 'usage', reason: 'not_found', detail: 'No usage record exists for this account.' },
    ]);
  });

  it('records a source with no adapter as an error gap', async () => {
    const { context } = await runContext(sourceMap(new ScriptedContextSource('crm', [crmRecord])));
    expect(context?.dataGaps).toContainEqual({
      source: 'usage',
      reason: 'error',
      detail: 'The usage source failed: No adapter is configured for source usage.',
    });
  });

  it('turns a whole source into an error gap when one of its records has the wrong shape', async () => {
    const usage = new ScriptedContextSource('usage', [
      usageRecord,
      { recordId: 'u-2', data: { activeUsers: 'many' } },
    ]);
    const { context } = await runContext(sourceMap(new ScriptedContextSource('crm', [crmRecord]), usage));
    expect(context?.items.filter((item) => item.source === 'usage')).toEqual([]);
    expect(context?.dataGaps).toContainEqual({
      source: 'usage',
      reason: 'error',
      detail: 'The usage source failed: record u-2 does not match the usage schema',
    });
  });

  it('derives safe evidence ids from record ids, with a hash of the original when characters were replaced', async () => {
    const tickets = new ScriptedContextSource('tickets', [
      { recordId: 'ZD 4411/a', data: { ticketId: 'ZD 4411/a', status: 'open', priority: 'low' } },
    ]);
    const { context } = await runContext(sourceMap(new ScriptedContextSource('crm', [crmRecord]), tickets));
    expect(context?.items.map((item) => item.id)).toEqual([
      'crm:acct-northwind',
      expect.stringMatching(/^ticket:ZD_4411_a-[0-9a-f]{8}$/),
    ]);
  });

  it('gives distinct records distinct evidence ids', async () => {
    // Two different tickets must stay distinguishable when a brief cites one of them.
    const tickets = new ScriptedContextSource('tickets', [
      { recordId: 'T/1', data: { ticketId: 'T/1', status: 'open', priority: 'low' } },
      { recordId: 'T_1', data: { ticketId: 'T_1', status: 'open', priority: 'high' } },
    ]);
    const { context } = await runContext(sourceMap(new ScriptedContextSource('crm', [crmRecord]), tickets));
    const ids = context?.items.map((item) => item.id) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps the notes of the run input in the context', async () => {
    const deps = makeDeps({ sources: demoSources().map });
    const run = await seedRun(deps, { context: null, notes: 'Champion left in August.' });

    await fetchContext(deps, { tenantId: TENANT, runId: run.runId });

    expect((await deps.runs.getContext(TENANT, run.runId))?.notes).toBe('Champion left in August.');
  });

  it('fails with Rein.context_unavailable when no source returns anything', async () => {
    const deps = makeDeps({
      sources: sourceMap(new ThrowingContextSource('crm'), new ScriptedContextSource('usage', [])),
    });
    const run = await seedRun(deps, { context: null });
    await expect(fetchContext(deps, { tenantId: TENANT, runId: run.runId })).rejects.toThrow(
      new WorkflowStepError('context_unavailable', 'No context source returned any data for this account.'),
    );
    expect(await deps.runs.getContext(TENANT, run.runId)).toBeNull();
  });

  it('saves the context once: a re-run reads the saved context and no source again', async () => {
    const sources = demoSources();
    const deps = makeDeps({ sources: sources.map });
    const run = await seedRun(deps, { context: null });

    const first = await fetchContext(deps, { tenantId: TENANT, runId: run.runId });
    const second = await fetchContext(deps, { tenantId: TENANT, runId: run.runId });

    expect(second).toEqual(first);
    expect(deps.runs.count('saveContext')).toBe(1);
    expect(sources.crm.fetches).toEqual([{ tenantId: TENANT, accountId: ACCOUNT }]);
  });

  it('traces each source with record ids, field names and content hashes, never field values', async () => {
    const sources = demoSources();
    const { deps, run } = await runContext(
      sourceMap(sources.crm, new ThrowingContextSource('usage'), sources.tickets),
    );
    const spans = deps.traces.spansOf(TENANT, run.runId);

    const bySource = new Map(spans.map((span) => [span.attributes['rein.context.source'], span]));

    expect(
      [...bySource.entries()].map(([source, span]) => [source, span.name, span.kind, span.status]).sort(),
    ).toEqual([
      ['contract', 'context contract', 'context_source', 'error'],
      ['crm', 'context crm', 'context_source', 'ok'],
      ['invoices', 'context invoices', 'context_source', 'error'],
      ['tickets', 'context tickets', 'context_source', 'ok'],
      ['usage', 'context usage', 'context_source', 'error'],
    ]);
    expect(bySource.get('tickets')?.attributes).toEqual({
      'rein.run.id': run.runId,
      'rein.tenant.id': TENANT,
      'rein.context.source': 'tickets',
      'rein.context.origin': 'stored',
      'rein.context.record_ids': ['T-100'],
      'rein.context.field_names': ['ticketId', 'subject', 'status', 'priority', 'openedAt', 'body'],
      'rein.context.content_hashes': [
        sha256(
          canonicalJson({
            ticketId: 'T-100',
            subject: 'Exports time out',
            status: 'open',
            priority: 'high',
            openedAt: '2026-09-20',
            body: 'Our nightly export fails.',
          }),
        ),
      ],
      'rein.context.gap': null,
    });
    expect(JSON.stringify(spans)).not.toContain('Exports time out');
  });
});
