import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  RUN_FAILURE_CODES,
  ValidationError,
  type RunFailureCode,
} from '../domain/errors.ts';
import {
  budgetRefusalDetails,
  budgetRefusalFromCause,
  budgetRefusalMessage,
} from '../domain/budget-refusal.ts';
import type { RunError } from '../domain/run.ts';
import type { Draft, DraftStatus, Outcome } from '../domain/draft.ts';
import { argsHashOf, type ActionRecord } from '../domain/actions.ts';
import { DraftSchema, DraftStatusSchema } from '../domain/draft.ts';
import { commaSeparated } from '../domain/query.ts';
import { DataGapSchema, EvidenceItemSchema } from '../domain/context.ts';
import { canonicalJson, normalizedEditDistance } from '../domain/edit-distance.ts';
import { newEvent } from '../domain/events.ts';
import { assertCanChangeDraft, assertCanSeeDraft, requireRole } from '../domain/permissions.ts';
import { hasAnyRole, type Principal } from '../domain/principal.ts';
import { getWorkflow } from '../workflows/registry.ts';
import { allTextSafe, safeText } from '../domain/text.ts';
import { mergePatch } from '../domain/merge-patch.ts';
import type { Deps } from './deps.ts';
import { recordSpan } from './tracing.ts';
import { emitBudgetAlerts } from './budget-alerts.ts';
import { executeActions } from './actions.ts';

const OPEN_STATUSES: readonly DraftStatus[] = ['awaiting_review', 'escalated'];

export const DecisionBodySchema = z
  .object({ reason: safeText(2000).pipe(z.string().trim().min(1)).optional() })
  .strict();
