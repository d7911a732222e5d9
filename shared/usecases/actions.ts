import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  PutActionTargetBodySchema,
  TARGET_ID_PATTERN,
  type ActionTarget,
  type PutActionTargetResult,
} from '../domain/action-targets.ts';
import {
  actionCounts,
  type ActionCounts,
  type ActionExecution,
  type ActionRecord,
} from '../domain/actions.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import { isSafeText } from '../domain/text.ts';
import { checkOutboundUrl, OutboundError, type OutboundResponse } from '../outbound/http.ts';
import { newSigningSecret, signatureHeaders } from '../outbound/signing.ts';
import type { Deps } from './deps.ts';
import { recordSpan } from './tracing.ts';

/**
 * How approved actions are sent. Bounded: at most `maxAttempts` tries per action, each within
 * `timeoutMs`, with exponential backoff from `backoffMs`; the lease outlasts all of them, so
 * another invocation takes an action over only when the one sending it is gone.
 */
export const ACTION_DELIVERY = {
  maxAttempts: 4,
  timeoutMs: 10_000,
  backoffMs: 500,
  maxResponseBytes: 64 * 1024,
  leaseMs: 120_000,
} as const;

/** The JSON body sent to the target for one approved action. */
export const ActionDeliverySchema = z.object({
  actionId: z.string(),
  type: z.string(),
  args: z.record(z.string(), z.unknown()),
  tenantId: z.string(),
  runId: z.string(),
  accountId: z.string(),
  approvedBy: z.string(),
  approvedAt: z.iso.datetime(),
});
export type ActionDelivery = z.infer<typeof ActionDeliverySchema>;

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

/**
 * `PUT /v1/action-targets/{targetId}` (tenant admin): creates or replaces where the tenant's
 * approved actions of this target go. The URL must pass the outbound policy now (scheme, IP
 * literals) and again on every send (every resolved address). A new signing secret is created with
 * the target and returned in that one answer only; afterwards it lives only in the secret store.
 */
export async function putActionTarget(
  deps: Pick<Deps, 'clock' | 'actionTargets' | 'signingSecrets' | 'settings'>,
  principal: Principal,
  targetId: string | undefined,
  body: unknown,
): Promise<{ created: boolean; target: PutActionTargetResult }> {
  if (targetId === undefined || !TARGET_ID_PATTERN.test(targetId)) {
    throw new ValidationError('targetId must be 2 to 32 lower-case letters, digits or dashes.');
  }
  const input = parseBody(PutActionTargetBodySchema, body);
  try {
    checkOutboundUrl(input.url, deps.settings.outboundPolicy);
  } catch (error) {
    if (error instanceof OutboundError) {
      throw new ValidationError('The target URL is not allowed.', [{ path: 'url', message: error.message }]);
    }
    throw error;
  }
  const now = deps.clock.now().toISOString();
  const { created, target } = await deps.actionTargets.putTarget({
    tenantId: principal.tenantId,
    targetId,
    url: input.url,
    description: input.description ?? null,
    createdBy: principal.sub,
    createdAt: now,
    updatedAt: now,
  });
  // A target whose secret was never stored (a failure between the two writes) gets one now.
  const needsSecret =
    created || (await deps.signingSecrets.getSigningSecret(principal.tenantId, targetId)) === null;
  if (!needsSecret) return { created, target };
  const signingSecret = newSigningSecret();
  await deps.signingSecrets.putSigningSecret(principal.tenantId, targetId, signingSecret);
  return { created, target: { ...target, signingSecret } };
}

/** Why an attempt's answer ends, retries or fails the delivery. */
type AttemptResult =
  | { kind: 'executed'; status: number; responseId: string | null }
  | { kind: 'retry'; status: number | null; code: string; message: string }
  | { kind: 'failed'; status: number | null; code: string; message: string };

const RETRIABLE_STATUSES = new Set([408, 429]);

