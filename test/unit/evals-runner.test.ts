import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ModelUnavailableError,
  userMessageOf,
  type ModelRequest,
  type ModelResponse,
} from '#shared/domain/model.ts';
import { costOf, priceFor } from '#shared/domain/pricing.ts';
import type { ModelClient } from '#shared/ports/index.ts';
import { buildModelInput } from '#shared/usecases/prompt.ts';
import { livePrompt } from '#shared/workflows/definition.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import type { AnyWorkflow } from '#shared/workflows/registry.ts';
import { composeRenewalBriefWithActions } from '#infra/local/model-server/brief.ts';
import { extractContext } from '#infra/local/model-server/context.ts';
import { buildCaseContext, hiddenFacts } from '../../evals/context.ts';
import type { Judge } from '../../evals/judge.ts';
import { parseSuite, type LoadedSuite } from '../../evals/load.ts';
import {
  MissingRecordingError,
  promptHashOf,
  RecordingModelClient,
  reRecordCommand,
  ReplayModelClient,
  staleRecordings,
} from '../../evals/recordings.ts';
import { p95, runSuite, type RunSuiteOptions } from '../../evals/runner.ts';
import { clientTarget } from '../../evals/targets.ts';

const workflow = renewalBrief as unknown as AnyWorkflow;
const LIVE = livePrompt(renewalBrief.prompts);

/** A scripted model: each request gets the answer of `script(request, n)`, n counting from 1. */
class ScriptedModel implements ModelClient {
  readonly requests: ModelRequest[] = [];
  constructor(
    private readonly script: (request: ModelRequest, n: number) => Partial<ModelResponse> | Error,
  ) {}

  generate(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const answer = this.script(request, this.requests.length);
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve({
      model: request.model,
      outputText: null,
      refusal: null,
      finishReason: 'completed',
      usage: { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 300, reasoningTokens: 0 },
      providerRequestId: `resp_${this.requests.length}`,
      latencyMs: 40,
      ...answer,
    });
  }
}

/** The brief with the actions the local model proposes, as the live output schema asks. */
function composeRenewalBrief(context: unknown) {
  const { brief, proposedActions } = composeRenewalBriefWithActions(context);
  return { ...brief, proposedActions };
}

/** What the well-behaved local model would answer, as JSON text. */
function groundedAnswer(request: ModelRequest): string {
  return JSON.stringify(composeRenewalBrief(extractContext(userMessageOf(request.input))));
}

function withInventedEvidence(request: ModelRequest): string {
  const brief = composeRenewalBrief(extractContext(userMessageOf(request.input)));
  return JSON.stringify({
    ...brief,
    risks: [{ title: 'Unverified outage', severity: 'high', evidence: ['ticket:T-9001'] }, ...brief.risks],
  });
}

const SUITE = `suite: unit-suite
workflow: renewal-brief
prompt: renewal-brief
description: A small suite for runner tests.
judge: { model: gpt-4.1-mini-2025-04-14 }
defaults:
  fetchedAt: '2026-12-01T09:00:00.000Z'
  assert:
    - { type: schema }
    - { type: evidence-exists }
    - { type: no-hidden-fields }
    - { type: data-gaps }
cases:
  - id: urgent-ticket
    category: common
    description: An urgent ticket is the risk.
    request: { accountId: acct-one }
    fixture:
      crm: { name: One Corp, ownerId: csm-a, ownerName: Ann Lee, arr: 50000, creditScore: 655, internalNotes: Sponsor left in October and budget was cut. }
      usage: { activeUsers: 40, licensedSeats: 50, weeklyActiveTrend: 0 }
      contract: { contractId: C-1, endDate: '2027-06-30', autoRenew: true }
      tickets:
        - { ticketId: T-1, subject: SSO outage, status: open, priority: urgent }
        - { ticketId: T-0, subject: Old closed issue, status: closed, priority: low }
    assert:
      - { type: cites, ids: ['ticket:T-1'] }
  - id: usage-down
    category: should_escalate
    description: The usage source fails.
    request: { accountId: acct-two }
    fixture:
      failingSources: [usage]
      crm: { name: Two Corp, ownerId: csm-a, arr: 20000 }
      usage: { activeUsers: 1234, licensedSeats: 5000 }
    assert:
      - { type: rubric, criteria: The brief says that usage data is missing. }
`;

function loaded(text = SUITE): LoadedSuite {
  return { suite: parseSuite(text, 'unit-suite.yaml'), file: 'unit-suite.yaml', dir: '/nonexistent' };
}

