import { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';
import { effectiveTenant } from '../domain/permissions.ts';
import type { Principal } from '../domain/principal.ts';
import { roundUsd } from '../domain/pricing.ts';
import { bucketLowerBoundMs } from '../domain/rollups.ts';
import type { CostRollup, ReviewRollup } from '../ports/index.ts';
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
  /** p50: the lower bound of the histogram bucket (≈ 19 % wide) that holds the median; mean: exact. */
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

/** The p50 of a time-to-decision histogram: the lower bound of the bucket that holds the median. */
function histogramMedianMs(buckets: ReadonlyMap<number, number>, count: number): number | null {
  if (count === 0) return null;
  const rank = Math.ceil(count / 2);
  let seen = 0;
  for (const [bucket, n] of [...buckets.entries()].sort(([a], [b]) => a - b)) {
    seen += n;
    if (seen >= rank) return bucketLowerBoundMs(bucket);
  }
  return null;
}

/**
 * Review metrics per workflow and prompt version, from the review and cost rollup cells. Pure:
 * cells in, numbers out. The median time to decision comes from a log histogram (buckets of ≈ 19 %).
 */
export function computeMetrics(
  reviews: readonly ReviewRollup[],
  costs: readonly CostRollup[],
): ReviewMetrics[] {
  const groups = new Map<
    string,
    {
      workflowId: string;
      promptVersion: string;
      review: Omit<
        ReviewRollup,
        'tenantId' | 'day' | 'workflowId' | 'promptVersion' | 'timeToDecisionBuckets'
      >;
      buckets: Map<number, number>;
      costUsd: number;
    }
  >();
  const group = (workflowId: string, promptVersion: string) => {
    const key = `${workflowId}\u0000${promptVersion}`;
    let found = groups.get(key);
    if (!found) {
      found = {
        workflowId,
        promptVersion,
        review: {
          drafts: 0,
          escalated: 0,
          decided: 0,
          approved: 0,
          rejected: 0,
          expired: 0,
          decidedByPeople: 0,
          edited: 0,
          editDistanceSum: 0,
          timeToDecisionSumMs: 0,
        },
        buckets: new Map(),
        costUsd: 0,
      };
      groups.set(key, found);
    }
    return found;
  };
  for (const cell of reviews) {
    const g = group(cell.workflowId, cell.promptVersion);
    for (const name of Object.keys(g.review) as (keyof typeof g.review)[]) g.review[name] += cell[name];
    for (const [bucket, n] of Object.entries(cell.timeToDecisionBuckets)) {
      g.buckets.set(Number(bucket), (g.buckets.get(Number(bucket)) ?? 0) + n);
    }
  }
  for (const cell of costs) {
    const g = group(cell.workflowId, cell.promptVersion);
    g.costUsd = roundUsd(g.costUsd + cell.costUsd);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => {
      const r = g.review;
      return {
        workflowId: g.workflowId,
        promptVersion: g.promptVersion,
        drafts: r.drafts,
        decided: r.decided,
        approvalRate: ratio(r.approved, r.decided),
        rejectionRate: ratio(r.rejected, r.decided),
        expiryRate: ratio(r.expired, r.decided),
        escalationRate: ratio(r.escalated, r.drafts),
        editRate: ratio(r.edited, r.decidedByPeople),
        meanEditDistance:
          r.decidedByPeople === 0
            ? null
            : Math.round((r.editDistanceSum / r.decidedByPeople) * 10_000) / 10_000,
        timeToDecisionMs: {
          p50: histogramMedianMs(g.buckets, r.decidedByPeople),
          mean: r.decidedByPeople === 0 ? null : Math.round(r.timeToDecisionSumMs / r.decidedByPeople),
        },
        costUsd: g.costUsd,
        // Every model attempt of the period (failed runs included) divided by the drafts people approved.
        costPerApprovedDraftUsd: r.approved === 0 ? null : roundUsd(g.costUsd / r.approved),
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
  // Rollup cells written with the drafts, decisions and charges: O(days) items, whatever the history.
  const [reviews, costs] = await Promise.all([
    deps.drafts.readReviewRollups(tenantId, from, to),
    deps.ledger.readCostRollups({ fromDay: from, toDay: to, tenantId, detail: false }),
  ]);
  const groups = computeMetrics(
    reviews.filter((cell) => workflowId === undefined || cell.workflowId === workflowId),
    costs.filter((cell) => workflowId === undefined || cell.workflowId === workflowId),
  );
  return { tenantId, from, to, groups };
}
