/**
 * Runs an eval suite the way production runs the workflow: the context layer builds the context
 * from the case's raw records (`context.ts`), the model gets the gateway's exact request
 * (`buildModelInput`, the workflow's schema and token limit), and the answer is checked with
 * `checkOutput` and the workflow's business rules, with one repair attempt listing the problems.
 * Then the case's assertions judge the result independently of those rules.
 *
 * Differences from a production run, on purpose: one model (no fallback to the policy's second
 * model), no budget reservation or ledger, and model errors are retried with the gateway's backoff.
 */
import {
  ModelError,
  ModelRateLimitedError,
  type ModelRequest,
  type ModelResponse,
} from '#shared/domain/model.ts';
import type { ModelInputItem } from '#shared/domain/model.ts';
import { costOf, priceFor } from '#shared/domain/pricing.ts';
import type { ContextObject } from '#shared/domain/context.ts';
import { backoffMs, MAX_RETRY_AFTER_MS } from '#shared/usecases/model-call.ts';
import { buildModelInput } from '#shared/usecases/prompt.ts';
import {
  contextForAttempt,
  executeToolRound,
  mayCallTools,
  modelToolsOf,
} from '#shared/usecases/tool-loop.ts';
import { checkOutput, MAX_MODEL_ATTEMPTS } from '#shared/usecases/validate.ts';
import { livePrompt, type ResolvedPrompt } from '#shared/workflows/definition.ts';
import { getWorkflow, type AnyWorkflow } from '#shared/workflows/registry.ts';
import { evaluateAssertion, gradeRubric, type AssertionResult, type RunSubject } from './assertions.ts';
import { buildCaseContext, hiddenFacts } from './context.ts';
import type { Judge } from './judge.ts';
import type { LoadedSuite } from './load.ts';
import { MissingRecordingError, promptHashOf, reRecordCommand } from './recordings.ts';
import {
  EVAL_CATEGORIES,
  accountIdOf,
  type Assertion,
  type AssertionType,
  type EvalCase,
  type EvalCategory,
  type PassRule,
} from './schema.ts';
import type { EvalTarget } from './targets.ts';

/** The error code of a run whose request had no recording (replay only). */
export const MISSING_RECORDING = 'missing_recording';

export interface AssertionOutcome extends AssertionResult {
  type: AssertionType;
  note: string | null;
  /** Not evaluated (a rubric without a judge); neither passes nor fails the run. */
  skipped: boolean;
  /** Came from the suite defaults rather than the case. */
  fromDefaults: boolean;
}

export interface AttemptSummary {
  attempt: number;
  outputText: string | null;
  refusal: string | null;
  finishReason: string;
  /** Problems found by the output check and the workflow's business rules; empty when valid. */
  problems: string[];
  costUsd: number;
  latencyMs: number;
  /** Model turns of the attempt: 1, plus one per round of tool calls (absent in older results: 1). */
  turns?: number;
}

export interface RunResult {
  run: number;
  pass: boolean;
  score: number;
  error: { code: string; message: string } | null;
  output: Record<string, unknown> | null;
  assertions: AssertionOutcome[];
  attempts: AttemptSummary[];
  costUsd: number;
  latencyMs: number;
  contextItems: string[];
  dataGaps: string[];
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  id: string;
  category: EvalCategory;
  description: string;
  status: CaseStatus;
  skipReason: string | null;
  passRule: PassRule;
  runs: RunResult[];
  passedRuns: number;
  score: number;
  /** Means over the case's runs. */
  costUsd: number;
  latencyMs: number;
}

export interface CategorySummary {
  category: EvalCategory;
  cases: number;
  passed: number;
  failed: number;
  skipped: number;
  /** passed / (cases − skipped); 1 when every case was skipped. */
  passRate: number;
  meanCostUsd: number;
  p95LatencyMs: number;
}