function run(client: ModelClient, options: Partial<RunSuiteOptions> = {}) {
  return runSuite({
    loaded: loaded(),
    target: clientTarget(client, { name: 'scripted', backend: 'scripted' }),
    sleep: () => Promise.resolve(),
    ...options,
  });
}

describe('buildCaseContext', () => {
  it('builds the context with the production allow-lists, filters and evidence ids', async () => {
    const suite = loaded().suite;
    const evalCase = suite.cases[0];
    if (!evalCase) throw new Error('fixture');
    const built = await buildCaseContext({
      workflowId: 'renewal-brief',
      request: evalCase.request,
      accountId: 'acct-one',
      fixture: evalCase.fixture,
      fetchedAt: '2026-12-01T09:00:00.000Z',
      promptId: LIVE.id,
      promptVersion: LIVE.version,
    });
    if (!built.ok) throw new Error(built.error.message);

    expect(built.context.items.map((item) => item.id)).toEqual([
      'crm:acct-one',
      'usage:acct-one',
      'ticket:T-1',
      'contract:C-1',
    ]);
    expect(built.context.items[0]?.fields).toEqual({ name: 'One Corp', arr: 50000, ownerName: 'Ann Lee' });
    expect(built.context.dataGaps).toEqual([
      { source: 'invoices', reason: 'not_found', detail: 'No invoices record exists for this account.' },
    ]);
    expect(
      hiddenFacts(renewalBrief.sources, evalCase.fixture, 'acct-one', built.context).map((f) => f.path),
    ).toEqual([
      'crm.ownerId (field name)',
      'crm.creditScore',
      'crm.creditScore (field name)',
      'crm.internalNotes',
      'crm.internalNotes (field name)',
    ]);
  });

  it('turns a failing source into an error data gap and every hidden value of it into a hidden fact', async () => {
    const evalCase = loaded().suite.cases[1];
    if (!evalCase) throw new Error('fixture');
    const built = await buildCaseContext({
      workflowId: 'renewal-brief',
      request: evalCase.request,
      accountId: 'acct-two',
      fixture: evalCase.fixture,
      fetchedAt: '2026-12-01T09:00:00.000Z',
      promptId: LIVE.id,
      promptVersion: LIVE.version,
    });
    if (!built.ok) throw new Error(built.error.message);

    expect(built.context.dataGaps).toContainEqual({
      source: 'usage',
      reason: 'error',
      detail: 'The usage source failed: upstream usage service answered 503 (eval fixture outage)',
    });
    expect(hiddenFacts(renewalBrief.sources, evalCase.fixture, 'acct-two', built.context)).toContainEqual({
      path: 'usage.activeUsers',
      needles: [
        { text: '1234', kind: 'number' },
        { text: '1,234', kind: 'number' },
      ],
    });
  });
});

