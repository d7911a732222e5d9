import { z } from 'zod';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { hasAnyRole, type Principal } from '../domain/principal.ts';
import { PRICE_TABLE, PRICE_TABLE_VERSION, priceFor, roundUsd } from '../domain/pricing.ts';
import { commaSeparated } from '../domain/query.ts';
import { RunStatusSchema } from '../domain/run.ts';
import type { Budget, CostRollup, RunCost } from '../ports/index.ts';
import type { Deps } from './deps.ts';
import { requireKnownTenant } from './tenants.ts';

const day = z.iso.date('must be an existing YYYY-MM-DD date');
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The longest range one report may cover: one Query per day. */
export const MAX_REPORT_DAYS = 93;

/** What a ledger report can be grouped by (one or two of them). */
export const LedgerDimensionSchema = z.enum([
  'tenant',
  'workflow',
  'model',
  'day',
  'month',
  'account',
  'user',
]);
export type LedgerDimension = z.infer<typeof LedgerDimensionSchema>;

/** The ledger's query string. `from`/`to` (or `month`) default to the current month. */
/** The period rules every report query shares: `month` or `from`/`to`, in order, at most MAX_REPORT_DAYS. */
function periodChecks(
  ctx: z.core.ParsePayload<{
    month?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
  }>,
): void {
  const q = ctx.value;
  if (q.month !== undefined && (q.from !== undefined || q.to !== undefined)) {
    ctx.issues.push({ code: 'custom', message: 'give either month or from/to', path: ['month'], input: q });
  }
  if (q.from !== undefined && q.to !== undefined) {
    if (q.from > q.to) {
      ctx.issues.push({ code: 'custom', message: 'from must not be after to', path: ['from'], input: q });
    } else if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 >= MAX_REPORT_DAYS) {
      ctx.issues.push({
        code: 'custom',
        message: `the range may cover at most ${MAX_REPORT_DAYS} days`,
        path: ['to'],
        input: q,
      });
    }
  }
}

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
    groupBy: commaSeparated(LedgerDimensionSchema)
      .refine((dimensions) => dimensions.length <= 2 && new Set(dimensions).size === dimensions.length, {
        message: 'give one or two different dimensions',
      })
      .optional()
      .meta({
        description:
          'One or two dimensions, comma-separated, from `tenant, workflow, model, day, month, account, user`: `tenant,model`. Default: `tenant`.',
        examples: ['model', 'tenant,day'],
      }),
    tenantId: z.string().regex(TENANT).optional(),
    format: z
      .enum(['json', 'csv'])
      .optional()
      .meta({ description: 'Answer as CSV (`csv`) or JSON; overrides `Accept`.' }),
  })
  .strict()
  .check(periodChecks);

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
  /** The row's dimension values joined with `|`, in the order of `groupBy`. */
  key: z.string(),
  /** The row's value of each dimension of `groupBy`. */
  group: z.object({
    tenant: z.string().optional(),
    workflow: z.string().optional(),
    model: z.string().optional(),
    day: z.string().optional(),
    month: z.string().optional(),
    account: z.string().optional(),
    user: z.string().optional(),
  }),
  /** Everything charged: reported usage at the price table, plus estimated charges. */
  costUsd: z.number(),
  /**
   * The part of `costUsd` charged at the reservation because the provider reported no usage (a
   * timeout, a reset connection): it may have billed the attempt, or not.
   */
  estimatedUsd: z.number(),
  /** Charged model calls. */
  attempts: z.number().int(),
  /** Runs whose first model call was charged in this row (see domain/rollups.ts). */
  runs: z.number().int(),
  inputTokens: z.number().int(),
  cachedInputTokens: z.number().int(),
  outputTokens: z.number().int(),
});
export type LedgerRow = z.infer<typeof LedgerRowSchema>;

export const LedgerReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  /** The dimensions, comma-separated as asked. */
  groupBy: z.string(),
  dimensions: z.array(LedgerDimensionSchema),
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

/** The value of one dimension in a cost cell. */
function dimensionOf(cell: CostRollup, dimension: LedgerDimension): string {
  switch (dimension) {
    case 'tenant':
      return cell.tenantId;
    case 'workflow':
      return cell.workflowId;
    case 'model':
      return cell.model;
    case 'day':
      return cell.day;
    case 'month':
      return cell.day.slice(0, 7);
    case 'account':
      return cell.accountId;
    case 'user':
      return cell.userId;
  }
}

/** Whether a grouping needs the detail cells (per account and user). */
export function needsDetail(dimensions: readonly LedgerDimension[]): boolean {
  return dimensions.some((dimension) => dimension === 'account' || dimension === 'user');
}

