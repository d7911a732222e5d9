import { z } from 'zod';
import { ID_PATTERN } from '../domain/ids.ts';
import { SourceIdSchema } from '../domain/context.ts';
import { DraftViewSchema } from '../domain/draft.ts';
import { RunSchema } from '../domain/run.ts';
import { RunViewSchema } from '../usecases/runs.ts';
import { SpanSchema } from '../domain/trace.ts';
import { LedgerReportSchema, TopRunsReportSchema } from '../usecases/finance.ts';
import { MetricsReportSchema } from '../usecases/metrics.ts';
import { DraftSummarySchema } from '../usecases/review.ts';
import { WORKFLOWS } from '../workflows/registry.ts';

/**
 * Schemas of the API's requests and responses as the document names them. `.meta({ id })` makes
 * a schema a named component (zod-openapi registers it); these are API-only instances, so the
 * domain schemas used for structured output and storage stay unnamed.
 */

/** A component name OpenAPI accepts (`^[a-zA-Z0-9._-]+$`), from any workflow id: `renewal-brief` → `RenewalBrief`. */
export function componentName(id: string, suffix = ''): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  const name = words.map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`).join('');
  return `${name === '' ? 'Workflow' : name}${suffix}`;
}

export const ErrorDetailSchema = z
  .object({
    path: z
      .string()
      .meta({ description: 'Dotted path of the field (body, query or state); empty for the whole request.' }),
    message: z.string(),
  })
  .meta({ id: 'ErrorDetail' });

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ examples: ['invalid_request'] }),
      message: z.string(),
      details: z.array(ErrorDetailSchema).optional(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'Error' });

export const IdParam = z.string().regex(ID_PATTERN);
export const TenantIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);

/** Every workflow's draft content schema (its output without `proposedActions`), named after the workflow (`RenewalBrief`). */
export const WORKFLOW_OUTPUTS = [...WORKFLOWS.values()].map((workflow) => ({
  id: componentName(workflow.id),
  schema: workflow.contentSchema,
}));
/** Every workflow's input schema (`RenewalBriefInput`). */
export const WORKFLOW_INPUTS = [...WORKFLOWS.values()].map((workflow) => ({
  id: componentName(workflow.id, 'Input'),
  schema: workflow.inputSchema,
}));

function oneOfComponents(ids: readonly string[]) {
  const refs = ids.map((id) => ({ $ref: `#/components/schemas/${id}` }));
  return refs.length === 1 && refs[0] ? refs[0] : { oneOf: refs };
}

/** Content typed in the document as the workflow's output schema (one of them, by `workflowId`). */
const WorkflowContentSchema = z
  .record(z.string(), z.unknown())
  .meta({ override: oneOfComponents(WORKFLOW_OUTPUTS.map((output) => output.id)) });

/** A start-run body: the input of the workflow named in the path. */
export const StartRunBodySchema = z
  .record(z.string(), z.unknown())
  .meta({ override: oneOfComponents(WORKFLOW_INPUTS.map((input) => input.id)) });

export const RunResponseSchema = RunViewSchema.meta({
  id: 'Run',
  examples: [
    {
      runId: 'run_01jd0000000000000000000000',
      tenantId: 'acme',
      workflowId: 'renewal-brief',
      requestedBy: 'csm-alice',
      accountId: 'acct-northwind',
      input: { accountId: 'acct-northwind' },
      status: 'awaiting_review',
      draftId: 'drf_01jd0000000000000000000000',
      error: null,
      costUsd: 0.0021,
      promptId: 'renewal-brief',
      promptVersion: 'v1',
      model: 'gpt-4.1-mini',
      expiresAt: '2026-12-02T10:00:04.000Z',
      actions: null,
      createdAt: '2026-11-30T10:00:00.000Z',
      updatedAt: '2026-11-30T10:00:04.000Z',
    },
  ],
});

export const RunPageSchema = z
  .object({
    items: z.array(
      RunSchema.extend({
        input: RunSchema.shape.input
          .optional()
          .meta({ description: 'Left out for finance (cost fields only).' }),
      }).meta({ id: 'RunSummary' }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'RunPage' });

export const DraftResponseSchema = DraftViewSchema.extend({
  content: WorkflowContentSchema,
  original: WorkflowContentSchema,
}).meta({ id: 'Draft' });

export const DraftPageSchema = z
  .object({
    items: z.array(DraftSummarySchema.meta({ id: 'DraftSummary' })),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'DraftPage' });

export const TraceSchema = z
  .object({
    runId: z.string(),
    traceId: z.string().nullable(),
    spans: z.array(SpanSchema.meta({ id: 'Span' })),
  })
  .meta({ id: 'Trace' });

export const HealthSchema = z
  .object({ status: z.literal('ok'), environment: z.string() })
  .meta({ id: 'Health', examples: [{ status: 'ok', environment: 'local' }] });

export const WorkflowListSchema = z
  .object({
    items: z.array(z.object({ workflowId: z.string(), title: z.string(), description: z.string() })),
  })
  .meta({ id: 'WorkflowList' });

export const OpenApiDocumentSchema = z
  .record(z.string(), z.unknown())
  .meta({ id: 'OpenApiDocument', description: 'This document (OpenAPI 3.1).' });

export const PromotedCaseSchema = z
  .object({
    workflowId: z.string(),
    case: z
      .object({
        id: z.string(),
        category: z.enum(['common', 'missing_data', 'tool_failure', 'should_escalate']),
        description: z.string(),
        request: z.record(z.string(), z.unknown()),
        fixture: z.object({
          fetchedAt: z.string(),
          crm: z.record(z.string(), z.unknown()).optional(),
          usage: z.record(z.string(), z.unknown()).optional(),
          contract: z.record(z.string(), z.unknown()).optional(),
          tickets: z.array(z.record(z.string(), z.unknown())),
          invoices: z.array(z.record(z.string(), z.unknown())),
          failingSources: z.array(SourceIdSchema),
        }),
        assert: z.array(z.record(z.string(), z.unknown())),
        reference: z.record(z.string(), z.unknown()),
      })
      .meta({ description: 'An eval case as in evals/eval-suite.schema.json (cases[]).' }),
  })
  .meta({ id: 'PromotedCase' });

export const LedgerReportResponseSchema = LedgerReportSchema.meta({ id: 'LedgerReport' });
export const TopRunsReportResponseSchema = TopRunsReportSchema.meta({ id: 'TopRunsReport' });
export const MetricsReportResponseSchema = MetricsReportSchema.meta({ id: 'MetricsReport' });

export const BudgetSchema = z
  .object({
    tenantId: z.string(),
    month: z.string(),
    limitUsd: z.number(),
    spentUsd: z.number(),
    reservedUsd: z.number(),
    availableUsd: z.number(),
    alertThresholdsPercent: z
      .array(z.number())
      .meta({ description: 'Spend levels (percent of the limit) that emit `budget.threshold_reached`.' }),
    alertsSentPercent: z
      .array(z.number())
      .meta({ description: 'The levels already reached (and alerted) this month.' }),
  })
  .meta({ id: 'Budget' });

export const LedgerCsvSchema = z.string().meta({
  description: 'One row per group: key, currency, period (from/to), cost and token columns.',
});

/** The ETag of a draft version, as `If-Match` expects it back. */
export const ETagHeaderSchema = z
  .string()
  .meta({ description: 'The draft version, e.g. `"3"`.', examples: ['"3"'] });
