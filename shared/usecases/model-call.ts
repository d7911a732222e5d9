import { BudgetExceededError, NotFoundError, WorkflowStepError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import {
  ModelError,
  ModelQuotaExceededError,
  ModelRateLimitedError,
  ModelRequestRejectedError,
  ModelTimeoutError,
  ModelUnavailableError,
  type ModelResponse,
} from '../domain/model.ts';
import {
  costOf,
  estimateTokens,
  maxCostOf,
  priceFor,
  PRICE_TABLE_VERSION,
  UnknownModelPriceError,
} from '../domain/pricing.ts';
import type { AttemptRecord, Reservation } from '../ports/index.ts';
import { livePrompt } from '../workflows/definition.ts';
import { getWorkflow } from '../workflows/registry.ts';
import type { Deps } from './deps.ts';
import { buildModelInput } from './prompt.ts';
import { recordSpan, sweptAttributes } from './tracing.ts';

/** Longest provider `Retry-After` the gateway waits for; beyond it, it falls back at once. */
export const MAX_RETRY_AFTER_MS = 10_000;
const BASE_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 4_000;

/** Exponential backoff with full jitter. */
export function backoffMs(tryNumber: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (tryNumber - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Layer 3, the model gateway. It owns every provider retry on this call path (the SDK's
 * `maxRetries` is 0 and Step Functions retries only Lambda service errors):
 * - 429 honours Retry-After up to MAX_RETRY_AFTER_MS, beyond it falls back to the next model;
 * - timeouts, 5xx and connection errors back off exponentially with jitter;
 * - quota and request-rejected errors are not retried;
 * - a model whose circuit is open (shared state, see DynamoCircuitBreaker) is skipped for its cool-down.
 *
 * Money and writes, per provider call (each step one GatewayStore transaction, plus the trace span):
 * 1. reserve: the tenant's tokens-per-minute window and the attempt's maximum cost, together;
 * 2. settle: the answered attempt, its actual cost, its ledger entry and the run's cost, together; or
 *    release: the reservation of an attempt that got no answer, with its breaker failure.
 * Rein charges the usage the provider reports. An attempt that ends without an answer (an error
 * status, a timeout, a reset connection) reports none and is released; a provider that still bills
 * a request cut off by the timeout is not charged here for it.
 */
export async function callModel(
  deps: Pick<
    Deps,
    'clock' | 'runs' | 'traces' | 'model' | 'gateway' | 'settings' | 'sleep' | 'breaker' | 'metrics'
  >,
  task: { tenantId: string; runId: string; attempt: number },
): Promise<{ attempt: number; model: string }> {
  const run = await deps.runs.getRun(task.tenantId, task.runId);
  if (!run) throw new NotFoundError('Run');
  // A retried Lambda whose provider call was answered and settled reuses the stored attempt: the
  // attempt record is written in the settle transaction, so it exists only if the cost was charged.
  const done = await deps.runs.getAttempt(task.tenantId, task.runId, task.attempt);
  if (done) return { attempt: task.attempt, model: done.model };
  // An earlier invocation of this run that died between reserve and settle (a crash, a Lambda
  // timeout) left its reservation held: release it (or, if it recorded an answer it could not
  // settle, settle it) before reserving again.
  const swept = await deps.gateway.releaseHeld(task.tenantId, task.runId, deps.clock.now());
  const strandedAttributes = sweptAttributes(swept);
  if (swept.failed.length > 0) {
    // An answer that could not be charged yet must not be asked for again, and a hold must not be
    // left behind: fail the step, and MarkFailed sweeps again (with retries).
    throw new WorkflowStepError('internal_error', 'Earlier reservations of this run could not be ended.');
  }
  let spentThisRun = run.costUsd;
  if (swept.settled.length > 0) {
    const recovered = await deps.runs.getAttempt(task.tenantId, task.runId, task.attempt);
    if (recovered) return { attempt: task.attempt, model: recovered.model };
    // The sweep charged kept answers to the run: the run cost limit counts them.
    spentThisRun = (await deps.runs.getRun(task.tenantId, task.runId))?.costUsd ?? spentThisRun;
  }
  // Identifies this invocation's reservations, so a retried invocation running alongside a slow
  // first one (Step Functions retries Lambda service errors) never settles or releases the other's.
  const owner = newId('inv');

  const context = await deps.runs.getContext(task.tenantId, task.runId);
  if (!context) throw new WorkflowStepError('context_unavailable', 'The run has no context.');
  const workflow = getWorkflow(run.workflowId);
  const prompt = livePrompt(workflow.prompts);
  const previous =
    task.attempt > 1 ? await deps.runs.getAttempt(task.tenantId, task.runId, task.attempt - 1) : null;
  const input = buildModelInput(context, previous?.validationErrors ?? null);
  const policy = workflow.modelPolicy;
  const models = policy.models.filter((model) => deps.settings.modelAllowList.includes(model));
  if (models.length === 0) {
    throw new WorkflowStepError(
      'model_unavailable',
      'No model of the workflow policy is allowed in this environment.',
    );
  }

  const deadline = deps.clock.now().getTime() + policy.totalDeadlineMs;
  let lastError: unknown = null;

  for (const [index, model] of models.entries()) {
    if (index > 0) deps.metrics.count('ModelFallbacks', 1, { model });
    const breaker = await deps.breaker.check(model, deps.clock.now());
    if (breaker.open) {
      deps.metrics.count('BreakerOpen', 1, { model });
      lastError = new ModelUnavailableError(`The circuit for ${model} is open.`, null);
      continue;
    }
    let breakerFailures = breaker.failures;
    for (let tryNumber = 1; tryNumber <= policy.triesPerModel; tryNumber += 1) {
      if (deadline - deps.clock.now().getTime() <= 0) break;
      let price;
      try {
        price = priceFor(model, deps.clock.now());
      } catch (error) {
        if (error instanceof UnknownModelPriceError) {
          lastError = error;
          break;
        }
        throw error;
      }
      const inputTokens = estimateTokens(prompt.instructions + input);
      const maxCost = maxCostOf(inputTokens, policy.maxOutputTokens, price);
      if (spentThisRun + maxCost > workflow.costLimitUsdPerRun) {
        deps.metrics.count('BudgetRefusals', 1, { budget: 'run_cost_cap' });
        throw new WorkflowStepError(
          'budget_exceeded',
          `The run's cost cap blocked the next model attempt: cap $${workflow.costLimitUsdPerRun}, spent $${spentThisRun}, the attempt may cost up to $${maxCost}.`,
        );
      }
      const tokens = {
        key: `${run.tenantId}#tpm`,
        tokens: inputTokens + policy.maxOutputTokens,
        limitPerMinute: deps.settings.rateLimits.tokensPerMinute,
      };
      if (tokens.tokens > tokens.limitPerMinute) {
        deps.metrics.count('RateLimited', 1, { scope: 'tokens' });
        throw new WorkflowStepError(
          'rate_limited',
          "This model attempt needs more tokens than the tenant's tokens-per-minute limit.",
        );
      }
      // Tokens per minute per tenant: while the window is full, wait for the next one if the deadline allows.
      let reservation: Reservation;
      let start: Date;
      for (;;) {
        start = deps.clock.now();
        reservation = {
          tenantId: run.tenantId,
          runId: run.runId,
          attemptKey: `${task.attempt}.${model}.${tryNumber}`,
          amountUsd: maxCost,
          month: start.toISOString().slice(0, 7),
          owner,
        };
        let outcome;
        try {
          outcome = await deps.gateway.reserve(reservation, tokens, start);
        } catch (error) {
          if (error instanceof BudgetExceededError) {
            deps.metrics.count('BudgetRefusals', 1, { budget: 'tenant_month' });
            throw new WorkflowStepError(
              'budget_exceeded',
              `The tenant's monthly budget for ${reservation.month} cannot cover this model attempt of up to $${maxCost}.`,
              error,
            );
          }
          throw error;
        }
        if (outcome.reserved) break;
        if ('taken' in outcome) {
          throw new WorkflowStepError(
            'internal_error',
            'Another invocation of this model call holds the attempt; this one stops.',
          );
        }
        if (deps.clock.now().getTime() + outcome.retryAfterMs >= deadline) {
          deps.metrics.count('RateLimited', 1, { scope: 'tokens' });
          throw new WorkflowStepError(
            'rate_limited',
            "The tenant's token rate limit left no room before the deadline.",
          );
        }
        await deps.sleep(outcome.retryAfterMs);
      }
      const remaining = deadline - deps.clock.now().getTime();

      let response: ModelResponse;
      try {
        response = await deps.model.generate({
          model,
          instructions: prompt.instructions,
          input,
          outputSchema: workflow.outputSchema,
          outputName: workflow.outputName,
          maxOutputTokens: policy.maxOutputTokens,
          timeoutMs: Math.min(
            policy.attemptTimeoutMs,
            deps.settings.attemptTimeoutCapMs ?? Infinity,
            remaining,
          ),
        });
      } catch (error) {
        const modelError = error instanceof ModelError ? error : null;
        // Outages and timeouts count against the model's circuit; the provider's verdicts on the request do not.
        const breakerFailure = error instanceof ModelUnavailableError || error instanceof ModelTimeoutError;
        const stillMine = await deps.gateway.release(
          reservation,
          breakerFailure ? model : null,
          deps.clock.now(),
        );
        if (breakerFailure) breakerFailures += 1;
        deps.metrics.count('ProviderErrors', 1, { kind: modelError?.code ?? 'unknown' });
        await recordSpan(deps.traces, run.tenantId, run.runId, {
          name: `chat ${model}`,
          kind: 'model_attempt',
          start,
          end: deps.clock.now(),
          status: 'error',
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': model,
            'gen_ai.request.max_tokens': policy.maxOutputTokens,
            'gen_ai.prompt.id': prompt.id,
            'gen_ai.prompt.version': prompt.version,
            'gen_ai.prompt.hash': prompt.contentHash,
            'gen_ai.response.id': modelError?.providerRequestId ?? null,
            'error.type': modelError?.code ?? 'unknown',
            'rein.attempt': task.attempt,
            'rein.try': tryNumber,
            'rein.cost_usd': 0,
            ...strandedAttributes,
          },
        });
        lastError = error;
        if (!stillMine) {
          // A retried invocation swept this one's hold and took the task over: stop here.
          throw new WorkflowStepError(
            'internal_error',
            'Another invocation took this model call over.',
            error,
          );
        }
        if (!(error instanceof ModelError)) throw error;
        if (error instanceof ModelQuotaExceededError || error instanceof ModelRequestRejectedError) {
          throw new WorkflowStepError('model_unavailable', error.message, error);
        }
        if (!error.retryable) break;
        if (tryNumber === policy.triesPerModel) break;
        let wait = backoffMs(tryNumber);
        if (error instanceof ModelRateLimitedError && error.retryAfterMs !== null) {
          if (error.retryAfterMs > MAX_RETRY_AFTER_MS) break;
          wait = error.retryAfterMs;
        }
        if (deps.clock.now().getTime() + wait >= deadline) break;
        await deps.sleep(wait);
        continue;
      }

      const cost = costOf(response.usage, price);
      const attempt: AttemptRecord = {
        attempt: task.attempt,
        model,
        outputText: response.outputText,
        refusal: response.refusal,
        finishReason: response.finishReason,
        validationErrors: null,
        costUsd: cost,
        billing: { reservation, usage: response.usage, priceVersion: PRICE_TABLE_VERSION },
      };
      const settled = await deps.gateway.settle(
        {
          attempt,
          tags: {
            tenantId: run.tenantId,
            workflowId: run.workflowId,
            runId: run.runId,
            userId: run.requestedBy,
            model,
            promptId: run.promptId,
            promptVersion: run.promptVersion,
            environment: deps.settings.environment,
          },
          clearBreakerOf: breakerFailures > 0 ? model : null,
        },
        deps.clock.now(),
      );
      if (settled !== 'already') {
        const dimensions = { tenantId: run.tenantId, workflowId: run.workflowId, model };
        deps.metrics.measure('CostUsd', cost, 'None', dimensions);
        deps.metrics.count('InputTokens', response.usage.inputTokens, dimensions);
        deps.metrics.count('OutputTokens', response.usage.outputTokens, dimensions);
      }
      if (settled !== 'settled') {
        // Charged already, or charged late because a retried invocation swept this one's hold and
        // took the attempt over: only the stored attempt can tell the next step what was answered.
        const stored = await deps.runs.getAttempt(run.tenantId, run.runId, task.attempt);
        if (!stored) {
          throw new WorkflowStepError(
            'internal_error',
            'The answered attempt could not be recorded: another invocation took it over.',
          );
        }
        return { attempt: task.attempt, model: stored.model };
      }
      await recordSpan(deps.traces, run.tenantId, run.runId, {
        name: `chat ${model}`,
        kind: 'model_attempt',
        start,
        end: deps.clock.now(),
        status: response.finishReason === 'completed' && response.refusal === null ? 'ok' : 'error',
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': model,
          'gen_ai.response.model': response.model,
          'gen_ai.request.max_tokens': policy.maxOutputTokens,
          'gen_ai.prompt.id': prompt.id,
          'gen_ai.prompt.version': prompt.version,
          'gen_ai.prompt.hash': prompt.contentHash,
          'gen_ai.usage.input_tokens': response.usage.inputTokens,
          'gen_ai.usage.cached_input_tokens': response.usage.cachedInputTokens,
          'gen_ai.usage.output_tokens': response.usage.outputTokens,
          'gen_ai.usage.reasoning_tokens': response.usage.reasoningTokens,
          'gen_ai.response.finish_reasons': [response.finishReason],
          'gen_ai.response.id': response.providerRequestId,
          'rein.latency_ms': response.latencyMs,
          'rein.cost_usd': cost,
          'rein.price_version': PRICE_TABLE_VERSION,
          'rein.attempt': task.attempt,
          'rein.try': tryNumber,
          'rein.refusal': response.refusal !== null,
          ...strandedAttributes,
        },
      });
      return { attempt: task.attempt, model };
    }
  }
  const message = lastError instanceof Error ? lastError.message : 'No model answered before the deadline.';
  throw new WorkflowStepError('model_unavailable', `No model could produce an answer: ${message}`, lastError);
}
