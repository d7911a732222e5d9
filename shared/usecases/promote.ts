import { ConflictError, NotFoundError } from '../domain/errors.ts';
import type { ContextObject, EvidenceItem, SourceId } from '../domain/context.ts';
import type { Principal } from '../domain/principal.ts';
import type { Draft } from '../domain/draft.ts';
import type { Deps } from './deps.ts';
import { toolDataGaps } from './tools.ts';

/**
 * An eval case built from a reviewed draft, in the format of `evals/<workflow>/suite.yaml` cases
 * (`EvalCaseSchema` in `evals/schema.ts`, which the promote command validates before writing).
 */
export interface PromotedCase {
  id: string;
  category: 'common' | 'missing_data' | 'tool_failure' | 'should_escalate';
  description: string;
  request: Record<string, unknown>;
  fixture: {
    fetchedAt: string;
    crm?: Record<string, unknown>;
    usage?: Record<string, unknown>;
    contract?: Record<string, unknown>;
    tickets: Record<string, unknown>[];
    invoices: Record<string, unknown>[];
    failingSources: SourceId[];
    /** Sources the run's read-only tools could not read: the eval's tools fail the same way. */
    toolFailures: { source: SourceId; reason: 'error' | 'timeout' | 'blocked' }[];
  };
  assert: Record<string, unknown>[];
  reference: Record<string, unknown>;
}

function recordsOf(context: ContextObject, source: SourceId): EvidenceItem[] {
  return context.items.filter((item) => item.source === source);
}

/**
 * Turns a reviewed draft into an eval case: the context snapshot it was written from (allow-listed
 * fields only, so no hidden field can leak into the suite), the request, and the reviewer's final
 * content as the reference the assertions are derived from.
 */
export function caseFromDraft(
  draft: Draft,
  context: ContextObject,
  request: Record<string, unknown>,
): PromotedCase {
  const content = draft.content;
  // The fixture is the context the model started from: the tools' rows and gaps are replayed by the
  // eval runner's own tool calls (a tool that failed fails again there), not copied as records.
  const log = context.toolCalls ?? [];
  const fromTools = new Set(log.flatMap((call) => call.evidenceIds));
  const toolGaps = toolDataGaps(log, []);
  const isToolGap = (gap: ContextObject['dataGaps'][number]) =>
    toolGaps.some((toolGap) => toolGap.source === gap.source && toolGap.detail === gap.detail);
  const toolFailures = context.dataGaps.filter(isToolGap).map((gap) => ({
    source: gap.source,
    reason: gap.reason === 'timeout' || gap.reason === 'blocked' ? gap.reason : ('error' as const),
  }));
  context = {
    ...context,
    items: context.items.filter((item) => !fromTools.has(item.id)),
    dataGaps: context.dataGaps.filter((gap) => !isToolGap(gap)),
  };
  const escalation = content['escalation'] as { recommended?: unknown } | undefined;
  const escalated = draft.escalation !== null || escalation?.recommended === true;
  // A source that failed, timed out, answered badly or was stale gave no usable data: the eval case
  // replays it as an outage. Only `not_found` is a genuinely missing record.
  const failing = context.dataGaps.filter((gap) => gap.reason !== 'not_found').map((gap) => gap.source);
  const category = escalated
    ? 'should_escalate'
    : failing.length > 0 || toolFailures.length > 0
      ? 'tool_failure'
      : context.dataGaps.length > 0
        ? 'missing_data'
        : 'common';
  const crm = recordsOf(context, 'crm')[0];
  const usage = recordsOf(context, 'usage')[0];
  const contract = recordsOf(context, 'contract')[0];
  const risks = Array.isArray(content['risks']) ? (content['risks'] as { evidence?: unknown }[]) : [];
  const ids = new Set(context.items.map((item) => item.id));
  const cited = [
    ...new Set(risks.flatMap((risk) => (Array.isArray(risk.evidence) ? risk.evidence.map(String) : []))),
  ].filter((id) => ids.has(id));
  const outcome = draft.outcome;
  const assert: Record<string, unknown>[] = [
    { type: 'schema' },
    { type: 'evidence-exists' },
    { type: 'no-hidden-fields' },
    { type: 'escalation', expected: escalated, note: 'as the reviewer decided' },
  ];
  if (typeof content['health'] === 'string') {
    assert.push({
      type: 'field',
      path: 'health',
      oneOf: [content['health']],
      note: 'health the reviewer approved',
    });
  }
  if (cited.length > 0)
    assert.push({ type: 'cites', ids: cited, note: 'evidence the approved brief relies on' });
  if (context.dataGaps.length > 0 || toolFailures.length > 0) assert.push({ type: 'data-gaps' });
  return {
    id: `promoted-${draft.draftId.replace(/^drf_/, '')}`,
    category,
    description: `Promoted from draft ${draft.draftId}, ${outcome?.decision ?? draft.status} by ${outcome?.reviewer ?? 'nobody'}${
      outcome?.reason ? ` ("${outcome.reason}")` : ''
    }; edit distance ${outcome?.editDistance ?? 0}.`,
    request,
    fixture: {
      fetchedAt: context.fetchedAt,
      // The record schema needs the owner; it is an identifier, not customer content.
      ...(crm ? { crm: { ...crm.fields, ownerId: draft.ownerId } } : {}),
      ...(usage ? { usage: { ...usage.fields } } : {}),
      ...(contract ? { contract: { ...contract.fields } } : {}),
      tickets: recordsOf(context, 'tickets').map((item) => ({ ...item.fields })),
      invoices: recordsOf(context, 'invoices').map((item) => ({ ...item.fields })),
      failingSources: failing,
      toolFailures,
    },
    assert,
    reference: content,
  };
}

/** `POST /v1/drafts/{draftId}/promote` (admin): a decided draft as an eval case. */
export async function promoteDraft(
  deps: Pick<Deps, 'drafts' | 'runs'>,
  principal: Principal,
  draftId: string,
): Promise<{ workflowId: string; case: PromotedCase }> {
  const draft = await deps.drafts.getDraft(principal.tenantId, draftId);
  if (!draft) throw new NotFoundError('Draft');
  if (draft.status !== 'approved' && draft.status !== 'rejected') {
    throw new ConflictError('Only an approved or rejected draft can become an eval case.');
  }
  const [context, run] = await Promise.all([
    deps.runs.getContext(principal.tenantId, draft.runId),
    deps.runs.getRun(principal.tenantId, draft.runId),
  ]);
  if (!context || !run) throw new NotFoundError('Draft');
  return { workflowId: draft.workflowId, case: caseFromDraft(draft, context, run.input) };
}
