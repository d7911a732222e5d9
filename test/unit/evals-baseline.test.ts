import { describe, expect, it } from 'vitest';
import { compareWithBaseline, metricsOf, updatedBaseline, type Baseline } from '../../evals/baseline.ts';
import { summarise, type CaseResult, type RunResult, type SuiteResult } from '../../evals/runner.ts';
import type { EvalCategory } from '../../evals/schema.ts';

function runOf(
  pass: boolean,
  costUsd: number,
  latencyMs: number,
  error: RunResult['error'] = null,
): RunResult {
  return {
    run: 1,
    pass,
    score: pass ? 1 : 0,
    error,
    output: null,
    assertions: pass
      ? []
      : [
          {
            type: 'escalation',
            note: null,
            skipped: false,
            fromDefaults: false,
            pass: false,
            score: 0,
            reason: 'escalation was expected but not recommended',
          },
        ],
    attempts:
      error?.code === 'missing_recording'
        ? []
        : [
            {
              attempt: 1,
              outputText: '{}',
              refusal: null,
              finishReason: 'completed',
              problems: [],
              costUsd,
              latencyMs,
            },
          ],
    costUsd,
    latencyMs,
    contextItems: [],
    dataGaps: [],
  };
}

function caseOf(
  id: string,
  category: EvalCategory,
  pass: boolean,
  options: { costUsd?: number; latencyMs?: number; error?: RunResult['error'] } = {},
): CaseResult {
  const run = runOf(pass, options.costUsd ?? 0.001, options.latencyMs ?? 100, options.error ?? null);
  return {
    id,
    category,
    description: `Case ${id}.`,
    status: pass ? 'passed' : 'failed',
    skipReason: null,
    passRule: 'all',
    runs: [run],
    passedRuns: pass ? 1 : 0,
    score: run.score,
    costUsd: run.costUsd,
    latencyMs: run.latencyMs,
  };
}

function resultOf(cases: CaseResult[], overrides: Partial<SuiteResult> = {}): SuiteResult {
  return {
    reRecordCommand: 'npm run eval -- --suite renewal-brief --record',
    suite: 'renewal-brief',
    description: 'Renewal briefs.',
    workflow: 'renewal-brief',
    prompt: {
      id: 'renewal-brief',
      version: 'v1',
      contentHash: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaa',
      modified: false,
    },
    model: 'gpt-4.1-mini',
    target: 'replay',
    backend: 'local-model-server',
    judge: { model: null, enabled: false },
    startedAt: '2026-12-01T09:00:00.000Z',
    durationMs: 1000,
    caseFilter: null,
    cases,
    summary: summarise(cases),
    notes: [],
    ...overrides,
  };
}

const baselineCases = [
  caseOf('common-a', 'common', true),
  caseOf('common-b', 'common', true),
  caseOf('ambiguous-a', 'ambiguous', true),
  caseOf('ambiguous-b', 'ambiguous', false),
];
const baseline: Baseline = updatedBaseline(null, resultOf(baselineCases));

