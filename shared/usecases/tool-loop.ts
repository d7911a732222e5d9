import { NotFoundError, WorkflowStepError } from '../domain/errors.ts';
import type { ContextObject } from '../domain/context.ts';
import type { ModelInputItem, ModelTool, ModelToolCall } from '../domain/model.ts';
import { estimateTokens } from '../domain/pricing.ts';
import { turnSlot, type ToolCallRecord } from '../domain/tools.ts';
import { livePrompt } from '../workflows/definition.ts';
import { getWorkflow } from '../workflows/registry.ts';
import type { Deps } from './deps.ts';
import { callModel, callModelTurn } from './model-call.ts';
import { buildModelInput } from './prompt.ts';
import { sha256 } from './tracing.ts';
import { executeToolCall, recordToolSpan, toolDataGaps, toolErrorOutput, type ToolDeps } from './tools.ts';

type StepDeps = Pick<
  Deps,
  'clock' | 'runs' | 'model' | 'gateway' | 'settings' | 'sleep' | 'breaker' | 'metrics'
> &
  ToolDeps;

type StepTask = {
  tenantId: string;
  runId: string;
  attempt: number;
  workflowId?: string;
  inputTokens?: number;
};

/**
 * The CallModel task. A workflow without tools makes one gateway call (`callModel`); a workflow with
 * read-only tools runs the tool loop.
 */
export async function callModelStep(
  deps: StepDeps,
  task: StepTask,
  invocation: { leaseMs?: number } = {},
): Promise<{ attempt: number; model: string }> {
  let workflowId = task.workflowId;
  if (workflowId === undefined) {
    const run = await deps.runs.getRun(task.tenantId, task.runId);
    if (!run) throw new NotFoundError('Run');
    workflowId = run.workflowId;
  }
  if (getWorkflow(workflowId).tools.length === 0) return callModel(deps, task, invocation);
  return runToolLoop(deps, task, invocation);
}

/** The tool evidence of this attempt or a later one stays out of the first message: the turns carry it. */
function contextForAttempt(context: ContextObject, attempt: number): ContextObject {
  const calls = context.toolCalls ?? [];
  const later = new Set(calls.filter((call) => call.attempt >= attempt).flatMap((call) => call.evidenceIds));
  const { toolCalls: _log, ...rest } = context;
  return { ...rest, items: context.items.filter((item) => !later.has(item.id)) };
}

/**
 * The tool loop of one model-step attempt (`attempt` 1, or 2 for the repair):
 *
 * 1. Turn t is one gateway call with its own hold, provider call and settlement (`callModelTurn`, the
 *    same path as a single call), under the attempt number `turnSlot(attempt, t)`: every turn is
 *    reserved, charged once and in the ledger.
 * 2. A turn that asks for tools is settled with its calls on its attempt record; the gateway then
 *    executes each call itself (`executeToolCall`: the run's tenant and account only, the context
 *    layer's readers, allow-lists, timeout and size cap), adds the results' evidence and any data
 *    gap to the run's context, logs the calls there, and sends the results in the next turn.
 * 3. A turn that answers is settled as the attempt's record (`attempt`), which validation reads.
 * 4. Limits (`toolPolicy`): once `maxRounds` turns per run have called tools or `maxCallsPerRun`
 *    calls were made, the next turn is the last and offers the tools with `tool_choice: none`, so
 *    the model must answer; calls past the per-run limit within a turn get a `limit` error result.
 *
 * Retries and restarts: a retried invocation walks the same turns. A settled turn is found by its
 * hold (`done`: nothing is called or charged again) and replayed from its attempt record; a call
 * already in the context's log is not executed again; so no turn is lost or paid twice. A live
 * turn of another invocation makes this one fail with the retryable Rein.LeaseHeld, as before.
 */
export async function runToolLoop(
  deps: StepDeps,
  task: { tenantId: string; runId: string; attempt: number },
  invocation: { leaseMs?: number } = {},
): Promise<{ attempt: number; model: string }> {
  const started = deps.clock.now();
  const sweep = deps.gateway.sweepExpired(task.tenantId, started).catch(() => []);
  try {
    return await loop(deps, task, invocation, started);
  } finally {
    await sweep;
  }
}

