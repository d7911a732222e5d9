import type { BudgetRefusal } from '../domain/budget-refusal.ts';
import type { ActionExecution, ActionRecord } from '../domain/actions.ts';
import type { ActionTarget } from '../domain/action-targets.ts';
import type { ContextObject, SourceId } from '../domain/context.ts';
import type { OutboundRequest, OutboundResponse } from '../outbound/http.ts';
import type { Draft, DraftEdit, DraftStatus, Outcome } from '../domain/draft.ts';
import type { DomainEvent } from '../domain/events.ts';
import type { StoredDelivery, StoredWebhook } from '../domain/webhooks.ts';
import type { Run, RunError, RunStatus } from '../domain/run.ts';
import type { Span } from '../domain/trace.ts';
import type { ModelRequest, ModelResponse, ModelToolCall } from '../domain/model.ts';

/** Time, injectable so tests control it. */
export interface Clock {
  now(): Date;
}

/** An idempotency record: the request hash it was first used with and the run it created. */
export interface IdempotencyRecord {
  requestHash: string;
  runId: string;
}

/** The record of one model attempt, kept so validation and draft storage read it by id. */
export interface AttemptRecord {
  attempt: number;
  model: string;
  outputText: string | null;
  refusal: string | null;
  finishReason: string;
  validationErrors: string[] | null;
  costUsd: number;
  /** What the attempt was charged: its reservation, the usage the provider reported and the price table. */
  billing: {
    reservation: Reservation;
    usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number; reasoningTokens: number };
    priceVersion: string;
  };
  /** A tool-loop turn that asked for tools instead of answering: its calls, to resume the loop after a retry. */
  toolCalls?: ModelToolCall[];
}

export interface RunStore {
  /**
   * Creates a run. With an idempotency key, the key and the run are written in one transaction;
   * if the key exists already, nothing is written and the existing record is returned.
   */
  createRun(
    run: Run,
    idempotency?: { key: string; requestHash: string; expiresAt: number },
  ): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }>;
  /** The unexpired idempotency record of `key`, if any. */
  findIdempotency(tenantId: string, key: string, now: Date): Promise<IdempotencyRecord | null>;
  getRun(tenantId: string, runId: string): Promise<Run | null>;
  /**
   * Moves a run to a new status unless it is already in a terminal status. Returns the updated run or null.
   * With `event`, the event is recorded in the same transaction, and only if the status changes
   * (a repeated call writes no second event).
   */
  updateRun(
    tenantId: string,
    runId: string,
    changes: { status?: RunStatus; draftId?: string; expiresAt?: string | null; error?: RunError },
    now: Date,
    event?: DomainEvent,
  ): Promise<Run | null>;
  saveContext(tenantId: string, runId: string, context: ContextObject): Promise<void>;
  getContext(tenantId: string, runId: string): Promise<ContextObject | null>;
  getAttempt(tenantId: string, runId: string, attempt: number): Promise<AttemptRecord | null>;
  setAttemptValidation(tenantId: string, runId: string, attempt: number, errors: string[]): Promise<void>;
  /**
   * A page of the tenant's runs, newest first, through an index on creation time (one requester's
   * with `requestedBy`). Filters on status, workflow and account apply within that range.
   */
  listRuns(tenantId: string, query: RunListQuery): Promise<{ items: Run[]; nextCursor: string | null }>;
  /**
   * The most expensive runs created within [fromIso, toIso), most expensive first, through an index
   * sorted by cost (per tenant, or across tenants without `tenantId`): reads O(limit) items for a
   * calendar month.
   */
  topRunsByCost(query: {
    tenantId?: string;
    fromIso: string;
    toIso: string;
    limit: number;
  }): Promise<RunCost[]>;
}

export interface RunListQuery {
  statuses?: readonly RunStatus[];
  workflowId?: string;
  accountId?: string;
  requestedBy?: string;
  /** ISO instants: createdAt within [fromIso, toIso). */
  fromIso: string;
  toIso: string;
  limit: number;
  cursor?: string;
}

export interface DraftListQuery {
  statuses?: readonly DraftStatus[];
  accountId?: string;
  ownerId?: string;
  limit: number;
  cursor?: string;
}

