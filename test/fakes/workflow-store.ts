import type { ActionExecution, ActionRecord } from '#shared/domain/actions.ts';
import type { ContextObject } from '#shared/domain/context.ts';
import type { Draft, DraftStatus } from '#shared/domain/draft.ts';
import type { DomainEvent } from '#shared/domain/events.ts';
import { roundUsd } from '#shared/domain/pricing.ts';
import { TERMINAL_RUN_STATUSES, type Run } from '#shared/domain/run.ts';
import type {
  ActionStore,
  AttemptRecord,
  DraftListQuery,
  DraftStore,
  IdempotencyRecord,
  ReviewRollup,
  RunCost,
  RunListQuery,
  RunStore,
} from '#shared/ports/index.ts';
import { reviewRollupsOf } from '#shared/domain/rollups.ts';

/** The key a charge is counted under on the run: the attempt key and the invocation that got it. */
type HookedMethod = 'saveTaskToken' | 'updateDraft' | 'getTaskToken';

/**
 * Runs, contexts, attempts, drafts, task tokens and idempotency keys in memory, with the same
 * conditional semantics as the DynamoDB store: idempotency keys per tenant, terminal runs never
 * change status again, attempt costs are added once per attempt key, drafts are created once and
 * updated only at the expected version and status.
 *
 * `interleave` runs a function once just before a method does its work, so tests can stage the
 * races the real store would see between concurrent Lambdas.
 */
export class InMemoryWorkflowStore implements RunStore, DraftStore, ActionStore {
  private readonly runs = new Map<string, Run>();
  private readonly costedAttempts = new Map<string, Set<string>>();
  private readonly idempotency = new Map<string, IdempotencyRecord & { expiresAt: number }>();
  private readonly contexts = new Map<string, ContextObject>();
  private readonly attempts = new Map<string, AttemptRecord>();
  private readonly drafts = new Map<string, Draft>();
  private readonly tokens = new Map<string, string>();
  private readonly hooks = new Map<HookedMethod, (() => Promise<void>)[]>();
  /** The events recorded with state changes (the outbox), in order. */
  readonly outbox: DomainEvent[] = [];
  /** How many times each method was called, for "written once" assertions. */
  readonly callCounts = new Map<string, number>();

  interleave(method: HookedMethod, action: () => Promise<void>): void {
    this.hooks.set(method, [...(this.hooks.get(method) ?? []), action]);
  }

  private async enter(method: string): Promise<void> {
    this.callCounts.set(method, (this.callCounts.get(method) ?? 0) + 1);
    const queue = this.hooks.get(method as HookedMethod);
    const hook = queue?.shift();
    if (hook) await hook();
  }

  count(method: string): number {
    return this.callCounts.get(method) ?? 0;
  }

  // Runs

