/**
 * `npm run eval`: runs eval suites, writes their reports, compares them with the committed
 * baselines and exits non-zero on a regression. See `evals/README.md`.
 *
 * Exit codes: 0 no regression; 1 a regression (or missing recordings); 2 a usage or suite error.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  compareWithBaseline,
  readBaseline,
  updatedBaseline,
  writeBaseline,
  type Comparison,
} from './baseline.ts';
import { openAiJudge, type Judge } from './judge.ts';
import { baselineFileOf, findSuiteFiles, loadSuite, recordingsDirOf, SuiteFileError } from './load.ts';
import { streamProgress } from './progress.ts';
import { promptHashOf, staleRecordings, type Recording } from './recordings.ts';
import { getWorkflow } from '#shared/workflows/registry.ts';
import { failureReasons } from './report-junit.ts';
import { writeReports } from './reports.ts';
import { runSuite, SuiteConfigError, type SuiteResult } from './runner.ts';
import {
  openAiTarget,
  recordingTarget,
  replayTarget,
  startLocalTarget,
  type EvalTarget,
  type RecordingTarget,
} from './targets.ts';

const USAGE = `Usage: npm run eval -- [options]

  --suite <id>            run this suite (repeatable); every evals/<id>/suite.yaml by default
  --target <target>       replay (default): recorded answers in evals/<id>/recordings/
                          local: a local model server started for the run
                          openai: real OpenAI (needs OPENAI_API_KEY; OPENAI_BASE_URL is honoured)
  --record                record the answers into evals/<id>/recordings/ (from --target local,
                          the default, or --target openai); recordings of this prompt version
                          and model no case uses any more are deleted, other versions' are kept
  --update-baseline       write this run's metrics into evals/<id>/baseline.json
  --prompt-version <v>    evaluate another version of the suite's prompt (default: the live one)
  --model <model>         the model to evaluate (default: the workflow policy's first model)
  --case <id>             run only this case (repeatable); rates are then not compared
  --concurrency <n>       cases run at the same time (default 8, 4 on openai)
  --reports-dir <dir>     where reports go (default reports/evals)
  --help                  this text

Rubric assertions are graded by the suite's pinned judge model when OPENAI_API_KEY is set.
Exit codes: 0 no regression, 1 regression or missing recordings, 2 usage or suite error.`;

class UsageError extends Error {}

interface CliOptions {
  suites: string[];
  target: 'replay' | 'local' | 'openai';
  record: boolean;
  updateBaseline: boolean;
  promptVersion: string | undefined;
  model: string | undefined;
  cases: string[] | undefined;
  concurrency: number | undefined;
  reportsDir: string;
}

function parseCli(argv: string[]): CliOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: 'string', multiple: true },
      target: { type: 'string' },
      record: { type: 'boolean', default: false },
      'update-baseline': { type: 'boolean', default: false },
      'prompt-version': { type: 'string' },
      model: { type: 'string' },
      case: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      'reports-dir': { type: 'string', default: 'reports/evals' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  const record = values.record;
  const target = values.target ?? (record ? 'local' : 'replay');
  if (target !== 'replay' && target !== 'local' && target !== 'openai') {
    throw new UsageError(`--target must be replay, local or openai, not ${target}.`);
  }
  if (record && target === 'replay')
    throw new UsageError('--record needs a live target: --target local or openai.');
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new UsageError('--concurrency must be a positive integer.');
  }
  const cases = values.case;
  if (values['update-baseline'] && cases !== undefined) {
    throw new UsageError('--update-baseline needs the whole suite: drop --case.');
  }
  return {
    suites: values.suite ?? [],
    target,
    record,
    updateBaseline: values['update-baseline'],
    promptVersion: values['prompt-version'],
    model: values.model,
    cases,
    concurrency,
    reportsDir: values['reports-dir'],
  };
}

async function createTarget(
  options: CliOptions,
  suiteId: string,
  recordingsDir: string,
): Promise<EvalTarget> {
  if (options.target === 'replay') return replayTarget({ recordingsDir, suiteId });
  let live: EvalTarget;
  if (options.target === 'openai') {
    const apiKey = process.env['OPENAI_API_KEY'];
    if (!apiKey) throw new UsageError('--target openai needs OPENAI_API_KEY.');
    live = openAiTarget({ apiKey, baseURL: process.env['OPENAI_BASE_URL'] });
  } else {
    live = await startLocalTarget();
  }
  return options.record ? recordingTarget(live, { recordingsDir, suiteId }) : live;
}

function isRecording(target: EvalTarget): target is RecordingTarget {
  return 'save' in target;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

function printSummary(result: SuiteResult, comparison: Comparison, htmlFile: string): void {
  const lines: string[] = [];
  lines.push(
    `\n${result.suite}: prompt ${result.prompt.id} ${result.prompt.version} (${result.prompt.contentHash.slice(0, 19)}…), model ${result.model}, target ${result.target} (${result.backend})`,
  );
  lines.push(
    `  ${'category'.padEnd(16)} ${'cases'.padStart(5)} ${'passed'.padStart(6)} ${'rate'.padStart(7)} ${'baseline'.padStart(9)}`,
  );
  for (const c of comparison.categories) {
    const flag = c.regressed ? '  ← regression' : '';
    lines.push(
      `  ${c.category.padEnd(16)} ${String(c.cases).padStart(5)} ${String(c.passed).padStart(6)} ${pct(c.passRate).padStart(7)} ${(c.baselinePassRate === null ? '—' : pct(c.baselinePassRate)).padStart(9)}${flag}`,
    );
  }
  const base = (value: number | null, format: (v: number) => string) =>
    value === null ? 'none' : format(value);
  lines.push(
    `  mean cost/run $${result.summary.meanCostUsd.toFixed(6)} (baseline ${base(comparison.cost.baseline, (v) => `$${v.toFixed(6)}`)}) · p95 latency ${result.summary.p95LatencyMs} ms (baseline ${base(comparison.latency.baseline, (v) => `${v} ms`)})`,
  );
  for (const failed of result.cases.filter((c) => c.status === 'failed')) {
    lines.push(`  FAIL ${failed.id} (${failed.category}): ${failureReasons(failed)[0] ?? 'failed'}`);
  }
  for (const note of [...result.notes, ...comparison.notes]) lines.push(`  note: ${note}`);
  lines.push(`  report: ${relative(process.cwd(), htmlFile)}`);
  if (comparison.status === 'regression') {
    lines.push(`  ✗ REGRESSION`);
    for (const regression of comparison.regressions) lines.push(`    - ${regression}`);
  } else if (comparison.status === 'pass') {
    lines.push(`  ✓ no regression against the ${comparison.backend} baseline`);
  } else {
    lines.push(`  ! no baseline for ${comparison.backend}: nothing compared`);
  }
  console.log(lines.join('\n'));
}

/** What a full re-record of this run may delete (see {@link staleRecordings}). */
function staleRecordingOf(workflowId: string, result: SuiteResult): (unused: Recording) => boolean {
  return staleRecordings({
    manifestPromptHashes: new Set(
      getWorkflow(workflowId).prompts.versions.map((v) => promptHashOf(v.instructions)),
    ),
    recorded: { promptHash: result.prompt.contentHash, model: result.model },
  });
}

