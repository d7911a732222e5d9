/**
 * The committed baseline of a suite (`evals/<workflow>/baseline.json`) and the comparison that
 * decides whether a run regressed: a category pass rate that dropped by more than the tolerance,
 * a mean cost or a p95 latency that rose beyond it, or requests with no recording. Metrics are kept
 * per backend (the local model server and OpenAI differ by orders of magnitude in latency).
 */
import { formatLikeRepo } from './format.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { SuiteResult } from './runner.ts';
import { EvalCategorySchema, type EvalCategory } from './schema.ts';

export const ToleranceSchema = z.strictObject({
  passRateDrop: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('Largest allowed drop of a category pass rate, as a fraction (0.05 = 5 points).'),
  costIncrease: z
    .number()
    .min(0)
    .default(0.1)
    .describe('Largest allowed relative rise of the mean cost per run (0.1 = +10%).'),
  latencyIncrease: z
    .number()
    .min(0)
    .default(0.5)
    .describe('Largest allowed relative rise of the p95 latency (0.5 = +50%).'),
  latencySlackMs: z
    .number()
    .min(0)
    .default(250)
    .describe('A latency rise smaller than this many milliseconds never counts, whatever its ratio.'),
});
export type Tolerance = z.infer<typeof ToleranceSchema>;

export const BaselineMetricsSchema = z.strictObject({
  model: z.string(),
  promptVersion: z.string(),
  promptHash: z.string(),
  updatedAt: z.iso.datetime(),
  categories: z.record(
    z.string(),
    z.strictObject({
      cases: z.int(),
      passed: z.int(),
      passRate: z.number().min(0).max(1),
      /** Ids of the cases that failed, so a regression can name the cases that newly fail. */
      failed: z.array(z.string()).default([]),
    }),
  ),
  meanCostUsd: z.number().min(0),
  p95LatencyMs: z.number().min(0),
});
export type BaselineMetrics = z.infer<typeof BaselineMetricsSchema>;

