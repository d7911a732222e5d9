import {
  BudgetExceededError,
  LEASE_HELD_ERROR,
  NotFoundError,
  RetryableStepError,
  WorkflowStepError,
} from '../domain/errors.ts';
import { budgetRefusalCause } from '../domain/budget-refusal.ts';
import { LEASE_MARGIN_MS } from '../domain/hold.ts';
import { newId } from '../domain/ids.ts';
import {
  ModelError,
  ModelQuotaExceededError,
  ModelRateLimitedError,
  ModelRequestRejectedError,
  ModelTimeoutError,
  ModelUnavailableError,
  type ModelInputItem,
  type ModelResponse,
  type ModelTool,
} from '../domain/model.ts';
import {
  costOf,
  maxCostOf,
  priceFor,
  PRICE_TABLE_VERSION,
  UnknownModelPriceError,
} from '../domain/pricing.ts';
import type { ContextObject } from '../domain/context.ts';
import type { Run } from '../domain/run.ts';
import type { SpanAttributes } from '../domain/trace.ts';
import type { AttemptRecord, LedgerEntryTags, Reservation } from '../ports/index.ts';
import { livePrompt } from '../workflows/definition.ts';
import { getWorkflow } from '../workflows/registry.ts';
import type { Deps } from './deps.ts';
import { buildModelInput, estimateInputTokens } from './prompt.ts';
import { buildSpan } from './tracing.ts';

/** Longest provider `Retry-After` the gateway waits for; beyond it, it falls back at once. */
export const MAX_RETRY_AFTER_MS = 10_000;
const BASE_BACKOFF_MS = 250;
/** A lease ending sooner than this is waited for in-process; a longer one fails with Rein.LeaseHeld. */
const SHORT_LEASE_WAIT_MS = 2_000;
/** How often a run blocked only by other runs' in-flight holds looks again (jittered, capped). */
const HELD_BY_OTHERS_WAIT_MS = 200;
const HELD_BY_OTHERS_WAIT_CAP_MS = 2_000;
const MAX_BACKOFF_MS = 4_000;

