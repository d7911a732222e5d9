/**
 * The API, one record per operation. The Lambda router (`api.ts`), the local HTTP server, the CDK
 * HTTP API routes and the OpenAPI document (`openapi.ts`) all read this list and nothing else, so
 * what is documented is what is served.
 *
 * ## Adding an operation = adding one record
 * ```ts
 * defineRoute({
 *   operation: 'listThings',            // operationId; camelCase, stable
 *   method: 'GET', path: '/v1/things/{thingId}',
 *   summary: 'One line', tag: 'runs',   // a key of TAGS in contract.ts
 *   access: ['manager', 'admin'],       // roles allowed at the door, or 'public' (no token)
 *   params: { path: z.object({ thingId: IdParam }), query: ThingQuerySchema, header: … },
 *   body: { schema: ThingBodySchema, required: true },          // omit for no body
 *   response: { status: 200, description: '…', schema: ThingSchema.meta({ id: 'Thing' }), headers: … },
 *   errors: [400, 401, 403, 404],       // only statuses the operation really returns; 500 is implied
 *   handler: async ({ deps, principal, path, query, body }) => ({ body: await useCase(…) }),
 * })
 * ```
 * The handler receives path, query, headers and body already parsed by the record's schemas (bad
 * input is a 400 with `details`, a malformed path id a 404) and the caller already checked
 * against `access`; it makes one use-case call. Record-level checks (ownership, tenant) stay in
 * the use case. Then: add the route to README's API table (a test compares them) and, when it has
 * a new error status, to the security matrix.
 */
import { z } from 'zod';
import { draftView } from '../domain/draft.ts';
import { PutActionTargetBodySchema, PutActionTargetResultSchema } from '../domain/action-targets.ts';
import { putActionTarget } from '../usecases/actions.ts';
import {
  ConnectorSettingsSchema,
  ConnectorTestRequestSchema,
  ConnectorTestResultSchema,
  ConnectorViewSchema,
  getConnector,
  putConnector,
  testConnector,
} from '../usecases/connectors.ts';
import {
  deleteRecord,
  listSources,
  PUSH_MAX_BYTES,
  PUSH_MAX_RECORDS,
  PushRequestSchema,
  PushResultSchema,
  pushRecords,
  SourceSummarySchema,
} from '../usecases/ingestion.ts';
import { NotAcceptableError, NotFoundError } from '../domain/errors.ts';
import type { Role } from '../domain/principal.ts';
import {
  getBudget,
  getLedgerReport,
  getTopRuns,
  TopRunsQuerySchema,
  getPrices,
  PriceListSchema,
  LedgerQuerySchema,
  putBudget,
  PutBudgetBodySchema,
  toCsv,
} from '../usecases/finance.ts';
import { getMetrics, MetricsQuerySchema } from '../usecases/metrics.ts';
import { promoteDraft } from '../usecases/promote.ts';
import {
  decideDraft,
  ApproveBodySchema,
  DecisionBodySchema,
  EditDraftBodySchema,
  editDraft,
  escalateDraft,
  getDraft,
  ListDraftsQuerySchema,
  listDrafts,
} from '../usecases/review.ts';
import { getRun, getRunTrace, listRuns, ListRunsQuerySchema, startRun } from '../usecases/runs.ts';
import {
  createWebhook,
  CreatedWebhookSchema,
  CreateWebhookBodySchema,
  deleteWebhook,
  listDeliveries,
  ListDeliveriesQuerySchema,
  listWebhooks,
  redeliver,
} from '../usecases/webhooks.ts';
import { DeliverySchema, WebhookSchema } from '../domain/webhooks.ts';
import { WORKFLOWS } from '../workflows/registry.ts';
import { definePublicRoute, defineRoute, type Route } from './contract.ts';
import { buildOpenApiDocument } from './openapi.ts';
import {
  BudgetSchema,
  DraftPageSchema,
  DraftResponseSchema,
  ETagHeaderSchema,
  HealthSchema,
  IdParam,
  LedgerCsvSchema,
  LedgerReportResponseSchema,
  TopRunsReportResponseSchema,
  MetricsReportResponseSchema,
  OpenApiDocumentSchema,
  PromotedCaseSchema,
  RunPageSchema,
  RunResponseSchema,
  StartRunBodySchema,
  TenantIdSchema,
  TraceSchema,
  WorkflowListSchema,
} from './schemas.ts';