export const BaselineSchema = z.strictObject({
  suite: z.string(),
  tolerance: ToleranceSchema,
  /** Metrics per backend (`local-model-server`, `openai`). */
  backends: z.record(z.string(), BaselineMetricsSchema),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export async function readBaseline(file: string): Promise<Baseline | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
  return BaselineSchema.parse(JSON.parse(text));
}

export async function writeBaseline(file: string, baseline: Baseline): Promise<void> {
  await writeFile(file, await formatLikeRepo(file, JSON.stringify(baseline, null, 2)));
}

/** The metrics of a run, as a baseline stores them. */
export function metricsOf(result: SuiteResult): BaselineMetrics {
  return {
    model: result.model,
    promptVersion: result.prompt.version,
    promptHash: result.prompt.contentHash,
    updatedAt: result.startedAt,
    categories: Object.fromEntries(
      result.summary.categories.map((c) => [
        c.category,
        {
          cases: c.cases - c.skipped,
          passed: c.passed,
          passRate: round4(c.passRate),
          failed: result.cases
            .filter((r) => r.category === c.category && r.status === 'failed')
            .map((r) => r.id),
        },
      ]),
    ),
    meanCostUsd: result.summary.meanCostUsd,
    p95LatencyMs: result.summary.p95LatencyMs,
  };
}

/** The baseline with this run's metrics for its backend; the tolerance and other backends are kept. */
export function updatedBaseline(existing: Baseline | null, result: SuiteResult): Baseline {
  return {
    suite: result.suite,
    tolerance: existing?.tolerance ?? ToleranceSchema.parse({}),
    backends: { ...(existing?.backends ?? {}), [result.backend]: metricsOf(result) },
  };
}

export interface CategoryComparison {
  category: EvalCategory;
  passRate: number;
  passed: number;
  cases: number;
  baselinePassRate: number | null;
  regressed: boolean;
  /** Cases that fail now but passed when the baseline was made. */
  newlyFailing: string[];
}

export interface Comparison {
  /** `no-baseline` when the baseline has no metrics for this backend (nothing to regress from). */
  status: 'pass' | 'regression' | 'no-baseline';
  backend: string;
  regressions: string[];
  notes: string[];
  categories: CategoryComparison[];
  cost: { current: number; baseline: number | null; regressed: boolean };
  latency: { current: number; baseline: number | null; regressed: boolean };
  tolerance: Tolerance;
}

function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/** A small epsilon so that rounding in the stored rates never reads as a drop. */
const EPSILON = 1e-6;

/** Compares a run with the baseline. Pure: the same inputs give the same verdict. */
export function compareWithBaseline(result: SuiteResult, baseline: Baseline | null): Comparison {
  const tolerance = baseline?.tolerance ?? ToleranceSchema.parse({});
  const metrics = baseline?.backends[result.backend] ?? null;
  const regressions: string[] = [];
  const notes: string[] = [];
  if (result.summary.missingRecordings > 0) {
    regressions.push(
      `Suite ${result.suite}: ${result.summary.missingRecordings} of ${result.summary.cases} cases have no recorded response for prompt ${result.prompt.id} ${result.prompt.version} (${result.prompt.contentHash.slice(0, 19)}…) and model ${result.model}. ` +
        `The prompt text, the model or the requests changed since the recordings were made. Re-record with: ${result.reRecordCommand}`,
    );
  }

  // A run of some cases only says nothing about the suite's rates: only missing recordings count then.
  const comparable = metrics !== null && result.caseFilter === null;
  const categories: CategoryComparison[] = result.summary.categories.map((c) => {
    const before = metrics?.categories[c.category] ?? null;
    const regressed =
      comparable && before !== null && c.passRate < before.passRate - tolerance.passRateDrop - EPSILON;
    const knownFailures = new Set(before?.failed ?? []);
    const newlyFailing = comparable
      ? result.cases
          .filter((r) => r.category === c.category && r.status === 'failed' && !knownFailures.has(r.id))
          .map((r) => r.id)
      : [];
    const which = newlyFailing.length > 0 ? ` Newly failing: ${newlyFailing.join(', ')}.` : '';
    if (regressed) {
      regressions.push(
        `Suite ${result.suite}, category ${c.category}: pass rate ${pct(c.passRate)} (${c.passed}/${c.cases - c.skipped}) is below the baseline ${pct(before.passRate)} (tolerance ${pct(tolerance.passRateDrop)}).${which}`,
      );
    } else if (newlyFailing.length > 0) {
      notes.push(
        `Category ${c.category}: within tolerance, but some cases fail that passed in the baseline.${which}`,
      );
    }
    return {
      category: c.category,
      passRate: c.passRate,
      passed: c.passed,
      cases: c.cases - c.skipped,
      baselinePassRate: before?.passRate ?? null,
      regressed,
      newlyFailing,
    };
  });

  const cost = {
    current: result.summary.meanCostUsd,
    baseline: metrics?.meanCostUsd ?? null,
    regressed: false,
  };
  const latency = {
    current: result.summary.p95LatencyMs,
    baseline: metrics?.p95LatencyMs ?? null,
    regressed: false,
  };
  if (metrics === null) {
    notes.push(
      `No baseline for backend ${result.backend} in suite ${result.suite}: nothing to compare with. Create it with --update-baseline.`,
    );
  } else if (result.caseFilter !== null) {
    notes.push('Only some cases ran: pass rates, cost and latency are not compared with the baseline.');
  } else {
    for (const category of Object.keys(metrics.categories)) {
      const parsed = EvalCategorySchema.safeParse(category);
      if (parsed.success && !categories.some((c) => c.category === parsed.data)) {
        regressions.push(
          `Suite ${result.suite}, category ${category}: the baseline has cases, this run has none.`,
        );
      }
    }
    if (cost.baseline !== null && cost.current > cost.baseline * (1 + tolerance.costIncrease) + EPSILON) {
      cost.regressed = true;
      regressions.push(
        `Suite ${result.suite}: mean cost per run $${cost.current.toFixed(6)} is more than ${pct(tolerance.costIncrease)} above the baseline $${cost.baseline.toFixed(6)}.`,
      );
    }
    if (
      latency.baseline !== null &&
      latency.current > latency.baseline * (1 + tolerance.latencyIncrease) &&
      latency.current - latency.baseline > tolerance.latencySlackMs
    ) {
      latency.regressed = true;
      regressions.push(
        `Suite ${result.suite}: p95 latency ${latency.current} ms is more than ${pct(tolerance.latencyIncrease)} (and ${tolerance.latencySlackMs} ms) above the baseline ${latency.baseline} ms.`,
      );
    }
    if (metrics.promptHash !== result.prompt.contentHash) {
      notes.push(
        `The baseline was made with prompt ${metrics.promptVersion} (${metrics.promptHash.slice(0, 19)}…); this run used ${result.prompt.version} (${result.prompt.contentHash.slice(0, 19)}…).`,
      );
    }
  }
  return {
    status: regressions.length > 0 ? 'regression' : metrics === null ? 'no-baseline' : 'pass',
    backend: result.backend,
    regressions,
    notes,
    categories,
    cost,
    latency,
    tolerance,
  };
}
