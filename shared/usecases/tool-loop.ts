import { NotFoundError, WorkflowStepError } from '../domain/errors.ts';
import type { ContextObject, EvidenceItem } from '../domain/context.ts';
import type { ModelInputItem, ModelTool, ModelToolCall } from '../domain/model.ts';
import { estimateTokens } from '../domain/pricing.ts';
import { toolTurnRecord, turnSlot, type ToolCallRecord } from '../domain/tools.ts';
import { livePrompt, type SourceSpec, type ToolPolicy, type ToolSpec } from '../workflows/definition.ts';
import { getWorkflow } from '../workflows/registry.ts';
import { emitBudgetAlerts } from './budget-alerts.ts';
import type { Deps } from './deps.ts';
import { callModel, callModelTurn } from './model-call.ts';
import { buildModelInput } from './prompt.ts';
import { sha256 } from './tracing.ts';
import {
  executeToolCall,
  recordToolSpan,
  toolDataGaps,
  toolErrorOutput,
  type ToolDeps,
  type ToolScope,
} from './tools.ts';

type StepDeps = Pick<
  Deps,
  'clock' | 'runs' | 'model' | 'gateway' | 'settings' | 'sleep' | 'breaker' | 'metrics' | 'ledger' | 'log'
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
  const result =
    getWorkflow(workflowId).tools.length === 0
      ? await callModel(deps, task, invocation)
      : await runToolLoop(deps, task, invocation);
  // Budget alerts as soon as the step's attempts are settled, before the draft is stored: one budget
  // read per step (and a transaction only on a crossing), outside the gateway's per-call money path,
  // which keeps its two DynamoDB waits per provider call. A step that fails after settling some
  // turns is caught up by MarkFailed's check.
  await emitBudgetAlerts(deps, task.tenantId, task.runId);
  return result;
}

/** The tool evidence of this attempt or a later one stays out of the first message: the turns carry it. */
export function contextForAttempt(context: ContextObject, attempt: number): ContextObject {
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
  const instructions = livePrompt(workflow.prompts).instructions;
  const tools = modelToolsOf(workflow);
  const input: ModelInputItem[] = [
    {
      type: 'message',
      role: 'user',
      content: buildModelInput(contextForAttempt(context, task.attempt), previous?.validationErrors ?? null),
    },
  ];
  const scope = { tenantId: run.tenantId, runId: run.runId, accountId: run.accountId, attempt: task.attempt };

  for (let turn = 1; ; turn += 1) {
    // The turn bound holds even if the log could not grow (it always does): the loop always ends.
    const toolsAllowed = turn <= workflow.toolPolicy.maxRounds && mayCallTools(context, workflow.toolPolicy);
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
        toolChoice: toolsAllowed ? 'auto' : 'none',
        // Calls asked for when none were allowed are ignored: that turn is the answer.
        recordAttemptOf: (response) =>
          toolsAllowed && (response.toolCalls ?? []).length > 0
            ? toolTurnRecord(task.attempt, turn)
            : task.attempt,
      },
      invocation,
      started,
    );
    let calls: ModelToolCall[];
    if (result.response) {
      calls = toolsAllowed ? (result.response.toolCalls ?? []) : [];
    } else {
      // Settled by an earlier invocation: replay it from its record (none there: it was the answer).
      const record = await deps.runs.getAttempt(
        task.tenantId,
        task.runId,
        toolTurnRecord(task.attempt, turn),
      );
      calls = record?.toolCalls ?? [];
    }
    if (calls.length === 0) {
      deps.metrics.count('ToolTurns', turn, { workflowId: workflow.id });
      return { attempt: task.attempt, model: result.model };
    }

    const round = await executeToolRound(deps, { ...scope, turn }, workflow, context, calls);
    if (round.changed) {
      context = round.context;
      // One write per round: the results, their evidence and gaps, and the log the loop resumes from.
      await deps.runs.saveContext(run.tenantId, run.runId, context);
    }
    input.push(...round.items);
  }
}

/** Whether the next turn may call tools: the run's rounds and calls are below the workflow's limits. */
export function mayCallTools(context: ContextObject, policy: ToolPolicy): boolean {
  const made = (context.toolCalls ?? []).filter((call) => call.outcome !== 'limit');
  const roundsUsed = new Set(made.map((call) => `${call.attempt}.${call.turn}`)).size;
  return roundsUsed < policy.maxRounds && made.length < policy.maxCallsPerRun;
}

/** The read-only tools of a workflow as the model is offered them. */
export function modelToolsOf(workflow: { tools: readonly ToolSpec[] }): ModelTool[] {
  return workflow.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    argsSchema: tool.argsSchema,
  }));
}

/**
 * Executes one turn's calls (each at most once: a call already in the context's log is reused),
 * answering calls past the per-run limit with a `limit` error. Returns the context with the new
 * evidence, data gaps and log entries, whether it changed, and the input items for the next turn
 * (the calls and their outputs). Used by the gateway's loop and by the eval runner alike.
 */
export async function executeToolRound(
  deps: ToolDeps,
  scope: ToolScope,
  workflow: { tools: readonly ToolSpec[]; sources: readonly SourceSpec[]; toolPolicy: ToolPolicy },
  context: ContextObject,
  calls: readonly ModelToolCall[],
): Promise<{ context: ContextObject; changed: boolean; items: ModelInputItem[] }> {
  const policy = workflow.toolPolicy;
  const log = context.toolCalls ?? [];
  const executed: ToolCallRecord[] = [];
  const newItems: EvidenceItem[] = [];
  let callsMade = log.filter((call) => call.outcome !== 'limit').length;
  for (const call of calls) {
    // The same turn replayed after a retry; a model reusing a call id in a later turn is a new call.
    const known = log.find(
      (entry) => entry.callId === call.callId && entry.attempt === scope.attempt && entry.turn === scope.turn,
    );
    if (known) {
      executed.push(known);
      continue;
    }
    if (callsMade >= policy.maxCallsPerRun) {
      const start = deps.clock.now();
      const source = workflow.tools.find((candidate) => candidate.name === call.name)?.source.id ?? null;
      const record: ToolCallRecord = {
        callId: call.callId,
        attempt: scope.attempt,
        turn: scope.turn,
        tool: call.name,
        source,
        argsHash: sha256(call.arguments),
        outcome: 'limit',
        output: toolErrorOutput(
          call.name,
          source,
          'limit',
          `This run may make at most ${policy.maxCallsPerRun} tool calls; answer with what you have.`,
        ),
        evidenceIds: [],
      };
      await recordToolSpan(deps, scope, record, start);
      executed.push(record);
      continue;
    }
    callsMade += 1;
    const done = await executeToolCall(deps, scope, workflow, call);
    executed.push(done.record);
    newItems.push(...done.items);
  }
  const fresh = executed.filter((entry) => !log.includes(entry));
  let next = context;
  if (fresh.length > 0) {
    const known = new Set(context.items.map((item) => item.id));
    const toolCalls = [...log, ...fresh];
    next = {
      ...context,
      items: [...context.items, ...newItems.filter((item) => !known.has(item.id))],
      dataGaps: [...context.dataGaps, ...toolDataGaps(toolCalls, context.dataGaps)],
      toolCalls,
    };
  }
  return {
    context: next,
    changed: fresh.length > 0,
    items: [
      ...calls.map((call): ModelInputItem => ({ type: 'function_call', ...call })),
      ...executed.map((entry): ModelInputItem => ({
        type: 'function_call_output',
        callId: entry.callId,
        output: entry.output,
      })),
    ],
  };
}