/** Groups cost rollup cells into report rows. Pure, so finance's numbers are testable to the cent. */
export function groupRollups(
  cells: readonly CostRollup[],
  dimensions: readonly LedgerDimension[],
): LedgerRow[] {
  const rows = new Map<string, LedgerRow>();
  for (const cell of cells) {
    const values = dimensions.map((dimension) => dimensionOf(cell, dimension));
    const key = values.join('|');
    const row = rows.get(key) ?? {
      key,
      group: Object.fromEntries(dimensions.map((dimension, index) => [dimension, values[index] ?? ''])),
      costUsd: 0,
      estimatedUsd: 0,
      attempts: 0,
      runs: 0,
      inputTokens: 0,
      cachedInputTokens: 0,
      outputTokens: 0,
    };
    row.costUsd = roundUsd(row.costUsd + cell.costUsd);
    row.estimatedUsd = roundUsd(row.estimatedUsd + cell.estimatedUsd);
    row.attempts += cell.calls;
    row.runs += cell.runs;
    row.inputTokens += cell.inputTokens;
    row.cachedInputTokens += cell.cachedInputTokens;
    row.outputTokens += cell.outputTokens;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
      ...report.dimensions,
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
        ...report.dimensions.map((dimension) => row.group[dimension] ?? ''),
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
  // The router hands over the query parsed already (groupBy as a list): parsing is idempotent here.
  const raw =
    typeof query === 'object' && query !== null && 'groupBy' in query && Array.isArray(query.groupBy)
      ? { ...query, groupBy: query.groupBy.join(',') }
      : query;
  const parsed = LedgerQuerySchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('The query string is invalid.', issues(parsed.error));
  const platform = hasAnyRole(principal, ['finance', 'operator']);
  const tenantId = platform ? parsed.data.tenantId : principal.tenantId;
  if (!platform && parsed.data.tenantId !== undefined && parsed.data.tenantId !== principal.tenantId) {
    throw new NotFoundError('Tenant');
  }
  const { from, to } = reportPeriod(parsed.data, deps.clock.now());
  const dimensions = parsed.data.groupBy ?? ['tenant'];
  // Rollup cells, written with each charge: O(days × cells per day) items, whatever the number of runs.
  const cells = await deps.ledger.readCostRollups({
    fromDay: from,
    toDay: to,
    detail: needsDetail(dimensions),
    ...(tenantId ? { tenantId } : {}),
  });
  const rows = groupRollups(cells, dimensions);
  return {
    from,
    to,
    groupBy: dimensions.join(','),
    dimensions,
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

/** `GET /v1/ledger/top-runs`: the period as for the ledger, and how many runs. */
export const TopRunsQuerySchema = z
  .object({
    from: day.optional().meta({
      description: 'First day (UTC) the runs were created, inclusive. Default: the month’s first day.',
      examples: ['2026-11-01'],
    }),
    to: day.optional().meta({
      description: 'Last day (UTC) the runs were created, inclusive. Default: the month’s last day.',
      examples: ['2026-11-30'],
    }),
    month: z
      .string()
      .regex(MONTH, 'must be YYYY-MM')
      .optional()
      .meta({ description: 'A calendar month instead of from/to.', examples: ['2026-11'] }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(10)
      .meta({ description: 'How many runs (1–100).' }),
    tenantId: z.string().regex(TENANT).optional(),
  })
  .strict()
  .check(periodChecks);

export const RunCostSchema = z.object({
  runId: z.string(),
  tenantId: z.string(),
  workflowId: z.string(),
  accountId: z.string(),
  requestedBy: z.string(),
  status: RunStatusSchema,
  model: z.string().nullable(),
  costUsd: z.number(),
  createdAt: z.string(),
});

export const TopRunsReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  tenantId: z.string().nullable(),
  currency: z.literal('USD'),
  /** The most expensive runs created in the period, most expensive first: cost fields only, never content. */
  runs: z.array(RunCostSchema),
});
export type TopRunsReport = z.infer<typeof TopRunsReportSchema>;

/**
 * The most expensive runs of a period, through the runs' cost index (O(limit) items for a calendar
 * month). Same audience as the ledger: finance and operators (every tenant or one), admins their own.
 */
export async function getTopRuns(
  deps: Pick<Deps, 'runs' | 'clock'>,
  principal: Principal,
  query: unknown,
): Promise<TopRunsReport> {
  const parsed = TopRunsQuerySchema.safeParse(query);
  if (!parsed.success) throw new ValidationError('The query string is invalid.', issues(parsed.error));
  const platform = hasAnyRole(principal, ['finance', 'operator']);
  const tenantId = platform ? parsed.data.tenantId : principal.tenantId;
  if (!platform && parsed.data.tenantId !== undefined && parsed.data.tenantId !== principal.tenantId) {
    throw new NotFoundError('Tenant');
  }
  const { from, to } = reportPeriod(parsed.data, deps.clock.now());
  const toExclusive = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString();
  const runs: RunCost[] = await deps.runs.topRunsByCost({
    fromIso: `${from}T00:00:00.000Z`,
    toIso: toExclusive,
    limit: parsed.data.limit,
    ...(tenantId ? { tenantId } : {}),
  });
  return { from, to, tenantId: tenantId ?? null, currency: 'USD', runs };
}