export interface DraftStore {
  /** Creates the draft once; a retried call for the same run returns the existing draft. */
  createDraft(draft: Draft): Promise<Draft>;
  getDraft(tenantId: string, draftId: string): Promise<Draft | null>;
  listDrafts(tenantId: string, query: DraftListQuery): Promise<{ items: Draft[]; nextCursor: string | null }>;
  /** Every draft of the tenant created within [fromIso, toIso), for reporting. */
  listDraftsCreatedBetween(tenantId: string, fromIso: string, toIso: string): Promise<Draft[]>;
  /** The review rollup cells of the tenant's drafts created on the days [fromDay, toDay]. */
  readReviewRollups(tenantId: string, fromDay: string, toDay: string): Promise<ReviewRollup[]>;
  /**
   * Conditional update: succeeds only if the draft's version equals `expectedVersion` and its status
   * is one of `expectedStatuses`. Returns the new draft, or the current one with `conflict: true`.
   */
  updateDraft(
    tenantId: string,
    draftId: string,
    expected: { version?: number; statuses: readonly DraftStatus[] },
    changes: {
      status?: DraftStatus;
      content?: Record<string, unknown>;
      outcome?: Outcome;
      escalation?: Draft['escalation'];
      /** The actions with their review decisions: written with the draft's status, in the same write. */
      actions?: ActionRecord[];
      /** The edit history with this change's edit appended: written with the content, in the same write. */
      edits?: DraftEdit[];
      updatedAt: string;
    },
    /** Recorded in the same transaction as the change: both happen or neither does. */
    event?: DomainEvent,
  ): Promise<{ ok: true; draft: Draft } | { ok: false; current: Draft | null }>;
  /** The task token lives in its own item and is never returned with a draft. */
  saveTaskToken(tenantId: string, draftId: string, taskToken: string): Promise<void>;
  getTaskToken(tenantId: string, draftId: string): Promise<string | null>;
  deleteTaskToken(tenantId: string, draftId: string): Promise<void>;
}

/** Starts executions and completes review tasks: Step Functions in AWS, the local runner locally. */
export interface WorkflowEngine {
  startExecution(input: { tenantId: string; runId: string; workflowId: string }): Promise<void>;
  sendTaskSuccess(taskToken: string, output: Record<string, unknown>): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}

/** A raw record from an approved source, before the allow-list is applied. */
export interface SourceRecord {
  recordId: string;
  data: unknown;
  /** When the record last changed at its source (ISO), when known. */
  updatedAt?: string | null;
  /** When Rein received it (a push, or a connector's read), when known. */
  receivedAt?: string | null;
}

/** One record as a tenant's machine client pushes it. `data` is checked against the source's schema. */
export interface IncomingRecord {
  accountId: string;
  recordId: string;
  /** ISO timestamp at the source; the newest one wins. */
  updatedAt: string;
  data: Record<string, unknown>;
}

/** What storing one pushed record did. */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

/** A tenant's record count and last update for one source, kept flat beside the records. */
export interface SourceStats {
  sourceId: string;
  recordCount: number;
  lastUpdatedAt: string | null;
}

/**
 * The records tenants push, keyed by (tenant, source, account, record). Each write is atomic on its
 * own and updates the tenant's per-source stats in the same transaction.
 */
export interface RecordStore {
  /**
   * Upserts one record: created when new; stale (nothing written) when the stored one has a newer
   * `updatedAt`; unchanged when the stored one has the same `updatedAt` and content; else updated.
   */
  upsert(tenantId: string, sourceId: string, record: IncomingRecord, now: Date): Promise<UpsertOutcome>;
  /** Deletes one record; false when there was none. */
  delete(
    tenantId: string,
    sourceId: string,
    accountId: string,
    recordId: string,
    now: Date,
  ): Promise<boolean>;
  /** Every stored record of the source for the account (bounded). */
  list(tenantId: string, sourceId: string, accountId: string): Promise<SourceRecord[]>;
  /** The tenant's stats per source that has ever had a record. */
  stats(tenantId: string): Promise<SourceStats[]>;
}

export interface ContextSource {
  readonly source: SourceId;
  /** Returns the records for the account; `[]` when there are none. Throws when the source fails. */
  fetch(tenantId: string, accountId: string): Promise<SourceRecord[]>;
}

/** A tenant's pull connector for one source, as stored: never its secret. */
export interface ConnectorConfig {
  tenantId: string;
  sourceId: string;
  kind: 'http';
  /** `https://…`, where `{accountId}` is replaced by the account's id (URL-encoded). */
  url: string;
  authType: 'bearer' | 'none';
  /** When the secret was last set (null without auth). */
  secretSetAt: string | null;
  timeoutMs: number;
  maxBytes: number;
  updatedAt: string;
}

