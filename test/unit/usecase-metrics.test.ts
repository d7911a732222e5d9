import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketLowerBoundMs, costRollupsOf, timeToDecisionBucket } from '#shared/domain/rollups.ts';
import type { LedgerEntry, ReviewRollup } from '#shared/ports/index.ts';
import { computeMetrics } from '#shared/usecases/metrics.ts';
import { groupRollups } from '#shared/usecases/finance.ts';

function cell(overrides: Partial<ReviewRollup>): ReviewRollup {
  return {
    tenantId: 'acme',
    day: '2026-11-02',
    workflowId: 'renewal-brief',
    promptVersion: 'v2',
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
    ...overrides,
  };
}

const entryArbitrary: fc.Arbitrary<LedgerEntry> = fc.record({
  tenantId: fc.constantFrom('acme', 'globex'),
  workflowId: fc.constantFrom('renewal-brief', 'churn-note'),
  runId: fc.constantFrom('run_1', 'run_2', 'run_3'),
  userId: fc.constantFrom('csm-alice', 'csm-bob'),
  accountId: fc.constantFrom('acct-a', 'acct-b'),
  model: fc.constantFrom('gpt-4.1-mini', 'gpt-4o-mini'),
  promptId: fc.constant('renewal-brief'),
  promptVersion: fc.constantFrom('v1', 'v2'),
  environment: fc.constant('test'),
  at: fc.constant('2026-11-02T08:00:00.000Z'),
  day: fc.constantFrom('2026-11-01', '2026-11-02', '2026-12-01'),
  attemptKey: fc.constantFrom('1.gpt-4.1-mini.1', '1.gpt-4.1-mini.2', '2.gpt-4o-mini.1'),
  costUsd: fc.integer({ min: 0, max: 100_000 }).map((micro) => micro / 1_000_000),
  inputTokens: fc.nat(5000),
  cachedInputTokens: fc.nat(100),
  outputTokens: fc.nat(1000),
  reasoningTokens: fc.nat(100),
  priceVersion: fc.constant('p'),
  estimated: fc.boolean(),
});

describe('reports from rollups', () => {
  it('add up, for any grouping of one or two dimensions, to the sum of the ledger entries', () => {
    const dimensions = ['tenant', 'workflow', 'model', 'day', 'month', 'account', 'user'] as const;
    fc.assert(
      fc.property(
        fc.array(entryArbitrary, { maxLength: 40 }),
        fc.subarray([...dimensions], { minLength: 1, maxLength: 2 }),
        (entries, groupBy) => {
          const detail = groupBy.includes('account') || groupBy.includes('user');
          const rows = groupRollups(costRollupsOf(entries, detail), groupBy);
          const total = (values: number[]) => Math.round(values.reduce((a, b) => a + b, 0) * 1e6);
          expect(total(rows.map((row) => row.costUsd))).toBe(total(entries.map((entry) => entry.costUsd)));
          expect(rows.reduce((sum, row) => sum + row.attempts, 0)).toBe(entries.length);
          expect(rows.reduce((sum, row) => sum + row.outputTokens, 0)).toBe(
            entries.reduce((sum, entry) => sum + entry.outputTokens, 0),
          );
          // One row per distinct combination of the dimensions' values.
          expect(new Set(rows.map((row) => row.key)).size).toBe(rows.length);
        },
      ),
    );
  });

  it('computes rates, means and the median time to decision from review cells and cost cells', () => {
    const times = [30_000, 60_000, 90_000];
    const buckets: Record<string, number> = {};
    for (const ms of times) {
      const bucket = String(timeToDecisionBucket(ms));
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    const [metrics] = computeMetrics(
      [
        cell({
          drafts: 3,
          escalated: 1,
          decided: 2,
          approved: 1,
          rejected: 1,
          decidedByPeople: 2,
          edited: 1,
        }),
        cell({
          day: '2026-11-03',
          drafts: 1,
          decided: 2,
          approved: 1,
          expired: 1,
          decidedByPeople: 1,
          editDistanceSum: 0.3,
          timeToDecisionSumMs: times.reduce((a, b) => a + b, 0),
          timeToDecisionBuckets: buckets,
        }),
      ],
      costRollupsOf(
        [
          {
            tenantId: 'acme',
            workflowId: 'renewal-brief',
            runId: 'run_1',
            userId: 'csm-alice',
            model: 'gpt-4.1-mini',
            promptId: 'renewal-brief',
            promptVersion: 'v2',
            environment: 'test',
            at: '2026-11-02T08:00:00.000Z',
            day: '2026-11-02',
            attemptKey: '1.gpt-4.1-mini.1',
            costUsd: 0.02,
            inputTokens: 1,
            cachedInputTokens: 0,
            outputTokens: 1,
            reasoningTokens: 0,
            priceVersion: 'p',
            estimated: false,
          },
        ],
        false,
      ),
    );
    expect(metrics).toEqual({
      workflowId: 'renewal-brief',
      promptVersion: 'v2',
      drafts: 4,
      decided: 4,
      approvalRate: 0.5,
      rejectionRate: 0.25,
      expiryRate: 0.25,
      escalationRate: 0.25,
      editRate: 0.3333,
      meanEditDistance: 0.1,
      timeToDecisionMs: { p50: bucketLowerBoundMs(timeToDecisionBucket(60_000)), mean: 60_000 },
      costUsd: 0.02,
      costPerApprovedDraftUsd: 0.01,
    });
    // The median's bucket is at most ≈ 19 % below the true median.
    expect(metrics?.timeToDecisionMs.p50).toBeGreaterThan(60_000 / 1.19);
    expect(metrics?.timeToDecisionMs.p50).toBeLessThanOrEqual(60_000);
  });
});
