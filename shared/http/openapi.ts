import { z } from 'zod';
import { RenewalBriefSchema } from '../domain/brief.ts';
import { DraftSchema } from '../domain/draft.ts';
import { RunSchema } from '../domain/run.ts';
import { SpanSchema } from '../domain/trace.ts';
import { DecisionBodySchema, EditDraftBodySchema, ListDraftsQuerySchema } from '../usecases/review.ts';
import { WORKFLOWS } from '../workflows/registry.ts';
import { LedgerQuerySchema, LedgerReportSchema, PutBudgetBodySchema } from '../usecases/finance.ts';
import { MetricsQuerySchema, MetricsReportSchema } from '../usecases/metrics.ts';
import { ErrorBodySchema } from './middleware.ts';
import { ROUTES } from './routes.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

const RESPONSES: Record<string, { status: string; schema: string }> = {
  getHealth: { status: '200', schema: 'Health' },
  getOpenApi: { status: '200', schema: 'OpenApiDocument' },
  listWorkflows: { status: '200', schema: 'WorkflowList' },
  startRun: { status: '202', schema: 'Run' },
  getRun: { status: '200', schema: 'Run' },
  getRunTrace: { status: '200', schema: 'Trace' },
  listDrafts: { status: '200', schema: 'DraftPage' },
  getDraft: { status: '200', schema: 'Draft' },
  editDraft: { status: '200', schema: 'Draft' },
  approveDraft: { status: '200', schema: 'Draft' },
  rejectDraft: { status: '200', schema: 'Draft' },
  escalateDraft: { status: '200', schema: 'Draft' },
  getLedger: { status: '200', schema: 'LedgerReport' },
  getMetrics: { status: '200', schema: 'MetricsReport' },
  promoteDraft: { status: '200', schema: 'PromotedCase' },
  getBudget: { status: '200', schema: 'Budget' },
  putBudget: { status: '200', schema: 'Budget' },
};

const REQUEST_BODIES: Record<string, string> = {
  editDraft: 'EditDraftRequest',
  approveDraft: 'DecisionRequest',
  rejectDraft: 'DecisionRequest',
  escalateDraft: 'DecisionRequest',
  putBudget: 'PutBudgetRequest',
};

const TenantQuerySchema = z.object({ tenantId: z.string().optional() });

/** Each operation's query string, from the zod schemas that parse it (refinements are not documented). */
const QUERY_SCHEMAS: Record<string, z.ZodType> = {
  getRun: TenantQuerySchema,
  getRunTrace: TenantQuerySchema,
  listDrafts: ListDraftsQuerySchema,
  getLedger: LedgerQuerySchema,
  getMetrics: MetricsQuerySchema,
  getBudget: z.object({
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
      .optional(),
  }),
};

function queryParameters(operation: string): Record<string, unknown>[] {
  const query = QUERY_SCHEMAS[operation];
  if (!query) return [];
  const json = z.toJSONSchema(query, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** The OpenAPI 3.1 document, generated from the route list and the same zod schemas that validate requests. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: schema(ErrorBodySchema),
    Run: schema(RunSchema),
    Draft: schema(DraftSchema),
    DraftPage: schema(z.object({ items: z.array(DraftSchema), nextCursor: z.string().nullable() })),
    Trace: schema(
      z.object({ runId: z.string(), traceId: z.string().nullable(), spans: z.array(SpanSchema) }),
    ),
    Health: schema(z.object({ status: z.literal('ok'), environment: z.string() })),
    WorkflowList: schema(
      z.object({
        items: z.array(z.object({ workflowId: z.string(), title: z.string(), description: z.string() })),
      }),
    ),
    OpenApiDocument: { type: 'object' },
    PromotedCase: {
      type: 'object',
      description: 'An eval case (evals/eval-suite.schema.json, cases[]) with workflowId.',
    },
    RenewalBrief: schema(RenewalBriefSchema),
    EditDraftRequest: schema(EditDraftBodySchema),
    DecisionRequest: schema(DecisionBodySchema),
    LedgerReport: schema(LedgerReportSchema),
    MetricsReport: schema(MetricsReportSchema),
    Budget: schema(
      z.object({
        tenantId: z.string(),
        month: z.string(),
        limitUsd: z.number(),
        spentUsd: z.number(),
        reservedUsd: z.number(),
        availableUsd: z.number(),
      }),
    ),
    PutBudgetRequest: schema(PutBudgetBodySchema),
  };
  for (const workflow of WORKFLOWS.values()) schemas[`${workflow.id}:input`] = schema(workflow.inputSchema);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const response = RESPONSES[route.operation] ?? { status: '200', schema: 'OpenApiDocument' };
    const parameters: Record<string, unknown>[] = [
      ...[...route.path.matchAll(/\{([a-zA-Z]+)\}/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...queryParameters(route.operation),
    ];
    if (route.operation === 'startRun') {
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } });
    }
    if (route.operation === 'editDraft') {
      parameters.push({ name: 'If-Match', in: 'header', required: true, schema: { type: 'string' } });
    }
    const bodyRef = route.operation === 'startRun' ? 'renewal-brief:input' : REQUEST_BODIES[route.operation];
    const errors = Object.fromEntries(
      ['400', '401', '402', '403', '404', '406', '409', '412', '413', '415', '428', '429', '500'].map(
        (status) => [
          status,
          {
            description: 'Error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ],
      ),
    );
    paths[route.path] ??= {};
    const pathItem = paths[route.path];
    if (pathItem) {
      pathItem[route.method.toLowerCase()] = {
        operationId: route.operation,
        security: route.auth ? [{ bearer: [] }] : [],
        parameters,
        ...(bodyRef
          ? {
              requestBody: {
                required: route.operation !== 'approveDraft',
                content: { 'application/json': { schema: { $ref: `#/components/schemas/${bodyRef}` } } },
              },
            }
          : {}),
        responses: {
          [response.status]: {
            description: 'Success',
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${response.schema}` } },
              ...(route.operation === 'getLedger' ? { 'text/csv': { schema: { type: 'string' } } } : {}),
            },
          },
          ...errors,
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Rein API',
      version: '1.0.0',
      description: 'Bounded, observable, accountable AI workflows.',
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
}
