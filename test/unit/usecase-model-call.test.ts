import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RenewalBriefOutputSchema } from '#shared/workflows/renewal-brief.ts';
import {
  ModelQuotaExceededError,
  ModelRateLimitedError,
  ModelRequestRejectedError,
  ModelTimeoutError,
  ModelUnavailableError,
} from '#shared/domain/model.ts';
import { budgetRefusalFromCause } from '#shared/domain/budget-refusal.ts';
import { HOLD, LEASE_MARGIN_MS } from '#shared/domain/hold.ts';
import { costOf, priceFor, PRICE_TABLE_VERSION, roundUsd } from '#shared/domain/pricing.ts';
import type { Reservation } from '#shared/ports/index.ts';
import { buildSpan } from '#shared/usecases/tracing.ts';
import { backoffMs, callModel, MAX_RETRY_AFTER_MS } from '#shared/usecases/model-call.ts';
import { buildModelInput } from '#shared/usecases/prompt.ts';
import { callModelStep } from '#shared/usecases/tool-loop.ts';
import { livePrompt } from '#shared/workflows/definition.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import { makeDeps, type DepsOverrides } from '../fakes/deps.ts';
import { InMemoryLedger } from '../fakes/ledger.ts';
import { completedResponse, ScriptedModelClient, type ScriptedAnswer } from '../fakes/model-client.ts';
import { FakeCircuitBreaker } from '../fakes/rate-limiter.ts';
import {
  alice,
  errorSummary,
  rejectionOf,
  sampleContext,
  seedAttempt,
  seedRun,
  TENANT,
  validAnswer,
} from '../fakes/fixtures.ts';

const PRIMARY = 'gpt-4.1-mini';
const FALLBACK = 'gpt-4o-mini';
const MONTH = '2026-10';
const ANSWER = completedResponse(JSON.stringify(validAnswer()));
const PRIMARY_COST = costOf(ANSWER.usage, priceFor(PRIMARY, new Date('2026-10-01T09:00:00Z')));
const FALLBACK_COST = costOf(ANSWER.usage, priceFor(FALLBACK, new Date('2026-10-01T09:00:00Z')));

async function setup(answers: ScriptedAnswer[], overrides: DepsOverrides = {}, runCostUsd = 0) {
  const deps = makeDeps({ model: new ScriptedModelClient(answers), ...overrides });
  const run = await seedRun(deps, { costUsd: runCostUsd });
  return { deps, run, task: { tenantId: TENANT, runId: run.runId, attempt: 1 } };
}

function ledgerStep(
  operation: 'reserve' | 'settle' | 'release' | 'sweep',
  attemptKey: string,
  applied = true,
) {
  return { operation, attemptKey, applied };
}

function spanFor(runId: string) {
  const at = new Date('2026-10-01T09:00:00Z');
  return buildSpan(TENANT, runId, {
    name: 'chat',
    kind: 'model_attempt',
    start: at,
    end: at,
    status: 'error',
    attributes: {},
  });
}