describe('baseline', () => {
  it('stores pass rates and failed cases per category, mean cost and p95 latency per backend', () => {
    expect(baseline).toEqual({
      suite: 'renewal-brief',
      tolerance: { passRateDrop: 0, costIncrease: 0.1, latencyIncrease: 0.5, latencySlackMs: 250 },
      backends: {
        'local-model-server': {
          model: 'gpt-4.1-mini',
          promptVersion: 'v1',
          promptHash: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaa',
          updatedAt: '2026-12-01T09:00:00.000Z',
          categories: {
            common: { cases: 2, passed: 2, passRate: 1, failed: [] },
            ambiguous: { cases: 2, passed: 1, passRate: 0.5, failed: ['ambiguous-b'] },
          },
          meanCostUsd: 0.001,
          p95LatencyMs: 100,
        },
      },
    });
  });

  it('passes the run the baseline was made from', () => {
    const comparison = compareWithBaseline(resultOf(baselineCases), baseline);

    expect(comparison.status).toBe('pass');
    expect(comparison.regressions).toEqual([]);
  });

  it('reports a category whose pass rate dropped, naming the newly failing cases', () => {
    const cases = [
      caseOf('common-a', 'common', true),
      caseOf('common-b', 'common', false),
      caseOf('ambiguous-a', 'ambiguous', true),
      caseOf('ambiguous-b', 'ambiguous', false),
    ];
    const comparison = compareWithBaseline(resultOf(cases), baseline);

    expect(comparison.status).toBe('regression');
    expect(comparison.regressions).toEqual([
      'Suite renewal-brief, category common: pass rate 50% (1/2) is below the baseline 100% (tolerance 0%). Newly failing: common-b.',
    ]);
    expect(comparison.categories.map((c) => [c.category, c.regressed, c.newlyFailing])).toEqual([
      ['common', true, ['common-b']],
      ['ambiguous', false, []],
    ]);
  });

  it('allows a drop within the tolerance, with a note about the cases that now fail', () => {
    const tolerant: Baseline = { ...baseline, tolerance: { ...baseline.tolerance, passRateDrop: 0.5 } };
    const cases = [
      caseOf('common-a', 'common', true),
      caseOf('common-b', 'common', false),
      ...baselineCases.slice(2),
    ];
    const comparison = compareWithBaseline(resultOf(cases), tolerant);

    expect(comparison.status).toBe('pass');
    expect(comparison.notes).toContain(
      'Category common: within tolerance, but some cases fail that passed in the baseline. Newly failing: common-b.',
    );
  });

  it('reports a mean cost above the tolerance and a p95 latency above both the ratio and the slack', () => {
    const costly = baselineCases.map((c) =>
      caseOf(c.id, c.category, c.status === 'passed', { costUsd: 0.00111 }),
    );
    const slow = baselineCases.map((c) =>
      caseOf(c.id, c.category, c.status === 'passed', { latencyMs: 351 }),
    );
    const slightlySlow = baselineCases.map((c) =>
      caseOf(c.id, c.category, c.status === 'passed', { latencyMs: 340 }),
    );

    expect(compareWithBaseline(resultOf(costly), baseline).regressions).toEqual([
      'Suite renewal-brief: mean cost per run $0.001110 is more than 10% above the baseline $0.001000.',
    ]);
    expect(compareWithBaseline(resultOf(slow), baseline).regressions).toEqual([
      'Suite renewal-brief: p95 latency 351 ms is more than 50% (and 250 ms) above the baseline 100 ms.',
    ]);
    expect(compareWithBaseline(resultOf(slightlySlow), baseline).status).toBe('pass');
  });

  it('reports missing recordings first, with the suite and the command that re-records it', () => {
    const missing = baselineCases.map((c) =>
      caseOf(c.id, c.category, false, { error: { code: 'missing_recording', message: 'No recording.' } }),
    );
    const comparison = compareWithBaseline(resultOf(missing), baseline);

    expect(comparison.status).toBe('regression');
    expect(comparison.regressions[0]).toBe(
      'Suite renewal-brief: 4 of 4 cases have no recorded response for prompt renewal-brief v1 (sha256:aaaaaaaaaaaa…) and model gpt-4.1-mini. ' +
        'The prompt text, the model or the requests changed since the recordings were made. Re-record with: npm run eval -- --suite renewal-brief --record',
    );
  });

  it('compares nothing but missing recordings when only some cases ran', () => {
    const comparison = compareWithBaseline(
      resultOf([caseOf('common-b', 'common', false)], { caseFilter: ['common-b'] }),
      baseline,
    );

    expect(comparison.status).toBe('pass');
    expect(comparison.notes).toEqual([
      'Only some cases ran: pass rates, cost and latency are not compared with the baseline.',
    ]);
  });

  it('says so when there is no baseline for the backend, and keeps other backends when updating', () => {
    const openai = resultOf(baselineCases, { backend: 'openai', target: 'openai' });
    const comparison = compareWithBaseline(openai, baseline);

    expect(comparison.status).toBe('no-baseline');
    expect(comparison.notes).toEqual([
      'No baseline for backend openai in suite renewal-brief: nothing to compare with. Create it with --update-baseline.',
    ]);
    expect(Object.keys(updatedBaseline(baseline, openai).backends)).toEqual(['local-model-server', 'openai']);
    expect(updatedBaseline(baseline, openai).backends['openai']).toEqual(metricsOf(openai));
  });

  it('reports a category the baseline has and the run lacks', () => {
    const comparison = compareWithBaseline(resultOf(baselineCases.slice(0, 2)), baseline);

    expect(comparison.regressions).toEqual([
      'Suite renewal-brief, category ambiguous: the baseline has cases, this run has none.',
    ]);
  });
});
