/**
 * The local model server's renewal-brief "model": a deterministic, rule-based writer that derives a
 * brief from the context object alone. It plays the role a well-behaved model should play (cite only
 * the evidence it was given, declare every data gap, treat customer text as data), so the rest of
 * Rein can be exercised end to end without OpenAI.
 *
 * Field names inside context items are not fixed: lookups are case-insensitive and ignore `_`/`-`,
 * and each value is searched under a few usual names (priority or severity, endDate or renewalDate…).
 */
import type { RenewalBrief } from '#shared/domain/brief.ts';
import { readGroundingContext, type GroundingContext, type GroundingItem } from './context.ts';

type Severity = RenewalBrief['risks'][number]['severity'];
type Health = RenewalBrief['health'];
type Kind = 'crm' | 'usage' | 'tickets' | 'invoices' | 'contract' | 'other';

/** A risk with what the summary, next steps and questions need to talk about it. */
interface Signal {
  kind: Kind | 'sensitive';
  title: string;
  short: string;
  severity: Severity;
  evidence: string[];
  step: { action: string; owner: 'account' | 'finance'; inDays: number };
  question: string | null;
}

const DAY_MS = 86_400_000;

/** Contract ending within this many days (and not auto-renewing) is a risk. */
const RENEWAL_WINDOW_DAYS = 90;
/** …and a high-severity one within this many. */
const RENEWAL_URGENT_DAYS = 30;
/** Seat utilisation below this share is a risk, below the second one a high-severity risk. */
const LOW_UTILISATION = 0.5;
const VERY_LOW_UTILISATION = 0.3;
/** Weekly active users falling by at least this many percent is a risk, by the second a high one. */
const DECLINE_PCT = 10;
const STEEP_DECLINE_PCT = 25;

const SOURCE_ALIASES: Record<string, Kind> = {
  crm: 'crm',
  account: 'crm',
  accounts: 'crm',
  usage: 'usage',
  productusage: 'usage',
  product: 'usage',
  ticket: 'tickets',
  tickets: 'tickets',
  support: 'tickets',
  invoice: 'invoices',
  invoices: 'invoices',
  billing: 'invoices',
  contract: 'contract',
  contracts: 'contract',
  subscription: 'contract',
};

const SOURCE_LABELS: Record<string, string> = {
  crm: 'CRM',
  usage: 'product usage',
  tickets: 'support ticket',
  invoices: 'invoice',
  contract: 'contract',
};

const CLOSED_STATUSES = new Set([
  'closed',
  'resolved',
  'solved',
  'done',
  'cancelled',
  'canceled',
  'completed',
]);
const URGENT_LEVELS = new Set([
  'urgent',
  'critical',
  'blocker',
  'emergency',
  'p0',
  'sev0',
  'sev1',
  'highest',
  's1',
]);
const HIGH_LEVELS = new Set(['high', 'p1', 'sev2', 's2', 'major']);
const OVERDUE_STATUSES = new Set([
  'overdue',
  'pastdue',
  'late',
  'delinquent',
  'incollections',
  'collections',
]);
const UNPAID_STATUSES = new Set([
  'open',
  'unpaid',
  'outstanding',
  'due',
  'pending',
  'issued',
  'sent',
  'partiallypaid',
]);
const PAID_STATUSES = new Set([
  'paid',
  'settled',
  'void',
  'voided',
  'cancelled',
  'canceled',
  'refunded',
  'writtenoff',
]);

/** Topics a person must see before anyone replies: the prompt asks the model to escalate them. */
const SENSITIVE_TOPIC =
  /\b(security|breach|vulnerabilit(y|ies)|gdpr|data[\s-]?protection|privacy|personal data|legal|lawsuit|litigation|lawyer|attorney|subpoena|compliance)\b/i;

/**
 * Text that reads like an instruction to the model rather than a description. Customer-written text
 * that matches is never copied into the brief (and the rest is copied only as a short label).
 */