beforeEach(() => {
  // Backoff jitter is Math.random() × ceiling: pin it so the waits are exact.
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('callModel', () => {
  it('sends the workflow prompt, schema and limits, reserves then settles once, and costs the run', async () => {
    const { deps, run, task } = await setup([ANSWER]);

    const result = await callModel(deps, task);

    expect(result).toEqual({ attempt: 1, model: PRIMARY });
    expect(deps.model.requests).toEqual([
      {
        model: PRIMARY,
        instructions: livePrompt(renewalBrief.prompts).instructions,
        input: buildModelInput(sampleContext(), null),
        outputSchema: RenewalBriefOutputSchema,
        outputName: 'renewal_brief',
        maxOutputTokens: 2000,
        timeoutMs: 30_000,
      },
    ]);
    expect(deps.gateway.calls).toEqual([
      ledgerStep('reserve', '1.gpt-4.1-mini.1'),
      ledgerStep('settle', '1.gpt-4.1-mini.1'),
    ]);
    expect(deps.ledger.entries).toEqual([
      {
        tenantId: TENANT,
        workflowId: 'renewal-brief',
        runId: run.runId,
        userId: alice.sub,
        accountId: run.accountId,
        model: PRIMARY,
        promptId: 'renewal-brief',
        promptVersion: 'v1',
        environment: 'test',
        at: '2026-10-01T09:00:00.000Z',
        day: '2026-10-01',
        attemptKey: '1.gpt-4.1-mini.1',
        costUsd: PRIMARY_COST,
        inputTokens: 1200,
        cachedInputTokens: 200,
        outputTokens: 400,
        reasoningTokens: 0,
        priceVersion: PRICE_TABLE_VERSION,
        estimated: false,
      },
    ]);
    expect(deps.ledger.budget(TENANT, MONTH)).toEqual({
      tenantId: TENANT,
      month: MONTH,
      limitUsd: 100,
      spentUsd: PRIMARY_COST,
      reservedUsd: 0,
      availableUsd: 100 - PRIMARY_COST,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
    const stored = await deps.runs.getRun(TENANT, run.runId);
    expect({ costUsd: stored?.costUsd, model: stored?.model }).toEqual({
      costUsd: PRIMARY_COST,
      model: PRIMARY,
    });
    expect(await deps.runs.getAttempt(TENANT, run.runId, 1)).toEqual({
      attempt: 1,
      model: PRIMARY,
      outputText: ANSWER.outputText,
      refusal: null,
      finishReason: 'completed',
      validationErrors: null,
      costUsd: PRIMARY_COST,
      billing: {
        reservation: {
          tenantId: TENANT,
          runId: run.runId,
          attempt: 1,
          attemptKey: '1.gpt-4.1-mini.1',
          model: PRIMARY,
          amountUsd: expect.any(Number) as number,
          month: MONTH,
          owner: expect.stringMatching(/^inv_/) as string,
          leaseUntil: expect.any(Number) as number,
        },
        usage: ANSWER.usage,
        priceVersion: PRICE_TABLE_VERSION,
      },
    });
  });

  it('records the attempt as a GenAI span with tokens, cost and the provider id', async () => {
    const { deps, run, task } = await setup([ANSWER]);

    await callModel(deps, task);

    const prompt = livePrompt(renewalBrief.prompts);
    expect(deps.traces.spansOf(TENANT, run.runId)).toEqual([
      {
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
        spanId: expect.stringMatching(/^[0-9a-f]{16}$/) as string,
        name: 'chat gpt-4.1-mini',
        kind: 'model_attempt',
        startTime: '2026-10-01T09:00:00.000Z',
        endTime: '2026-10-01T09:00:00.000Z',
        durationMs: 0,
        status: 'ok',
        attributes: {
          'rein.run.id': run.runId,
          'rein.tenant.id': TENANT,
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': PRIMARY,
          'gen_ai.response.model': ANSWER.model,
          'gen_ai.request.max_tokens': 2000,
          'gen_ai.prompt.id': 'renewal-brief',
          'gen_ai.prompt.version': 'v2',
          'gen_ai.prompt.hash': prompt.contentHash,
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.cached_input_tokens': 200,
          'gen_ai.usage.output_tokens': 400,
          'gen_ai.usage.reasoning_tokens': 0,
          'gen_ai.response.finish_reasons': ['completed'],
          'gen_ai.response.id': 'resp_test_1',
          'rein.latency_ms': 850,
          'rein.cost_usd': PRIMARY_COST,
          'rein.price_version': PRICE_TABLE_VERSION,
          'rein.attempt': 1,
          'rein.try': 1,
          'rein.refusal': false,
        },
      },
    ]);
  });

  it('waits a short Retry-After exactly, then retries the same model', async () => {
    const { deps, task } = await setup([new ModelRateLimitedError(2000, 'req_429'), ANSWER]);

    const result = await callModel(deps, task);

    expect(result).toEqual({ attempt: 1, model: PRIMARY });
    expect(deps.sleeps).toEqual([2000]);
    expect(deps.model.modelsCalled).toEqual([PRIMARY, PRIMARY]);
    expect(deps.gateway.calls).toEqual([
      ledgerStep('reserve', '1.gpt-4.1-mini.1'),
      ledgerStep('release', '1.gpt-4.1-mini.1'),
      ledgerStep('reserve', '1.gpt-4.1-mini.2'),
      ledgerStep('settle', '1.gpt-4.1-mini.2'),
    ]);
    expect(deps.ledger.budget(TENANT, MONTH).reservedUsd).toBe(0);
  });

  it('falls back to the next model at once when Retry-After is longer than it will wait', async () => {
    const { deps, task } = await setup([new ModelRateLimitedError(MAX_RETRY_AFTER_MS + 1, null), ANSWER]);

    const result = await callModel(deps, task);

    expect(result).toEqual({ attempt: 1, model: FALLBACK });
    expect(deps.sleeps).toEqual([]);
    expect(deps.model.modelsCalled).toEqual([PRIMARY, FALLBACK]);
    expect(deps.ledger.entries.map((e) => [e.attemptKey, e.costUsd])).toEqual([
      ['1.gpt-4o-mini.1', FALLBACK_COST],
    ]);
  });

  it('backs off with jitter when a 429 carries no Retry-After', async () => {
    const { deps, task } = await setup([new ModelRateLimitedError(null, null), ANSWER]);

    await callModel(deps, task);

    expect(deps.sleeps).toEqual([125]);
  });

  it('backs off after 5xx answers up to the tries per model, then falls back', async () => {
    const unavailable = () => new ModelUnavailableError('The model provider answered 503.', 'req_503');
    const { deps, task } = await setup([unavailable(), unavailable(), unavailable(), ANSWER]);

    const result = await callModel(deps, task);

    expect(result).toEqual({ attempt: 1, model: FALLBACK });
    expect(deps.model.modelsCalled).toEqual([PRIMARY, PRIMARY, PRIMARY, FALLBACK]);
    // Full jitter at 0.5 of 250 ms then 500 ms; no wait after the last try of a model.
    expect(deps.sleeps).toEqual([125, 250]);
    // The fallback had no failures to clear.
    expect(deps.breaker.failures).toEqual([PRIMARY, PRIMARY, PRIMARY]);
    expect(deps.breaker.successes).toEqual([]);
    expect(deps.ledger.budget(TENANT, MONTH)).toEqual({
      tenantId: TENANT,
      month: MONTH,
      limitUsd: 100,
      spentUsd: FALLBACK_COST,
      reservedUsd: 0,
      availableUsd: 100 - FALLBACK_COST,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
  });

  it('retries a timed-out attempt, charging the timed-out one at its reservation, flagged estimated', async () => {
    const { deps, run, task } = await setup([new ModelTimeoutError(), ANSWER]);

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: PRIMARY });
    expect(deps.model.modelsCalled).toEqual([PRIMARY, PRIMARY]);
    const [timedOut, answered] = deps.ledger.entries;
    expect(timedOut).toMatchObject({ attemptKey: '1.gpt-4.1-mini.1', estimated: true, outputTokens: 0 });
    expect(timedOut?.costUsd).toBeGreaterThan(PRIMARY_COST);
    expect(answered).toMatchObject({
      attemptKey: '1.gpt-4.1-mini.2',
      estimated: false,
      costUsd: PRIMARY_COST,
    });
    const charged = roundUsd((timedOut?.costUsd ?? 0) + PRIMARY_COST);
    expect(deps.ledger.budget(TENANT, MONTH)).toMatchObject({ spentUsd: charged, reservedUsd: 0 });
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBeCloseTo(charged, 6);
  });

  it('fails at once with Rein.model_unavailable on a quota error, releasing the reservation', async () => {
    const { deps, task } = await setup([new ModelQuotaExceededError('req_quota'), ANSWER]);

    const error = await rejectionOf(callModel(deps, task));

    expect(errorSummary(error)).toEqual({
      name: 'Rein.model_unavailable',
      code: 'model_unavailable',
      status: 500,
      message: 'The model provider account has no quota left.',
    });
    expect(deps.model.modelsCalled).toEqual([PRIMARY]);
    expect(deps.gateway.calls).toEqual([
      ledgerStep('reserve', '1.gpt-4.1-mini.1'),
      ledgerStep('release', '1.gpt-4.1-mini.1'),
    ]);
    expect(deps.ledger.budget(TENANT, MONTH)).toEqual({
      tenantId: TENANT,
      month: MONTH,
      limitUsd: 100,
      spentUsd: 0,
      reservedUsd: 0,
      availableUsd: 100,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
  });

  it('fails at once with Rein.model_unavailable when the provider rejects the request', async () => {
    const { deps, task } = await setup([
      new ModelRequestRejectedError('The model provider rejected the request (400).', null),
    ]);

    const error = await rejectionOf(callModel(deps, task));

    expect([error.name, deps.model.modelsCalled]).toEqual(['Rein.model_unavailable', [PRIMARY]]);
  });

  it('fails with Rein.model_unavailable when every model is exhausted', async () => {
    const unavailable = () => new ModelUnavailableError('The model provider answered 502.', null);
    const { deps, task } = await setup(Array.from({ length: 6 }, unavailable));

    const error = await rejectionOf(callModel(deps, task));

    expect(errorSummary(error)).toEqual({
      name: 'Rein.model_unavailable',
      code: 'model_unavailable',
      status: 500,
      message: 'No model could produce an answer: The model provider answered 502.',
    });
    expect(deps.ledger.budget(TENANT, MONTH).reservedUsd).toBe(0);
    expect(deps.ledger.entries).toEqual([]);
  });

  it("fails with Rein.budget_exceeded and calls no model when the tenant's budget cannot cover the attempt", async () => {
    const { deps, task } = await setup([ANSWER], { ledger: new InMemoryLedger(0.001) });

    const error = await rejectionOf(callModel(deps, task));

    expect({ name: error.name, refusal: budgetRefusalFromCause(error.message) }).toEqual({
      name: 'Rein.budget_exceeded',
      refusal: {
        budget: 'tenant_month',
        month: MONTH,
        limitUsd: 0.001,
        spentUsd: 0,
        reservedUsd: 0,
        attemptUsd: expect.any(Number) as number,
      },
    });
    expect(budgetRefusalFromCause(error.message)?.attemptUsd).toBeGreaterThan(0.001);
    expect(deps.model.requests).toEqual([]);
  });

  it('fails with Rein.budget_exceeded before reserving when the attempt would pass the run cost limit', async () => {
    const { deps, task } = await setup([ANSWER], {}, 0.4999);

    const error = await rejectionOf(callModel(deps, task));

    expect([error.name, budgetRefusalFromCause(error.message)]).toEqual([
      'Rein.budget_exceeded',
      {
        budget: 'run_cost_cap',
        limitUsd: renewalBrief.costLimitUsdPerRun,
        spentUsd: 0.4999,
        attemptUsd: expect.any(Number) as number,
      },
    ]);
    expect([deps.gateway.calls, deps.model.requests]).toEqual([[], []]);
  });

  it('makes no second provider call and no second charge when a retried invocation finds the settled attempt', async () => {
    const { deps, run, task } = await setup([ANSWER]);
    // The first invocation dies after the settle transaction committed, before returning.
    deps.gateway.failNext('settle', new Error('Task timed out after 30.00 seconds'), 'after');
    await expect(callModel(deps, task)).rejects.toThrow('Task timed out');

    const retried = await callModel(deps, task);
    const retriedAgain = await callModel(deps, task);

    expect([retried, retriedAgain]).toEqual([
      { attempt: 1, model: PRIMARY },
      { attempt: 1, model: PRIMARY },
    ]);
    expect(deps.model.requests).toHaveLength(1);
    expect(deps.gateway.calls).toEqual([
      ledgerStep('reserve', '1.gpt-4.1-mini.1'),
      ledgerStep('settle', '1.gpt-4.1-mini.1'),
      ledgerStep('reserve', '1.gpt-4.1-mini.1', false),
      ledgerStep('reserve', '1.gpt-4.1-mini.1', false),
    ]);
    expect(deps.ledger.entries).toHaveLength(1);
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBe(PRIMARY_COST);
    expect(deps.ledger.budget(TENANT, MONTH).spentUsd).toBe(PRIMARY_COST);
  });

  it('never takes over a live lease: a retry fails with the retryable Rein.LeaseHeld and calls nothing', async () => {
    const { deps, run, task } = await setup([ANSWER, ANSWER]);
    // The first invocation dies between the provider's answer and the settle (its lease lives on).
    deps.gateway.failNext('settle', new Error('Runtime exited with error: signal: killed'));
    await expect(callModel(deps, task, { leaseMs: 60_000 })).rejects.toThrow('signal: killed');

    const error = await rejectionOf(callModel(deps, task));

    expect([error.name, deps.model.requests.length]).toEqual(['Rein.LeaseHeld', 1]);
    expect(deps.gateway.holdOf(TENANT, run.runId, 1)?.state).toBe(HOLD.held);
    expect(deps.ledger.budget(TENANT, MONTH).reservedUsd).toBeGreaterThan(0);
  });

  it("sweeps a dead invocation's hold once its lease expired, then asks again and charges that answer once", async () => {
    const { deps, run, task } = await setup([ANSWER, ANSWER]);
    deps.gateway.failNext('settle', new Error('Runtime exited with error: signal: killed'));
    await expect(callModel(deps, task, { leaseMs: 60_000 })).rejects.toThrow('signal: killed');
    deps.clock.advance(60_000 + LEASE_MARGIN_MS + 1);

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: PRIMARY });

    // The answer was lost with the first Lambda, so the provider is asked again.
    expect(deps.model.requests).toHaveLength(2);
    expect(deps.gateway.calls).toEqual([
      ledgerStep('reserve', '1.gpt-4.1-mini.1'),
      ledgerStep('sweep', '1.gpt-4.1-mini.1'),
      ledgerStep('reserve', '1.gpt-4.1-mini.1'),
      ledgerStep('settle', '1.gpt-4.1-mini.1'),
    ]);
    expect(deps.ledger.budget(TENANT, MONTH)).toMatchObject({ spentUsd: PRIMARY_COST, reservedUsd: 0 });
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBe(PRIMARY_COST);
  });

  it('is not pre-empted when slow: a retry started alongside waits for it, and the provider is called once', async () => {
    const { deps, run, task } = await setup([]);
    const retried: { b: Promise<unknown> | null } = { b: null };
    const bDeps = { ...deps, model: new ScriptedModelClient([ANSWER]) };
    const aDeps = {
      ...deps,
      model: {
        generate: async () => {
          // Step Functions starts B while A waits on the provider.
          retried.b = callModel(bDeps, task).catch((error: unknown) => error);
          await retried.b;
          return structuredClone(ANSWER);
        },
      },
    };

    expect(await callModel(aDeps, task, { leaseMs: 60_000 })).toEqual({ attempt: 1, model: PRIMARY });
    const bError = (await retried.b) as Error;
    expect(bError.name).toBe('Rein.LeaseHeld');
    // Step Functions retries B: it finds the attempt settled and calls nothing.
    expect(await callModel(bDeps, task)).toEqual({ attempt: 1, model: PRIMARY });

    expect(bDeps.model.requests).toEqual([]);
    expect(deps.ledger.entries.map((e) => [e.attemptKey, e.costUsd])).toEqual([
      ['1.gpt-4.1-mini.1', PRIMARY_COST],
    ]);
    expect(deps.ledger.budget(TENANT, MONTH)).toMatchObject({ spentUsd: PRIMARY_COST, reservedUsd: 0 });
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBe(PRIMARY_COST);
  });

  it('fails with the retryable Rein.SettlePending when the store refuses the settle, keeping the answer on its hold', async () => {
    const { deps, run, task } = await setup([ANSWER]);
    deps.gateway.failSettleTransiently();

    const error = await rejectionOf(callModel(deps, task));

    expect(error.name).toBe('Rein.SettlePending');
    expect(deps.gateway.holdOf(TENANT, run.runId, 1)?.state).toBe(HOLD.answered);
    expect(deps.ledger.entries).toEqual([]);
  });

  it('settles a kept answer first on retry and returns it without calling the provider again', async () => {
    const { deps, run, task } = await setup([ANSWER]);
    deps.gateway.failSettleTransiently();
    await expect(callModel(deps, task)).rejects.toThrow('could not settle it yet');

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: PRIMARY });

    expect(deps.model.requests).toHaveLength(1);
    expect(deps.ledger.entries.map((e) => [e.attemptKey, e.costUsd])).toEqual([
      ['1.gpt-4.1-mini.1', PRIMARY_COST],
    ]);
    expect(deps.ledger.budget(TENANT, MONTH)).toMatchObject({ spentUsd: PRIMARY_COST, reservedUsd: 0 });
    expect(await deps.runs.getAttempt(TENANT, run.runId, 1)).not.toBeNull();
  });

  it("settles a kept answer of a run nobody retried when the tenant's next model call sweeps expired leases", async () => {
    const { deps, run, task } = await setup([ANSWER, ANSWER]);
    deps.gateway.failSettleTransiently();
    await expect(callModel(deps, task, { leaseMs: 1_000 })).rejects.toThrow('could not settle it yet');
    deps.clock.advance(1_000 + LEASE_MARGIN_MS + 1);

    const other = await seedRun(deps);
    await callModel(deps, { tenantId: TENANT, runId: other.runId, attempt: 1 });

    expect(deps.gateway.holdOf(TENANT, run.runId, 1)?.state).toBe(HOLD.settled);
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBe(PRIMARY_COST);
    expect(deps.ledger.budget(TENANT, MONTH)).toMatchObject({ spentUsd: 2 * PRIMARY_COST, reservedUsd: 0 });
  });

  it("waits for other runs' in-flight holds instead of failing when settled spend leaves room", async () => {
    const { deps, task } = await setup([ANSWER], { ledger: new InMemoryLedger(0.03) });
    // Another run of the tenant holds most of the budget; it is released while this one waits.
    const other = await seedRun(deps);
    const held: Reservation = {
      tenantId: TENANT,
      runId: other.runId,
      attempt: 1,
      attemptKey: '1.gpt-4.1-mini.1',
      model: PRIMARY,
      amountUsd: 0.0299,
      month: MONTH,
      owner: 'inv_other',
      leaseUntil: deps.clock.now().getTime() + 60_000,
    };
    await deps.gateway.reserve(
      held,
      1,
      { key: `${TENANT}#tpm`, tokens: 1, limitPerMinute: 1e9 },
      deps.clock.now(),
    );
    const sleep = deps.sleep.bind(deps);
    deps.sleep = async (ms) => {
      await deps.gateway.release(
        { reservation: held, span: spanFor(other.runId), estimatedCharge: null },
        deps.clock.now(),
      );
      return sleep(ms);
    };

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: PRIMARY });

    expect(deps.sleeps).toHaveLength(1);
    expect(deps.ledger.budget(TENANT, MONTH)).toMatchObject({ spentUsd: PRIMARY_COST, reservedUsd: 0 });
  });

  it("fails with Rein.budget_exceeded when other runs' holds never leave room before the deadline", async () => {
    const { deps, task } = await setup([ANSWER], { ledger: new InMemoryLedger(0.03) });
    const other = await seedRun(deps);
    await deps.gateway.reserve(
      {
        tenantId: TENANT,
        runId: other.runId,
        attempt: 1,
        attemptKey: '1.gpt-4.1-mini.1',
        model: PRIMARY,
        amountUsd: 0.0299,
        month: MONTH,
        owner: 'inv_other',
        leaseUntil: deps.clock.now().getTime() + 600_000,
      },
      1,
      { key: `${TENANT}#tpm`, tokens: 1, limitPerMinute: 1e9 },
      deps.clock.now(),
    );

    const error = await rejectionOf(callModel(deps, task));

    expect(error.name).toBe('Rein.budget_exceeded');
    // The month's figures as they stood: other runs' holds took the room.
    expect(budgetRefusalFromCause(error.message)).toMatchObject({
      budget: 'tenant_month',
      month: MONTH,
      limitUsd: 0.03,
      spentUsd: 0,
      reservedUsd: 0.0299,
    });
    expect(deps.sleeps.length).toBeGreaterThan(1);
    expect(deps.model.requests).toEqual([]);
  });

  it('emits budget.threshold_reached for 80% at the end of the model step that crosses it, and once a month', async () => {
    const { deps, task } = await setup([ANSWER, ANSWER]);
    const month = deps.ledger.row(TENANT, MONTH);
    // Half an answer short of 80% of the month's $100, with 50% emitted already.
    month.spentUsd = roundUsd(80 - PRIMARY_COST / 2);
    month.alertsSent = [50];

    await callModelStep(deps, task);

    expect(deps.ledger.alertEvents.map((event) => [event.type, event.data])).toEqual([
      [
        'budget.threshold_reached',
        {
          budget: 'tenant_month',
          month: MONTH,
          thresholdPercent: 80,
          limitUsd: 100,
          spentUsd: roundUsd(80 - PRIMARY_COST / 2 + PRIMARY_COST),
          runId: task.runId,
        },
      ],
    ]);
    // The next settled attempt (another run) spends more, and crosses nothing new.
    const next = await seedRun(deps);
    await callModelStep(deps, { tenantId: TENANT, runId: next.runId, attempt: 1 });
    expect(deps.ledger.alertEvents).toHaveLength(1);
  });

  it("clears a model's breaker failures after its next answered attempt", async () => {
    const { deps, task } = await setup([new ModelTimeoutError(), ANSWER]);

    await callModel(deps, task);

    expect([deps.breaker.failures, deps.breaker.successes]).toEqual([[PRIMARY], [PRIMARY]]);
    expect((await deps.breaker.check(PRIMARY)).failures).toBe(0);
  });

  it('counts no breaker failure for errors about the request itself', async () => {
    const { deps, task } = await setup([
      new ModelRateLimitedError(100, null),
      new ModelRequestRejectedError('The model provider rejected the request (400).', null),
    ]);

    await rejectionOf(callModel(deps, task));

    expect(deps.breaker.failures).toEqual([]);
  });

  it('charges an answer once even when a retried invocation reuses an attempt key released by the first', async () => {
    const { deps, run, task } = await setup([
      new ModelUnavailableError('The model provider answered 503.', null),
      ANSWER,
    ]);
    // The first invocation gets a 503 (its reservation is released) and dies while backing off;
    // Step Functions retries the task on the Lambda service error.
    deps.sleep = () => Promise.reject(new Error('Lambda.ServiceException'));
    await expect(callModel(deps, task)).rejects.toThrow('Lambda.ServiceException');
    deps.sleep = () => Promise.resolve();

    await callModel(deps, task);

    expect(deps.model.requests).toHaveLength(2);
    expect(deps.ledger.entries.map((e) => [e.attemptKey, e.costUsd])).toEqual([
      [expect.any(String), PRIMARY_COST],
    ]);
    expect(deps.ledger.budget(TENANT, MONTH)).toEqual({
      tenantId: TENANT,
      month: MONTH,
      limitUsd: 100,
      spentUsd: PRIMARY_COST,
      reservedUsd: 0,
      availableUsd: 100 - PRIMARY_COST,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
    expect((await deps.runs.getRun(TENANT, run.runId))?.costUsd).toBe(PRIMARY_COST);
  });

  it('charges a refused answer once, like any answered attempt', async () => {
    const refused = completedResponse(null, { refusal: 'I cannot help with that.' });
    const { deps, run, task } = await setup([refused]);

    await callModel(deps, task);

    expect(deps.ledger.entries.map((e) => e.attemptKey)).toEqual(['1.gpt-4.1-mini.1']);
    expect(
      deps.traces.spansOf(TENANT, run.runId).map((s) => [s.status, s.attributes['rein.refusal']]),
    ).toEqual([['error', true]]);
  });

  it('never calls a model outside the environment allow-list', async () => {
    const { deps, task } = await setup([ANSWER], { settings: { modelAllowList: [FALLBACK, 'gpt-5'] } });

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: FALLBACK });
    expect(deps.model.modelsCalled).toEqual([FALLBACK]);
  });

  it('fails with Rein.model_unavailable, reserving nothing, when no policy model is allowed', async () => {
    const { deps, task } = await setup([ANSWER], { settings: { modelAllowList: ['gpt-5'] } });

    const error = await rejectionOf(callModel(deps, task));

    expect([error.name, error.message]).toEqual([
      'Rein.model_unavailable',
      'No model of the workflow policy is allowed in this environment.',
    ]);
    expect([deps.model.requests, deps.gateway.calls]).toEqual([[], []]);
  });

  it('skips a model whose circuit is open', async () => {
    const { deps, task } = await setup([ANSWER], { breaker: new FakeCircuitBreaker([PRIMARY]) });

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: FALLBACK });
    expect(deps.model.modelsCalled).toEqual([FALLBACK]);
  });

  it('caps the attempt timeout with the environment cap', async () => {
    const { deps, task } = await setup([ANSWER], { settings: { attemptTimeoutCapMs: 5000 } });

    await callModel(deps, task);

    expect(deps.model.requests.map((r) => r.timeoutMs)).toEqual([5000]);
  });

  it('sends the previous validation problems on a repair attempt, under its own attempt key', async () => {
    const { deps, run } = await setup([ANSWER]);
    await seedAttempt(deps, run, 1, { outputText: '{"summary":' });
    await deps.runs.setAttemptValidation(TENANT, run.runId, 1, ['the answer is not valid JSON']);

    const result = await callModel(deps, { tenantId: TENANT, runId: run.runId, attempt: 2 });

    expect(result).toEqual({ attempt: 2, model: PRIMARY });
    expect(deps.model.requests.map((r) => r.input)).toEqual([
      buildModelInput(sampleContext(), ['the answer is not valid JSON']),
    ]);
    expect(deps.ledger.entries.map((e) => e.attemptKey)).toEqual(['2.gpt-4.1-mini.1']);
  });

  it('releases the reservation and rethrows when the client fails with an unexpected error', async () => {
    const { deps, task } = await setup([new TypeError('fetch is not a function')]);

    await expect(callModel(deps, task)).rejects.toThrow(new TypeError('fetch is not a function'));
    expect(deps.gateway.calls.map((c) => c.operation)).toEqual(['reserve', 'release']);
  });

  it('waits for the next token window when this one is full, then reserves and answers', async () => {
    const { deps, task } = await setup([ANSWER]);
    // Other runs of the tenant used the minute's tokens but 100.
    await deps.rateLimiter.consume(`${TENANT}#tpm`, 1_000_000 - 100, 1_000_000, deps.clock.now());

    expect(await callModel(deps, task)).toEqual({ attempt: 1, model: PRIMARY });
    expect(deps.sleeps).toEqual([60_000]);
    expect(deps.model.requests).toHaveLength(1);
  });

  it('fails with Rein.rate_limited when the next token window is past the deadline', async () => {
    const { deps, task } = await setup([ANSWER]);
    deps.clock.advance(30_000);
    await deps.rateLimiter.consume(`${TENANT}#tpm`, 1_000_000, 1_000_000, deps.clock.now());
    // Every later window is full as well, as if a burst of other runs kept it so.
    deps.sleep = (ms: number) => {
      deps.sleeps.push(ms);
      deps.clock.advance(ms);
      return deps.rateLimiter
        .consume(`${TENANT}#tpm`, 1_000_000, 1_000_000, deps.clock.now())
        .then(() => undefined);
    };

    const error = await rejectionOf(callModel(deps, task));

    expect([error.name, deps.model.requests]).toEqual(['Rein.rate_limited', []]);
    expect(deps.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThan(100_000);
  });

  it('fails with Rein.rate_limited at once when one attempt needs more tokens than the per-minute limit', async () => {
    const { deps, task } = await setup([ANSWER], {
      settings: { rateLimits: { requestsPerMinute: 100, tokensPerMinute: 10 } },
    });

    const error = await rejectionOf(callModel(deps, task));

    expect([error.name, deps.sleeps, deps.model.requests, deps.gateway.calls]).toEqual([
      'Rein.rate_limited',
      [],
      [],
      [],
    ]);
  });

  it('fails with Rein.context_unavailable when the run has no context', async () => {
    const deps = makeDeps({ model: new ScriptedModelClient([ANSWER]) });
    const run = await seedRun(deps, { context: null });

    const error = await rejectionOf(callModel(deps, { tenantId: TENANT, runId: run.runId, attempt: 1 }));

    expect(error.name).toBe('Rein.context_unavailable');
  });
});

describe('backoffMs', () => {
  it('doubles the ceiling per try up to 4 s, with full jitter', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 9].map((n) => backoffMs(n, top))).toEqual([
      249, 499, 999, 1999, 3999, 3999, 3999,
    ]);
    expect(backoffMs(3, () => 0)).toBe(0);
  });
});