/** Tenants' connectors, one per tenant and source. */
export interface ConnectorStore {
  put(config: ConnectorConfig): Promise<void>;
  get(tenantId: string, sourceId: string): Promise<ConnectorConfig | null>;
  /** Every connector of the tenant (one query: the context layer reads them once per run). */
  list(tenantId: string): Promise<ConnectorConfig[]>;
}

/**
 * Connector secrets: one secret per tenant connector (Secrets Manager in AWS). The only place a
 * connector's secret is kept; nothing else stores, returns, logs or traces it.
 */
export interface ConnectorSecrets {
  put(tenantId: string, sourceId: string, secret: string): Promise<void>;
  /** The secret, or null when none was set. */
  get(tenantId: string, sourceId: string): Promise<string | null>;
}

export interface AccountDirectory {
  /** The account's owner and display name, or null when the account does not exist in this tenant. */
  getAccount(
    tenantId: string,
    accountId: string,
  ): Promise<{ accountId: string; ownerId: string; name: string | null } | null>;
}

export interface TraceSink {
  record(tenantId: string, runId: string, span: Span): Promise<void>;
  list(tenantId: string, runId: string): Promise<Span[]>;
}

export interface SecretSource {
  /**
   * Returns the OpenAI API key; implementations cache it for a short time so rotation needs no
   * redeploy. `fresh` skips the cache (after the provider refused the cached key with a 401).
   */
  getOpenAiKey(options?: { fresh?: boolean }): Promise<string>;
}

/** A provider-neutral model port. Implementations throw the model errors of `domain/model.ts`. */
export interface ModelClient {
  generate(request: ModelRequest): Promise<ModelResponse>;
}

/**
 * A hold on a model attempt (see `domain/hold.ts`): one per run and attempt, taken again for each try.
 * `attemptKey` names the try (`<attempt>.<model>.<try>`): ledger entries are idempotent per run and try.
 */
export interface Reservation {
  tenantId: string;
  runId: string;
  attempt: number;
  attemptKey: string;
  model: string;
  amountUsd: number;
  month: string;
  /** The invocation that holds it: only it settles or releases it while its lease is live. */
  owner: string;
  /** Epoch ms after which the owner cannot be alive any more: from then on, a sweep may release it. */
  leaseUntil: number;
}

export interface LedgerEntryTags {
  tenantId: string;
  workflowId: string;
  runId: string;
  userId: string;
  /** The account the run is about; absent on entries written before it was recorded. */
  accountId?: string;
  model: string;
  promptId: string;
  promptVersion: string;
  environment: string;
}

/** The finance side of the ledger: budgets and entries. The gateway's writes are in GatewayStore. */
export interface Ledger {
  /** The month's budget; the environment's default budget when none was set yet. */
  getBudget(tenantId: string, month: string): Promise<Budget>;
  /**
   * Sets the month's limit, keeping spent and reserved, and (when given) the alert thresholds in
   * percent of the limit; returns the new budget.
   */
  setBudget(
    tenantId: string,
    month: string,
    limitUsd: number,
    now: Date,
    alertThresholdsPercent?: readonly number[],
  ): Promise<Budget>;
  /**
   * Records that the month's spend reached `thresholdPercent` of its limit, with its event, in one
   * transaction: once per threshold and month (a conditional write on the month's budget item), and
   * only if the spend really is there. False when it was recorded before or the spend is below.
   */
  recordBudgetAlert(
    tenantId: string,
    month: string,
    thresholdPercent: number,
    event: DomainEvent,
  ): Promise<boolean>;
  /** Ledger entries whose day is within [fromDay, toDay] (YYYY-MM-DD), optionally for one tenant. */
  listEntries(query: { fromDay: string; toDay: string; tenantId?: string }): Promise<LedgerEntry[]>;
  /**
   * The cost rollup cells of the days [fromDay, toDay], optionally for one tenant: per tenant, day,
   * workflow, model and prompt version, or (`detail`) per tenant, day, workflow, model, account and
   * user. Written with each charge, so this reads O(days × cells per day) whatever the number of runs.
   */
  readCostRollups(query: {
    fromDay: string;
    toDay: string;
    tenantId?: string;
    detail: boolean;
  }): Promise<CostRollup[]>;
}