describe('runSuite', () => {
  it('sends the gateway request for the live prompt and passes a grounded answer', async () => {
    const model = new ScriptedModel((request) => ({ outputText: groundedAnswer(request) }));
    const result = await run(model, { caseIds: ['urgent-ticket'] });
    const [evalCase] = result.cases;
    const request = model.requests[0];
    if (!evalCase || !request) throw new Error('no result');

    expect(evalCase.status).toBe('passed');
    expect(evalCase.runs[0]?.assertions.every((a) => a.pass)).toBe(true);
    expect(request.instructions).toBe(LIVE.instructions);
    expect(request.model).toBe('gpt-4.1-mini');
    expect(request.maxOutputTokens).toBe(renewalBrief.modelPolicy.maxOutputTokens);
    expect(
      userMessageOf(request.input).startsWith(
        'Write the brief for the account in this context.\n<context>\n{"workflowId":"renewal-brief","accountId":"acct-one"',
      ),
    ).toBe(true);
    expect(request.input).not.toContain('655');
    const price = priceFor('gpt-4.1-mini', new Date());
    expect(evalCase.costUsd).toBe(
      costOf({ inputTokens: 1000, cachedInputTokens: 0, outputTokens: 300, reasoningTokens: 0 }, price),
    );
    expect(result.prompt).toEqual({
      id: 'renewal-brief',
      version: 'v2',
      contentHash: LIVE.contentHash,
      modified: false,
    });
  });

  it('repairs an invalid first answer with the problems listed, like the gateway', async () => {
    const model = new ScriptedModel((request, n) => ({
      outputText: n === 1 ? 'Sure! Here is the brief.' : groundedAnswer(request),
    }));
    const result = await run(model, { caseIds: ['urgent-ticket'] });
    const runResult = result.cases[0]?.runs[0];

    expect(result.cases[0]?.status).toBe('passed');
    expect(runResult?.attempts.map((a) => a.problems)).toEqual([['the answer is not valid JSON'], []]);
    expect(userMessageOf(model.requests[1]?.input ?? '')).toContain(
      'Your previous answer was rejected. Fix these problems and answer again with the complete brief:\n<validation_errors>\n- the answer is not valid JSON\n</validation_errors>',
    );
  });

  it('fails the run with invalid_model_output when the repair is invalid too, and says why', async () => {
    const model = new ScriptedModel((request) => ({ outputText: withInventedEvidence(request) }));
    const result = await run(model, { caseIds: ['urgent-ticket'] });
    const runResult = result.cases[0]?.runs[0];

    expect(model.requests).toHaveLength(2);
    expect(runResult?.error).toEqual({
      code: 'invalid_model_output',
      message:
        'The output is still invalid after 2 attempts: risks[0].evidence cites "ticket:T-9001", which is not in the context',
    });
    expect(result.cases[0]?.status).toBe('failed');
  });

  it('catches invented evidence that a weakened validation rule lets through', async () => {
    const weakened: AnyWorkflow = { ...workflow, validate: () => [] };
    const model = new ScriptedModel((request) => ({ outputText: withInventedEvidence(request) }));
    const result = await run(model, { caseIds: ['urgent-ticket'], workflow: weakened });
    const evidence = result.cases[0]?.runs[0]?.assertions.find((a) => a.type === 'evidence-exists');

    expect(model.requests).toHaveLength(1);
    expect(result.cases[0]?.status).toBe('failed');
    expect(evidence).toEqual({
      type: 'evidence-exists',
      note: null,
      fromDefaults: true,
      skipped: false,
      pass: false,
      score: 0.9,
      reason: 'risks[0].evidence cites "ticket:T-9001", which is not in the context',
    });
  });

  it('stops at a refusal without a repair attempt', async () => {
    const model = new ScriptedModel(() => ({ refusal: "I can't help with that." }));
    const result = await run(model, { caseIds: ['urgent-ticket'] });

    expect(model.requests).toHaveLength(1);
    expect(result.cases[0]?.runs[0]?.error).toEqual({
      code: 'model_refused',
      message: 'The model refused to write this brief.',
    });
  });

  it('retries a retryable provider error with the gateway backoff', async () => {
    const waits: number[] = [];
    const model = new ScriptedModel((request, n) =>
      n === 1
        ? new ModelUnavailableError('The model provider answered 503.', null)
        : { outputText: groundedAnswer(request) },
    );
    const result = await run(model, {
      caseIds: ['urgent-ticket'],
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });

    expect(result.cases[0]?.status).toBe('passed');
    expect(waits).toHaveLength(1);
  });

  it('catches a hidden field copied into the brief', async () => {
    const model = new ScriptedModel((request) => {
      const brief = composeRenewalBrief(extractContext(userMessageOf(request.input)));
      return { outputText: JSON.stringify({ ...brief, summary: `${brief.summary} Credit score 655.` }) };
    });
    const result = await run(model, { caseIds: ['urgent-ticket'] });
    const hidden = result.cases[0]?.runs[0]?.assertions.find((a) => a.type === 'no-hidden-fields');

    expect(hidden?.pass).toBe(false);
    expect(hidden?.reason).toBe('crm.creditScore ("655") appears in the output');
  });

  it('applies the pass rule over repeated runs', async () => {
    const text = SUITE.replace(
      '    category: common\n',
      '    category: common\n    runs: 3\n    passRule: majority\n',
    );
    const alternating = () =>
      new ScriptedModel((request, n) => ({
        outputText: n === 2 ? withInventedEvidence(request) : groundedAnswer(request),
      }));
    const weakened: AnyWorkflow = { ...workflow, validate: () => [] };
    const majority = await run(alternating(), {
      loaded: loaded(text),
      caseIds: ['urgent-ticket'],
      workflow: weakened,
    });
    const all = await run(alternating(), {
      loaded: loaded(text.replace('passRule: majority', 'passRule: all')),
      caseIds: ['urgent-ticket'],
      workflow: weakened,
    });

    expect([
      majority.cases[0]?.status,
      majority.cases[0]?.passedRuns,
      majority.cases[0]?.runs.length,
    ]).toEqual(['passed', 2, 3]);
    expect([all.cases[0]?.status, all.cases[0]?.passedRuns]).toEqual(['failed', 2]);
  });

  it('skips rubrics with a note when there is no judge, and grades them with one', async () => {
    const model = () => new ScriptedModel((request) => ({ outputText: groundedAnswer(request) }));
    const unjudged = await run(model(), { caseIds: ['usage-down'], judgeNote: 'not graded: no key' });
    const judge: Judge = {
      model: 'gpt-4.1-mini-2025-04-14',
      grade: () => Promise.resolve({ score: 0.4, reason: 'It does not say so.' }),
    };
    const judged = await run(model(), { caseIds: ['usage-down'], judge });

    expect(unjudged.cases[0]?.status).toBe('passed');
    expect(unjudged.cases[0]?.runs[0]?.assertions.at(-1)).toMatchObject({
      type: 'rubric',
      skipped: true,
      reason: 'not graded: no key',
    });
    expect(unjudged.notes).toContain('1 rubric assertions were skipped: not graded: no key.');
    expect(judged.cases[0]?.status).toBe('failed');
    expect(judged.cases[0]?.runs[0]?.assertions.at(-1)).toMatchObject({
      type: 'rubric',
      skipped: false,
      pass: false,
      reason: 'judge score 0.40 (min 0.7): It does not say so.',
    });
  });

  it('skips cases with model faults on a target that cannot inject them, outside the pass rate', async () => {
    const text = SUITE.replace(
      '    request: { accountId: acct-two }\n',
      '    request: { accountId: acct-two }\n    modelFaults: [{ kind: refusal }]\n',
    );
    const result = await run(new ScriptedModel((request) => ({ outputText: groundedAnswer(request) })), {
      loaded: loaded(text),
    });

    expect(result.cases.map((c) => [c.id, c.status, c.skipReason])).toEqual([
      ['urgent-ticket', 'passed', null],
      ['usage-down', 'skipped', 'model faults cannot be injected on target scripted'],
    ]);
    expect(result.summary.categories.map((c) => [c.category, c.passRate, c.skipped])).toEqual([
      ['common', 1, 0],
      ['should_escalate', 1, 1],
    ]);
  });

  it('refuses a suite whose requests the workflow would refuse, before any model call', async () => {
    const model = new ScriptedModel(() => ({ outputText: '{}' }));
    const text = SUITE.replace('{ accountId: acct-one }', '{ accountId: ACCT ONE }');

    await expect(run(model, { loaded: loaded(text) })).rejects.toThrow(
      /case urgent-ticket: the request does not match the renewal-brief input: accountId: must be a lower-case account id/,
    );
    expect(model.requests).toEqual([]);
  });

  it('computes p95 by nearest rank', () => {
    expect(p95([])).toBe(0);
    expect(p95([5])).toBe(5);
    expect(p95(Array.from({ length: 20 }, (_, i) => i + 1))).toBe(19);
  });
});

