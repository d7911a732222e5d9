import { z } from 'zod';
import { RenewalBriefSchema } from '../domain/brief.ts';
import { DraftViewSchema } from '../domain/draft.ts';
import { RunViewSchema } from '../usecases/runs.ts';
import { PutActionTargetBodySchema, PutActionTargetResultSchema } from '../domain/action-targets.ts';
import { SpanSchema } from '../domain/trace.ts';
import { ApproveBodySchema, DecisionBodySchema, EditDraftBodySchema } from '../usecases/review.ts';
import { WORKFLOWS } from '../workflows/registry.ts';
import { LedgerReportSchema, PutBudgetBodySchema } from '../usecases/finance.ts';
import { MetricsReportSchema } from '../usecases/metrics.ts';
import {
  ConnectorSettingsSchema,
  ConnectorTestResultSchema,
  ConnectorViewSchema,
} from '../usecases/connectors.ts';
import { PUSH_MAX_RECORDS, PushResultSchema, SourceSummarySchema } from '../usecases/ingestion.ts';
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
  listSources: { status: '200', schema: 'SourceList' },
  pushRecords: { status: '200', schema: 'PushResult' },
  deleteRecord: { status: '204', schema: 'Empty' },
  putConnector: { status: '200', schema: 'Connector' },
  getConnector: { status: '200', schema: 'Connector' },
  testConnector: { status: '200', schema: 'ConnectorTestResult' },
  putActionTarget: { status: '200', schema: 'ActionTarget' },
};

const REQUEST_BODIES: Record<string, string> = {
  editDraft: 'EditDraftRequest',
  approveDraft: 'ApproveRequest',
  rejectDraft: 'DecisionRequest',
  escalateDraft: 'DecisionRequest',
  putBudget: 'PutBudgetRequest',
  pushRecords: 'PushRequest',
  putConnector: 'ConnectorSettings',
  testConnector: 'ConnectorTestRequest',
  putActionTarget: 'PutActionTargetRequest',
};

/** The OpenAPI 3.1 document, generated from the route list and the same zod schemas that validate requests. */
export function buildOpenApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: schema(ErrorBodySchema),
    Run: schema(RunViewSchema),
    Draft: schema(DraftViewSchema),
    DraftPage: schema(z.object({ items: z.array(DraftViewSchema), nextCursor: z.string().nullable() })),
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
    ApproveRequest: schema(ApproveBodySchema),
    ActionTarget: schema(PutActionTargetResultSchema),
    PutActionTargetRequest: schema(PutActionTargetBodySchema),
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
    SourceList: schema(z.object({ items: z.array(SourceSummarySchema) })),
    PushRequest: schema(
      z.object({
        records: z
          .array(
            z.object({
              accountId: z.string(),
              recordId: z.string(),
              updatedAt: z.iso.datetime({ offset: true }),
              data: z.record(z.string(), z.unknown()),
            }),
          )
          .min(1)
          .max(PUSH_MAX_RECORDS),
      }),
    ),
    PushResult: schema(PushResultSchema),
    Empty: { type: 'object', description: 'No body (204).' },
    ConnectorSettings: schema(ConnectorSettingsSchema),
    Connector: schema(ConnectorViewSchema),
    ConnectorTestRequest: schema(z.object({ accountId: z.string() })),
    ConnectorTestResult: schema(ConnectorTestResultSchema),
  };
  for (const workflow of WORKFLOWS.values()) schemas[`${workflow.id}:input`] = schema(workflow.inputSchema);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const response = RESPONSES[route.operation] ?? { status: '200', schema: 'OpenApiDocument' };
    const parameters = [...route.path.matchAll(/\{([a-zA-Z]+)\}/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
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
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${response.schema}` } } },
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
