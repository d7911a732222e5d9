import { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';
import type { Draft } from '../domain/draft.ts';
import { effectiveTenant } from '../domain/permissions.ts';
import type { Principal } from '../domain/principal.ts';
import { roundUsd } from '../domain/pricing.ts';
import type { LedgerEntry } from '../ports/index.ts';
import type { Deps } from './deps.ts';

const day = z.iso.date('must be an existing YYYY-MM-DD date');

export const MetricsQuerySchema = z
  .object({
    workflowId: z.string().max(64).optional(),
    from: day,
    to: day,
    tenantId: z.string().max(63).optional(),
  })
  .strict()
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < 93, {
    message: 'the range may cover at most 93 days',
    path: ['to'],
  });

export const ReviewMetricsSchema = z.object({
  workflowId: z.string(),
  promptVersion: z.string(),
  drafts: z.number().int(),
  decided: z.number().int(),
  approvalRate: z.number().nullable(),
  rejectionRate: z.number().nullable(),
  expiryRate: z.number().nullable(),
  escalationRate: z.number().nullable(),
  /** Share of decided drafts whose content the reviewer changed. */
  editRate: z.number().nullable(),
  meanEditDistance: z.number().nullable(),
  timeToDecisionMs: z.object({ p50: z.number().nullable(), mean: z.number().nullable() }),
  costUsd: z.number(),
  costPerApprovedDraftUsd: z.number().nullable(),
});
export type ReviewMetrics = z.infer<typeof ReviewMetricsSchema>;

export const MetricsReportSchema = z.object({
  tenantId: z.string(),
  from: z.string(),
  to: z.string(),
  groups: z.array(ReviewMetricsSchema),
});
export type MetricsReport = z.infer<typeof MetricsReportSchema>;

const ratio = (part: number, whole: number): number | null =>
  whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;

/** Review metrics per workflow and prompt version. Pure: drafts and ledger entries in, numbers out. */
export function computeMetrics(drafts: readonly Draft[], entries: readonly LedgerEntry[]): ReviewMetrics[] {
  const keys = new Set([
    ...drafts.map((d) => `${d.workflowId}\u0000${d.promptVersion}`),
    ...entries.map((e) => `${e.workflowId}\u0000${e.promptVersion}`),
  ]);
  return [...keys].sort().map((key) => {
    const [workflowId = '', promptVersion = ''] = key.split('\u0000');
    const group = drafts.filter((d) => d.workflowId === workflowId && d.promptVersion === promptVersion);
    const decided = group.filter((d) => d.outcome !== null);
    const approved = decided.filter((d) => d.outcome?.decision === 'approved').length;
    const rejected = decided.filter((d) => d.outcome?.decision === 'rejected').length;
    const expired = decided.filter((d) => d.outcome?.decision === 'expired').length;
    const byPeople = decided.filter((d) => d.outcome?.decision !== 'expired');
    const times = byPeople.map((d) => d.outcome?.timeToDecisionMs ?? 0).sort((a, b) => a - b);
    const distances = byPeople.map((d) => d.outcome?.editDistance ?? 0);
    const costUsd = roundUsd(
      entries
        .filter((e) => e.workflowId === workflowId && e.promptVersion === promptVersion)
        .reduce((sum, e) => sum + e.costUsd, 0),
    );
    return {
      workflowId,
      promptVersion,
      drafts: group.length,
      decided: decided.length,
      approvalRate: ratio(approved, decided.length),
      rejectionRate: ratio(rejected, decided.length),
      expiryRate: ratio(expired, decided.length),
      escalationRate: ratio(group.filter((d) => d.escalation !== null).length, group.length),
      editRate: ratio(distances.filter((distance) => distance > 0).length, byPeople.length),
      meanEditDistance:
        distances.length === 0
          ? null
          : Math.round((distances.reduce((a, b) => a + b, 0) / distances.length) * 10_000) / 10_000,
      timeToDecisionMs: {
        p50: times.length === 0 ? null : (times[Math.ceil(times.length / 2) - 1] ?? null),
        mean: times.length === 0 ? null : Math.round(times.reduce((a, b) => a + b, 0) / times.length),
      },
      costUsd,
      // Every model attempt of the period (failed runs included) divided by the drafts people approved.
      costPerApprovedDraftUsd: approved === 0 ? null : roundUsd(costUsd / approved),
    };
  });
}

/** `GET /v1/metrics`: review outcomes and cost per workflow and prompt version over a date range. */
export async function getMetrics(
  deps: Pick<Deps, 'drafts' | 'ledger'>,
  principal: Principal,
  query: unknown,
): Promise<MetricsReport> {
  const parsed = MetricsQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new ValidationError(
      'The query string is invalid.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const { from, to, workflowId } = parsed.data;
  const tenantId = effectiveTenant(principal, parsed.data.tenantId);
  const toExclusive = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString();
  const [drafts, entries] = await Promise.all([
    deps.drafts.listDraftsCreatedBetween(tenantId, `${from}T00:00:00.000Z`, toExclusive),
    deps.ledger.listEntries({ fromDay: from, toDay: to, tenantId }),
  ]);
  const groups = computeMetrics(
    drafts.filter((d) => workflowId === undefined || d.workflowId === workflowId),
    entries.filter((e) => workflowId === undefined || e.workflowId === workflowId),
  );
  return { tenantId, from, to, groups };
}