/** A short, safe message from the target's error answer, for the reviewer to read on the draft. */
function targetMessage(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const record = parsed as Record<string, unknown>;
    const nested = record['error'];
    const candidate =
      typeof nested === 'string'
        ? nested
        : typeof nested === 'object' && nested !== null
          ? (nested as Record<string, unknown>)['message']
          : record['message'];
    if (typeof candidate !== 'string') return null;
    const flat = candidate.replace(/\s+/g, ' ').trim().slice(0, 200);
    return flat.length > 0 && isSafeText(flat) ? flat : null;
  } catch {
    return null;
  }
}

function responseIdOf(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const id = (parsed as Record<string, unknown>)['id'];
    return typeof id === 'string' && /^[\x21-\x7e]{1,128}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** Classifies one answer: 2xx executed; 408, 429, 5xx retried; any other status failed with the reason. */
export function classifyAnswer(response: OutboundResponse): AttemptResult {
  const { status } = response;
  if (status >= 200 && status < 300) {
    return { kind: 'executed', status, responseId: responseIdOf(response.body) };
  }
  const detail = targetMessage(response.body);
  const message = `The target answered ${status}${detail ? `: ${detail}` : '.'}`;
  if (RETRIABLE_STATUSES.has(status) || status >= 500) {
    return { kind: 'retry', status, code: `http_${status}`, message };
  }
  return { kind: 'failed', status, code: `http_${status}`, message };
}

function classifyFailure(error: unknown): AttemptResult {
  if (error instanceof OutboundError) {
    const retriable = error.reason === 'timeout' || error.reason === 'connection';
    return {
      kind: retriable ? 'retry' : 'failed',
      status: null,
      code: error.reason,
      message: error.message,
    };
  }
  throw error;
}

/**
 * ExecuteActions task, after the review: sends every approved action of the draft to its target,
 * signed (Standard Webhooks) and with `Idempotency-Key: {actionId}`. Each action is claimed with a
 * conditional write first (approved → executing, with a lease), so a retried task, a second
 * approval or a concurrent invocation never sends it again; a rejected, expired or undecided action
 * is never claimed and never leaves Rein.
 */
export async function executeActions(
  deps: Pick<
    Deps,
    'clock' | 'drafts' | 'actions' | 'actionTargets' | 'signingSecrets' | 'outbound' | 'traces' | 'sleep'
  >,
  task: { tenantId: string; runId: string; draftId: string },
): Promise<ActionCounts> {
  const draft = await deps.drafts.getDraft(task.tenantId, task.draftId);
  if (!draft) throw new NotFoundError('Draft');
  const pending =
    draft.status === 'approved'
      ? draft.actions.filter((action) => action.status === 'approved' || action.status === 'executing')
      : [];
  // Nothing to send (a rejected or expired draft, no actions, all done): one read and no write.
  if (pending.length === 0) return actionCounts(draft.actions);
  for (const action of pending) {
    await deliverAction(deps, { ...task, accountId: draft.accountId }, action);
  }
  const after = await deps.drafts.getDraft(task.tenantId, task.draftId);
  return actionCounts(after?.actions ?? draft.actions);
}

async function deliverAction(
  deps: Pick<
    Deps,
    'clock' | 'actions' | 'actionTargets' | 'signingSecrets' | 'outbound' | 'traces' | 'sleep'
  >,
  task: { tenantId: string; runId: string; draftId: string; accountId: string },
  action: ActionRecord,
): Promise<void> {
  const claimedAt = deps.clock.now();
  const claimed = await deps.actions.claimAction(
    task.tenantId,
    task.draftId,
    action.actionId,
    new Date(claimedAt.getTime() + ACTION_DELIVERY.leaseMs),
    claimedAt,
  );
  if (!claimed?.execution?.leaseUntil || !claimed.decision) return;
  const claim = { leaseUntil: claimed.execution.leaseUntil };
  const execution: ActionExecution = { ...claimed.execution };
  const finish = async (status: 'executed' | 'failed', changes: Partial<ActionExecution>) => {
    await deps.actions.finishAction(task.tenantId, task.draftId, action.actionId, claim, {
      status,
      execution: { ...execution, ...changes, leaseUntil: null, finishedAt: deps.clock.now().toISOString() },
    });
  };

  const target: ActionTarget | null = await deps.actionTargets.getTarget(task.tenantId, claimed.targetId);
  const secret = target ? await deps.signingSecrets.getSigningSecret(task.tenantId, claimed.targetId) : null;
  if (!target || secret === null) {
    await finish('failed', {
      error: {
        code: 'target_not_configured',
        message: `No action target "${claimed.targetId}" is configured for this tenant (PUT /v1/action-targets/${claimed.targetId}).`,
      },
    });
    await recordSpan(deps.traces, task.tenantId, task.runId, {
      name: `action ${claimed.type}`,
      kind: 'action',
      start: claimedAt,
      end: deps.clock.now(),
      status: 'error',
      attributes: {
        'rein.action.id': claimed.actionId,
        'rein.action.type': claimed.type,
        'rein.action.target': claimed.targetId,
        'error.type': 'target_not_configured',
      },
    });
    return;
  }

  const delivery: ActionDelivery = {
    actionId: claimed.actionId,
    type: claimed.type,
    args: claimed.args,
    tenantId: task.tenantId,
    runId: task.runId,
    accountId: task.accountId,
    approvedBy: claimed.decision.by,
    approvedAt: claimed.decision.at,
  };
  const body = JSON.stringify(delivery);
  const bodyHash = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  let last: AttemptResult | null = null;
  for (let attempt = 1; attempt <= ACTION_DELIVERY.maxAttempts; attempt += 1) {
    if (attempt > 1) await deps.sleep(ACTION_DELIVERY.backoffMs * 2 ** (attempt - 2));
    const start = deps.clock.now();
    let result: AttemptResult;
    try {
      const response = await deps.outbound.send({
        url: target.url,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': claimed.actionId,
          'user-agent': 'Rein-Actions/1',
          // The message id is the action id on every try: a receiver de-duplicates by either header.
          ...signatureHeaders(secret, claimed.actionId, start, body),
        },
        body,
        timeoutMs: ACTION_DELIVERY.timeoutMs,
        maxBytes: ACTION_DELIVERY.maxResponseBytes,
      });
      result = classifyAnswer(response);
    } catch (error) {
      result = classifyFailure(error);
    }
    last = result;
    execution.attempts = attempt;
    execution.lastStatus = result.status;
    await recordSpan(deps.traces, task.tenantId, task.runId, {
      name: `action ${claimed.type} attempt ${attempt}`,
      kind: 'action',
      start,
      end: deps.clock.now(),
      status: result.kind === 'executed' ? 'ok' : 'error',
      attributes: {
        'rein.action.id': claimed.actionId,
        'rein.action.type': claimed.type,
        'rein.action.target': claimed.targetId,
        'rein.action.attempt': attempt,
        'rein.action.args_hash': claimed.decision.argsHash,
        'rein.action.body_hash': bodyHash,
        'rein.action.outcome': result.kind,
        'http.response.status_code': result.status,
        ...(result.kind === 'executed' ? {} : { 'error.type': result.code }),
      },
    });
    if (result.kind !== 'retry') break;
  }
  if (last?.kind === 'executed') {
    await finish('executed', { responseId: last.responseId, error: null });
    return;
  }
  const reason =
    last === null
      ? { code: 'not_sent', message: 'The action was not sent.' }
      : last.kind === 'retry'
        ? {
            code: last.code,
            message: `${last.message} Gave up after ${ACTION_DELIVERY.maxAttempts} attempts.`,
          }
        : { code: last.code, message: last.message };
  await finish('failed', { error: reason });
}
