import type { RenewalBrief } from '#shared/domain/brief.ts';
import type { RenewalBriefOutput } from '#shared/workflows/renewal-brief.ts';
import type { ContextObject, EvidenceItem } from '#shared/domain/context.ts';
import type { Draft } from '#shared/domain/draft.ts';
import { newId } from '#shared/domain/ids.ts';
import type { Principal } from '#shared/domain/principal.ts';
import type { Run } from '#shared/domain/run.ts';
import type { AttemptRecord, SourceRecord } from '#shared/ports/index.ts';
import { ScriptedContextSource, sourceMap } from './context-sources.ts';
import type { TestDeps } from './deps.ts';

export const TENANT = 'acme';
export const OTHER_TENANT = 'globex';
export const ACCOUNT = 'acct-northwind';
export const BOBS_ACCOUNT = 'acct-contoso';

export const alice: Principal = { sub: 'csm-alice', tenantId: TENANT, roles: ['csm'] };
export const bob: Principal = { sub: 'csm-bob', tenantId: TENANT, roles: ['csm'] };
export const maria: Principal = { sub: 'mgr-maria', tenantId: TENANT, roles: ['manager'] };
export const ada: Principal = { sub: 'adm-ada', tenantId: TENANT, roles: ['admin'] };
export const olga: Principal = { sub: 'ops-olga', tenantId: 'platform', roles: ['operator'] };
export const fiona: Principal = { sub: 'fin-fiona', tenantId: 'platform', roles: ['finance'] };

/** Alice owns ACCOUNT, Bob owns BOBS_ACCOUNT, both in TENANT. */
export const ACCOUNTS = [
  { tenantId: TENANT, accountId: ACCOUNT, ownerId: alice.sub },
  { tenantId: TENANT, accountId: BOBS_ACCOUNT, ownerId: bob.sub },
] as const;

export const crmRecord: SourceRecord = {
  recordId: ACCOUNT,
  data: {
    name: 'Northwind Traders',
    ownerId: alice.sub,
    arr: 120000,
    segment: 'enterprise',
    industry: 'logistics',
    region: 'EMEA',
    ownerName: 'Alice Chen',
    // Fields the model must never see.
    creditScore: 712,
    internalNotes: 'Negotiating a discount; do not mention.',
    billingContact: { email: 'ap@northwind.example' },
  },
};

export const usageRecord: SourceRecord = {
  recordId: ACCOUNT,
  data: {
    period: '2026-09',
    activeUsers: 41,
    licensedSeats: 100,
    weeklyActiveTrend: -18.5,
    lastLoginAt: '2026-09-30T17:00:00Z',
    rawEvents: 18231,
  },
};

export const openTicket: SourceRecord = {
  recordId: 'T-100',
  data: {
    ticketId: 'T-100',
    subject: 'Exports time out',
    status: 'open',
    priority: 'high',
    openedAt: '2026-09-20',
    body: 'Our nightly export fails.',
    requesterEmail: 'ops@northwind.example',
  },
};

export const closedTicket: SourceRecord = {
  recordId: 'T-090',
  data: { ticketId: 'T-090', subject: 'SSO setup', status: 'closed', priority: 'low' },
};

export const invoiceRecord: SourceRecord = {
  recordId: 'INV-1',
  data: { invoiceId: 'INV-1', amount: 30000, currency: 'USD', status: 'overdue', dueDate: '2026-09-01' },
};

export const contractRecord: SourceRecord = {
  recordId: 'C-1',
  data: { contractId: 'C-1', startDate: '2025-11-01', endDate: '2026-10-31', autoRenew: false },
};

/** Scripted sources for every source of the renewal brief, holding the records above. */
export function demoSources() {
  const scope = { tenantId: TENANT, accountId: ACCOUNT };
  const crm = new ScriptedContextSource('crm', [crmRecord], scope);
  const usage = new ScriptedContextSource('usage', [usageRecord], scope);
  const tickets = new ScriptedContextSource('tickets', [openTicket, closedTicket], scope);
  const invoices = new ScriptedContextSource('invoices', [invoiceRecord], scope);
  const contract = new ScriptedContextSource('contract', [contractRecord], scope);
  return { crm, usage, tickets, invoices, contract, map: sourceMap(crm, usage, tickets, invoices, contract) };
}

const FETCHED_AT = '2026-10-01T09:00:00.000Z';

function evidence(
  id: string,
  source: EvidenceItem['source'],
  recordId: string,
  fields: EvidenceItem['fields'],
) {
  return { id, source, recordId, fields, provenance: { fetchedAt: FETCHED_AT, contentHash: `sha256:${id}` } };
}

/** A small scoped context for ACCOUNT. */
export function sampleContext(overrides: Partial<ContextObject> = {}): ContextObject {
  return {
    workflowId: 'renewal-brief',
    accountId: ACCOUNT,
    fetchedAt: FETCHED_AT,
    notes: null,
    items: [
      evidence('crm:acct-northwind', 'crm', ACCOUNT, { name: 'Northwind Traders', arr: 120000 }),
      evidence('usage:acct-northwind', 'usage', ACCOUNT, { activeUsers: 41, licensedSeats: 100 }),
      evidence('ticket:T-100', 'tickets', 'T-100', { ticketId: 'T-100', status: 'open', priority: 'high' }),
    ],
    dataGaps: [],
    ...overrides,
  };
}

