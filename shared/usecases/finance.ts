import { z } from 'zod';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { hasAnyRole, type Principal } from '../domain/principal.ts';
import { PRICE_TABLE, PRICE_TABLE_VERSION, priceFor, roundUsd } from '../domain/pricing.ts';
import type { Budget, LedgerEntry } from '../ports/index.ts';
import type { Deps } from './deps.ts';
import { requireKnownTenant } from './tenants.ts';

const day = z.iso.date('must be an existing YYYY-MM-DD date');
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The longest range one report may cover: one Query per day. */
export const MAX_REPORT_DAYS = 93;

/** The ledger's query string. `from`/`to` (or `month`) default to the current month. */
export const LedgerQuerySchema = z
  .object({
    from: day.optional().meta({
      description: 'First day (UTC), inclusive. Default: the month’s first day.',
      examples: ['2026-11-01'],
    }),
    to: day.optional().meta({
      description: 'Last day (UTC), inclusive. Default: the month’s last day.',
      examples: ['2026-11-30'],
    }),
    month: z
      .string()
      .regex(MONTH, 'must be YYYY-MM')
      .optional()
      .meta({ description: 'A calendar month instead of from/to.', examples: ['2026-11'] }),
    groupBy: z.enum(['tenant', 'workflow', 'model', 'day']).default('tenant'),
    tenantId: z.string().regex(TENANT).optional(),
    format: z
      .enum(['json', 'csv'])
      .optional()
      .meta({ description: 'Answer as CSV (`csv`) or JSON; overrides `Accept`.' }),
  })
  .strict()
  .refine((q) => q.month === undefined || (q.from === undefined && q.to === undefined), {
    message: 'give either month or from/to',
    path: ['month'],
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  })
  .refine(
    (q) =>
      q.from === undefined ||
      q.to === undefined ||
      (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < MAX_REPORT_DAYS,
    { message: `the range may cover at most ${MAX_REPORT_DAYS} days`, path: ['to'] },
  );

/** The month `YYYY-MM` as its first and last day. */
export function monthRange(month: string): { from: string; to: string } {
  const [year, monthNumber] = month.split('-').map(Number);
  const last = new Date(Date.UTC(year ?? 1970, monthNumber ?? 1, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

/** Resolves the report period: `month`, else `from`/`to`, each defaulting to the current month. */
export function reportPeriod(
  query: { from?: string | undefined; to?: string | undefined; month?: string | undefined },
  now: Date,
): { from: string; to: string } {
  const current = monthRange(query.month ?? now.toISOString().slice(0, 7));
  const from = query.from ?? (query.to === undefined ? current.from : `${query.to.slice(0, 7)}-01`);
  const to = query.to ?? (query.from === undefined ? current.to : monthRange(from.slice(0, 7)).to);
  if (from > to)
    throw new ValidationError('The query string is invalid.', [
      { path: 'from', message: 'from must not be after to' },
    ]);
  return { from, to };
}

export const LedgerRowSchema = z.object({
  key: z.string(),
  /** Everything charged: reported usage at the price table, plus estimated charges. */
  costUsd: z.number(),
  /**
   * The part of `costUsd` charged at the reservation because the provider reported no usage (a
   * timeout, a reset connection): it may have billed the attempt, or not.
   */
  estimatedUsd: z.number(),
  attempts: z.number().int(),
  runs: z.number().int(),
  inputTokens: z.number().int(),
  cachedInputTokens: z.number().int(),
  outputTokens: z.number().int(),
});
export type LedgerRow = z.infer<typeof LedgerRowSchema>;

export const LedgerReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.string(),
  tenantId: z.string().nullable(),
  currency: z.literal('USD'),
  totalUsd: z.number(),
  /** The part of `totalUsd` that is estimated (see LedgerRow.estimatedUsd). */
  estimatedUsd: z.number(),
  rows: z.array(LedgerRowSchema),
});
export type LedgerReport = z.infer<typeof LedgerReportSchema>;

export const PutBudgetBodySchema = z
  .object({
    limitUsd: z.number().nonnegative().max(1_000_000),
    month: z.string().regex(MONTH, 'must be YYYY-MM').optional(),
    /** Spend levels in percent of the limit that emit budget.threshold_reached (default 50, 80, 100). */
    alertThresholdsPercent: z
      .array(z.number().int().min(1).max(100))
      .max(10)
      .refine((values) => new Set(values).size === values.length, 'Each threshold may be listed once.')
      .optional(),
  })
  .strict();

function issues(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

/** Groups ledger entries into report rows. Pure, so finance's numbers are testable to the cent. */
export function groupEntries(
  entries: readonly LedgerEntry[],
  groupBy: 'tenant' | 'workflow' | 'model' | 'day',
): LedgerRow[] {
  const rows = new Map<string, LedgerRow & { runIds: Set<string> }>();
  for (const entry of entries) {
    const key = { tenant: entry.tenantId, workflow: entry.workflowId, model: entry.model, day: entry.day }[
      groupBy
    ];
    const row = rows.get(key) ?? {
      key,
      costUsd: 0,
      estimatedUsd: 0,
      attempts: 0,
      runs: 0,
      inputTokens: 0,
      cachedInputTokens: 0,
      outputTokens: 0,
      runIds: new Set<string>(),
    };
    row.costUsd = roundUsd(row.costUsd + entry.costUsd);
    if (entry.estimated) row.estimatedUsd = roundUsd(row.estimatedUsd + entry.costUsd);
    row.attempts += 1;
    row.runIds.add(entry.runId);
    row.runs = row.runIds.size;
    row.inputTokens += entry.inputTokens;
    row.cachedInputTokens += entry.cachedInputTokens;
    row.outputTokens += entry.outputTokens;
    rows.set(key, row);
  }
  return [...rows.values()]
    .map(({ runIds: _runIds, ...row }) => row)
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** CSV for spreadsheets: a header row, one row per group with its currency and period, values quoted when needed. */
export function toCsv(report: LedgerReport): string {
  const quote = (value: string | number): string => {
    const text = String(value);
    // A leading =, +, - or @ would be read as a formula by spreadsheets.
    const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
    return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [
    [
      report.groupBy,
      'currency',
      'period_from',
      'period_to',
      'cost',
      'attempts',
      'runs',
      'input_tokens',
      'cached_input_tokens',
      'output_tokens',
      'estimated_cost',
    ],
  ];
  for (const row of report.rows) {
    lines.push(
      [
        row.key,
        report.currency,
        report.from,
        report.to,
        row.costUsd.toFixed(6),
        row.attempts,
        row.runs,
        row.inputTokens,
        row.cachedInputTokens,
        row.outputTokens,
        row.estimatedUsd.toFixed(6),
      ].map(String),
    );
  }
  return `${lines.map((line) => line.map(quote).join(',')).join('\n')}\n`;
}

/**
 * The cost report. Finance and operators see every tenant (or one with `tenantId`); an admin only
 * their own tenant. Entries carry no draft content, so finance never sees any.
 */
export async function getLedgerReport(
  deps: Pick<Deps, 'ledger' | 'clock'>,
  principal: Principal,
  query: unknown,
): Promise<LedgerReport> {
  const parsed = LedgerQuerySchema.safeParse(query);
  if (!parsed.success) throw new ValidationError('The query string is invalid.', issues(parsed.error));
  const platform = hasAnyRole(principal, ['finance', 'operator']);
  const tenantId = platform ? parsed.data.tenantId : principal.tenantId;
  if (!platform && parsed.data.tenantId !== undefined && parsed.data.tenantId !== principal.tenantId) {
    throw new NotFoundError('Tenant');
  }
  const { from, to } = reportPeriod(parsed.data, deps.clock.now());
  const entries = await deps.ledger.listEntries({
    fromDay: from,
    toDay: to,
    ...(tenantId ? { tenantId } : {}),
  });
  const rows = groupEntries(entries, parsed.data.groupBy);
  return {
    from,
    to,
    groupBy: parsed.data.groupBy,
    tenantId: tenantId ?? null,
    currency: 'USD',
    totalUsd: roundUsd(rows.reduce((sum, row) => sum + row.costUsd, 0)),
    estimatedUsd: roundUsd(rows.reduce((sum, row) => sum + row.estimatedUsd, 0)),
    rows,
  };
}

function budgetTenant(principal: Principal, tenantId: string | undefined): string {
  if (tenantId === undefined || !TENANT.test(tenantId)) throw new NotFoundError('Tenant');
  if (!hasAnyRole(principal, ['finance', 'operator']) && tenantId !== principal.tenantId)
    throw new NotFoundError('Tenant');
  return tenantId;
}

/** The month's budget (current month unless `?month=`), with spent and reserved; 404 for an unknown tenant. */
export async function getBudget(
  deps: Pick<Deps, 'ledger' | 'clock' | 'tenants'>,
  principal: Principal,
  tenantId: string | undefined,
  query: unknown,
): Promise<Budget> {
  const tenant = budgetTenant(principal, tenantId);
  await requireKnownTenant(deps, tenant);
  const month =
    (typeof query === 'object' && query !== null && 'month' in query && typeof query.month === 'string'
      ? query.month
      : undefined) ?? deps.clock.now().toISOString().slice(0, 7);
  if (!MONTH.test(month)) throw new ValidationError('month must be YYYY-MM.');
  return deps.ledger.getBudget(tenant, month);
}

/** Operators set a tenant's monthly budget; spent and reserved amounts are kept. */
export async function putBudget(
  deps: Pick<Deps, 'ledger' | 'clock' | 'tenants'>,
  principal: Principal,
  tenantId: string | undefined,
  body: unknown,
): Promise<Budget> {
  const tenant = budgetTenant(principal, tenantId);
  // No budget for a tenant Rein does not know: register it first (PUT /v1/tenants/{tenantId}).
  await requireKnownTenant(deps, tenant);
  const parsed = PutBudgetBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError('The request body is invalid.', issues(parsed.error));
  const now = deps.clock.now();
  return deps.ledger.setBudget(
    tenant,
    parsed.data.month ?? now.toISOString().slice(0, 7),
    parsed.data.limitUsd,
    now,
    parsed.data.alertThresholdsPercent,
  );
}

export const PriceListSchema = z.object({
  version: z.string(),
  currency: z.literal('USD'),
  unit: z.literal('per million tokens'),
  prices: z.array(
    z.object({
      model: z.string(),
      effectiveFrom: z.string(),
      inputPerMTok: z.number(),
      cachedInputPerMTok: z.number(),
      outputPerMTok: z.number(),
    }),
  ),
});
export type PriceList = z.infer<typeof PriceListSchema>;

/** `GET /v1/prices`: the price of every model in force now, and the table's version. */
export function getPrices(deps: Pick<Deps, 'clock'>): PriceList {
  const now = deps.clock.now();
  const models = [...new Set(PRICE_TABLE.map((row) => row.model))].sort();
  return {
    version: PRICE_TABLE_VERSION,
    currency: 'USD',
    unit: 'per million tokens',
    prices: models.map((model) => ({ ...priceFor(model, now) })),
  };
}