/** Exponential backoff with full jitter. */
export function backoffMs(tryNumber: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (tryNumber - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Layer 3, the model gateway. It owns every provider retry on this call path (the SDK's
 * `maxRetries` is 0 and Step Functions retries only Lambda service errors and the two retryable
 * gateway errors, Rein.LeaseHeld and Rein.SettlePending):
 * - 429 honours Retry-After up to MAX_RETRY_AFTER_MS, beyond it falls back to the next model;
 * - timeouts, 5xx and connection errors back off exponentially with jitter;
 * - quota and request-rejected errors are not retried;
 * - a model whose circuit is open (shared state, see DynamoCircuitBreaker) is skipped for its cool-down.
 *
 * Money (the protocol is in `domain/hold.ts`): per provider call, one round trip before it — the
 * reservation transaction, sent together with the reads of the run, the context and the breaker,
 * none of which it depends on, since the task carries the workflow and the input estimate — and
 * one after it, the settle (or release) transaction, which also writes the attempt's trace span.
 * Breaker writes go alongside, best effort. A repair attempt reads its context and the previous
 * attempt's validation errors first (its input estimate depends on them): one more round trip.
 *
 * `leaseMs` is how long this invocation may live (the Lambda's remaining time); the hold's lease
 * ends that long from now plus LEASE_MARGIN_MS.
 */
export async function callModel(
  deps: Pick<
    Deps,
    'clock' | 'runs' | 'model' | 'gateway' | 'settings' | 'sleep' | 'breaker' | 'metrics' | 'ledger' | 'log'
  >,
  task: { tenantId: string; runId: string; attempt: number; workflowId?: string; inputTokens?: number },
  invocation: { leaseMs?: number } = {},
): Promise<{ attempt: number; model: string }> {
  const started = deps.clock.now();
  // Expired leases of the tenant (invocations that died holding budget) end here, off the critical
  // path: the sweep runs alongside this call and is awaited only at its end.
  const sweep = deps.gateway.sweepExpired(task.tenantId, started).catch(() => []);
  try {
    const { attempt, model } = await gatewayCall(deps, task, invocation, started);
    return { attempt, model };
  } finally {
    await sweep;
  }
}

/**
 * One turn of the tool loop (`usecases/tool-loop.ts`): the loop has read the run and its context and
 * built the turns so far; the gateway holds, calls and settles this turn as an attempt of its own.
 */
export interface ModelTurn {
  run: Run;
  context: ContextObject;
  /** The hold's attempt number for this turn (`turnSlot`): each turn is its own hold and ledger entry. */
  slot: number;
  input: readonly ModelInputItem[];
  inputTokens: number;
  tools: readonly ModelTool[];
  toolChoice: 'auto' | 'none';
  /** Where the answered turn's attempt record goes: the step's attempt for an answer, the slot for tool calls. */
  recordAttemptOf(response: ModelResponse): number;
}

/** What one gateway call did: `response` is null when an earlier invocation answered it already. */
export interface GatewayResult {
  attempt: number;
  model: string;
  response: ModelResponse | null;
}

/** One turn of the tool loop through the same hold, call and settle path as a single-turn call. */
export async function callModelTurn(
  deps: Pick<
    Deps,
    'clock' | 'runs' | 'model' | 'gateway' | 'settings' | 'sleep' | 'breaker' | 'metrics' | 'ledger' | 'log'
  >,
  task: { tenantId: string; runId: string; attempt: number },
  turn: ModelTurn,
  invocation: { leaseMs?: number },
  started: Date,
): Promise<GatewayResult> {
  return gatewayCall(deps, task, invocation, started, turn);
}

async function gatewayCall(
  deps: Pick<
    Deps,
    'clock' | 'runs' | 'model' | 'gateway' | 'settings' | 'sleep' | 'breaker' | 'metrics' | 'ledger' | 'log'
  >,
  task: { tenantId: string; runId: string; attempt: number; workflowId?: string; inputTokens?: number },
  invocation: { leaseMs?: number },
  started: Date,
  turn: ModelTurn | null = null,
): Promise<GatewayResult> {
  // The first attempt carries what its reservation needs; the run and its context are read alongside.
  const carried =
    task.attempt === 1 && task.workflowId !== undefined && task.inputTokens !== undefined
      ? { workflowId: task.workflowId, inputTokens: task.inputTokens }
      : null;
  const runRead = turn ? Promise.resolve(turn.run) : deps.runs.getRun(task.tenantId, task.runId);
  let contextRead: Promise<ContextObject | null>;
  let workflowId: string;
  let inputTokens: number;
  let repairErrors: string[] | null = null;
  if (turn) {
    contextRead = Promise.resolve(turn.context);
    workflowId = turn.run.workflowId;
    inputTokens = turn.inputTokens;
  } else if (carried) {
    contextRead = deps.runs.getContext(task.tenantId, task.runId);
    ({ workflowId, inputTokens } = carried);
  } else {
    const [run, context, previous] = await Promise.all([
      runRead,
      deps.runs.getContext(task.tenantId, task.runId),
      task.attempt > 1 ? deps.runs.getAttempt(task.tenantId, task.runId, task.attempt - 1) : null,
    ]);
    if (!run) throw new NotFoundError('Run');
    if (!context) throw new WorkflowStepError('context_unavailable', 'The run has no context.');
    contextRead = Promise.resolve(context);
    workflowId = run.workflowId;
    repairErrors = previous?.validationErrors ?? null;
    inputTokens = estimateInputTokens(getWorkflow(workflowId), context, repairErrors);
  }
  // Not awaited yet: a rejected read must not go unhandled while the reservation is on its way.
  runRead.catch(() => undefined);
  contextRead.catch(() => undefined);

  const workflow = getWorkflow(workflowId);
  const prompt = livePrompt(workflow.prompts);
  const policy = workflow.modelPolicy;
  const models = policy.models.filter((model) => deps.settings.modelAllowList.includes(model));
  if (models.length === 0) {
    throw new WorkflowStepError(
      'model_unavailable',
      'No model of the workflow policy is allowed in this environment.',
    );
  }
  const owner = newId('inv');
  const leaseUntil =
    started.getTime() +
    (invocation.leaseMs ?? policy.totalDeadlineMs + policy.attemptTimeoutMs) +
    LEASE_MARGIN_MS;
  const deadline = started.getTime() + policy.totalDeadlineMs;
  const tokens = {
    key: `${task.tenantId}#tpm`,
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

  /** Takes the attempt's hold for this try, waiting while only time stands in the way. */
  const hold = async (
    model: string,
    tryNumber: number,
    amountUsd: number,
  ): Promise<{ reservation: Reservation } | { done: { model: string } }> => {
    for (let waits = 1; ; waits += 1) {
      const now = deps.clock.now();
      const reservation: Reservation = {
        tenantId: task.tenantId,
        runId: task.runId,
        attempt: turn?.slot ?? task.attempt,
        attemptKey: `${turn?.slot ?? task.attempt}.${model}.${tryNumber}`,
        model,
        amountUsd,
        month: now.toISOString().slice(0, 7),
        owner,
        leaseUntil,
      };
      let outcome;
      try {
        outcome = await deps.gateway.reserve(reservation, workflow.costLimitUsdPerRun, tokens, now);
      } catch (error) {
        if (error instanceof BudgetExceededError) {
          deps.metrics.count('BudgetRefusals', 1, { budget: error.refusal.budget });
          throw new WorkflowStepError('budget_exceeded', budgetRefusalCause(error.refusal), error);
        }
        throw error;
      }
      if (outcome.reserved) return { reservation };
      if ('done' in outcome) return { done: outcome.done };
      let wait: number;
      if ('leaseUntil' in outcome) {
        // Another invocation of this very attempt is alive: never take its hold over.
        wait = outcome.leaseUntil - now.getTime() + 1;
        if (wait > SHORT_LEASE_WAIT_MS || now.getTime() + wait >= deadline) {
          throw new RetryableStepError(LEASE_HELD_ERROR, 'Another invocation holds this model attempt.');
        }
      } else if ('heldByOthers' in outcome) {
        // Settled spend leaves room; other runs' in-flight holds will end soon.
        wait = Math.floor(
          (0.5 + Math.random() / 2) *
            Math.min(HELD_BY_OTHERS_WAIT_CAP_MS, HELD_BY_OTHERS_WAIT_MS * 2 ** waits),
        );
        if (now.getTime() + wait >= deadline) {
          // Other runs' in-flight holds left no room in the tenant's budget before the deadline.
          deps.metrics.count('BudgetRefusals', 1, { budget: 'tenant_month' });
          throw new WorkflowStepError('budget_exceeded', budgetRefusalCause(outcome.heldByOthers));
        }
      } else {
        wait = outcome.retryAfterMs;
        if (now.getTime() + wait >= deadline) {
          throw new WorkflowStepError(
            'rate_limited',
            "The tenant's token rate limit left no room before the deadline.",
          );
        }
      }
      await deps.sleep(wait);
    }
  };

  let lastError: unknown = null;
  for (const [index, model] of models.entries()) {
    if (index > 0) deps.metrics.count('ModelFallbacks', 1, { model });
    let breakerFailures = 0;
    let breakerChecked = false;
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
      const maxCost = maxCostOf(inputTokens, policy.maxOutputTokens, price);
      // The breaker is read alongside the first hold of each model (it rarely says open).
      const [held, breaker, run, context] = await Promise.all([
        hold(model, tryNumber, maxCost),
        breakerChecked ? null : deps.breaker.check(model, deps.clock.now()),
        runRead,
        contextRead,
      ]);
      if ('done' in held) return { attempt: task.attempt, model: held.done.model, response: null };
      const { reservation } = held;
      if (!run) throw new NotFoundError('Run');
      const tags: LedgerEntryTags = {
        tenantId: run.tenantId,
        workflowId: run.workflowId,
        runId: run.runId,
        userId: run.requestedBy,
        accountId: run.accountId,
        model,
        promptId: run.promptId,
        promptVersion: run.promptVersion,
        environment: deps.settings.environment,
      };
      const start = deps.clock.now();
      const baseAttributes: SpanAttributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': model,
        'gen_ai.request.max_tokens': policy.maxOutputTokens,
        'gen_ai.prompt.id': prompt.id,
        'gen_ai.prompt.version': prompt.version,
        'gen_ai.prompt.hash': prompt.contentHash,
        'rein.attempt': task.attempt,
        'rein.try': tryNumber,
        ...(turn ? { 'rein.turn.slot': turn.slot, 'rein.tools.offered': turn.toolChoice === 'auto' } : {}),
      };
      const releaseWithout = (errorType: string) =>
        deps.gateway.release(
          {
            reservation,
            estimatedCharge: null,
            span: buildSpan(run.tenantId, run.runId, {
              name: `chat ${model}`,
              kind: 'model_attempt',
              start,
              end: deps.clock.now(),
              status: 'error',
              attributes: { ...baseAttributes, 'error.type': errorType, 'rein.cost_usd': 0 },
            }),
          },
          deps.clock.now(),
        );
      if (breaker) {
        breakerChecked = true;
        breakerFailures = breaker.failures;
        if (breaker.open) {
          deps.metrics.count('BreakerOpen', 1, { model });
          await releaseWithout('circuit_open');
          lastError = new ModelUnavailableError(`The circuit for ${model} is open.`, null);
          break;
        }
      }
      if (!context) {
        await releaseWithout('context_unavailable');
        throw new WorkflowStepError('context_unavailable', 'The run has no context.');
      }
      const input = turn ? turn.input : buildModelInput(context, repairErrors);
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
          ...(turn ? { tools: turn.tools, toolChoice: turn.toolChoice } : {}),
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
        // No usage came back, but the provider may have billed it: charge the hold, flagged estimated.
        const estimated = modelError?.usageUnknown === true;
        await Promise.all([
          deps.gateway.release(
            {
              reservation,
              estimatedCharge: estimated ? tags : null,
              span: buildSpan(run.tenantId, run.runId, {
                name: `chat ${model}`,
                kind: 'model_attempt',
                start,
                end: deps.clock.now(),
                status: 'error',
                attributes: {
                  ...baseAttributes,
                  'gen_ai.response.id': modelError?.providerRequestId ?? null,
                  'error.type': modelError?.code ?? 'unknown',
                  'rein.cost_usd': estimated ? reservation.amountUsd : 0,
                  'rein.cost_estimated': estimated,
                },
              }),
            },
            deps.clock.now(),
          ),
          breakerFailure
            ? deps.breaker.recordFailure(model, deps.clock.now()).catch(() => undefined)
            : undefined,
        ]);
        if (breakerFailure) breakerFailures += 1;
        deps.metrics.count('ProviderErrors', 1, {
          kind: error instanceof ModelError ? error.code : 'unknown',
        });
        lastError = error;
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
        attempt: turn ? turn.recordAttemptOf(response) : task.attempt,
        model,
        outputText: response.outputText,
        refusal: response.refusal,
        finishReason: response.finishReason,
        validationErrors: null,
        costUsd: cost,
        billing: { reservation, usage: response.usage, priceVersion: PRICE_TABLE_VERSION },
        ...(response.toolCalls && response.toolCalls.length > 0 ? { toolCalls: response.toolCalls } : {}),
      };
      const span = buildSpan(run.tenantId, run.runId, {
        name: `chat ${model}`,
        kind: 'model_attempt',
        start,
        end: deps.clock.now(),
        status: response.finishReason === 'completed' && response.refusal === null ? 'ok' : 'error',
        attributes: {
          ...baseAttributes,
          'gen_ai.response.model': response.model,
          'gen_ai.usage.input_tokens': response.usage.inputTokens,
          'gen_ai.usage.cached_input_tokens': response.usage.cachedInputTokens,
          'gen_ai.usage.output_tokens': response.usage.outputTokens,
          'gen_ai.usage.reasoning_tokens': response.usage.reasoningTokens,
          'gen_ai.response.finish_reasons': [response.finishReason],
          'gen_ai.response.id': response.providerRequestId,
          'rein.latency_ms': response.latencyMs,
          'rein.cost_usd': cost,
          'rein.price_version': PRICE_TABLE_VERSION,
          'rein.refusal': response.refusal !== null,
          ...(turn ? { 'rein.tool_calls': (response.toolCalls ?? []).map((call) => call.name) } : {}),
        },
      });
      // One round trip: the settle transaction, with the breaker's clear (best effort) alongside.
      await Promise.all([
        deps.gateway.settle({ attempt, tags, span }, deps.clock.now()),
        breakerFailures > 0 ? deps.breaker.clearFailures(model).catch(() => undefined) : undefined,
      ]);
      const dimensions = { tenantId: task.tenantId, workflowId: workflow.id, model };
      deps.metrics.measure('CostUsd', cost, 'None', dimensions);
      deps.metrics.count('InputTokens', response.usage.inputTokens, dimensions);
      deps.metrics.count('OutputTokens', response.usage.outputTokens, dimensions);
      return { attempt: task.attempt, model, response };
    }
  }
  const message = lastError instanceof Error ? lastError.message : 'No model answered before the deadline.';
  throw new WorkflowStepError('model_unavailable', `No model could produce an answer: ${message}`, lastError);
}