const TENANT_USERS: readonly Role[] = ['csm', 'manager', 'admin'];
const REVIEWERS: readonly Role[] = ['csm', 'manager', 'admin'];
const EVERYONE: readonly Role[] = ['csm', 'manager', 'admin', 'finance', 'operator'];
/** The ingestion routes are the only ones a tenant's `integration` machine client may call. */
const INGESTION: readonly Role[] = ['integration', 'admin'];
const SourcePath = z.object({
  sourceId: z.string().meta({ description: 'The source id from the catalogue (`GET /v1/sources`).' }),
});
const ConnectorSchema = ConnectorViewSchema.meta({ id: 'Connector' });

const WEBHOOK_ADMINS: readonly Role[] = ['admin'];
const WebhookPath = z.object({ webhookId: IdParam.meta({ description: 'The webhook id (`whk_…`).' }) });
const DeliveryPath = WebhookPath.extend({
  deliveryId: IdParam.meta({ description: 'The delivery id (`dlv_…`).' }),
});
const WebhookResponseSchema = WebhookSchema.meta({ id: 'Webhook' });
const DeliveryResponseSchema = DeliverySchema.meta({ id: 'Delivery' });

const DraftPath = z.object({ draftId: IdParam.meta({ description: 'The draft id (`drf_…`).' }) });
const RunPath = z.object({ runId: IdParam.meta({ description: 'The run id (`run_…`).' }) });
const TenantPath = z.object({ tenantId: TenantIdSchema });
const PlatformTenantQuery = z
  .object({
    tenantId: TenantIdSchema.optional().meta({
      description: 'Operators and finance: the tenant to act on (default: the caller’s own).',
    }),
  })
  .strict();
const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .optional()
    .meta({
      description: 'The ETag of the version the decision is based on; stale → 412.',
      examples: ['"1"'],
    }),
});
const DraftHeaders = z.object({ etag: ETagHeaderSchema });

const DecisionRequestSchema = DecisionBodySchema.meta({ id: 'DecisionRequest' });
const ApproveRequestSchema = ApproveBodySchema.meta({ id: 'ApproveRequest' });
const DRAFT_EXAMPLE_REASON = { reason: 'Numbers checked with finance.' };

function etag(version: number): Record<string, string> {
  return { etag: `"${version}"` };
}

function decisionRoute(action: 'approve' | 'reject'): Route {
  const decision = action === 'approve' ? 'approved' : 'rejected';
  return defineRoute({
    operation: action === 'approve' ? 'approveDraft' : 'rejectDraft',
    method: 'POST',
    path: `/v1/drafts/{draftId}/${action}`,
    summary: action === 'approve' ? 'Approve a draft' : 'Reject a draft',
    description:
      'Decides the draft with one conditional write, then resumes the waiting run. `If-Match` makes the decision apply only to the version the reviewer read.',
    tag: 'review',
    access: REVIEWERS,
    params: { path: DraftPath, header: IfMatchHeaders },
    body:
      action === 'approve'
        ? {
            schema: ApproveRequestSchema,
            required: false,
            example: {
              ...DRAFT_EXAMPLE_REASON,
              actions: [{ actionId: 'act_01jd0000000000000000000000_0', decision: 'approve' }],
            },
          }
        : { schema: DecisionRequestSchema, required: false, example: DRAFT_EXAMPLE_REASON },
    response: {
      status: 200,
      description: `The ${decision} draft.`,
      schema: DraftResponseSchema,
      headers: DraftHeaders,
    },
    errors: [400, 401, 403, 404, 409, 412, 413, 415],
    handler: async ({ deps, principal, path, headers, body }) => {
      const draft = await decideDraft(deps, principal, path.draftId, decision, headers['if-match'], body);
      return { body: draftView(draft), headers: etag(draft.version) };
    },
  });
}