/** One cost rollup cell: the charges of a tenant, day, workflow and model (and more, see Ledger). */
export interface CostRollup {
  tenantId: string;
  day: string;
  workflowId: string;
  model: string;
  /** Empty in detail cells. */
  promptVersion: string;
  /** Empty in base cells. */
  accountId: string;
  /** Empty in base cells. */
  userId: string;
  costUsd: number;
  estimatedUsd: number;
  /** Charged model calls (ledger entries). */
  calls: number;
  /** Runs whose first charge falls in this cell (see domain/rollups.ts). */
  runs: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** One review rollup cell: the drafts of a tenant, workflow and prompt version created on a day. */
export interface ReviewRollup {
  tenantId: string;
  day: string;
  workflowId: string;
  promptVersion: string;
  drafts: number;
  escalated: number;
  decided: number;
  approved: number;
  rejected: number;
  expired: number;
  /** Decisions by people (approved or rejected, not expired). */
  decidedByPeople: number;
  /** Decisions by people whose content the reviewer changed. */
  edited: number;
  editDistanceSum: number;
  timeToDecisionSumMs: number;
  /** Decisions by people per histogram bucket of their time to decision (domain/rollups.ts). */
  timeToDecisionBuckets: Record<string, number>;
}

/** A run's cost fields, for finance's most expensive runs (never its input or content). */
export interface RunCost {
  runId: string;
  tenantId: string;
  workflowId: string;
  accountId: string;
  requestedBy: string;
  status: RunStatus;
  model: string | null;
  costUsd: number;
  createdAt: string;
}

export interface Budget {
  tenantId: string;
  month: string;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  availableUsd: number;
  /** Spend levels, in percent of the limit, that emit `budget.threshold_reached` once a month. */
  alertThresholdsPercent: number[];
  /** The thresholds already reached (and emitted) this month. */
  alertsSentPercent: number[];
}

/** A tenant's budget alert thresholds until an operator sets others. */
export const DEFAULT_ALERT_THRESHOLDS_PERCENT: readonly number[] = [50, 80, 100];

export interface LedgerEntry extends LedgerEntryTags {
  at: string;
  day: string;
  attemptKey: string;
  costUsd: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  priceVersion: string;
  /**
   * True when the provider reported no usage (a timeout, a reset connection) and the attempt was
   * charged conservatively at its reservation: the provider may have billed it, or not.
   */
  estimated: boolean;
}

/** A tenant's tokens-per-minute charge, taken in the same transaction as a reservation. */
export interface TokenCharge {
  /** The limiter key, e.g. `<tenantId>#tpm`. */
  key: string;
  tokens: number;
  limitPerMinute: number;
}

/** What `GatewayStore.settle` writes besides the money: the answered attempt and its trace span. */
export interface Settlement {
  /** The answered attempt; its `billing` names the reservation, usage and price table. */
  attempt: AttemptRecord;
  tags: LedgerEntryTags;
  /** The attempt's trace span, written in the settle transaction. */
  span: Span;
}

/** How an attempt without an answer ends its hold. */
export interface Release {
  reservation: Reservation;
  /** The attempt's trace span, written in the release transaction. */
  span: Span;
  /**
   * Usage unknown (a timeout, a reset): charge the held amount, flagged estimated, with these tags.
   * Null: the provider billed nothing (an error status), the hold goes back to the budget.
   */
  estimatedCharge: LedgerEntryTags | null;
}

/** What `GatewayStore.reserve` did. */
export type ReserveOutcome =
  | { reserved: true }
  /** The token window is full: nothing is held; try again after `retryAfterMs`. */
  | { reserved: false; retryAfterMs: number }
  /** Another invocation holds this attempt's live lease, until `leaseUntil` (epoch ms). */
  | { reserved: false; leaseUntil: number }
  /** The attempt was answered and charged already (now, if its answer was kept): call nothing. */
  | { reserved: false; done: { model: string } }
  /**
   * Only other runs' in-flight holds stand in the way: wait for them to settle or release. The
   * month's figures as the refusal would name them, should the wait outlast the deadline.
   */
  | { reserved: false; heldByOthers: BudgetRefusal & { budget: 'tenant_month' } };

/**
 * Every write of the model gateway's money path (see `domain/hold.ts` for the protocol): one
 * transaction before the provider call (`reserve`) and one after (`settle` or `release`).
 */
export interface GatewayStore {
  /**
   * Takes the attempt's hold: the tenant's token window, the attempt's maximum cost against the
   * month's budget and the run's cost limit, together or not at all. Throws BudgetExceededError when
   * the tenant's settled spend plus this hold would pass its limit, or the run's cost limit would.
   * A hold found with an expired lease is swept first; a kept answer is settled first (`done`).
   */
  reserve(
    reservation: Reservation,
    runCostLimitUsd: number,
    tokens: TokenCharge,
    now: Date,
  ): Promise<ReserveOutcome>;
  /**
   * Captures an answered attempt: hold → settled, actual cost to spend, the ledger entry, the attempt
   * record, the run's cost and the trace span, in one transaction. When the store fails transiently,
   * keeps the answer on the hold and throws the retryable `Rein.SettlePending` error.
   */
  settle(settlement: Settlement, now: Date): Promise<void>;
  /** Ends the owner's hold of an attempt without an answer (see Release), with its trace span. */
  release(release: Release, now: Date): Promise<void>;
  /**
   * Ends the tenant's holds whose lease expired (their owners are dead): held ones are released,
   * kept answers settled. Returns the attempt keys it ended.
   */
  sweepExpired(tenantId: string, now: Date): Promise<string[]>;
}

/**
 * Fixed-window counters shared by every Lambda (DynamoDB in AWS), for per-tenant request and token
 * rate limits.
 */
export interface RateLimiter {
  /** Adds `amount` to the current window of `key` unless that would pass `limit`. */
  consume(
    key: string,
    amount: number,
    limit: number,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

/**
 * A circuit breaker per model. Its state must be shared by concurrent invocations, so it lives in
 * the same store as the ledger, not in a Lambda's memory.
 */
export interface CircuitBreaker {
  /** Whether the model's circuit is open, and its consecutive failures. */
  check(model: string, now: Date): Promise<{ open: boolean; failures: number }>;
  /** One more failure (an outage, a timeout). Best effort: never part of a money transaction. */
  recordFailure(model: string, now: Date): Promise<void>;
  /** A success after failures clears them. Best effort. */
  clearFailures(model: string): Promise<void>;
}

/** A delivery's due entry: enough to load it. */
export interface DeliveryRef {
  tenantId: string;
  webhookId: string;
  deliveryId: string;
}

/** How a delivery attempt ended, as `WebhookStore.finishAttempt` records it. */
export type AttemptOutcome =
  | { ok: true; responseCode: number; at: Date }
  | { ok: false; responseCode: number | null; error: string | null; at: Date; nextAttemptAt: Date | null };

/**
 * Webhook subscriptions, their deliveries and the outbox's bookkeeping (which events still wait to
 * be dispatched). Every write is conditional, so concurrent dispatchers (the stream and the sweep in
 * AWS) never create a delivery twice or attempt one twice at the same time.
 */
export interface WebhookStore {
  createWebhook(webhook: StoredWebhook): Promise<void>;
  /** Every subscription of the tenant (secrets included: callers never return them). */
  listWebhooks(tenantId: string): Promise<StoredWebhook[]>;
  getWebhook(tenantId: string, webhookId: string): Promise<StoredWebhook | null>;
  /** Deletes the subscription; false when it did not exist. */
  deleteWebhook(tenantId: string, webhookId: string): Promise<boolean>;
  recordWebhookSuccess(tenantId: string, webhookId: string, at: Date): Promise<void>;
  disableWebhook(tenantId: string, webhookId: string, reason: string, at: Date): Promise<void>;
  /** Creates the delivery unless it exists (same event, same subscription); true when created. */
  createDelivery(delivery: StoredDelivery): Promise<boolean>;
  getDelivery(tenantId: string, webhookId: string, deliveryId: string): Promise<StoredDelivery | null>;
  /** The subscription's deliveries, newest first. */
  listDeliveries(tenantId: string, webhookId: string, limit: number): Promise<StoredDelivery[]>;
  /**
   * Takes a pending delivery for one attempt (a lease of `leaseMs`); null when it is not pending or
   * another dispatcher holds it.
   */
  claimDelivery(ref: DeliveryRef, now: Date, leaseMs: number): Promise<StoredDelivery | null>;
  /** Records an attempt: succeeded, pending again at `nextAttemptAt`, or dead (`nextAttemptAt` null). */
  finishAttempt(ref: DeliveryRef, outcome: AttemptOutcome): Promise<StoredDelivery>;
  /** Makes a delivery pending again now, with a new retry window; null when it does not exist. */
  redeliver(ref: DeliveryRef, now: Date): Promise<StoredDelivery | null>;
  /** Pending deliveries whose next attempt is due at `now`, oldest first. */
  listDueDeliveries(now: Date, limit: number): Promise<DeliveryRef[]>;
  /** Events recorded at or before `recordedBefore` and not dispatched yet, oldest first. */
  listUndispatchedEvents(recordedBefore: Date, limit: number): Promise<DomainEvent[]>;
  /** The event has its deliveries and went to the bus: it leaves the outbox's waiting list. */
  markEventDispatched(event: DomainEvent, at: Date): Promise<void>;
}

/** The stage's event bus (EventBridge in AWS), for platform teams' routing rules. */
export interface EventBus {
  publish(events: readonly DomainEvent[]): Promise<void>;
}

/** Sends one signed webhook request: the outbound-safe HTTP sender in every runtime. */
export interface WebhookTransport {
  /** Resolves with the status code, or throws with a short, safe reason when there is no answer. */
  post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }>;
  /** Refuses a target URL that can never be allowed (scheme, credentials, private or metadata address). */
  checkTarget(url: string): Promise<void>;
}

/** Counts and figures for operators (CloudWatch embedded metric format in AWS). */
export interface MetricsSink {
  count(name: string, value: number, dimensions: Record<string, string>): void;
  /** A figure with its unit: milliseconds, or `None` for amounts such as USD. */
  measure(
    name: string,
    value: number,
    unit: 'Milliseconds' | 'None',
    dimensions: Record<string, string>,
  ): void;
}

/** Structured operational logs (Powertools Logger in every runtime). Never secrets or content. */
export interface LogSink {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}

/**
 * The execution side of a draft's actions. Every write is conditional on the action's status (see
 * `ACTION_TRANSITIONS`), so whatever retries happen an approved action is sent by one invocation at a time
 * and finished once.
 */
export interface ActionStore {
  /**
   * `approved → executing` (or takes over an `executing` action whose lease expired) with a lease
   * until `leaseUntil`. Returns the claimed action, or null when it is not claimable (already
   * executed or failed, being sent by another invocation, rejected, not approved).
   */
  claimAction(
    tenantId: string,
    draftId: string,
    actionId: string,
    leaseUntil: Date,
    now: Date,
  ): Promise<ActionRecord | null>;
  /**
   * `executing → executed | failed`, only while this claim's lease is the current one, with the
   * `action.executed` / `action.failed` event in the outbox in the same write. Returns false (and
   * records no event) when the lease was not the current one.
   */
  finishAction(
    tenantId: string,
    draftId: string,
    actionId: string,
    claim: { leaseUntil: string },
    outcome: { status: 'executed' | 'failed'; execution: ActionExecution },
    event: DomainEvent,
  ): Promise<boolean>;
}

/** A tenant's action targets (where approved actions are sent). The signing secret is not here. */
export interface ActionTargetStore {
  /** Creates or replaces the target's settings; `created` says whether it did not exist before. */
  putTarget(target: ActionTarget): Promise<{ created: boolean; target: ActionTarget }>;
  getTarget(tenantId: string, targetId: string): Promise<ActionTarget | null>;
}

/**
 * The signing secrets of action targets: Secrets Manager in AWS. Only the execution step reads
 * them; the API writes a new one once and shows it to the admin in that one answer.
 */
export interface SigningSecretStore {
  putSigningSecret(tenantId: string, targetId: string, secret: string): Promise<void>;
  getSigningSecret(tenantId: string, targetId: string): Promise<string | null>;
}

/** Sends one request out of Rein under the outbound policy (`shared/outbound/http.ts`). */
export interface OutboundSender {
  send(request: OutboundRequest): Promise<OutboundResponse>;
}

/** A tenant Rein knows: registered by an operator (the local stack registers the seed's tenants). */
export interface Tenant {
  tenantId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** The registry of tenants. A tenant missing here is unknown: its budget answers 404. */
export interface TenantDirectory {
  get(tenantId: string): Promise<Tenant | null>;
  /** Creates the tenant or renames it (keeping `createdAt`); `created` tells which. */
  put(tenantId: string, name: string, now: Date): Promise<{ tenant: Tenant; created: boolean }>;
  /** Tenants in id order, at most `limit`, after the tenant id `after` (the page's cursor). */
  list(options: { limit: number; after?: string }): Promise<{ items: Tenant[]; nextCursor: string | null }>;
}
