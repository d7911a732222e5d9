import { NotFoundError, WorkflowStepError } from '../domain/errors.ts';
import { actionRecordsOf, type ProposedActionOutput } from '../domain/actions.ts';
import type { Draft } from '../domain/draft.ts';
import { livePrompt } from '../workflows/definition.ts';
import { getWorkflow } from '../workflows/registry.ts';
import type { Deps } from './deps.ts';
import { recordSpan } from './tracing.ts';

/** One repair attempt after the first answer: attempt 2 is the last. */
export const MAX_MODEL_ATTEMPTS = 2;

/** Parses a model answer and applies the workflow's business rules. Problems are values, not exceptions. */
export function checkOutput(
  outputText: string | null,
  refusal: string | null,
  finishReason: string,
  validate: (output: Record<string, unknown>) => string[],
  parse: (
    value: unknown,
  ) => { success: true; data: Record<string, unknown> } | { success: false; issues: string[] },
): { ok: true; output: Record<string, unknown> } | { ok: false; problems: string[] } {
  if (refusal !== null) return { ok: false, problems: ['the model refused to answer'] };
  if (finishReason !== 'completed')
    return { ok: false, problems: [`the answer was cut short (${finishReason})`] };
  if (outputText === null) return { ok: false, problems: ['the answer had no text'] };
  let json: unknown;
  try {
    json = JSON.parse(outputText);
  } catch {
    return { ok: false, problems: ['the answer is not valid JSON'] };
  }
  const parsed = parse(json);
  if (!parsed.success) return { ok: false, problems: parsed.issues };
  const problems = validate(parsed.data);
  return problems.length === 0 ? { ok: true, output: parsed.data } : { ok: false, problems };
}

async function loadAttempt(
  deps: Pick<Deps, 'runs'>,
  task: { tenantId: string; runId: string; attempt: number },
) {
  const run = await deps.runs.getRun(task.tenantId, task.runId);
  if (!run) throw new NotFoundError('Run');
  const attempt = await deps.runs.getAttempt(task.tenantId, task.runId, task.attempt);
  if (!attempt) throw new WorkflowStepError('internal_error', `Attempt ${task.attempt} was not recorded.`);
  const context = await deps.runs.getContext(task.tenantId, task.runId);
  if (!context) throw new WorkflowStepError('context_unavailable', 'The run has no context.');
  const workflow = getWorkflow(run.workflowId);
  const result = checkOutput(
    attempt.outputText,
    attempt.refusal,
    attempt.finishReason,
    (output) => workflow.validate(output, context),
    (value) => {
      const parsed = workflow.outputSchema.safeParse(value);
      return parsed.success
        ? { success: true, data: parsed.data }
        : {
            success: false,
            issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
          };
    },
  );
  return { run, attempt, context, workflow, result };
}

/**
 * Layer 4, validation: parses the attempt's output with the workflow schema and business rules.
 * An invalid first answer gets one repair attempt with the problems listed; a refusal is final.
 */
export async function validateOutput(
  deps: Pick<Deps, 'clock' | 'runs' | 'traces'>,
  task: { tenantId: string; runId: string; attempt: number },
): Promise<{ valid: boolean; canRepair: boolean; nextAttempt: number; problems: number }> {
  const start = deps.clock.now();
  const { attempt, result } = await loadAttempt(deps, task);
  const problems = result.ok ? [] : result.problems;
  if (!result.ok) await deps.runs.setAttemptValidation(task.tenantId, task.runId, task.attempt, problems);
  await recordSpan(deps.traces, task.tenantId, task.runId, {
    name: 'validate output',
    kind: 'validation',
    start,
    end: deps.clock.now(),
    status: result.ok ? 'ok' : 'error',
    attributes: {
      'rein.attempt': task.attempt,
      'rein.validation.valid': result.ok,
      'rein.validation.problems': problems.slice(0, 20),
    },
  });
  if (attempt.refusal !== null) {
    throw new WorkflowStepError('model_refused', 'The model refused to write this brief.');
  }
  return {
    valid: result.ok,
    canRepair: !result.ok && task.attempt < MAX_MODEL_ATTEMPTS,
    nextAttempt: task.attempt + 1,
    problems: problems.length,
  };
}

/** The draft id of a run: derived, so a retried StoreDraft finds the draft it already wrote. */
export function draftIdOf(runId: string): string {
  return runId.replace(/^run_/, 'drf_');
}

/** Layer 4, storage: writes the validated output as a draft awaiting review, once per run. */
export async function storeDraft(
  deps: Pick<Deps, 'clock' | 'runs' | 'drafts' | 'traces' | 'settings'>,
  task: { tenantId: string; runId: string; attempt: number },
): Promise<{ draftId: string }> {
  const start = deps.clock.now();
  const { run, attempt, context, workflow, result } = await loadAttempt(deps, task);
  if (!result.ok) throw new WorkflowStepError('invalid_model_output', 'The model output is not valid.');
  const cited = new Set(
    JSON.stringify(result.output)
      .match(/"[a-z]+:[A-Za-z0-9._-]+"/g)
      ?.map((quoted) => quoted.slice(1, -1)) ?? [],
  );
  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const prompt = livePrompt(workflow.prompts);
  // The review starts now: its deadline is absolute, so a restarted engine waits only for the rest.
  const reviewTimeout = deps.settings.reviewTimeoutSeconds;
  const expiresAt =
    reviewTimeout === null ? null : new Date(nowDate.getTime() + reviewTimeout * 1000).toISOString();
  const draftId = draftIdOf(run.runId);
  // The proposals leave the content: they become action records with ids and statuses of their own.
  const { proposedActions, ...content } = result.output as Record<string, unknown> & {
    proposedActions?: ProposedActionOutput[];
  };
  const draft: Draft = {
    draftId,
    runId: run.runId,
    tenantId: run.tenantId,
    workflowId: run.workflowId,
    ownerId: run.requestedBy,
    accountId: run.accountId,
    status: 'awaiting_review',
    version: 1,
    content,
    original: content,
    evidence: context.items.filter((item) => cited.has(item.id)),
    actions: actionRecordsOf(draftId, proposedActions ?? [], workflow.actions),
    edits: [],
    promptId: prompt.id,
    promptVersion: prompt.version,
    model: attempt.model,
    escalation: null,
    outcome: null,
    expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  // A retried StoreDraft gets the draft written first, with its original deadline.
  const stored = await deps.drafts.createDraft(draft);
  await deps.runs.updateRun(
    run.tenantId,
    run.runId,
    { draftId: stored.draftId, expiresAt: stored.expiresAt ?? null },
    deps.clock.now(),
  );
  await recordSpan(deps.traces, run.tenantId, run.runId, {
    name: 'store draft',
    kind: 'draft',
    start,
    end: deps.clock.now(),
    status: 'ok',
    attributes: {
      'rein.draft.id': stored.draftId,
      'rein.draft.evidence_count': stored.evidence.length,
      'rein.draft.proposed_actions': stored.actions.map((action) => action.type),
    },
  });
  return { draftId: stored.draftId };
}