describe('record and replay', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rein-evals-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays what was recorded, and a changed prompt finds no recording and names the re-record command', async () => {
    const live = new ScriptedModel((request) => ({ outputText: groundedAnswer(request) }));
    const recorder = new RecordingModelClient(live, 'unit-suite', 'scripted');
    const recorded = await run(recorder);
    const saved = await recorder.save(dir, { prune: true });

    const replayed = await run(new ReplayModelClient(dir, 'unit-suite'));
    const changed = await run(new ReplayModelClient(dir, 'unit-suite'), {
      prompt: { instructions: `${LIVE.instructions}\n- Be brief.` },
    });

    expect(saved).toEqual({ written: 2, unchanged: 0, pruned: 0 });
    expect(replayed.cases.map((c) => c.runs[0]?.output)).toEqual(
      recorded.cases.map((c) => c.runs[0]?.output),
    );
    expect(changed.prompt.modified).toBe(true);
    expect(changed.summary.missingRecordings).toBe(2);
    expect(changed.cases[0]?.runs[0]?.error?.code).toBe('missing_recording');
    expect(changed.cases[0]?.runs[0]?.error?.message).toMatch(
      /^No recording in suite unit-suite for this request \(model gpt-4\.1-mini, prompt sha256:.*Re-record with: npm run eval -- --suite unit-suite --record$/,
    );
    expect(changed.notes[0]).toMatch(
      /^2 of 2 cases have no recording for prompt renewal-brief v2 .*Re-record with: npm run eval -- --suite unit-suite --record$/,
    );
  });

  it('keeps the recordings of other prompt versions when another version is recorded, until it leaves the manifest', async () => {
    const live = new ScriptedModel((request) => ({ outputText: groundedAnswer(request) }));
    const v1 = new RecordingModelClient(live, 'unit-suite', 'scripted');
    await run(v1);
    await v1.save(dir, { prune: true });
    const v2Instructions = `${LIVE.instructions}\n- A second version.`;
    const v2 = new RecordingModelClient(live, 'unit-suite', 'scripted');
    const recordedV2 = await run(v2, { prompt: { instructions: v2Instructions } });
    const bothVersions = new Set([promptHashOf(LIVE.instructions), promptHashOf(v2Instructions)]);
    const recorded = { promptHash: recordedV2.prompt.contentHash, model: recordedV2.model };

    const kept = await v2.save(dir, {
      prune: staleRecordings({ manifestPromptHashes: bothVersions, recorded }),
    });
    const replayedV1 = await run(new ReplayModelClient(dir, 'unit-suite'));
    const v1Removed = await v2.save(dir, {
      prune: staleRecordings({ manifestPromptHashes: new Set([recorded.promptHash]), recorded }),
    });

    expect(kept).toEqual({ written: 2, unchanged: 0, pruned: 0 });
    expect(replayedV1.summary.missingRecordings).toBe(0);
    expect(v1Removed).toEqual({ written: 0, unchanged: 2, pruned: 2 });
  });

  it('names the exact re-record command: the prompt version and model when they are not the defaults', async () => {
    const other = await run(new ReplayModelClient(dir, 'unit-suite'), { model: 'gpt-4o-mini' });
    expect(other.reRecordCommand).toBe('npm run eval -- --suite unit-suite --record --model gpt-4o-mini');
    expect(other.cases[0]?.runs[0]?.error?.message).toMatch(
      /Re-record with: npm run eval -- --suite unit-suite --record --model gpt-4o-mini$/,
    );
    expect(reRecordCommand('renewal-brief', { promptVersion: 'v2' })).toBe(
      'npm run eval -- --suite renewal-brief --record --prompt-version v2',
    );
  });

  it('keys recordings by model, prompt hash and request, and keeps unchanged files as they are', async () => {
    const live = new ScriptedModel((request) => ({ outputText: groundedAnswer(request) }));
    const first = new RecordingModelClient(live, 'unit-suite', 'scripted');
    await run(first);
    await first.save(dir, { prune: true });
    const files = await readdir(dir);
    const before = await Promise.all(files.map((file) => stat(join(dir, file))));
    const second = new RecordingModelClient(live, 'unit-suite', 'scripted');
    await run(second, { caseIds: ['urgent-ticket'] });

    expect(await second.save(dir, { prune: false })).toEqual({ written: 0, unchanged: 1, pruned: 0 });
    expect((await Promise.all(files.map((file) => stat(join(dir, file))))).map((s) => s.mtimeMs)).toEqual(
      before.map((s) => s.mtimeMs),
    );
    const recording: unknown = JSON.parse(await readFile(join(dir, files[0] ?? ''), 'utf8'));
    expect(recording).toMatchObject({
      suite: 'unit-suite',
      backend: 'scripted',
      model: 'gpt-4.1-mini',
      promptHash: LIVE.contentHash,
    });

    const replay = new ReplayModelClient(dir, 'unit-suite');
    const context = extractContext(userMessageOf(live.requests[0]?.input ?? ''));
    expect(context).not.toBeNull();
    const request = live.requests[0];
    if (!request) throw new Error('no request');
    await expect(replay.generate({ ...request, model: 'gpt-4o-mini' })).rejects.toBeInstanceOf(
      MissingRecordingError,
    );
    await expect(
      replay.generate({ ...request, input: `${userMessageOf(request.input)} ` }),
    ).rejects.toBeInstanceOf(MissingRecordingError);
    await expect(replay.generate(request)).resolves.toMatchObject({ model: 'gpt-4.1-mini' });
  });

  it('builds the same model input as the gateway for the same context', async () => {
    const evalCase = loaded().suite.cases[0];
    if (!evalCase) throw new Error('fixture');
    const built = await buildCaseContext({
      workflowId: 'renewal-brief',
      request: evalCase.request,
      accountId: 'acct-one',
      fixture: evalCase.fixture,
      fetchedAt: '2026-12-01T09:00:00.000Z',
      promptId: LIVE.id,
      promptVersion: LIVE.version,
    });
    if (!built.ok) throw new Error('no context');
    const model = new ScriptedModel((request) => ({ outputText: groundedAnswer(request) }));
    await run(model, { caseIds: ['urgent-ticket'] });

    // The tool loop's first turn: the user message alone, with the workflow's tools offered.
    expect(model.requests[0]?.input).toEqual([
      { type: 'message', role: 'user', content: buildModelInput(built.context, null) },
    ]);
    expect(model.requests[0]?.tools?.map((tool) => tool.name)).toEqual([
      'get_ticket_thread',
      'get_usage_trend',
    ]);
  });
});