export const ROUTES: readonly Route[] = [
  definePublicRoute({
    operation: 'getHealth',
    method: 'GET',
    path: '/v1/health',
    summary: 'Health check',
    tag: 'system',
    response: { status: 200, description: 'The API is up.', schema: HealthSchema },
    errors: [],
    handler: ({ settings }) =>
      Promise.resolve({ body: { status: 'ok' as const, environment: settings.environment } }),
  }),
  definePublicRoute({
    operation: 'getOpenApi',
    method: 'GET',
    path: '/v1/openapi.json',
    summary: 'This API document',
    tag: 'system',
    response: { status: 200, description: 'The OpenAPI 3.1 document.', schema: OpenApiDocumentSchema },
    errors: [],
    handler: () => Promise.resolve({ body: openApiDocument() }),
  }),
  defineRoute({
    operation: 'listWorkflows',
    method: 'GET',
    path: '/v1/workflows',
    summary: 'List workflows',
    tag: 'runs',
    access: EVERYONE,
    response: { status: 200, description: 'The workflows this deployment runs.', schema: WorkflowListSchema },
    errors: [401, 403],
    handler: () =>
      Promise.resolve({
        body: {
          items: [...WORKFLOWS.values()].map((w) => ({
            workflowId: w.id,
            title: w.title,
            description: w.description,
          })),
        },
      }),
  }),
  defineRoute({
    operation: 'startRun',
    method: 'POST',
    path: '/v1/workflows/{workflowId}/runs',
    summary: 'Start a run',
    description:
      'Checks the caller may request this workflow for this record, reserves nothing yet and starts the run. The same `Idempotency-Key` with the same body returns the same run; with another body, 409.',
    tag: 'runs',
    access: TENANT_USERS,
    params: {
      path: z.object({
        workflowId: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
          .meta({ examples: ['renewal-brief'] }),
      }),
      header: z.object({
        'idempotency-key': z
          .string()
          .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters')
          .optional()
          .meta({ description: 'Replays within 24 h return the same run.' }),
      }),
    },
    body: { schema: StartRunBodySchema, required: true, example: { accountId: 'acct-northwind' } },
    response: {
      status: 202,
      description: 'The run was accepted; poll `Location`.',
      schema: RunResponseSchema,
      headers: z.object({
        location: z
          .string()
          .meta({ description: 'The run’s URL.', examples: ['/v1/runs/run_01jd0000000000000000000000'] }),
      }),
    },
    errors: [400, 401, 402, 403, 404, 409, 413, 415, 429],
    handler: async ({ deps, principal, path, headers, body }) => {
      if (!WORKFLOWS.has(path.workflowId)) throw new NotFoundError('Workflow');
      const run = await startRun(deps, {
        principal,
        workflowId: path.workflowId,
        body,
        idempotencyKey: headers['idempotency-key'],
      });
      // A run just started has no draft yet, so no actions to count.
      return { body: { ...run, actions: null }, headers: { location: `/v1/runs/${run.runId}` } };
    },
  }),
  defineRoute({
    operation: 'listRuns',
    method: 'GET',
    path: '/v1/runs',
    summary: 'List runs',
    description:
      'Newest first, over an index on creation time. A CSM sees the runs they requested; managers and admins the tenant’s; operators and finance a tenant’s with `tenantId` (finance without the input). Failed runs carry their error.',
    tag: 'runs',
    access: ['csm', 'manager', 'admin', 'operator', 'finance'],
    params: { query: ListRunsQuerySchema },
    response: { status: 200, description: 'A page of runs.', schema: RunPageSchema },
    errors: [400, 401, 403],
    handler: async ({ deps, principal, query }) => ({ body: await listRuns(deps, principal, query) }),
  }),
  defineRoute({
    operation: 'getRun',
    method: 'GET',
    path: '/v1/runs/{runId}',
    summary: 'Read a run',
    tag: 'runs',
    access: ['csm', 'manager', 'admin', 'operator'],
    params: { path: RunPath, query: PlatformTenantQuery },
    response: { status: 200, description: 'The run.', schema: RunResponseSchema },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, path, query }) => ({
      body: await getRun(deps, principal, path.runId, query.tenantId),
    }),
  }),
  defineRoute({
    operation: 'getRunTrace',
    method: 'GET',
    path: '/v1/runs/{runId}/trace',
    summary: 'Read a run’s trace',
    tag: 'runs',
    access: ['admin', 'operator'],
    params: { path: RunPath, query: PlatformTenantQuery },
    response: { status: 200, description: 'The spans of the run.', schema: TraceSchema },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, path, query }) => ({
      body: await getRunTrace(deps, principal, path.runId, query.tenantId),
    }),
  }),
  defineRoute({
    operation: 'listDrafts',
    method: 'GET',
    path: '/v1/drafts',
    summary: 'List drafts',
    description: 'A CSM sees own drafts; managers and admins all of the tenant’s. Newest first.',
    tag: 'review',
    access: REVIEWERS,
    params: { query: ListDraftsQuerySchema },
    response: {
      status: 200,
      description: 'A page of draft summaries (no content).',
      schema: DraftPageSchema,
    },
    errors: [400, 401, 403],
    handler: async ({ deps, principal, query }) => ({ body: await listDrafts(deps, principal, query) }),
  }),
  defineRoute({
    operation: 'getDraft',
    method: 'GET',
    path: '/v1/drafts/{draftId}',
    summary: 'Read a draft',
    tag: 'review',
    access: REVIEWERS,
    params: { path: DraftPath },
    response: {
      status: 200,
      description: 'The draft with content, evidence, version and status.',
      schema: DraftResponseSchema,
      headers: DraftHeaders,
    },
    errors: [401, 403, 404],
    handler: async ({ deps, principal, path }) => {
      const draft = await getDraft(deps, principal, path.draftId);
      return { body: draftView(draft), headers: etag(draft.version) };
    },
  }),
  defineRoute({
    operation: 'editDraft',
    method: 'PATCH',
    path: '/v1/drafts/{draftId}',
    summary: 'Edit a draft',
    description:
      'With `application/json` the body’s `content` replaces the draft’s; with `application/merge-patch+json` (RFC 7396) it is merged into it (`null` removes a field). The result must match the workflow’s output schema and rules.',
    tag: 'review',
    access: REVIEWERS,
    params: {
      path: DraftPath,
      header: z.object({
        'if-match': z
          .string()
          .optional()
          .meta({
            description: 'Required: the ETag of the version being edited; stale → 412, missing → 428.',
            examples: ['"1"'],
          }),
      }),
    },
    body: {
      schema: EditDraftBodySchema.meta({ id: 'EditDraftRequest' }),
      mediaTypes: ['application/json', 'application/merge-patch+json'],
      required: true,
      example: { content: { summary: 'Renewal at risk: usage down 30% since March.' } },
    },
    response: {
      status: 200,
      description: 'The new version.',
      schema: DraftResponseSchema,
      headers: DraftHeaders,
    },
    errors: [400, 401, 403, 404, 409, 412, 413, 415, 428],
    handler: async ({ deps, principal, path, headers, body, contentType }) => {
      const draft = await editDraft(deps, principal, path.draftId, headers['if-match'], body, {
        mergePatch: contentType === 'application/merge-patch+json',
      });
      return { body: draftView(draft), headers: etag(draft.version) };
    },
  }),
  decisionRoute('approve'),
  decisionRoute('reject'),
  defineRoute({
    operation: 'escalateDraft',
    method: 'POST',
    path: '/v1/drafts/{draftId}/escalate',
    summary: 'Escalate a draft',
    description: 'Hands the draft to managers and admins; the run keeps waiting.',
    tag: 'review',
    access: REVIEWERS,
    params: { path: DraftPath, header: IfMatchHeaders },
    body: { schema: DecisionRequestSchema, required: false, example: DRAFT_EXAMPLE_REASON },
    response: {
      status: 200,
      description: 'The escalated draft.',
      schema: DraftResponseSchema,
      headers: DraftHeaders,
    },
    errors: [400, 401, 403, 404, 409, 412, 413, 415],
    handler: async ({ deps, principal, path, headers, body }) => {
      const draft = await escalateDraft(deps, principal, path.draftId, headers['if-match'], body);
      return { body: draftView(draft), headers: etag(draft.version) };
    },
  }),
  defineRoute({
    operation: 'promoteDraft',
    method: 'POST',
    path: '/v1/drafts/{draftId}/promote',
    summary: 'Turn a decided draft into an eval case',
    tag: 'review',
    access: ['admin'],
    params: { path: DraftPath },
    response: { status: 200, description: 'The eval case.', schema: PromotedCaseSchema },
    errors: [400, 401, 403, 404, 409, 415],
    handler: async ({ deps, principal, path }) => ({
      body: await promoteDraft(deps, principal, path.draftId),
    }),
  }),
  defineRoute({
    operation: 'getLedger',
    method: 'GET',
    path: '/v1/ledger',
    summary: 'Cost report',
    description:
      'Finance and operators see every tenant (or one with `tenantId`); an admin only their own. JSON, or CSV with `format=csv` or `Accept: text/csv`.',
    tag: 'finance',
    access: ['finance', 'operator', 'admin'],
    params: {
      query: LedgerQuerySchema,
      header: z.object({
        accept: z
          .string()
          .optional()
          .meta({ examples: ['text/csv'] }),
      }),
    },
    response: {
      status: 200,
      description: 'The cost report.',
      schema: LedgerReportResponseSchema,
      alternative: { mediaType: 'text/csv', schema: LedgerCsvSchema },
    },
    errors: [400, 401, 403, 404, 406],
    handler: async ({ deps, principal, query, headers }) => {
      const accept = headers.accept ?? 'application/json';
      const wantsCsv =
        query.format === 'csv' || (query.format === undefined && /\btext\/csv\b/i.test(accept));
      if (query.format === undefined && !wantsCsv && !/application\/json|\*\/\*|^\s*$/i.test(accept)) {
        throw new NotAcceptableError('The ledger is served as application/json or text/csv.');
      }
      const report = await getLedgerReport(deps, principal, query);
      if (!wantsCsv) return { body: report };
      return {
        text: toCsv(report),
        contentType: 'text/csv; charset=utf-8',
        headers: {
          'content-disposition': `attachment; filename="rein-ledger-${report.from}-${report.to}.csv"`,
        },
      };
    },
  }),
  defineRoute({
    operation: 'getTopRuns',
    method: 'GET',
    path: '/v1/ledger/top-runs',
    summary: 'Most expensive runs',
    description:
      'The most expensive runs created in a period (default: the current month), most expensive first: cost fields only, never input or content. Finance and operators see every tenant (or one with `tenantId`); an admin only their own.',
    tag: 'finance',
    access: ['finance', 'operator', 'admin'],
    params: { query: TopRunsQuerySchema },
    response: {
      status: 200,
      description: 'The most expensive runs.',
      schema: TopRunsReportResponseSchema,
    },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, query }) => ({ body: await getTopRuns(deps, principal, query) }),
  }),
  defineRoute({
    operation: 'getPrices',
    method: 'GET',
    path: '/v1/prices',
    summary: 'Model prices in force',
    description:
      'The price table the ledger charges with: each model’s row in force now, and the table’s version.',
    tag: 'finance',
    access: EVERYONE,
    response: {
      status: 200,
      description: 'The prices in force.',
      schema: PriceListSchema.meta({ id: 'PriceList' }),
    },
    errors: [401, 403],
    handler: ({ deps }) => Promise.resolve({ body: getPrices(deps) }),
  }),
  defineRoute({
    operation: 'getMetrics',
    method: 'GET',
    path: '/v1/metrics',
    summary: 'Review metrics',
    tag: 'metrics',
    access: ['manager', 'admin', 'operator'],
    params: { query: MetricsQuerySchema },
    response: {
      status: 200,
      description: 'Review outcomes per workflow and prompt version.',
      schema: MetricsReportResponseSchema,
    },
    errors: [400, 401, 403],
    handler: async ({ deps, principal, query }) => ({ body: await getMetrics(deps, principal, query) }),
  }),
  defineRoute({
    operation: 'getBudget',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/budget',
    summary: 'Read a tenant’s monthly budget',
    tag: 'finance',
    access: ['finance', 'operator', 'admin'],
    params: {
      path: TenantPath,
      query: z
        .object({
          month: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
            .optional()
            .meta({ description: 'Default: the current month.', examples: ['2026-11'] }),
        })
        .strict(),
    },
    response: { status: 200, description: 'The budget with spent and reserved.', schema: BudgetSchema },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, path, query }) => ({
      body: await getBudget(deps, principal, path.tenantId, query),
    }),
  }),
  defineRoute({
    operation: 'putBudget',
    method: 'PUT',
    path: '/v1/tenants/{tenantId}/budget',
    summary: 'Set a tenant’s monthly budget',
    tag: 'finance',
    access: ['operator'],
    params: { path: TenantPath },
    body: {
      schema: PutBudgetBodySchema.meta({ id: 'PutBudgetRequest' }),
      required: true,
      example: { limitUsd: 250, alertThresholdsPercent: [50, 80, 100] },
    },
    response: { status: 200, description: 'The new budget.', schema: BudgetSchema },
    errors: [400, 401, 403, 404, 413, 415],
    handler: async ({ deps, principal, path, body }) => ({
      body: await putBudget(deps, principal, path.tenantId, body),
    }),
  }),
  defineRoute({
    operation: 'listSources',
    method: 'GET',
    path: '/v1/sources',
    summary: 'List the source catalogue with the tenant’s record counts',
    description:
      'Each source with the JSON Schema its records must match, and how many records the caller’s tenant holds.',
    tag: 'sources',
    access: INGESTION,
    response: {
      status: 200,
      description: 'The catalogue.',
      schema: z.object({ items: z.array(SourceSummarySchema) }).meta({ id: 'SourceList' }),
    },
    errors: [400, 401, 403],
    handler: async ({ deps, principal }) => ({ body: await listSources(deps, principal) }),
  }),
  defineRoute({
    operation: 'pushRecords',
    method: 'PUT',
    path: '/v1/sources/{sourceId}/records',
    summary: 'Push records of one source',
    description: `Up to ${PUSH_MAX_RECORDS} records (${PUSH_MAX_BYTES / 1024} KiB) per push. Each record is checked against the source’s schema and upserted on its own (newest \`updatedAt\` wins); per-record problems are in \`results\`. Ids that are not ids refuse the whole batch.`,
    tag: 'sources',
    access: INGESTION,
    params: { path: SourcePath },
    body: {
      schema: PushRequestSchema.meta({ id: 'PushRequest' }),
      required: true,
      maxBytes: PUSH_MAX_BYTES,
      example: {
        records: [
          {
            accountId: 'acct-northwind',
            recordId: 'note-1',
            updatedAt: '2026-11-01T09:00:00Z',
            data: { body: 'Asked about the renewal date.' },
          },
        ],
      },
    },
    response: {
      status: 200,
      description: 'What happened to each record, in request order.',
      schema: PushResultSchema.meta({ id: 'PushResult' }),
    },
    errors: [400, 401, 403, 404, 413, 415],
    handler: async ({ deps, principal, path, body }) => ({
      body: await pushRecords(deps, principal, path.sourceId, body),
    }),
  }),
  defineRoute({
    operation: 'deleteRecord',
    method: 'DELETE',
    path: '/v1/sources/{sourceId}/records/{accountId}/{recordId}',
    summary: 'Delete one pushed record',
    tag: 'sources',
    access: INGESTION,
    params: {
      path: SourcePath.extend({
        accountId: z.string().meta({ description: 'The account id, URL-encoded.' }),
        recordId: z.string().meta({ description: 'The record id, URL-encoded.' }),
      }),
    },
    response: { status: 204, description: 'The record is deleted.', schema: z.undefined() },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, path }) => {
      await deleteRecord(deps, principal, path);
      return { body: undefined };
    },
  }),
  defineRoute({
    operation: 'putConnector',
    method: 'PUT',
    path: '/v1/connectors/{sourceId}',
    summary: 'Configure the tenant’s pull connector for a source',
    description:
      'The URL must pass the outbound policy. A bearer secret goes to the secrets store and is never answered.',
    tag: 'connectors',
    access: ['admin'],
    params: { path: SourcePath },
    body: {
      schema: ConnectorSettingsSchema.meta({ id: 'ConnectorSettings' }),
      required: true,
      example: {
        kind: 'http',
        url: 'https://crm.example.com/rein/accounts/{accountId}/notes',
        auth: { type: 'bearer', secret: 'crm-token' },
      },
    },
    response: {
      status: 200,
      description: 'The connector, without its secret.',
      schema: ConnectorSchema,
    },
    errors: [400, 401, 403, 404, 413, 415],
    handler: async ({ deps, principal, path, body }) => ({
      body: await putConnector(deps, principal, path.sourceId, body),
    }),
  }),
  defineRoute({
    operation: 'getConnector',
    method: 'GET',
    path: '/v1/connectors/{sourceId}',
    summary: 'Read the tenant’s pull connector for a source',
    tag: 'connectors',
    access: ['admin'],
    params: { path: SourcePath },
    response: { status: 200, description: 'The connector, without its secret.', schema: ConnectorSchema },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, path }) => ({
      body: await getConnector(deps, principal, path.sourceId),
    }),
  }),
  defineRoute({
    operation: 'testConnector',
    method: 'POST',
    path: '/v1/connectors/{sourceId}/test',
    summary: 'Test the pull connector for one account',
    description:
      'What the context layer would get for that account: the field names, or the data gap and why. No secret, no values.',
    tag: 'connectors',
    access: ['admin'],
    params: { path: SourcePath },
    body: {
      schema: ConnectorTestRequestSchema.meta({ id: 'ConnectorTestRequest' }),
      required: true,
      example: { accountId: 'acct-northwind' },
    },
    response: {
      status: 200,
      description: 'The outcome of one pull.',
      schema: ConnectorTestResultSchema.meta({ id: 'ConnectorTestResult' }),
    },
    errors: [400, 401, 403, 404, 413, 415],
    handler: async ({ deps, principal, path, body }) => ({
      body: await testConnector(deps, principal, path.sourceId, body),
    }),
  }),
  defineRoute({
    operation: 'putActionTarget',
    method: 'PUT',
    path: '/v1/action-targets/{targetId}',
    summary: 'Create or replace an action target',
    description:
      'Where the tenant’s approved actions of this target are sent (`POST {url}`, Standard Webhooks signature, `Idempotency-Key: {actionId}`). The URL must pass the outbound policy. The signing secret is in the 201 answer that creates the target, and never again.',
    tag: 'actions',
    access: ['admin'],
    params: {
      path: z.object({
        targetId: z
          .string()
          .meta({ description: 'The target id: 2 to 32 lower-case letters, digits or dashes.' }),
      }),
    },
    body: {
      schema: PutActionTargetBodySchema.meta({ id: 'PutActionTargetRequest' }),
      required: true,
      example: { url: 'https://crm.example.com/rein/actions', description: 'Our CRM' },
    },
    response: {
      status: 200,
      description: 'The target, replaced (no signing secret).',
      created: 'The target, created, with its signing secret (shown once).',
      schema: PutActionTargetResultSchema.meta({ id: 'ActionTarget' }),
    },
    errors: [400, 401, 403, 413, 415],
    handler: async ({ deps, principal, path, body }) => {
      const { created, target } = await putActionTarget(deps, principal, path.targetId, body);
      // The signing secret is in this one answer at most: never cache it anywhere on the way.
      return { body: target, created, headers: { 'cache-control': 'no-store' } };
    },
  }),
  defineRoute({
    operation: 'createWebhook',
    method: 'POST',
    path: '/v1/webhooks',
    summary: 'Subscribe a URL to events',
    description:
      'Creates a webhook: Rein POSTs each event of the listed types to the URL, signed with Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and retries failures with backoff for 24 h. The URL must pass the outbound policy. The signing secret is in this answer and never again.',
    tag: 'events',
    access: WEBHOOK_ADMINS,
    body: {
      schema: CreateWebhookBodySchema.meta({ id: 'CreateWebhookRequest' }),
      required: true,
      example: { url: 'https://hooks.example.com/rein', events: ['draft.decided', 'run.failed'] },
    },
    response: {
      status: 201,
      description: 'The webhook, with its signing secret (shown once).',
      schema: CreatedWebhookSchema.meta({ id: 'CreatedWebhook' }),
      headers: z.object({ location: z.string().meta({ description: 'The webhook’s path.' }) }),
    },
    errors: [400, 401, 403, 409, 413, 415],
    handler: async ({ deps, principal, body }) => {
      const created = await createWebhook(deps, principal, body);
      // The signing secret is in this one answer: never cache it anywhere on the way.
      return {
        body: created,
        headers: { location: `/v1/webhooks/${created.webhookId}`, 'cache-control': 'no-store' },
      };
    },
  }),
  defineRoute({
    operation: 'listWebhooks',
    method: 'GET',
    path: '/v1/webhooks',
    summary: 'List the tenant’s webhooks',
    tag: 'events',
    access: WEBHOOK_ADMINS,
    response: {
      status: 200,
      description: 'Every webhook of the tenant, oldest first (no secrets).',
      schema: z.object({ items: z.array(WebhookResponseSchema) }).meta({ id: 'WebhookList' }),
    },
    errors: [401, 403],
    handler: async ({ deps, principal }) => ({ body: await listWebhooks(deps, principal) }),
  }),
  defineRoute({
    operation: 'deleteWebhook',
    method: 'DELETE',
    path: '/v1/webhooks/{webhookId}',
    summary: 'Delete a webhook',
    tag: 'events',
    access: WEBHOOK_ADMINS,
    params: { path: WebhookPath },
    response: { status: 204, description: 'The webhook is deleted.', schema: z.undefined() },
    errors: [401, 403, 404],
    handler: async ({ deps, principal, path }) => {
      await deleteWebhook(deps, principal, path.webhookId);
      return { body: undefined };
    },
  }),
  defineRoute({
    operation: 'listWebhookDeliveries',
    method: 'GET',
    path: '/v1/webhooks/{webhookId}/deliveries',
    summary: 'A webhook’s delivery log',
    description: 'Status, attempts, last response code and next retry of each delivery, newest first.',
    tag: 'events',
    access: WEBHOOK_ADMINS,
    params: { path: WebhookPath, query: ListDeliveriesQuerySchema },
    response: {
      status: 200,
      description: 'The deliveries, newest first.',
      schema: z.object({ items: z.array(DeliveryResponseSchema) }).meta({ id: 'DeliveryList' }),
    },
    errors: [400, 401, 403, 404],
    handler: async ({ deps, principal, path, query }) => ({
      body: await listDeliveries(deps, principal, path.webhookId, { limit: String(query.limit) }),
    }),
  }),
  defineRoute({
    operation: 'redeliverWebhook',
    method: 'POST',
    path: '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
    summary: 'Redeliver a delivery',
    description: 'Makes the delivery pending again at once, with a new 24 h retry window.',
    tag: 'events',
    access: WEBHOOK_ADMINS,
    params: { path: DeliveryPath },
    response: { status: 202, description: 'The delivery, pending again.', schema: DeliveryResponseSchema },
    errors: [401, 403, 404, 409],
    handler: async ({ deps, principal, path }) => ({
      body: await redeliver(deps, principal, path.webhookId, path.deliveryId),
    }),
  }),
];

let cachedDocument: Record<string, unknown> | null = null;
/** The document is built once per process, from this very list. */
function openApiDocument(): Record<string, unknown> {
  cachedDocument ??= buildOpenApiDocument(ROUTES);
  return cachedDocument;
}

/** The HTTP API route key (`"GET /v1/runs/{runId}"`), as API Gateway puts it in `event.routeKey`. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** Matches a concrete path against the route list; used by the local server, like API Gateway does. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; pathParameters: Record<string, string> } | { route: null; methodMismatch: boolean } {
  let methodMismatch = false;
  for (const route of ROUTES) {
    const names: string[] = [];
    const literal = route.path
      .split(/\{[a-zA-Z]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    for (const match of route.path.matchAll(/\{([a-zA-Z]+)\}/g)) names.push(match[1] ?? '');
    const pattern = new RegExp(`^${literal.join('([^/]+)')}$`);
    const match = pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      methodMismatch = true;
      continue;
    }
    const pathParameters: Record<string, string> = {};
    names.forEach((name, index) => {
      pathParameters[name] = match[index + 1] ?? '';
    });
    return { route, pathParameters };
  }
  return { route: null, methodMismatch };
}
