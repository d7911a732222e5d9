import type { Draft } from './draft.ts';
import { roundUsd } from './pricing.ts';
import type { CostRollup, LedgerEntry, ReviewRollup } from '../ports/index.ts';

/**
 * Whether a charge opens a run in the cost rollups: the first try of the run's first attempt
 * (`attemptKey` is `<attempt>.<model>.<try>`). Counting distinct runs cannot be done with additions,
 * so a rollup counts each run once, in the cell of this charge; a run whose first attempt falls
 * back to another model after a charged try is counted once per model.
 */
export function costRollupCountsRun(attempt: number, attemptKey: string): boolean {
  return attempt === 1 && attemptKey.startsWith('1.') && attemptKey.endsWith('.1');
}

/** Attribute prefix of the time-to-decision histogram buckets in a review cell. */
export const TIME_TO_DECISION_BUCKET_PREFIX = 'ttd_';

/** Buckets per doubling of the time to decision: each bucket spans ≈ 19 %. */
const BUCKETS_PER_DOUBLING = 4;

/** The histogram bucket of a time to decision (ms): ⌊4·log2(ms)⌋, 0 for anything under 1 ms. */
export function timeToDecisionBucket(ms: number): number {
  return ms < 1 ? 0 : Math.floor(BUCKETS_PER_DOUBLING * Math.log2(ms));
}

/** The lower bound (ms) of a bucket. */
export function bucketLowerBoundMs(bucket: number): number {
  return bucket <= 0 ? 0 : Math.round(2 ** (bucket / BUCKETS_PER_DOUBLING));
}

/** The cost cells a set of ledger entries makes (what the DynamoDB rollups hold), for the fakes. */
export function costRollupsOf(entries: readonly LedgerEntry[], detail: boolean): CostRollup[] {
  const cells = new Map<string, CostRollup>();
  for (const entry of entries) {
    const account = entry.accountId ?? '';
    const key = detail
      ? [entry.tenantId, entry.day, entry.workflowId, entry.model, account, entry.userId].join('\u0000')
      : [entry.tenantId, entry.day, entry.workflowId, entry.model, entry.promptVersion].join('\u0000');
    const cell = cells.get(key) ?? {
      tenantId: entry.tenantId,
      day: entry.day,
      workflowId: entry.workflowId,
      model: entry.model,
      promptVersion: detail ? '' : entry.promptVersion,
      accountId: detail ? account : '',
      userId: detail ? entry.userId : '',
      costUsd: 0,
      estimatedUsd: 0,
      calls: 0,
      runs: 0,
      inputTokens: 0,
      cachedInputTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    };
    const attempt = Number(entry.attemptKey.split('.')[0]);
    cell.costUsd = roundUsd(cell.costUsd + entry.costUsd);
    if (entry.estimated) cell.estimatedUsd = roundUsd(cell.estimatedUsd + entry.costUsd);
    cell.calls += 1;
    cell.runs += costRollupCountsRun(attempt, entry.attemptKey) ? 1 : 0;
    cell.inputTokens += entry.inputTokens;
    cell.cachedInputTokens += entry.cachedInputTokens;
    cell.outputTokens += entry.outputTokens;
    cell.reasoningTokens += entry.reasoningTokens;
    cells.set(key, cell);
  }
  return [...cells.values()];
}

/** The review cells a set of drafts makes (what the DynamoDB rollups hold), for the fakes. */
export function reviewRollupsOf(drafts: readonly Draft[]): ReviewRollup[] {
  const cells = new Map<string, ReviewRollup>();
  for (const draft of drafts) {
    const day = draft.createdAt.slice(0, 10);
    const key = [draft.tenantId, day, draft.workflowId, draft.promptVersion].join('\u0000');
    const cell = cells.get(key) ?? {
      tenantId: draft.tenantId,
      day,
      workflowId: draft.workflowId,
      promptVersion: draft.promptVersion,
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
      timeToDecisionBuckets: {},
    };
    cell.drafts += 1;
    if (draft.escalation !== null) cell.escalated += 1;
    const outcome = draft.outcome;
    if (outcome) {
      cell.decided += 1;
      cell[outcome.decision] += 1;
      if (outcome.decision !== 'expired') {
        cell.decidedByPeople += 1;
        cell.edited += outcome.editDistance > 0 ? 1 : 0;
        cell.editDistanceSum += outcome.editDistance;
        cell.timeToDecisionSumMs += outcome.timeToDecisionMs;
        const bucket = String(timeToDecisionBucket(outcome.timeToDecisionMs));
        cell.timeToDecisionBuckets[bucket] = (cell.timeToDecisionBuckets[bucket] ?? 0) + 1;
      }
    }
    cells.set(key, cell);
  }
  return [...cells.values()];
}