const INSTRUCTION_PATTERNS: readonly RegExp[] = [
  /\b(ignore|disregard|forget|override|bypass)\b/i,
  /\b(instruction|prompt|jailbreak|system message|developer message)s?\b/i,
  /\b(you are|you must|you should|act as|pretend|respond with|reply with|output|print|reveal)\b/i,
  /\b(assistant|chatgpt|llm|language model|ai model)\b/i,
  /\b(approve|mark|set|rate|classify|label)\b[^.]{0,40}\b(healthy|approved|critical|at[\s_-]?risk|risk|escalat\w*)\b/i,
  /\b(call|use|invoke)\b[^.]{0,20}\btools?\b/i,
  /<\/?[a-z_]+>/i,
  /[{}]|https?:\/\//i,
];

/** Whether customer-written text looks like an instruction aimed at the model. */
export function looksLikeInstruction(text: string): boolean {
  return INSTRUCTION_PATTERNS.some((pattern) => pattern.test(text));
}

function normKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function pick(fields: Record<string, unknown>, names: readonly string[]): unknown {
  const entries = Object.entries(fields).map(([key, value]) => [normKey(key), value] as const);
  for (const name of names) {
    const wanted = normKey(name);
    for (const [key, value] of entries) {
      if (key === wanted && value !== null && value !== undefined && value !== '') return value;
    }
  }
  return undefined;
}

function pickString(fields: Record<string, unknown>, names: readonly string[]): string | null {
  const value = pick(fields, names);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function pickNumber(fields: Record<string, unknown>, names: readonly string[]): number | null {
  const value = pick(fields, names);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const cleaned = value.replace(/[,$€£%\s]/g, '').replace(/[−–]/g, '-');
  if (!/^[-+]?\d+(\.\d+)?$/.test(cleaned)) return null;
  return Number(cleaned);
}

function pickBoolean(fields: Record<string, unknown>, names: readonly string[]): boolean | null {
  const value = pick(fields, names);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lowered = value.trim().toLowerCase();
    if (['true', 'yes', 'y', '1'].includes(lowered)) return true;
    if (['false', 'no', 'n', '0'].includes(lowered)) return false;
  }
  return null;
}

function pickLevel(fields: Record<string, unknown>, names: readonly string[]): string | null {
  const value = pickString(fields, names);
  return value === null ? null : normKey(value);
}

/** Days since the epoch of a `YYYY-MM-DD…` date or timestamp (UTC), or `null`. */
function dayOf(value: string | null): number | null {
  if (value === null) return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  if (!match) return null;
  const time = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(time) ? null : Math.floor(time / DAY_MS);
}

function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function formatMoney(amount: number, currency: string | null): string {
  const code = currency?.toUpperCase() ?? 'USD';
  return code === 'USD' ? `$${NUMBER_FORMAT.format(amount)}` : `${NUMBER_FORMAT.format(amount)} ${code}`;
}

