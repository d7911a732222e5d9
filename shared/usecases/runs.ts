import { createHash } from 'node:crypto';
import { z } from 'zod';
import { commaSeparated } from '../domain/query.ts';
import {
  BudgetExceededError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { assertCanSeeRun, effectiveTenant, requireRole } from '../domain/permissions.ts';
import { hasAnyRole, type Principal } from '../domain/principal.ts';
import { RunSchema, RunStatusSchema, type Run } from '../domain/run.ts';
import { actionCounts, ActionCountsSchema } from '../domain/actions.ts';
import type { Span } from '../domain/trace.ts';
import { canonicalJson } from '../domain/edit-distance.ts';
import { livePrompt } from '../workflows/definition.ts';
import { getWorkflow } from '../workflows/registry.ts';
import type { IdempotencyRecord } from '../ports/index.ts';
import type { Deps } from './deps.ts';
import { recordSpan } from './tracing.ts';

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export interface StartRunCommand {
  principal: Principal;
  workflowId: string;
  body: unknown;
  idempotencyKey: string | undefined;
}

/**
 * Layer 1: checks the caller may request this workflow for this record, creates the run and starts
 * the state machine. The same Idempotency-Key with the same body returns the same run; with
 * another body it is a 409.
 */
export async function startRun(
  deps: Pick<
    Deps,
    'clock' | 'runs' | 'engine' | 'accounts' | 'traces' | 'ledger' | 'rateLimiter' | 'settings' | 'metrics'
  >,
  command: StartRunCommand,
): Promise<Run> {
  const started = deps.clock.now();
  const { principal } = command;
  const workflow = getWorkflow(command.workflowId);
  requireRole(principal, workflow.requesterRoles);

  const parsed = workflow.inputSchema.safeParse(command.body);
  if (!parsed.success) {
    throw new ValidationError(
      'The request body does not match the workflow input schema.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const input = parsed.data;
  const accountId = workflow.accountIdOf(input);

  const account = await deps.accounts.getAccount(principal.tenantId, accountId);
  if (!account) throw new NotFoundError('Account');
  if (!hasAnyRole(principal, ['manager', 'admin']) && account.ownerId !== principal.sub) {
    throw new ForbiddenError('You can request briefs only for accounts you own.');
  }

  const requestHash = createHash('sha256')
    .update(canonicalJson({ workflowId: workflow.id, input }))
    .digest('hex');
  const idempotencyKey =
    command.idempotencyKey === undefined ? undefined : `${principal.sub}\u0000${command.idempotencyKey}`;
  // A replay returns the stored run before any limit is checked or consumed.
  if (idempotencyKey !== undefined) {
    const known = await deps.runs.findIdempotency(principal.tenantId, idempotencyKey, started);
    if (known) return replayed(deps, principal, known, requestHash);
  }

  const budget = await deps.ledger.getBudget(principal.tenantId, started.toISOString().slice(0, 7));
  if (budget.availableUsd <= 0) {
    deps.metrics.count('BudgetRefusals', 1, { budget: 'tenant_month' });
    throw new BudgetExceededError({
      budget: 'tenant_month',
      month: budget.month,
      limitUsd: budget.limitUsd,
      spentUsd: budget.spentUsd,
      reservedUsd: budget.reservedUsd,
      attemptUsd: null,
    });
  }
  const admitted = await deps.rateLimiter.consume(
    `${principal.tenantId}#rpm`,
    1,
    deps.settings.rateLimits.requestsPerMinute,
    started,
  );
  if (!admitted.allowed) {
    deps.metrics.count('RateLimited', 1, { scope: 'runs' });
    throw new RateLimitedError(admitted.retryAfterMs / 1000);
  }

  const prompt = livePrompt(workflow.prompts);
  const now = deps.clock.now();
  const run: Run = {
    runId: newId('run', now.getTime()),
    tenantId: principal.tenantId,
    workflowId: workflow.id,
    requestedBy: principal.sub,
    accountId,
    input,
    status: 'running',
    draftId: null,
    error: null,
    costUsd: 0,
    promptId: prompt.id,
    promptVersion: prompt.version,
    model: null,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };

  const created = await deps.runs.createRun(
    run,
    idempotencyKey === undefined
      ? undefined
      : {
          key: idempotencyKey,
          requestHash,
          expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
        },
  );
  // A concurrent request with the same key won the race: answer like a replay.
  if (!created.created) return replayed(deps, principal, created.existing, requestHash);

  await recordSpan(deps.traces, run.tenantId, run.runId, {
    name: `POST /v1/workflows/${workflow.id}/runs`,
    kind: 'request',
    start: started,
    end: deps.clock.now(),
    status: 'ok',
    attributes: {
      'enduser.id': principal.sub,
      'rein.workflow.id': workflow.id,
      'rein.account.id': accountId,
      'rein.idempotency_key.present': command.idempotencyKey !== undefined,
    },
  });
  // StartExecution uses the run id as the execution name, so a retried start cannot run twice.
  try {
    await deps.engine.startExecution({ tenantId: run.tenantId, runId: run.runId, workflowId: workflow.id });
  } catch (error) {
    // The run must not stay `running` with no execution behind it.
    await deps.runs.updateRun(
      run.tenantId,
      run.runId,
      { status: 'failed', error: { code: 'internal_error', message: 'The workflow could not be started.' } },
      deps.clock.now(),
    );
    throw error;
  }
  return run;
}

async function replayed(
  deps: Pick<Deps, 'runs'>,
  principal: Principal,
  known: IdempotencyRecord,
  requestHash: string,
): Promise<Run> {
  if (known.requestHash !== requestHash) {
    throw new ConflictError('This Idempotency-Key was used with a different request body.');
  }
  const existing = await deps.runs.getRun(principal.tenantId, known.runId);
  if (!existing) throw new NotFoundError('Run');
  return existing;
}

/** A run as `GET /v1/runs/{runId}` returns it: with the action counts of its draft (null before there is one). */
export const RunViewSchema = RunSchema.extend({ actions: ActionCountsSchema.nullable() });
export type RunView = z.infer<typeof RunViewSchema>;

export async function getRun(
  deps: Pick<Deps, 'runs' | 'drafts'>,
  principal: Principal,
  runId: string,
  requestedTenantId: string | undefined,
): Promise<RunView> {
  const tenantId = effectiveTenant(principal, requestedTenantId);
  const run = await deps.runs.getRun(tenantId, runId);
  if (!run) throw new NotFoundError('Run');
  assertCanSeeRun(principal, run);
  // The draft is the one record of the actions' statuses: the run's counts are derived from it.
  const draft = run.draftId ? await deps.drafts.getDraft(tenantId, run.draftId) : null;
  return { ...run, actions: draft ? actionCounts(draft.actions) : null };
}

export async function getRunTrace(
  deps: Pick<Deps, 'runs' | 'traces'>,
  principal: Principal,
  runId: string,
  requestedTenantId: string | undefined,
): Promise<{ runId: string; traceId: string | null; spans: Span[] }> {
  const tenantId = effectiveTenant(principal, requestedTenantId);
  const run = await deps.runs.getRun(tenantId, runId);
  if (!run) throw new NotFoundError('Run');
  const spans = await deps.traces.list(tenantId, runId);
  return { runId, traceId: spans[0]?.traceId ?? null, spans };
}

const RUN_LIST_DAY = z.iso.date('must be an existing YYYY-MM-DD date');

/** `GET /v1/runs`: filters, page size and cursor. `status` takes one or several statuses, comma-separated. */
export const ListRunsQuerySchema = z
  .object({
    status: commaSeparated(RunStatusSchema).optional().meta({
      description: 'One or several statuses, comma-separated: `failed` or `awaiting_review,escalated`.',
    }),
    workflowId: z.string().max(64).optional(),
    accountId: z.string().max(128).optional(),
    from: RUN_LIST_DAY.optional().meta({
      description: 'Created on or after this day (UTC). Default: 30 days ago.',
    }),
    to: RUN_LIST_DAY.optional().meta({ description: 'Created on or before this day (UTC). Default: today.' }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(2000).optional(),
    tenantId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .optional()
      .meta({
        description: 'Operators and finance: the tenant whose runs to list.',
      }),
  })
  .strict();
export type ListRunsQuery = z.output<typeof ListRunsQuerySchema>;

const DAY_MS = 86_400_000;

/**
 * A page of runs, newest first. A CSM sees the runs they requested; managers and admins the
 * tenant's; operators and finance a tenant's with `tenantId`. Finance gets cost fields only: the
 * run's input (the request's content) is left out.
 */
export async function listRuns(
  deps: Pick<Deps, 'runs' | 'clock'>,
  principal: Principal,
  query: ListRunsQuery,
): Promise<{ items: (Omit<Run, 'input'> & { input?: Run['input'] })[]; nextCursor: string | null }> {
  const tenantId = effectiveTenant(principal, query.tenantId);
  const now = deps.clock.now();
  const to = query.to ?? now.toISOString().slice(0, 10);
  const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 30 * DAY_MS).toISOString().slice(0, 10);
  if (from > to)
    throw new ValidationError('The query string is invalid.', [
      { path: 'from', message: 'from must not be after to' },
    ]);
  const ownOnly = !hasAnyRole(principal, ['manager', 'admin', 'operator', 'finance']);
  const page = await deps.runs.listRuns(tenantId, {
    fromIso: `${from}T00:00:00.000Z`,
    toIso: new Date(Date.parse(`${to}T00:00:00Z`) + DAY_MS).toISOString(),
    limit: query.limit,
    ...(query.status ? { statuses: query.status } : {}),
    ...(query.workflowId !== undefined ? { workflowId: query.workflowId } : {}),
    ...(query.accountId !== undefined ? { accountId: query.accountId } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    ...(ownOnly ? { requestedBy: principal.sub } : {}),
  });
  const costOnly =
    hasAnyRole(principal, ['finance']) && !hasAnyRole(principal, ['operator', 'manager', 'admin']);
  return {
    items: costOnly ? page.items.map(({ input: _input, ...run }) => run) : page.items,
    nextCursor: page.nextCursor,
  };
}