export interface SuiteSummary {
  cases: number;
  passed: number;
  failed: number;
  skipped: number;
  passRate: number;
  runs: number;
  categories: CategorySummary[];
  /** Mean cost of a run (repair attempts included), over every run of the non-skipped cases. */
  meanCostUsd: number;
  totalCostUsd: number;
  /** 95th percentile of the model time of the runs that called the model. */
  p95LatencyMs: number;
  /** Cases with a run that found no recording. */
  missingRecordings: number;
}

export interface SuiteResult {
  suite: string;
  description: string;
  workflow: string;
  prompt: { id: string; version: string; contentHash: string; modified: boolean };
  model: string;
  target: string;
  backend: string;
  judge: { model: string | null; enabled: boolean };
  startedAt: string;
  durationMs: number;
  /** Only these cases ran (a `--case` filter); null when the whole suite ran. */
  caseFilter: string[] | null;
  cases: CaseResult[];
  summary: SuiteSummary;
  notes: string[];
  /** The exact command that records what this run asked for (suite, prompt version, model). */
  reRecordCommand: string;
}

/** Progress of a suite run: the CLI draws a bar, tests pass nothing. */
export interface ProgressReporter {
  start(total: number): void;
  caseDone(result: CaseResult): void;
  finish(): void;
}

/** A suite that cannot run as written (unknown workflow, a request the workflow refuses, …). */
export class SuiteConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuiteConfigError';
  }
}

export interface RunSuiteOptions {
  loaded: LoadedSuite;
  target: EvalTarget;
  /** Defaults to the registered workflow of the suite; tests pass a modified one. */
  workflow?: AnyWorkflow;
  /** Evaluate another prompt version, or an unsaved instructions text; the live prompt by default. */
  prompt?: { version?: string | undefined; instructions?: string | undefined };
  /** Defaults to the first model of the workflow policy. */
  model?: string | undefined;
  /** Cases run at the same time (default 8). */
  concurrency?: number;
  /** Grades rubric assertions; without one they are skipped with `judgeNote`. */
  judge?: Judge | null;
  judgeNote?: string;
  /** Run only these case ids. */
  caseIds?: readonly string[] | undefined;
  progress?: ProgressReporter;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

const DEFAULT_CONCURRENCY = 8;

/** The prompt evaluated: the live version, another version, or an override of the instructions. */
export function resolvePrompt(
  workflow: AnyWorkflow,
  options: { version?: string | undefined; instructions?: string | undefined } = {},
): ResolvedPrompt & { modified: boolean } {
  const prompts =
    options.version === undefined ? workflow.prompts : { ...workflow.prompts, live: options.version };
  let base: ResolvedPrompt;
  try {
    base = livePrompt(prompts);
  } catch {
    const known = workflow.prompts.versions.map((v) => v.version).join(', ');
    throw new SuiteConfigError(
      `Prompt ${workflow.prompts.id} has no version ${options.version ?? ''} (known: ${known}).`,
    );
  }
  if (options.instructions === undefined) return { ...base, modified: false };
  return {
    ...base,
    instructions: options.instructions,
    contentHash: promptHashOf(options.instructions),
    modified: true,
  };
}

/** 95th percentile by the nearest-rank method; 0 for no values. */
export function p95(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;
}

function round6(value: number): number {
  return Math.round(value * 1_000_000) / 1_000_000;
}

async function pool<T, R>(items: readonly T[], size: number, worker: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(size, items.length)) }, async () => {
    for (;;) {
      const index = next;
      next += 1;
      const item = items[index];
      if (index >= items.length || item === undefined) return;
      results[index] = await worker(item);
    }
  });
  await Promise.all(lanes);
  return results;
}

interface RunEnv {
  loaded: LoadedSuite;
  workflow: AnyWorkflow;
  prompt: ResolvedPrompt;
  model: string;
  target: EvalTarget;
  judge: Judge | null;
  judgeNote: string;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  reRecord: string;
}