/** A brief that passes the schema and the business rules against `sampleContext()`. */
export function validBrief(overrides: Partial<RenewalBrief> = {}): RenewalBrief {
  return {
    summary: 'Usage fell to 41 of 100 seats and a high-priority export ticket is open.',
    health: 'at_risk',
    risks: [
      { title: 'Seat utilisation is low', severity: 'high', evidence: ['usage:acct-northwind'] },
      { title: 'Export failures', severity: 'medium', evidence: ['ticket:T-100'] },
    ],
    openQuestions: ['Who owns the export job?'],
    nextSteps: [{ action: 'Review usage with the champion', owner: 'CSM', dueBy: '2026-10-15' }],
    dataGaps: [],
    escalation: { recommended: false, reason: null },
    ...overrides,
  };
}

/** A model answer for the renewal brief: the brief plus its proposed actions (none by default). */
export function validAnswer(
  overrides: Partial<RenewalBrief> = {},
  proposedActions: RenewalBriefOutput['proposedActions'] = [],
): RenewalBriefOutput {
  return { ...validBrief(overrides), proposedActions };
}

/** Creates a run (and by default its context) in the store. */
export async function seedRun(
  deps: TestDeps,
  options: {
    principal?: Principal;
    accountId?: string;
    status?: Run['status'];
    costUsd?: number;
    notes?: string;
    context?: ContextObject | null;
  } = {},
): Promise<Run> {
  const principal = options.principal ?? alice;
  const now = deps.clock.now();
  const run: Run = {
    runId: newId('run', now.getTime()),
    tenantId: principal.tenantId,
    workflowId: 'renewal-brief',
    requestedBy: principal.sub,
    accountId: options.accountId ?? ACCOUNT,
    input: {
      accountId: options.accountId ?? ACCOUNT,
      ...(options.notes === undefined ? {} : { notes: options.notes }),
    },
    status: options.status ?? 'running',
    draftId: null,
    error: null,
    costUsd: options.costUsd ?? 0,
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    model: null,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  await deps.runs.createRun(run);
  const context = options.context === undefined ? sampleContext() : options.context;
  if (context) await deps.runs.saveContext(run.tenantId, run.runId, context);
  return run;
}

/** Stores a model attempt record as the gateway would, without charging it (the run's cost does not move). */
export function seedAttempt(
  deps: TestDeps,
  run: Run,
  attempt: number,
  answer: Partial<Pick<AttemptRecord, 'outputText' | 'refusal' | 'finishReason' | 'model'>>,
): Promise<void> {
  const model = answer.model ?? 'gpt-4.1-mini';
  deps.runs.storeAttempt(run.tenantId, run.runId, {
    attempt,
    model,
    outputText: answer.outputText === undefined ? JSON.stringify(validAnswer()) : answer.outputText,
    refusal: answer.refusal ?? null,
    finishReason: answer.finishReason ?? 'completed',
    validationErrors: null,
    costUsd: 0,
    billing: {
      reservation: {
        tenantId: run.tenantId,
        runId: run.runId,
        attempt,
        attemptKey: `${attempt}.${model}.1`,
        model,
        amountUsd: 0,
        month: deps.clock.now().toISOString().slice(0, 7),
        owner: 'inv_seed',
        leaseUntil: 0,
      },
      usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 },
      priceVersion: 'seed',
    },
  });
  return Promise.resolve();
}

/** Creates a draft awaiting review for `run`, as StoreDraft would. */
export async function seedDraft(
  deps: TestDeps,
  run: Run,
  options: { status?: Draft['status']; content?: RenewalBrief; actions?: Draft['actions'] } = {},
): Promise<Draft> {
  const now = deps.clock.now().toISOString();
  const brief = options.content ?? validBrief();
  const draft: Draft = {
    draftId: run.runId.replace(/^run_/, 'drf_'),
    runId: run.runId,
    tenantId: run.tenantId,
    workflowId: run.workflowId,
    ownerId: run.requestedBy,
    accountId: run.accountId,
    status: options.status ?? 'awaiting_review',
    version: 1,
    content: { ...brief },
    original: { ...brief },
    evidence: sampleContext().items,
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    model: 'gpt-4.1-mini',
    escalation: null,
    outcome: null,
    actions: options.actions ?? [],
    edits: [],
    createdAt: now,
    updatedAt: now,
  };
  await deps.drafts.createDraft(draft);
  await deps.runs.updateRun(
    run.tenantId,
    run.runId,
    { draftId: draft.draftId, status: 'awaiting_review' },
    deps.clock.now(),
  );
  return draft;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** The parts of a Rein error a test asserts on as one object. */
export function errorSummary(error: Error): {
  name: string;
  code: unknown;
  status: unknown;
  message: string;
} {
  const { code, status } = error as Error & { code?: unknown; status?: unknown };
  return { name: error.name, code, status, message: error.message };
}