  async createRun(
    run: Run,
    idempotency?: { key: string; requestHash: string; expiresAt: number },
  ): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }> {
    await this.enter('createRun');
    const runKey = `${run.tenantId}#${run.runId}`;
    if (this.runs.has(runKey)) throw new Error(`run ${run.runId} exists already`);
    if (idempotency) {
      const idemKey = `${run.tenantId}#${idempotency.key}`;
      const existing = this.idempotency.get(idemKey);
      const nowSeconds = Math.floor(Date.parse(run.createdAt) / 1000);
      if (existing && existing.expiresAt >= nowSeconds) {
        return { created: false, existing: { requestHash: existing.requestHash, runId: existing.runId } };
      }
      this.idempotency.set(idemKey, {
        requestHash: idempotency.requestHash,
        runId: run.runId,
        expiresAt: idempotency.expiresAt,
      });
    }
    this.runs.set(runKey, structuredClone(run));
    return { created: true };
  }

  async findIdempotency(tenantId: string, key: string, now: Date): Promise<IdempotencyRecord | null> {
    await this.enter('findIdempotency');
    const existing = this.idempotency.get(`${tenantId}#${key}`);
    if (!existing || existing.expiresAt < Math.floor(now.getTime() / 1000)) return null;
    return { requestHash: existing.requestHash, runId: existing.runId };
  }

  async getRun(tenantId: string, runId: string): Promise<Run | null> {
    await this.enter('getRun');
    const run = this.runs.get(`${tenantId}#${runId}`);
    return run ? structuredClone(run) : null;
  }

  async updateRun(
    tenantId: string,
    runId: string,
    changes: Parameters<RunStore['updateRun']>[2],
    now: Date,
    event?: DomainEvent,
  ): Promise<Run | null> {
    await this.enter('updateRun');
    const run = this.runs.get(`${tenantId}#${runId}`);
    if (!run) return null;
    const guarded = changes.status !== undefined || changes.error !== undefined;
    if (guarded && TERMINAL_RUN_STATUSES.includes(run.status)) return null;
    if (event !== undefined && changes.status !== undefined && run.status !== changes.status) {
      this.outbox.push(structuredClone(event));
    }
    if (changes.status !== undefined) run.status = changes.status;
    if (changes.draftId !== undefined) run.draftId = changes.draftId;
    if (changes.expiresAt !== undefined) run.expiresAt = changes.expiresAt;
    if (changes.error !== undefined) run.error = structuredClone(changes.error);
    run.updatedAt = now.toISOString();
    return structuredClone(run);
  }

  async saveContext(tenantId: string, runId: string, context: ContextObject): Promise<void> {
    await this.enter('saveContext');
    this.contexts.set(`${tenantId}#${runId}`, structuredClone(context));
  }

  async getContext(tenantId: string, runId: string): Promise<ContextObject | null> {
    await this.enter('getContext');
    const context = this.contexts.get(`${tenantId}#${runId}`);
    return context ? structuredClone(context) : null;
  }

  /** Stores an attempt record as is, without touching the run (for seeding). */
  storeAttempt(tenantId: string, runId: string, record: AttemptRecord): void {
    this.attempts.set(`${tenantId}#${runId}#${record.attempt}`, structuredClone(record));
  }

  /**
   * The workflow-table half of the gateway's settle transaction: the attempt record, and its cost
   * and model on the run once per charge key (attempt key and invocation). Returns false, writing
   * nothing, when the run does not exist or the key was costed already (the real transaction's condition).
   */
  /** Whether the run exists and was not charged for `key` yet (the run-cost condition of a settle). */
  canChargeRun(tenantId: string, runId: string, key: string): boolean {
    const runKey = `${tenantId}#${runId}`;
    return this.runs.has(runKey) && !(this.costedAttempts.get(runKey)?.has(key) ?? false);
  }

  /** Adds a charge to the run's cost and model, once per key (the gateway's run-cost write). */
  chargeRun(
    tenantId: string,
    runId: string,
    charge: { key: string; costUsd: number; model: string },
    now: Date,
  ): void {
    const runKey = `${tenantId}#${runId}`;
    const run = this.runs.get(runKey);
    if (!run || !this.canChargeRun(tenantId, runId, charge.key)) return;
    const costed = this.costedAttempts.get(runKey) ?? new Set<string>();
    costed.add(charge.key);
    this.costedAttempts.set(runKey, costed);
    run.costUsd = roundUsd(run.costUsd + charge.costUsd);
    run.model = charge.model;
    run.updatedAt = now.toISOString();
  }

  /** The run's current cost, synchronously (the run-cost check of a reservation). */
  runCostOf(tenantId: string, runId: string): number | null {
    return this.runs.get(`${tenantId}#${runId}`)?.costUsd ?? null;
  }

  async getAttempt(tenantId: string, runId: string, attempt: number): Promise<AttemptRecord | null> {
    await this.enter('getAttempt');
    const record = this.attempts.get(`${tenantId}#${runId}#${attempt}`);
    return record ? structuredClone(record) : null;
  }

  async setAttemptValidation(
    tenantId: string,
    runId: string,
    attempt: number,
    errors: string[],
  ): Promise<void> {
    await this.enter('setAttemptValidation');
    const record = this.attempts.get(`${tenantId}#${runId}#${attempt}`);
    if (!record) throw new Error(`attempt ${attempt} of ${runId} does not exist`);
    record.validationErrors = [...errors];
  }

  // Drafts

  async createDraft(draft: Draft): Promise<Draft> {
    await this.enter('createDraft');
    const key = `${draft.tenantId}#${draft.draftId}`;
    const existing = this.drafts.get(key);
    if (existing) return structuredClone(existing);
    this.drafts.set(key, structuredClone(draft));
    return structuredClone(draft);
  }

  async getDraft(tenantId: string, draftId: string): Promise<Draft | null> {
    await this.enter('getDraft');
    const draft = this.drafts.get(`${tenantId}#${draftId}`);
    return draft ? structuredClone(draft) : null;
  }

  async listDrafts(
    tenantId: string,
    query: DraftListQuery,
  ): Promise<{ items: Draft[]; nextCursor: string | null }> {
    await this.enter('listDrafts');
    const sortKey = (d: Draft) => `${d.createdAt}#${d.draftId}`;
    const after = query.cursor === undefined ? null : Buffer.from(query.cursor, 'base64url').toString('utf8');
    const matching = [...this.drafts.values()]
      .filter((d) => d.tenantId === tenantId)
      .filter((d) => query.ownerId === undefined || d.ownerId === query.ownerId)
      .filter((d) => query.statuses === undefined || query.statuses.includes(d.status))
      .filter((d) => query.accountId === undefined || d.accountId === query.accountId)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1))
      .filter((d) => after === null || sortKey(d) < after);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    const nextCursor =
      matching.length > items.length && last
        ? Buffer.from(sortKey(last), 'utf8').toString('base64url')
        : null;
    return { items: structuredClone(items), nextCursor };
  }

  async listRuns(
    tenantId: string,
    query: RunListQuery,
  ): Promise<{ items: Run[]; nextCursor: string | null }> {
    await this.enter('listRuns');
    const sortKey = (r: Run) => `${r.createdAt}#${r.runId}`;
    const after = query.cursor === undefined ? null : Buffer.from(query.cursor, 'base64url').toString('utf8');
    const matching = [...this.runs.values()]
      .filter((r) => r.tenantId === tenantId && r.createdAt >= query.fromIso && r.createdAt < query.toIso)
      .filter((r) => query.requestedBy === undefined || r.requestedBy === query.requestedBy)
      .filter((r) => query.statuses === undefined || query.statuses.includes(r.status))
      .filter((r) => query.workflowId === undefined || r.workflowId === query.workflowId)
      .filter((r) => query.accountId === undefined || r.accountId === query.accountId)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1))
      .filter((r) => after === null || sortKey(r) < after);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    const nextCursor =
      matching.length > items.length && last
        ? Buffer.from(sortKey(last), 'utf8').toString('base64url')
        : null;
    return { items: structuredClone(items), nextCursor };
  }

  async topRunsByCost(query: {
    tenantId?: string;
    fromIso: string;
    toIso: string;
    limit: number;
  }): Promise<RunCost[]> {
    await this.enter('topRunsByCost');
    return [...this.runs.values()]
      .filter((r) => query.tenantId === undefined || r.tenantId === query.tenantId)
      .filter((r) => r.createdAt >= query.fromIso && r.createdAt < query.toIso)
      .sort((a, b) => b.costUsd - a.costUsd || (a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, query.limit)
      .map((r) => ({
        runId: r.runId,
        tenantId: r.tenantId,
        workflowId: r.workflowId,
        accountId: r.accountId,
        requestedBy: r.requestedBy,
        status: r.status,
        model: r.model,
        costUsd: r.costUsd,
        createdAt: r.createdAt,
      }));
  }

  /** The review counters the DynamoDB store keeps with each draft write, derived from the drafts. */
  async readReviewRollups(tenantId: string, fromDay: string, toDay: string): Promise<ReviewRollup[]> {
    await this.enter('readReviewRollups');
    return reviewRollupsOf(
      [...this.drafts.values()].filter((d) => {
        const day = d.createdAt.slice(0, 10);
        return d.tenantId === tenantId && day >= fromDay && day <= toDay;
      }),
    );
  }

  async listDraftsCreatedBetween(tenantId: string, fromIso: string, toIso: string): Promise<Draft[]> {
    await this.enter('listDraftsCreatedBetween');
    return [...this.drafts.values()]
      .filter((d) => d.tenantId === tenantId && d.createdAt >= fromIso && d.createdAt < toIso)
      .map((d) => structuredClone(d));
  }

  async updateDraft(
    tenantId: string,
    draftId: string,
    expected: { version?: number; statuses: readonly DraftStatus[] },
    changes: Parameters<DraftStore['updateDraft']>[3],
    event?: DomainEvent,
  ): Promise<{ ok: true; draft: Draft } | { ok: false; current: Draft | null }> {
    await this.enter('updateDraft');
    const draft = this.drafts.get(`${tenantId}#${draftId}`);
    if (!draft) return { ok: false, current: null };
    const versionMatches = expected.version === undefined || draft.version === expected.version;
    if (!versionMatches || !expected.statuses.includes(draft.status)) {
      return { ok: false, current: structuredClone(draft) };
    }
    draft.version += 1;
    draft.updatedAt = changes.updatedAt;
    if (changes.status !== undefined) draft.status = changes.status;
    if (changes.content !== undefined) draft.content = structuredClone(changes.content);
    if (changes.outcome !== undefined) draft.outcome = structuredClone(changes.outcome);
    if (changes.escalation !== undefined) draft.escalation = structuredClone(changes.escalation);
    if (event !== undefined) this.outbox.push(structuredClone(event));
    if (changes.actions !== undefined) draft.actions = structuredClone(changes.actions);
    return { ok: true, draft: structuredClone(draft) };
  }

  async claimAction(
    tenantId: string,
    draftId: string,
    actionId: string,
    leaseUntil: Date,
    now: Date,
  ): Promise<ActionRecord | null> {
    await this.enter('claimAction');
    const action = this.drafts.get(`${tenantId}#${draftId}`)?.actions.find((a) => a.actionId === actionId);
    if (!action) return null;
    const expiredLease =
      action.status === 'executing' && (action.execution?.leaseUntil ?? '') < now.toISOString();
    if (action.status !== 'approved' && !expiredLease) return null;
    action.status = 'executing';
    action.execution = {
      attempts: 0,
      leaseUntil: leaseUntil.toISOString(),
      finishedAt: null,
      lastStatus: null,
      responseId: null,
      error: null,
    };
    return structuredClone(action);
  }

  async finishAction(
    tenantId: string,
    draftId: string,
    actionId: string,
    claim: { leaseUntil: string },
    outcome: { status: 'executed' | 'failed'; execution: ActionExecution },
    event: DomainEvent,
  ): Promise<boolean> {
    await this.enter('finishAction');
    const action = this.drafts.get(`${tenantId}#${draftId}`)?.actions.find((a) => a.actionId === actionId);
    if (action?.status !== 'executing' || action.execution?.leaseUntil !== claim.leaseUntil) return false;
    action.status = outcome.status;
    action.execution = structuredClone(outcome.execution);
    this.outbox.push(structuredClone(event));
    return true;
  }

  async saveTaskToken(tenantId: string, draftId: string, taskToken: string): Promise<void> {
    await this.enter('saveTaskToken');
    this.tokens.set(`${tenantId}#${draftId}`, taskToken);
  }

  async getTaskToken(tenantId: string, draftId: string): Promise<string | null> {
    await this.enter('getTaskToken');
    return this.tokens.get(`${tenantId}#${draftId}`) ?? null;
  }

  async deleteTaskToken(tenantId: string, draftId: string): Promise<void> {
    await this.enter('deleteTaskToken');
    this.tokens.delete(`${tenantId}#${draftId}`);
  }

  /** The ids of every run of a tenant, in creation order. */
  runIds(tenantId: string): string[] {
    return [...this.runs.values()].filter((r) => r.tenantId === tenantId).map((r) => r.runId);
  }

  /** Every draft of a tenant, for "created once" assertions. */
  allDrafts(tenantId: string): Draft[] {
    return [...this.drafts.values()].filter((d) => d.tenantId === tenantId).map((d) => structuredClone(d));
  }
}