async function loop(
  deps: StepDeps,
  task: { tenantId: string; runId: string; attempt: number },
  invocation: { leaseMs?: number },
  started: Date,
): Promise<{ attempt: number; model: string }> {
  const [run, initial, answered, previous] = await Promise.all([
    deps.runs.getRun(task.tenantId, task.runId),
    deps.runs.getContext(task.tenantId, task.runId),
    deps.runs.getAttempt(task.tenantId, task.runId, task.attempt),
    task.attempt > 1 ? deps.runs.getAttempt(task.tenantId, task.runId, task.attempt - 1) : null,
  ]);
  if (!run) throw new NotFoundError('Run');
  if (!initial) throw new WorkflowStepError('context_unavailable', 'The run has no context.');
  // An earlier invocation answered this attempt already: nothing to call, nothing to charge.
  if (answered) return { attempt: task.attempt, model: answered.model };
  let context = initial;
  const workflow = getWorkflow(run.workflowId);
  const policy = workflow.toolPolicy;
  const instructions = livePrompt(workflow.prompts).instructions;
  const tools: ModelTool[] = workflow.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    argsSchema: tool.argsSchema,
  }));
  const input: ModelInputItem[] = [
    {
      type: 'message',
      role: 'user',
      content: buildModelInput(contextForAttempt(context, task.attempt), previous?.validationErrors ?? null),
    },
  ];
  const scope = { tenantId: run.tenantId, runId: run.runId, accountId: run.accountId, attempt: task.attempt };

  for (let turn = 1; ; turn += 1) {
    const log = context.toolCalls ?? [];
    const made = log.filter((call) => call.outcome !== 'limit');
    const roundsUsed = new Set(made.map((call) => `${call.attempt}.${call.turn}`)).size;
    const mayCallTools = roundsUsed < policy.maxRounds && made.length < policy.maxCallsPerRun;
    const slot = turnSlot(task.attempt, turn);
    const result = await callModelTurn(
      deps,
      task,
      {
        run,
        context,
        slot,
        input,
        inputTokens: estimateTokens(instructions + JSON.stringify(input)),
        tools,
        toolChoice: mayCallTools ? 'auto' : 'none',
        // Calls asked for when none were allowed are ignored: that turn is the answer.
        recordAttemptOf: (response) =>
          mayCallTools && (response.toolCalls ?? []).length > 0 ? slot : task.attempt,
      },
      invocation,
      started,
    );
    let calls: ModelToolCall[];
    if (result.response) {
      calls = mayCallTools ? (result.response.toolCalls ?? []) : [];
    } else {
      // Settled by an earlier invocation: replay it from its record (a tool turn's record is at its slot).
      const record = await deps.runs.getAttempt(task.tenantId, task.runId, slot);
      calls = record?.toolCalls ?? [];
    }
    if (calls.length === 0) {
      deps.metrics.count('ToolTurns', turn, { workflowId: workflow.id });
      return { attempt: task.attempt, model: result.model };
    }

    const executed: ToolCallRecord[] = [];
    const newItems = [];
    let callsMade = made.length;
    for (const call of calls) {
      const known = log.find((entry) => entry.callId === call.callId && entry.attempt === task.attempt);
      if (known) {
        executed.push(known);
        continue;
      }
      if (callsMade >= policy.maxCallsPerRun) {
        const start = deps.clock.now();
        const tool = workflow.tools.find((candidate) => candidate.name === call.name);
        const record: ToolCallRecord = {
          callId: call.callId,
          attempt: task.attempt,
          turn,
          tool: call.name,
          source: tool?.source.id ?? null,
          argsHash: sha256(call.arguments),
          outcome: 'limit',
          output: toolErrorOutput(
            call.name,
            tool?.source.id ?? null,
            'limit',
            `This run may make at most ${policy.maxCallsPerRun} tool calls; answer with what you have.`,
          ),
          evidenceIds: [],
        };
        await recordToolSpan(deps, { ...scope, turn }, record, start);
        executed.push(record);
        continue;
      }
      callsMade += 1;
      const done = await executeToolCall(deps, { ...scope, turn }, workflow, call);
      executed.push(done.record);
      newItems.push(...done.items);
    }
    const fresh = executed.filter((entry) => !log.includes(entry));
    if (fresh.length > 0) {
      const known = new Set(context.items.map((item) => item.id));
      const toolCalls = [...log, ...fresh];
      context = {
        ...context,
        items: [...context.items, ...newItems.filter((item) => !known.has(item.id))],
        dataGaps: [...context.dataGaps, ...toolDataGaps(toolCalls, context.dataGaps)],
        toolCalls,
      };
      // One write per round: the results, their evidence and gaps, and the log the loop resumes from.
      await deps.runs.saveContext(run.tenantId, run.runId, context);
    }
    for (const call of calls) input.push({ type: 'function_call', ...call });
    for (const entry of executed) {
      input.push({ type: 'function_call_output', callId: entry.callId, output: entry.output });
    }
  }
}