/** One provider call with the gateway's retry rules for retryable model errors. */
async function generate(env: RunEnv, request: ModelRequest): Promise<ModelResponse> {
  const tries = env.workflow.modelPolicy.triesPerModel;
  for (let tryNumber = 1; ; tryNumber += 1) {
    try {
      return await env.target.client.generate(request);
    } catch (error) {
      if (!(error instanceof ModelError) || !error.retryable || tryNumber >= tries) throw error;
      const wait =
        error instanceof ModelRateLimitedError && error.retryAfterMs !== null
          ? Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS)
          : backoffMs(tryNumber);
      await env.sleep(wait);
    }
  }
}

function errorOf(error: unknown, reRecord: string): { code: string; message: string } {
  if (error instanceof MissingRecordingError)
    return { code: MISSING_RECORDING, message: `${error.message} Re-record with: ${reRecord}` };
  if (error instanceof ModelError)
    return { code: 'model_unavailable', message: `${error.code}: ${error.message}` };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

function parseWith(workflow: AnyWorkflow) {
  return (
    value: unknown,
  ): { success: true; data: Record<string, unknown> } | { success: false; issues: string[] } => {
    const parsed = workflow.outputSchema.safeParse(value);
    return parsed.success
      ? { success: true, data: parsed.data }
      : {
          success: false,
          issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
        };
  };
}

function assertionsOf(env: RunEnv, evalCase: EvalCase): { assertion: Assertion; fromDefaults: boolean }[] {
  const own = evalCase.assert.map((assertion) => ({ assertion, fromDefaults: false }));
  // A case that expects the run to fail has no output for the default (output) assertions to check.
  if (evalCase.assert.some((assertion) => assertion.type === 'run-fails')) return own;
  return [
    ...env.loaded.suite.defaults.assert.map((assertion) => ({ assertion, fromDefaults: true })),
    ...own,
  ];
}

async function runOnce(env: RunEnv, evalCase: EvalCase, run: number): Promise<RunResult> {
  const { workflow, prompt } = env;
  const request = workflow.inputSchema.parse(evalCase.request);
  const accountId = workflow.accountIdOf(request);
  const built = await buildCaseContext({
    workflowId: workflow.id,
    request,
    accountId,
    fixture: evalCase.fixture,
    fetchedAt: evalCase.fixture.fetchedAt ?? env.loaded.suite.defaults.fetchedAt,
    promptId: prompt.id,
    promptVersion: prompt.version,
  });
  let context: ContextObject | null = built.ok ? built.context : null;
  const toolCalls: RunSubject['toolCalls'][number][] = [];
  let error = built.ok ? null : built.error;
  let output: Record<string, unknown> | null = null;
  let outputText: string | null = null;
  const attempts: AttemptSummary[] = [];
  const modelInputs: string[] = [];

  if (built.ok && context) {
    let repairErrors: string[] | null = null;
    const tools = modelToolsOf(workflow);
    for (let attempt = 1; attempt <= MAX_MODEL_ATTEMPTS; attempt += 1) {
      const input = buildModelInput(contextForAttempt(context, attempt), repairErrors);
      modelInputs.push(input);
      // The gateway's tool loop (shared/usecases/tool-loop.ts), turn by turn, with the production
      // tool executor reading the fixture's records.
      const turns: ModelInputItem[] = [{ type: 'message', role: 'user', content: input }];
      let response: ModelResponse;
      let costUsd = 0;
      let latencyMs = 0;
      let turn = 1;
      try {
        for (; ; turn += 1) {
          const allowed =
            tools.length > 0 &&
            turn <= workflow.toolPolicy.maxRounds &&
            mayCallTools(context, workflow.toolPolicy);
          response = await generate(env, {
            model: env.model,
            instructions: prompt.instructions,
            input: tools.length > 0 ? turns : input,
            ...(tools.length > 0 ? { tools, toolChoice: allowed ? 'auto' : 'none' } : {}),
            outputSchema: workflow.outputSchema,
            outputName: workflow.outputName,
            maxOutputTokens: workflow.modelPolicy.maxOutputTokens,
            timeoutMs: workflow.modelPolicy.attemptTimeoutMs,
          });
          costUsd += costOf(response.usage, priceFor(env.model, env.now()));
          latencyMs += response.latencyMs;
          const calls = allowed ? (response.toolCalls ?? []) : [];
          if (calls.length === 0) break;
          const round = await executeToolRound(
            built.tools,
            { tenantId: 'eval', runId: 'run_eval', accountId, attempt, turn },
            workflow,
            context,
            calls,
          );
          context = round.context;
          turns.push(...round.items);
          const log = context.toolCalls ?? [];
          for (const call of calls) {
            const outcome = log.findLast((entry) => entry.callId === call.callId)?.outcome ?? 'unknown';
            toolCalls.push({ name: call.name, arguments: call.arguments, outcome });
          }
        }
      } catch (caught) {
        error = errorOf(caught, env.reRecord);
        break;
      }
      const checkedContext = context;
      const checked = checkOutput(
        response.outputText,
        response.refusal,
        response.finishReason,
        (value) => workflow.validate(value, checkedContext),
        parseWith(workflow),
      );
      outputText = response.outputText;
      attempts.push({
        attempt,
        outputText: response.outputText,
        refusal: response.refusal,
        finishReason: response.finishReason,
        problems: checked.ok ? [] : checked.problems,
        costUsd,
        latencyMs,
        turns: turn,
      });
      if (checked.ok) {
        output = checked.output;
        break;
      }
      if (response.refusal !== null) {
        error = { code: 'model_refused', message: 'The model refused to write this brief.' };
        break;
      }
      if (attempt === MAX_MODEL_ATTEMPTS) {
        error = {
          code: 'invalid_model_output',
          message: `The output is still invalid after ${attempt} attempts: ${checked.problems.join('; ')}`,
        };
      }
      repairErrors = checked.problems;
    }
  }

  const subject: RunSubject = {
    output,
    outputText,
    error,
    context,
    modelInputs,
    toolCalls,
    hidden: hiddenFacts(workflow.sources, evalCase.fixture, accountId, context),
    costUsd: round6(attempts.reduce((sum, a) => sum + a.costUsd, 0)),
    latencyMs: attempts.reduce((sum, a) => sum + a.latencyMs, 0),
  };
  const assertions: AssertionOutcome[] = [];
  for (const { assertion, fromDefaults } of assertionsOf(env, evalCase)) {
    const base = { type: assertion.type, note: assertion.note ?? null, fromDefaults };
    if (assertion.type !== 'rubric') {
      assertions.push({ ...base, ...evaluateAssertion(assertion, subject, workflow), skipped: false });
    } else if (!output) {
      assertions.push({ ...base, pass: false, score: 0, reason: 'no output to grade', skipped: false });
    } else if (!env.judge) {
      assertions.push({ ...base, pass: true, score: 0, reason: env.judgeNote, skipped: true });
    } else {
      try {
        const verdict = await env.judge.grade({ criteria: assertion.criteria, context, output });
        assertions.push({ ...base, ...gradeRubric(verdict, assertion.minScore), skipped: false });
      } catch (caught) {
        const message = caught instanceof Error ? caught.message : String(caught);
        assertions.push({
          ...base,
          pass: false,
          score: 0,
          reason: `the judge failed: ${message}`,
          skipped: false,
        });
      }
    }
  }
  const graded = assertions.filter((a) => !a.skipped);
  return {
    run,
    pass: graded.every((a) => a.pass),
    score: graded.length === 0 ? 1 : mean(graded.map((a) => a.score)),
    error,
    output,
    assertions,
    attempts,
    costUsd: subject.costUsd,
    latencyMs: subject.latencyMs,
    contextItems: context?.items.map((item) => item.id) ?? [],
    dataGaps: context?.dataGaps.map((gap) => `${gap.source} (${gap.reason})`) ?? [],
  };
}

async function runCase(env: RunEnv, evalCase: EvalCase): Promise<CaseResult> {
  const defaults = env.loaded.suite.defaults;
  const passRule = evalCase.passRule ?? defaults.passRule;
  const base = { id: evalCase.id, category: evalCase.category, description: evalCase.description, passRule };
  if (evalCase.modelFaults && env.target.faults === 'unsupported') {
    return {
      ...base,
      status: 'skipped',
      skipReason: `model faults cannot be injected on target ${env.target.name}`,
      runs: [],
      passedRuns: 0,
      score: 0,
      costUsd: 0,
      latencyMs: 0,
    };
  }
  const runs: RunResult[] = [];
  for (let run = 1; run <= (evalCase.runs ?? defaults.runs); run += 1)
    runs.push(await runOnce(env, evalCase, run));
  const passedRuns = runs.filter((r) => r.pass).length;
  const pass = passRule === 'all' ? passedRuns === runs.length : passedRuns > runs.length / 2;
  return {
    ...base,
    status: pass ? 'passed' : 'failed',
    skipReason: null,
    runs,
    passedRuns,
    score: mean(runs.map((r) => r.score)),
    costUsd: round6(mean(runs.map((r) => r.costUsd))),
    latencyMs: Math.round(mean(runs.map((r) => r.latencyMs))),
  };
}

/** Pass rates, cost and latency of a set of case results, per category and overall. */
export function summarise(cases: readonly CaseResult[]): SuiteSummary {
  const ran = (list: readonly CaseResult[]) => list.filter((c) => c.status !== 'skipped');
  const runsOf = (list: readonly CaseResult[]) => ran(list).flatMap((c) => c.runs);
  const latencies = (list: readonly CaseResult[]) =>
    runsOf(list)
      .filter((r) => r.attempts.length > 0)
      .map((r) => r.latencyMs);
  const rate = (list: readonly CaseResult[]) => {
    const counted = ran(list);
    return counted.length === 0 ? 1 : counted.filter((c) => c.status === 'passed').length / counted.length;
  };
  const categories = EVAL_CATEGORIES.flatMap((category): CategorySummary[] => {
    const list = cases.filter((c) => c.category === category);
    if (list.length === 0) return [];
    return [
      {
        category,
        cases: list.length,
        passed: list.filter((c) => c.status === 'passed').length,
        failed: list.filter((c) => c.status === 'failed').length,
        skipped: list.filter((c) => c.status === 'skipped').length,
        passRate: rate(list),
        meanCostUsd: round6(mean(runsOf(list).map((r) => r.costUsd))),
        p95LatencyMs: p95(latencies(list)),
      },
    ];
  });
  const runs = runsOf(cases);
  return {
    cases: cases.length,
    passed: cases.filter((c) => c.status === 'passed').length,
    failed: cases.filter((c) => c.status === 'failed').length,
    skipped: cases.filter((c) => c.status === 'skipped').length,
    passRate: rate(cases),
    runs: runs.length,
    categories,
    meanCostUsd: round6(mean(runs.map((r) => r.costUsd))),
    totalCostUsd: round6(runs.reduce((sum, r) => sum + r.costUsd, 0)),
    p95LatencyMs: p95(latencies(cases)),
    missingRecordings: cases.filter((c) => c.runs.some((r) => r.error?.code === MISSING_RECORDING)).length,
  };
}

/** Checks what can be checked before any model call, so a bad suite fails at once with every problem. */
function checkSuite(
  env: Omit<RunEnv, 'judge' | 'judgeNote' | 'sleep' | 'now' | 'reRecord'>,
  cases: readonly EvalCase[],
): void {
  const problems: string[] = [];
  for (const evalCase of cases) {
    const parsed = env.workflow.inputSchema.safeParse(evalCase.request);
    if (!parsed.success) {
      problems.push(
        `case ${evalCase.id}: the request does not match the ${env.workflow.id} input: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ')}`,
      );
    }
  }
  try {
    priceFor(env.model, new Date());
  } catch {
    problems.push(`no price is known for model ${env.model}, so costs cannot be computed`);
  }
  if (problems.length > 0) {
    throw new SuiteConfigError(
      `Suite ${env.loaded.suite.suite} cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/** Runs a suite (or some of its cases) against a target and returns every result with its summary. */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteResult> {
  const { loaded, target } = options;
  const suite = loaded.suite;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const workflow = options.workflow ?? getWorkflow(suite.workflow);
  if (workflow.id !== suite.workflow) {
    throw new SuiteConfigError(`Suite ${suite.suite} is for workflow ${suite.workflow}, not ${workflow.id}.`);
  }
  if (workflow.prompts.id !== suite.prompt) {
    throw new SuiteConfigError(
      `Suite ${suite.suite} evaluates prompt ${suite.prompt}, but the workflow uses ${workflow.prompts.id}.`,
    );
  }
  const prompt = resolvePrompt(workflow, options.prompt);
  const model = options.model ?? workflow.modelPolicy.models[0];
  if (model === undefined) throw new SuiteConfigError(`Workflow ${workflow.id} has no model.`);

  let cases = suite.cases;
  if (options.caseIds !== undefined) {
    const wanted = new Set(options.caseIds);
    const unknown = [...wanted].filter((id) => !cases.some((c) => c.id === id));
    if (unknown.length > 0)
      throw new SuiteConfigError(`Suite ${suite.suite} has no case ${unknown.join(', ')}.`);
    cases = cases.filter((c) => wanted.has(c.id));
  }
  checkSuite({ loaded, workflow, prompt, model, target }, cases);

  const judge = options.judge ?? null;
  const judgeNote =
    options.judgeNote ??
    `not graded: no judge (set OPENAI_API_KEY to grade rubrics with ${suite.judge?.model ?? 'the pinned judge model'})`;
  const env: RunEnv = {
    loaded,
    workflow,
    prompt,
    model,
    target,
    judge,
    judgeNote,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now,
    reRecord: reRecordCommand(suite.suite, {
      promptVersion: prompt.version === workflow.prompts.live ? null : prompt.version,
      model: model === workflow.modelPolicy.models[0] ? null : model,
    }),
  };

  if (target.faults === 'inject') {
    for (const evalCase of cases) {
      const accountId = accountIdOf(evalCase);
      if (evalCase.modelFaults && accountId !== null) {
        // The context JSON starts with the account id: this matches the case's requests and no other.
        target.injectFaults({ match: `"accountId":"${accountId}"`, faults: evalCase.modelFaults });
      }
    }
  }

  options.progress?.start(cases.length);
  const results = await pool(cases, options.concurrency ?? DEFAULT_CONCURRENCY, async (evalCase) => {
    const result = await runCase(env, evalCase);
    options.progress?.caseDone(result);
    return result;
  });
  options.progress?.finish();

  const summary = summarise(results);
  const notes: string[] = [];
  if (summary.missingRecordings > 0) {
    notes.push(
      `${summary.missingRecordings} of ${summary.cases} cases have no recording for prompt ${prompt.id} ${prompt.version} (${prompt.contentHash.slice(0, 19)}…) and model ${model}. ` +
        `Re-record with: ${env.reRecord}`,
    );
  }
  const rubrics = results.flatMap((c) => c.runs.flatMap((r) => r.assertions)).filter((a) => a.skipped).length;
  if (rubrics > 0) notes.push(`${rubrics} rubric assertions were skipped: ${judgeNote}.`);
  const skipped = results.filter((c) => c.status === 'skipped');
  if (skipped.length > 0) {
    notes.push(
      `${skipped.length} cases were skipped: ${[...new Set(skipped.map((c) => c.skipReason))].join('; ')}.`,
    );
  }
  if (prompt.modified)
    notes.push('The prompt instructions were overridden for this run (not a saved prompt version).');

  return {
    suite: suite.suite,
    description: suite.description,
    workflow: workflow.id,
    prompt: {
      id: prompt.id,
      version: prompt.version,
      contentHash: prompt.contentHash,
      modified: prompt.modified,
    },
    model,
    target: target.name,
    backend: target.backend(),
    judge: { model: suite.judge?.model ?? null, enabled: judge !== null },
    startedAt: startedAt.toISOString(),
    durationMs: now().getTime() - startedAt.getTime(),
    caseFilter: options.caseIds === undefined ? null : [...options.caseIds],
    cases: results,
    summary,
    notes,
    reRecordCommand: env.reRecord,
  };
}