/** One reviewer decision on one proposed action; `args` replaces the model's arguments (approve only). */
export const ActionDecisionSchema = z
  .object({
    actionId: z.string().min(1).max(64),
    decision: z.enum(['approve', 'reject']),
    args: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export const ApproveBodySchema = z
  .object({
    reason: safeText(2000).pipe(z.string().trim().min(1)).optional(),
    actions: z.array(ActionDecisionSchema).max(50).optional(),
  })
  .strict();
export type ApproveBody = z.infer<typeof ApproveBodySchema>;
export const EditDraftBodySchema = z.object({ content: z.record(z.string(), z.unknown()) }).strict();
export const ListDraftsQuerySchema = z
  .object({
    status: commaSeparated(DraftStatusSchema)
      .optional()
      .meta({ description: 'One or several statuses, comma-separated: `awaiting_review,escalated`.' }),
    accountId: z.string().max(128).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(2000).optional(),
  })
  .strict();

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new ValidationError(
      'The request body is invalid.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return parsed.data;
}

/** Parses `If-Match: "3"` (or `W/"3"` or `3`) into a version number. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match?.[1]) throw new ValidationError('If-Match must be the draft version ETag, e.g. "1".');
  return Number(match[1]);
}

async function loadVisibleDraft(
  deps: Pick<Deps, 'drafts'>,
  principal: Principal,
  draftId: string,
): Promise<Draft> {
  const draft = await deps.drafts.getDraft(principal.tenantId, draftId);
  if (!draft) throw new NotFoundError('Draft');
  assertCanSeeDraft(principal, draft);
  return draft;
}

/** An evidence item the model saw, marked whether the draft cites it. */
export const SeenEvidenceItemSchema = EvidenceItemSchema.extend({
  cited: z.boolean().meta({ description: 'Whether the draft’s content cites this item.' }),
});

/** What a reviewer reads on top of the draft: the account's name and everything the model saw. */
export const DraftDetailsSchema = z.object({
  accountName: z
    .string()
    .nullable()
    .meta({ description: 'The account’s display name (its CRM record’s `name`), null when unknown.' }),
  seenEvidence: z.array(SeenEvidenceItemSchema).meta({
    description:
      'All evidence of the run’s context, as the model saw it (allow-listed fields only), each marked `cited`.',
  }),
  dataGaps: z.array(DataGapSchema).meta({ description: 'The sources that gave nothing usable, and why.' }),
});
export type DraftDetails = z.infer<typeof DraftDetailsSchema>;

/**
 * `GET /v1/drafts/{draftId}`: the draft, the account's display name, all evidence of the run's
 * context (each item marked whether the draft cites it) and the context's data gaps.
 */
export async function getDraft(
  deps: Pick<Deps, 'drafts' | 'runs' | 'accounts'>,
  principal: Principal,
  draftId: string,
): Promise<{ draft: Draft; details: DraftDetails }> {
  const draft = await loadVisibleDraft(deps, principal, draftId);
  const [context, account] = await Promise.all([
    deps.runs.getContext(draft.tenantId, draft.runId),
    deps.accounts.getAccount(draft.tenantId, draft.accountId),
  ]);
  const cited = new Set(draft.evidence.map((item) => item.id));
  const items = context?.items ?? draft.evidence;
  const crmName = items.find((item) => item.source === 'crm')?.fields['name'];
  return {
    draft,
    details: {
      accountName: account?.name ?? (typeof crmName === 'string' ? crmName : null),
      seenEvidence: items.map((item) => ({ ...item, cited: cited.has(item.id) })),
      dataGaps: context?.dataGaps ?? [],
    },
  };
}

export type ListDraftsQuery = z.output<typeof ListDraftsQuerySchema>;

/** A page of draft summaries, newest first: a CSM's own, or the tenant's for managers and admins. */
export async function listDrafts(
  deps: Pick<Deps, 'drafts'>,
  principal: Principal,
  query: ListDraftsQuery,
): Promise<{ items: DraftSummary[]; nextCursor: string | null }> {
  const ownOnly = !hasAnyRole(principal, ['manager', 'admin']);
  const page = await deps.drafts.listDrafts(principal.tenantId, {
    limit: query.limit,
    ...(query.status ? { statuses: query.status } : {}),
    ...(query.accountId !== undefined ? { accountId: query.accountId } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
    ...(ownOnly ? { ownerId: principal.sub } : {}),
  });
  return { items: page.items.map(toDraftSummary), nextCursor: page.nextCursor };
}

/** What a review queue shows per draft: everything but the content, the original and the evidence. */
export const DraftSummarySchema = DraftSchema.omit({
  content: true,
  original: true,
  evidence: true,
  edits: true,
});
export type DraftSummary = z.infer<typeof DraftSummarySchema>;

export function toDraftSummary(draft: Draft): DraftSummary {
  const { content: _content, original: _original, evidence: _evidence, edits: _edits, ...summary } = draft;
  return summary;
}

function conflictFor(current: Draft | null, expectedVersion: number | undefined): never {
  if (!current) throw new NotFoundError('Draft');
  if (!OPEN_STATUSES.includes(current.status)) {
    throw new ConflictError(`The draft is already ${current.status}.`, [
      { path: 'status', message: `is ${current.status}` },
    ]);
  }
  if (expectedVersion !== undefined && current.version !== expectedVersion) {
    throw new PreconditionFailedError('The draft has changed since you read it.', [
      { path: 'version', message: `the current version is ${current.version}` },
    ]);
  }
  throw new ConflictError('The draft changed while the request was processed; read it again.');
}

/** PATCH: replaces the content with a reviewer's edit, if the If-Match version is current. */
export async function editDraft(
  deps: Pick<Deps, 'clock' | 'drafts' | 'runs'>,
  principal: Principal,
  draftId: string,
  ifMatch: string | undefined,
  body: unknown,
  options: { mergePatch?: boolean } = {},
): Promise<Draft> {
  const expectedVersion = parseIfMatch(ifMatch);
  if (expectedVersion === undefined)
    throw new PreconditionRequiredError('PATCH requires an If-Match header.');
  const draft = await loadVisibleDraft(deps, principal, draftId);
  const workflow = getWorkflow(draft.workflowId);
  assertCanChangeDraft(principal, draft, workflow.approvalPolicy.escalatedApproverRoles);
  const edit = parseBody(EditDraftBodySchema, body);
  // RFC 7396: the patch is merged into the current content; `null` removes a field.
  const content = options.mergePatch ? mergePatch(draft.content, edit.content) : edit.content;
  if (!allTextSafe(content)) {
    throw new ValidationError('The content must not contain control characters or model special tokens.');
  }
  const parsed = workflow.contentSchema.strict().safeParse(content);
  if (!parsed.success) {
    throw new ValidationError(
      'The content does not match the workflow output schema.',
      parsed.error.issues.map((issue) => ({
        path: `content.${issue.path.join('.')}`,
        message: issue.message,
      })),
    );
  }
  const context = await deps.runs.getContext(principal.tenantId, draft.runId);
  if (!context) throw new NotFoundError('Draft');
  const problems = workflow.validate(parsed.data, context);
  if (problems.length > 0)
    throw new ValidationError(
      'The content breaks the workflow rules.',
      problems.map((message) => ({ path: 'content', message })),
    );
  if (!OPEN_STATUSES.includes(draft.status)) conflictFor(draft, expectedVersion);
  if (draft.version !== expectedVersion) conflictFor(draft, expectedVersion);

  const now = deps.clock.now().toISOString();
  const result = await deps.drafts.updateDraft(
    principal.tenantId,
    draftId,
    { version: expectedVersion, statuses: OPEN_STATUSES },
    {
      content: parsed.data,
      // The history grows with the content, in the same conditional write.
      edits: [...draft.edits, { version: draft.version + 1, editor: principal.sub, at: now }],
      updatedAt: now,
    },
  );
  if (!result.ok) conflictFor(result.current, expectedVersion);
  return result.draft;
}

/**
 * Approve or reject. The draft's status and version change with one conditional write; only after
 * it succeeds is the waiting execution resumed, so a double approve yields one decision.
 */
export async function decideDraft(
  deps: Pick<
    Deps,
    | 'clock'
    | 'drafts'
    | 'engine'
    | 'runs'
    | 'metrics'
    | 'actions'
    | 'actionTargets'
    | 'signingSecrets'
    | 'outbound'
    | 'traces'
    | 'sleep'
  >,
  principal: Principal,
  draftId: string,
  decision: 'approved' | 'rejected',
  ifMatch: string | undefined,
  body: unknown,
): Promise<Draft> {
  const expectedVersion = parseIfMatch(ifMatch);
  const parsedBody: ApproveBody =
    decision === 'approved' ? parseBody(ApproveBodySchema, body) : parseBody(DecisionBodySchema, body);
  const { reason } = parsedBody;
  const draft = await loadVisibleDraft(deps, principal, draftId);
  const workflow = getWorkflow(draft.workflowId);
  assertCanChangeDraft(principal, draft, workflow.approvalPolicy.escalatedApproverRoles);
  requireRole(principal, workflow.approvalPolicy.approverRoles);
  if (!OPEN_STATUSES.includes(draft.status)) conflictFor(draft, expectedVersion);
  if (expectedVersion !== undefined && draft.version !== expectedVersion) conflictFor(draft, expectedVersion);

  const now = deps.clock.now();
  const actions =
    decision === 'approved'
      ? decideActions(draft, workflow, principal, parsedBody.actions, now)
      : rejectAllActions(draft, principal, now);
  const outcome: Outcome = {
    decision,
    reviewer: principal.sub,
    reason: reason ?? null,
    editDistance: normalizedEditDistance(canonicalJson(draft.original), canonicalJson(draft.content)),
    timeToDecisionMs: Math.max(0, now.getTime() - Date.parse(draft.createdAt)),
    decidedAt: now.toISOString(),
  };
  const result = await deps.drafts.updateDraft(
    principal.tenantId,
    draftId,
    { version: draft.version, statuses: [draft.status] },
    { status: decision, outcome, actions, updatedAt: now.toISOString() },
    newEvent('draft.decided', principal.tenantId, decidedPayload(draft, decision, principal.sub), now),
  );
  if (!result.ok) conflictFor(result.current, expectedVersion);
  deps.metrics.measure('TimeToDecision', outcome.timeToDecisionMs, 'Milliseconds', {
    workflowId: draft.workflowId,
    decision,
  });

  const token = await deps.drafts.getTaskToken(principal.tenantId, draftId);
  // Without a token the execution has not reached AwaitReview yet; it will see the decision and resume itself.
  if (token !== null) {
    try {
      await deps.engine.sendTaskSuccess(token, { decision });
    } catch {
      // The decision is stored; an execution that can no longer take it (token expired, execution
      // lost) must not leave the run open. If the execution is still alive, its timeout path
      // (ExpireReview) keeps the decision that won, so finishing the run here is safe either way.
      // Its ExecuteActions state will not run either: the approved actions are sent from here, each
      // claimed with a conditional write first (`ActionStore.claimAction`), so even an execution
      // that is alive after all cannot send one a second time.
      if (decision === 'approved' && result.draft.actions.some((action) => action.status === 'approved')) {
        try {
          await executeActions(deps, { tenantId: principal.tenantId, runId: draft.runId, draftId });
        } catch {
          deps.metrics.count('FallbackActionFailures', 1, { workflowId: draft.workflowId });
        }
      }
      await deps.runs.updateRun(principal.tenantId, draft.runId, { status: decision }, deps.clock.now());
      return (await deps.drafts.getDraft(principal.tenantId, draftId)) ?? result.draft;
    }
  }
  return result.draft;
}

/**
 * The draft's actions after an approval: every proposed action must be decided; edited arguments
 * must match the action's strict schema; approving takes one of the action type's approver roles.
 * Each decision records who, when and the hash of the exact arguments decided on.
 */
function decideActions(
  draft: Draft,
  workflow: ReturnType<typeof getWorkflow>,
  principal: Principal,
  decisions: ApproveBody['actions'],
  now: Date,
): ActionRecord[] {
  const given = decisions ?? [];
  const problems: { path: string; message: string }[] = [];
  const byId = new Map<string, NonNullable<ApproveBody['actions']>[number]>();
  given.forEach((entry, index) => {
    if (byId.has(entry.actionId)) {
      problems.push({ path: `actions.${index}.actionId`, message: `${entry.actionId} is decided twice` });
    } else if (!draft.actions.some((action) => action.actionId === entry.actionId)) {
      problems.push({
        path: `actions.${index}.actionId`,
        message: `${entry.actionId} is not an action of this draft`,
      });
    }
    byId.set(entry.actionId, entry);
  });
  const undecided = draft.actions.filter((action) => !byId.has(action.actionId));
  if (undecided.length > 0) {
    problems.push(
      ...undecided.map((action) => ({
        path: 'actions',
        message: `${action.actionId} (${action.type}) is not decided`,
      })),
    );
  }
  if (problems.length > 0) {
    throw new ValidationError(
      undecided.length > 0
        ? `Every proposed action must be approved or rejected; undecided: ${undecided.map((a) => a.actionId).join(', ')}.`
        : 'The action decisions are invalid.',
      problems,
    );
  }
  const forbidden: { path: string; message: string }[] = [];
  const updated = draft.actions.map((action, index): ActionRecord => {
    const entry = byId.get(action.actionId);
    if (!entry) throw new Error('unreachable: every action is decided');
    const spec = workflow.actions.find((candidate) => candidate.type === action.type);
    if (entry.decision === 'reject') {
      if (entry.args !== undefined) {
        problems.push({ path: `actions.${index}.args`, message: 'args can only be given with approve' });
      }
      return {
        ...action,
        status: 'rejected',
        decision: {
          decision: 'reject',
          by: principal.sub,
          at: now.toISOString(),
          argsHash: argsHashOf(action.args),
        },
      };
    }
    if (!spec) {
      problems.push({
        path: `actions.${index}`,
        message: `${action.type} is no longer an action of this workflow`,
      });
      return action;
    }
    if (!hasAnyRole(principal, spec.approverRoles)) {
      forbidden.push({
        path: `actions.${index}`,
        message: `${action.actionId} (${action.type}) can only be approved by: ${spec.approverRoles.join(', ')}`,
      });
    }
    let args = action.args;
    if (entry.args !== undefined) {
      const parsed = spec.argsSchema.strict().safeParse(entry.args);
      if (!parsed.success) {
        problems.push(
          ...parsed.error.issues.map((issue) => ({
            path: ['actions', index, 'args', ...issue.path].join('.'),
            message: issue.message,
          })),
        );
      } else if (!allTextSafe(parsed.data)) {
        problems.push({
          path: `actions.${index}.args`,
          message: 'must not contain control characters or model special tokens',
        });
      } else {
        args = parsed.data;
      }
    }
    return {
      ...action,
      args,
      edited: canonicalJson(args) !== canonicalJson(action.proposedArgs),
      status: 'approved',
      decision: { decision: 'approve', by: principal.sub, at: now.toISOString(), argsHash: argsHashOf(args) },
    };
  });
  if (problems.length > 0) throw new ValidationError('The action decisions are invalid.', problems);
  if (forbidden.length > 0) {
    throw new ForbiddenError(
      `Your roles may not approve ${forbidden.length === 1 ? 'this action' : 'these actions'}: ${forbidden.map((f) => f.message).join('; ')}.`,
      forbidden,
    );
  }
  return updated;
}

/** Rejecting the draft rejects every action still proposed: none of them leaves Rein. */
function rejectAllActions(draft: Draft, principal: Principal, now: Date): ActionRecord[] {
  return draft.actions.map((action) =>
    action.status === 'proposed'
      ? {
          ...action,
          status: 'rejected',
          decision: {
            decision: 'reject',
            by: principal.sub,
            at: now.toISOString(),
            argsHash: argsHashOf(action.args),
          },
        }
      : action,
  );
}

/** Escalate: hands the draft to managers and admins; the execution keeps waiting. */
export async function escalateDraft(
  deps: Pick<Deps, 'clock' | 'drafts' | 'runs' | 'traces'>,
  principal: Principal,
  draftId: string,
  ifMatch: string | undefined,
  body: unknown,
): Promise<Draft> {
  const expectedVersion = parseIfMatch(ifMatch);
  const { reason } = parseBody(DecisionBodySchema, body);
  const draft = await loadVisibleDraft(deps, principal, draftId);
  if (draft.status !== 'awaiting_review') {
    if (draft.status === 'escalated') throw new ConflictError('The draft is already escalated.');
    conflictFor(draft, expectedVersion);
  }
  if (expectedVersion !== undefined && draft.version !== expectedVersion) conflictFor(draft, expectedVersion);
  const now = deps.clock.now();
  const result = await deps.drafts.updateDraft(
    principal.tenantId,
    draftId,
    { version: draft.version, statuses: ['awaiting_review'] },
    {
      status: 'escalated',
      escalation: { by: principal.sub, reason: reason ?? null, at: now.toISOString() },
      updatedAt: now.toISOString(),
    },
    newEvent(
      'draft.escalated',
      principal.tenantId,
      { draftId, runId: draft.runId, workflowId: draft.workflowId, escalatedBy: principal.sub },
      now,
    ),
  );
  if (!result.ok) conflictFor(result.current, expectedVersion);
  await deps.runs.updateRun(principal.tenantId, draft.runId, { status: 'escalated' }, now);
  await recordSpan(deps.traces, principal.tenantId, draft.runId, {
    name: 'review escalated',
    kind: 'review',
    start: now,
    end: now,
    status: 'ok',
    attributes: { 'rein.review.action': 'escalate', 'rein.review.by': principal.sub },
  });
  return result.draft;
}

/** AwaitReview task: keeps the task token beside the draft; resumes at once if the draft was decided first. */
export async function awaitReview(
  deps: Pick<Deps, 'clock' | 'drafts' | 'runs' | 'engine' | 'ledger' | 'log'>,
  task: { tenantId: string; runId: string; draftId: string; taskToken: string },
): Promise<void> {
  // The token is saved before the draft is read: a decision landing in between either sees the
  // token (and resumes the execution itself) or is seen here.
  await deps.drafts.saveTaskToken(task.tenantId, task.draftId, task.taskToken);
  const draft = await deps.drafts.getDraft(task.tenantId, task.draftId);
  if (!draft) throw new NotFoundError('Draft');
  // The run's model spending is over: emit the budget thresholds it crossed.
  await emitBudgetAlerts(deps, task.tenantId, task.runId);
  if (draft.status === 'approved' || draft.status === 'rejected') {
    await deps.engine.sendTaskSuccess(task.taskToken, { decision: draft.status });
    return;
  }
  const now = deps.clock.now();
  if (draft.status === 'escalated') {
    await deps.runs.updateRun(task.tenantId, task.runId, { status: 'escalated' }, now);
    return;
  }
  await deps.runs.updateRun(
    task.tenantId,
    task.runId,
    { status: 'awaiting_review' },
    now,
    newEvent(
      'run.awaiting_review',
      task.tenantId,
      { runId: task.runId, workflowId: draft.workflowId, draftId: task.draftId },
      now,
    ),
  );
}

function decidedPayload(
  draft: Draft,
  decision: 'approved' | 'rejected' | 'expired',
  reviewer: string | null,
) {
  return { draftId: draft.draftId, runId: draft.runId, workflowId: draft.workflowId, decision, reviewer };
}

async function finishRun(
  deps: Pick<Deps, 'clock' | 'drafts' | 'runs' | 'traces'>,
  task: { tenantId: string; runId: string; draftId: string },
  draft: Draft,
): Promise<void> {
  const status =
    draft.status === 'approved' || draft.status === 'rejected' || draft.status === 'expired'
      ? draft.status
      : null;
  if (status === null) throw new ConflictError(`The draft is still ${draft.status}.`);
  await deps.drafts.deleteTaskToken(task.tenantId, task.draftId);
  await deps.runs.updateRun(task.tenantId, task.runId, { status }, deps.clock.now());
  const now = deps.clock.now();
  await recordSpan(deps.traces, task.tenantId, task.runId, {
    name: `review ${status}`,
    kind: 'review',
    start: new Date(draft.createdAt),
    end: now,
    status: 'ok',
    attributes: {
      'rein.review.decision': status,
      'rein.review.reviewer': draft.outcome?.reviewer ?? null,
      'rein.review.edit_distance': draft.outcome?.editDistance ?? 0,
      'rein.review.time_to_decision_ms': draft.outcome?.timeToDecisionMs ?? 0,
      'rein.review.escalated': draft.escalation !== null,
    },
  });
}

/** RecordOutcome task: the run takes the draft's final status. */
export async function recordOutcome(
  deps: Pick<Deps, 'clock' | 'drafts' | 'runs' | 'traces'>,
  task: { tenantId: string; runId: string; draftId: string },
): Promise<void> {
  const draft = await deps.drafts.getDraft(task.tenantId, task.draftId);
  if (!draft) throw new NotFoundError('Draft');
  await finishRun(deps, task, draft);
}

/** ExpireReview task: nobody decided within the review timeout. A decision that won the race stands. */
export async function expireReview(
  deps: Pick<Deps, 'clock' | 'drafts' | 'runs' | 'traces'>,
  task: { tenantId: string; runId: string; draftId: string },
): Promise<void> {
  const draft = await deps.drafts.getDraft(task.tenantId, task.draftId);
  if (!draft) throw new NotFoundError('Draft');
  let final = draft;
  if (OPEN_STATUSES.includes(draft.status)) {
    const now = deps.clock.now();
    const result = await deps.drafts.updateDraft(
      task.tenantId,
      task.draftId,
      { version: draft.version, statuses: OPEN_STATUSES },
      {
        status: 'expired',
        outcome: {
          decision: 'expired',
          reviewer: null,
          reason: 'No decision within the review timeout.',
          editDistance: normalizedEditDistance(canonicalJson(draft.original), canonicalJson(draft.content)),
          timeToDecisionMs: Math.max(0, now.getTime() - Date.parse(draft.createdAt)),
          decidedAt: now.toISOString(),
        },
        // An approval never expires into a yes: undecided actions expire with the draft.
        actions: draft.actions.map((action) =>
          action.status === 'proposed' ? { ...action, status: 'expired' } : action,
        ),
        updatedAt: now.toISOString(),
      },
      newEvent('draft.decided', task.tenantId, decidedPayload(draft, 'expired', null), now),
    );
    if (result.ok) final = result.draft;
    else if (result.current) final = result.current;
  }
  await finishRun(deps, task, final);
}

const FIXED_MESSAGES: Record<RunFailureCode, string> = {
  model_unavailable: 'No model could produce an answer.',
  invalid_model_output: 'The model output failed validation after a repair attempt.',
  model_refused: 'The model refused to write this brief.',
  budget_exceeded: 'The budget does not cover this run.',
  rate_limited: "The tenant's token rate limit left no room for this run.",
  context_unavailable: 'The context for this run could not be gathered.',
  internal_error: 'The run failed because of an internal error.',
  interrupted: 'The run was interrupted when the engine executing it stopped.',
};

/** Maps a Step Functions error name to a run failure code. */
export function failureCodeOf(errorName: string | undefined): RunFailureCode {
  if (errorName === 'InvalidModelOutputError') return 'invalid_model_output';
  const code = errorName?.startsWith('Rein.') ? errorName.slice(5) : undefined;
  return (RUN_FAILURE_CODES as readonly string[]).includes(code ?? '')
    ? (code as RunFailureCode)
    : 'internal_error';
}

/**
 * MarkFailed task: records the failure with a fixed message (provider and stack details stay in
 * logs); a budget refusal with the budget that blocked and its figures, which the model step's
 * error carries in its `Cause` (see `domain/budget-refusal.ts`).
 */
export async function markFailed(
  deps: Pick<Deps, 'clock' | 'runs' | 'traces' | 'metrics' | 'ledger' | 'log'>,
  task: {
    tenantId: string;
    runId: string;
    error: { Error?: string | undefined; Cause?: string | undefined };
  },
): Promise<{ code: RunFailureCode }> {
  const code = failureCodeOf(task.error.Error);
  const refusal = code === 'budget_exceeded' ? budgetRefusalFromCause(task.error.Cause) : null;
  const error: RunError = refusal
    ? { code, message: budgetRefusalMessage(refusal), details: budgetRefusalDetails(refusal) }
    : { code, message: FIXED_MESSAGES[code] };
  // A failed run may have spent too (answers that failed validation): emit the thresholds crossed.
  await emitBudgetAlerts(deps, task.tenantId, task.runId);
  const now = deps.clock.now();
  const failed = await deps.runs.updateRun(
    task.tenantId,
    task.runId,
    { status: 'failed', error },
    now,
    newEvent('run.failed', task.tenantId, { runId: task.runId, code }, now),
  );
  // A model-call invocation that died holding a lease needs nothing here: its hold ends with its
  // lease (the tenant's next model call sweeps expired leases). A run that had ended already (a later task of a finished run failed) keeps its status and span.
  if (failed) {
    // Operators alarm on `internal_error` only; the business outcomes are counted, not alarmed.
    deps.metrics.count('RunsFailed', 1, { code });
    await recordSpan(deps.traces, task.tenantId, task.runId, {
      name: 'run failed',
      kind: 'run',
      start: now,
      end: now,
      status: 'error',
      attributes: {
        'error.type': code,
        'rein.step_functions.error': task.error.Error ?? null,
      },
    });
  }
  return { code };
}