function plural(count: number, one: string, many: string = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A short label from customer or CRM text, or `null` when the text is unfit to repeat. */
function safeLabel(text: string | null, maxLength: number): string | null {
  if (text === null) return null;
  const flat = text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (flat.length === 0 || flat.length > maxLength || looksLikeInstruction(flat)) return null;
  return flat;
}

function kindOf(item: GroundingItem): Kind {
  const declared = item.source ?? item.id.split(':')[0] ?? '';
  const alias = SOURCE_ALIASES[normKey(declared)];
  if (alias) return alias;
  const prefix = SOURCE_ALIASES[normKey(item.id.split(':')[0] ?? '')];
  if (prefix) return prefix;
  // Unknown source names: recognise the record by its fields.
  const fields = item.fields;
  if (pick(fields, ['priority', 'severity']) !== undefined) return 'tickets';
  if (
    pick(fields, ['amount', 'amountDue', 'total']) !== undefined &&
    pick(fields, ['dueDate', 'due']) !== undefined
  ) {
    return 'invoices';
  }
  if (pick(fields, ['endDate', 'renewalDate', 'termEnd']) !== undefined) return 'contract';
  if (pick(fields, ['activeUsers', 'licensedSeats', 'seats']) !== undefined) return 'usage';
  return 'other';
}

interface Facts {
  accountLabel: string;
  segment: string | null;
  arr: number | null;
  owner: string;
  today: number | null;
  endDay: number | null;
  autoRenew: boolean | null;
  contractKnown: boolean;
}

function readFacts(context: GroundingContext, byKind: Map<Kind, GroundingItem[]>): Facts {
  const crm = byKind.get('crm')?.[0]?.fields ?? {};
  const contract = byKind.get('contract')?.[0]?.fields ?? null;
  const name = safeLabel(
    pickString(crm, ['name', 'accountName', 'companyName', 'customerName', 'account']),
    120,
  );
  return {
    accountLabel: name ?? context.accountId ?? 'the account',
    segment: safeLabel(pickString(crm, ['segment', 'tier']), 40),
    arr: pickNumber(crm, ['arr', 'annualRecurringRevenue', 'annualRevenue', 'acv']),
    owner:
      safeLabel(
        pickString(crm, ['ownerName', 'owner', 'accountOwner', 'csmName', 'csm', 'customerSuccessManager']),
        80,
      ) ?? 'CSM',
    today: dayOf(context.fetchedAt),
    endDay:
      contract === null
        ? null
        : dayOf(
            pickString(contract, [
              'endDate',
              'renewalDate',
              'termEnd',
              'expiresAt',
              'expiryDate',
              'expirationDate',
            ]),
          ),
    autoRenew: contract === null ? null : pickBoolean(contract, ['autoRenew', 'autoRenewal', 'autoRenews']),
    contractKnown: contract !== null,
  };
}

function ticketSignals(tickets: readonly GroundingItem[]): Signal[] {
  const open = tickets.filter((ticket) => {
    const status = pickLevel(ticket.fields, ['status', 'state']);
    return status === null || !CLOSED_STATUSES.has(status);
  });
  const levelOf = (ticket: GroundingItem): 'urgent' | 'high' | null => {
    const level = pickLevel(ticket.fields, ['priority', 'severity', 'urgency', 'level']);
    if (level === null) return null;
    if (URGENT_LEVELS.has(level)) return 'urgent';
    return HIGH_LEVELS.has(level) ? 'high' : null;
  };
  const urgent = open.filter((ticket) => levelOf(ticket) === 'urgent');
  const high = open.filter((ticket) => levelOf(ticket) === 'high');
  const signals: Signal[] = [];
  const pressing = [...urgent, ...high];
  const first = pressing[0];
  if (first) {
    const subject = safeLabel(pickString(first.fields, ['subject', 'title', 'summary']), 80);
    const title =
      pressing.length === 1
        ? `Open ${urgent.length === 1 ? 'urgent' : 'high-priority'} support ticket${subject ? `: ${subject}` : ` ${first.id}`}`
        : `${plural(pressing.length, 'open high-priority support ticket')}${urgent.length > 0 ? ` (${urgent.length} urgent)` : ''}`;
    signals.push({
      kind: 'tickets',
      title,
      short: plural(pressing.length, 'open high-priority ticket'),
      severity: urgent.length > 0 || high.length >= 2 ? 'high' : 'medium',
      evidence: pressing.map((ticket) => ticket.id),
      step: {
        action:
          'Review the open high-priority tickets with Support and agree a resolution plan with the customer',
        owner: 'account',
        inDays: 7,
      },
      question: 'Does the customer see the open support issues as a blocker for the renewal?',
    });
  }
  const sensitive = open.filter((ticket) =>
    SENSITIVE_TOPIC.test(
      `${pickString(ticket.fields, ['subject', 'title']) ?? ''} ${pickString(ticket.fields, ['body', 'description', 'text']) ?? ''}`,
    ),
  );
  if (sensitive.length > 0) {
    signals.push({
      kind: 'sensitive',
      title: `${sensitive.length === 1 ? 'A support ticket raises' : `${sensitive.length} support tickets raise`} a security, legal or data-protection matter`,
      short: 'a sensitive (security, legal or data-protection) matter',
      severity: 'high',
      evidence: sensitive.map((ticket) => ticket.id),
      step: {
        action:
          'Bring the sensitive ticket to your manager and the security or legal team before replying to the customer',
        owner: 'account',
        inDays: 2,
      },
      question: 'Which security, legal or data-protection obligations does the sensitive ticket touch?',
    });
  }
  return signals;
}

function invoiceSignals(invoices: readonly GroundingItem[], today: number | null): Signal[] {
  const overdue = invoices.filter((invoice) => {
    const status = pickLevel(invoice.fields, ['status', 'state', 'paymentStatus']);
    if (status !== null && OVERDUE_STATUSES.has(status)) return true;
    if (status !== null && PAID_STATUSES.has(status)) return false;
    if (pick(invoice.fields, ['paidAt', 'paidDate', 'paidOn']) !== undefined) return false;
    if (status !== null && !UNPAID_STATUSES.has(status)) return false;
    const due = dayOf(pickString(invoice.fields, ['dueDate', 'due', 'dueOn', 'dueAt']));
    return due !== null && today !== null && due < today;
  });
  if (overdue.length === 0) return [];
  const currencies = new Set(
    overdue.map((invoice) => pickString(invoice.fields, ['currency'])?.toUpperCase() ?? 'USD'),
  );
  const amounts = overdue.map((invoice) =>
    pickNumber(invoice.fields, ['amount', 'amountDue', 'total', 'balance']),
  );
  const total = amounts.every((amount) => amount !== null)
    ? amounts.reduce<number>((sum, amount) => sum + (amount ?? 0), 0)
    : null;
  const currency = currencies.size === 1 ? ([...currencies][0] ?? null) : null;
  const totalText =
    total !== null && currencies.size === 1 ? ` totalling ${formatMoney(total, currency)}` : '';
  return [
    {
      kind: 'invoices',
      title: `${plural(overdue.length, 'overdue invoice')}${totalText}`,
      short: plural(overdue.length, 'overdue invoice'),
      severity: 'high',
      evidence: overdue.map((invoice) => invoice.id),
      step: {
        action: "Follow up on the overdue invoices with the customer's finance contact",
        owner: 'finance',
        inDays: 7,
      },
      question: 'Is the late payment a dispute, a process problem or a sign of budget pressure?',
    },
  ];
}

function usageSignals(usage: readonly GroundingItem[]): Signal[] {
  const signals: Signal[] = [];
  for (const item of usage) {
    const active = pickNumber(item.fields, [
      'activeUsers',
      'activeSeats',
      'monthlyActiveUsers',
      'mau',
      'users',
    ]);
    const seats = pickNumber(item.fields, [
      'licensedSeats',
      'seats',
      'licenses',
      'licences',
      'seatCount',
      'purchasedSeats',
      'totalSeats',
    ]);
    if (active !== null && seats !== null && seats > 0 && active / seats < LOW_UTILISATION) {
      const pct = Math.round((active / seats) * 100);
      signals.push({
        kind: 'usage',
        title: `Low seat utilisation: ${NUMBER_FORMAT.format(active)} of ${NUMBER_FORMAT.format(seats)} licensed seats active (${pct}%)`,
        short: `low seat utilisation (${pct}%)`,
        severity: active / seats < VERY_LOW_UTILISATION ? 'high' : 'medium',
        evidence: [item.id],
        step: {
          action:
            'Run an adoption review with the customer to activate unused seats or right-size the licence count',
          owner: 'account',
          inDays: 14,
        },
        question: 'Which teams hold the unused seats, and do they still plan to adopt the product?',
      });
    }
    const trend = pickNumber(item.fields, [
      'weeklyActiveTrend',
      'activeUsersTrend',
      'usageTrend',
      'trend',
      'trendPct',
      'changePct',
      'usageChangePct',
    ]);
    if (trend !== null && trend <= -DECLINE_PCT) {
      signals.push({
        kind: 'usage',
        title: `Weekly active users down ${NUMBER_FORMAT.format(Math.abs(trend))}% over the period`,
        short: `declining usage (${NUMBER_FORMAT.format(trend)}%)`,
        severity: trend <= -STEEP_DECLINE_PCT ? 'high' : 'medium',
        evidence: [item.id],
        step: {
          action: "Investigate the drop in active users with the customer's product admin",
          owner: 'account',
          inDays: 14,
        },
        question: 'What is behind the decline in active users?',
      });
    }
  }
  return signals;
}

function contractSignals(contract: readonly GroundingItem[], facts: Facts): Signal[] {
  const first = contract[0];
  if (!first || facts.endDay === null || facts.today === null) return [];
  const daysLeft = facts.endDay - facts.today;
  const endText = formatDay(facts.endDay);
  const step = {
    action: "Confirm the renewal decision and timeline with the customer's decision-maker",
    owner: 'account' as const,
    inDays: 7,
  };
  if (daysLeft < 0) {
    return [
      {
        kind: 'contract',
        title: `Contract ended on ${endText} with no renewal recorded`,
        short: `a contract that ended on ${endText}`,
        severity: 'high',
        evidence: [first.id],
        step,
        question: 'Is the customer still using the product under an expired contract?',
      },
    ];
  }
  if (daysLeft > RENEWAL_WINDOW_DAYS || facts.autoRenew === true) return [];
  return [
    {
      kind: 'contract',
      title: `Contract ends on ${endText} (in ${plural(daysLeft, 'day')}) and does not renew automatically`,
      short: `a contract ending in ${plural(daysLeft, 'day')}`,
      severity: daysLeft <= RENEWAL_URGENT_DAYS ? 'high' : 'medium',
      evidence: [first.id],
      step,
      question: null,
    },
  ];
}

function healthOf(signals: readonly Signal[]): Health {
  const high = signals.filter((signal) => signal.severity === 'high').length;
  const medium = signals.filter((signal) => signal.severity === 'medium').length;
  if (high >= 2 || (high >= 1 && medium >= 2)) return 'critical';
  return high + medium > 0 ? 'at_risk' : 'healthy';
}

function dueBy(facts: Facts, inDays: number): string | null {
  if (facts.endDay === null) return null;
  if (facts.today === null) return formatDay(facts.endDay - 1);
  const target = Math.min(facts.today + inDays, facts.endDay - 1);
  return formatDay(Math.max(target, facts.today));
}

function gapLabel(source: string): string {
  return SOURCE_LABELS[source] ?? source;
}

function summarise(
  facts: Facts,
  health: Health,
  signals: readonly Signal[],
  gapSources: readonly string[],
): string {
  const profile = [facts.segment, facts.arr !== null ? `ARR ${formatMoney(facts.arr, 'USD')}` : null].filter(
    (part): part is string => part !== null,
  );
  const who = profile.length > 0 ? `${facts.accountLabel} (${profile.join(', ')})` : facts.accountLabel;
  const state = { healthy: 'looks healthy', at_risk: 'is at risk', critical: 'is in critical condition' }[
    health
  ];
  let renewal = '';
  if (facts.endDay !== null) {
    const left = facts.today === null ? null : facts.endDay - facts.today;
    renewal =
      left !== null && left < 0
        ? ` after its contract ended on ${formatDay(facts.endDay)}`
        : ` ahead of its renewal on ${formatDay(facts.endDay)}${left !== null ? ` (in ${plural(left, 'day')})` : ''}`;
  }
  const sentences = [`${who} ${state}${renewal}.`];
  const concerns = signals.slice(0, 3).map((signal) => signal.short);
  if (concerns.length > 0) {
    sentences.push(`Main concerns: ${concerns.join('; ')}${signals.length > 3 ? '; and more' : ''}.`);
  } else {
    sentences.push(
      'No open high-priority tickets, overdue invoices or usage decline appear in the available data.',
    );
  }
  if (gapSources.length > 0) {
    sentences.push(`Missing data: ${gapSources.map(gapLabel).join(', ')}.`);
  }
  return sentences.join(' ');
}

function escalationOf(health: Health, signals: readonly Signal[]): RenewalBrief['escalation'] {
  const reasons: string[] = [];
  if (health === 'critical') {
    const high = signals.filter((signal) => signal.severity === 'high').map((signal) => signal.short);
    reasons.push(`Health is critical with ${plural(high.length, 'high-severity risk')}: ${high.join('; ')}.`);
  }
  if (signals.some((signal) => signal.kind === 'sensitive')) {
    reasons.push(
      'A support ticket raises a security, legal or data-protection matter that a manager should review.',
    );
  }
  return reasons.length > 0
    ? { recommended: true, reason: reasons.join(' ') }
    : { recommended: false, reason: null };
}

function briefWithoutContext(): RenewalBrief {
  return {
    summary: 'No account context was provided, so the account cannot be assessed.',
    health: 'at_risk',
    risks: [],
    openQuestions: ['Which account is this brief for, and can its context be fetched again?'],
    nextSteps: [
      { action: 'Request the brief again once the account context is available', owner: 'CSM', dueBy: null },
    ],
    dataGaps: [{ source: 'context', description: 'The request contained no context object.' }],
    escalation: { recommended: false, reason: null },
  };
}

/**
 * Writes a renewal brief from a context object (a `ContextObject`, or anything shaped like one).
 * Pure and deterministic: the same context yields the same brief; "today" is the context's
 * `fetchedAt`. Risks cite only ids of the context's items; every data gap is declared.
 */
export function composeRenewalBrief(contextLike: unknown): RenewalBrief {
  return composeRenewalBriefWithActions(contextLike).brief;
}

/** A proposed action as the renewal brief's structured output carries it. */
export interface ProposedAction {
  type: 'crm.create_task' | 'crm.update_renewal_risk' | 'email.customer_followup';
  arguments: Record<string, string>;
  rationale: string;
  evidence: string[];
}

/** At most this many follow-up tasks are proposed, for the most pressing risks. */
const MAX_PROPOSED_TASKS = 2;

/**
 * The actions a careful model would propose, derived only from the structured signals (never from
 * what customer text asks for): a CRM task for each of the most pressing risks, the renewal risk
 * level when the account is not healthy, and a customer follow-up e-mail about open high-priority
 * tickets unless a sensitive matter needs a manager first. Every action cites the evidence behind it.
 */
function proposeActions(facts: Facts, signals: readonly Signal[], health: Health): ProposedAction[] {
  const actions: ProposedAction[] = [];
  for (const signal of signals.slice(0, MAX_PROPOSED_TASKS)) {
    const due =
      dueBy(facts, signal.step.inDays) ??
      (facts.today === null ? null : formatDay(facts.today + signal.step.inDays));
    if (due === null) continue;
    actions.push({
      type: 'crm.create_task',
      arguments: {
        title: signal.step.action.slice(0, 200),
        owner: signal.step.owner === 'finance' ? 'Finance' : facts.owner,
        dueDate: due,
      },
      rationale: `Follow up on: ${signal.title}.`.slice(0, 500),
      evidence: signal.evidence,
    });
  }
  if (health !== 'healthy') {
    const high = signals.filter((signal) => signal.severity === 'high');
    const basis = high.length > 0 ? high : signals;
    actions.push({
      type: 'crm.update_renewal_risk',
      arguments: {
        level: health === 'critical' ? 'high' : 'medium',
        reason: `Renewal ${health === 'critical' ? 'in critical condition' : 'at risk'}: ${basis
          .map((signal) => signal.short)
          .join('; ')}.`.slice(0, 500),
      },
      rationale: 'The CRM risk level should reflect the risks found in this brief.',
      evidence: [...new Set(basis.flatMap((signal) => signal.evidence))],
    });
  }
  const tickets = signals.find((signal) => signal.kind === 'tickets');
  if (tickets && !signals.some((signal) => signal.kind === 'sensitive')) {
    actions.push({
      type: 'email.customer_followup',
      arguments: {
        subject: `Your open support requests with us`,
        body:
          `Hello,\n\nWe see ${tickets.short} on your account and want to make sure they are resolved. ` +
          `Could we schedule a short call this week to agree a plan with our support team?\n\nBest regards,\n${facts.owner}`,
      },
      rationale:
        'The customer has open high-priority tickets; a personal follow-up shows they are being handled.',
      evidence: tickets.evidence,
    });
  }
  return actions;
}

/** The brief and the actions proposed with it (see `proposeActions`). */
export function composeRenewalBriefWithActions(contextLike: unknown): {
  brief: RenewalBrief;
  proposedActions: ProposedAction[];
} {
  const context = readGroundingContext(contextLike);
  if (context === null) return { brief: briefWithoutContext(), proposedActions: [] };

  const byKind = new Map<Kind, GroundingItem[]>();
  for (const item of context.items) {
    const kind = kindOf(item);
    byKind.set(kind, [...(byKind.get(kind) ?? []), item]);
  }
  const facts = readFacts(context, byKind);
  const signals = [
    ...contractSignals(byKind.get('contract') ?? [], facts),
    ...ticketSignals(byKind.get('tickets') ?? []),
    ...invoiceSignals(byKind.get('invoices') ?? [], facts.today),
    ...usageSignals(byKind.get('usage') ?? []),
  ];
  // Sensitive matters first, then by severity; the order within a severity follows the list above.
  const rank = (signal: Signal): number =>
    (signal.kind === 'sensitive' ? 0 : 1) * 10 + { high: 0, medium: 1, low: 2 }[signal.severity];
  signals.sort((a, b) => rank(a) - rank(b));

  const health = healthOf(signals);
  const gapSources = [...new Set(context.dataGaps.map((gap) => gap.source))];

  const nextSteps: RenewalBrief['nextSteps'] = [];
  const addStep = (action: string, owner: string, inDays: number): void => {
    if (!nextSteps.some((step) => step.action === action))
      nextSteps.push({ action, owner, dueBy: dueBy(facts, inDays) });
  };
  for (const signal of signals) {
    addStep(
      signal.step.action,
      signal.step.owner === 'finance' ? 'Finance' : facts.owner,
      signal.step.inDays,
    );
  }
  if (!signals.some((signal) => signal.kind === 'contract')) {
    addStep(
      health === 'healthy'
        ? 'Schedule the renewal conversation and confirm the customer plans to renew at the current scope'
        : 'Schedule a renewal call with the customer to review the risks above',
      facts.owner,
      21,
    );
  }
  for (const source of gapSources) {
    addStep(`Obtain the missing ${gapLabel(source)} data before the renewal conversation`, facts.owner, 5);
  }

  const openQuestions: string[] = [];
  for (const gap of context.dataGaps) {
    const question = `What does the ${gapLabel(gap.source)} data show? It was ${gap.reason === 'error' ? 'unavailable because the source failed' : 'not found'} for this brief.`;
    if (!openQuestions.includes(question)) openQuestions.push(question);
  }
  for (const signal of signals) {
    if (signal.question !== null && !openQuestions.includes(signal.question))
      openQuestions.push(signal.question);
  }
  if (!facts.contractKnown && !gapSources.includes('contract')) {
    openQuestions.push('When does the current contract end, and does it renew automatically?');
  }
  const note = safeLabel(context.notes, 200);
  if (note !== null) openQuestions.push(`How does the requester's note bear on the renewal: "${note}"?`);
  openQuestions.push('Who is the economic buyer for the renewal, and have they confirmed the budget?');

  const brief: RenewalBrief = {
    summary: summarise(facts, health, signals, gapSources),
    health,
    risks: signals.map((signal) => ({
      title: signal.title,
      severity: signal.severity,
      evidence: signal.evidence,
    })),
    openQuestions,
    nextSteps,
    dataGaps: context.dataGaps.map((gap) => ({
      source: gap.source,
      description:
        gap.reason === 'error'
          ? `The ${gapLabel(gap.source)} source failed, so its data is missing from this brief.`
          : `No ${gapLabel(gap.source)} data was found for this account.`,
    })),
    escalation: escalationOf(health, signals),
  };
  return { brief, proposedActions: proposeActions(facts, signals, health) };
}