async function runOne(options: CliOptions, file: string): Promise<boolean> {
  const loaded = await loadSuite(file);
  const suiteId = loaded.suite.suite;
  const recordingsDir = recordingsDirOf(loaded);
  const apiKey = process.env['OPENAI_API_KEY'];
  let judge: Judge | null = null;
  if (loaded.suite.judge && apiKey) {
    judge = openAiJudge({ model: loaded.suite.judge.model, apiKey, baseURL: process.env['OPENAI_BASE_URL'] });
  }
  const target = await createTarget(options, suiteId, recordingsDir);
  let result: SuiteResult;
  try {
    result = await runSuite({
      loaded,
      target,
      prompt: { version: options.promptVersion },
      model: options.model,
      concurrency: options.concurrency ?? (options.target === 'openai' ? 4 : 8),
      judge,
      judgeNote: `not graded: OPENAI_API_KEY is not set (judge ${loaded.suite.judge?.model ?? 'none'})`,
      caseIds: options.cases,
      progress: streamProgress(suiteId),
    });
    if (isRecording(target)) {
      const saved = await target.save({
        prune: options.cases === undefined ? staleRecordingOf(loaded.suite.workflow, result) : false,
      });
      console.log(
        `${suiteId}: recordings in ${relative(process.cwd(), recordingsDir)}: ${saved.written} written, ${saved.unchanged} unchanged, ${saved.pruned} removed`,
      );
    }
  } finally {
    await target.close();
  }

  const baselineFile = baselineFileOf(loaded);
  let baseline = await readBaseline(baselineFile);
  if (options.updateBaseline) {
    if (result.summary.missingRecordings > 0) {
      throw new SuiteConfigError(
        `Suite ${suiteId}: not updating the baseline while ${result.summary.missingRecordings} cases have no recording.`,
      );
    }
    baseline = updatedBaseline(baseline, result);
    await writeBaseline(baselineFile, baseline);
    console.log(
      `${suiteId}: baseline for ${result.backend} written to ${relative(process.cwd(), baselineFile)}`,
    );
  }
  const comparison = compareWithBaseline(result, baseline);
  const files = await writeReports(resolve(options.reportsDir, suiteId), result, comparison);
  printSummary(result, comparison, files.html);
  return comparison.status !== 'regression';
}

async function main(): Promise<number> {
  let options: CliOptions | null;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  const available = await findSuiteFiles();
  const wanted = options.suites.length > 0 ? options.suites : [...available.keys()].sort();
  const unknown = wanted.filter((id) => !available.has(id));
  if (unknown.length > 0 || wanted.length === 0) {
    console.error(`No suite ${unknown.join(', ')}. Suites: ${[...available.keys()].join(', ') || 'none'}.`);
    return 2;
  }
  let ok = true;
  for (const id of wanted) {
    const file = available.get(id);
    if (file === undefined) continue;
    try {
      ok = (await runOne(options, file)) && ok;
    } catch (error) {
      if (
        error instanceof SuiteFileError ||
        error instanceof SuiteConfigError ||
        error instanceof UsageError
      ) {
        console.error(error.message);
        return 2;
      }
      throw error;
    }
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
