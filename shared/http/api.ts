import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  MethodNotAllowedError,
  NotAcceptableError,
  NotFoundError,
  ValidationError,
} from '../domain/errors.ts';
import { getBudget, getLedgerReport, putBudget, toCsv } from '../usecases/finance.ts';
import { getMetrics } from '../usecases/metrics.ts';
import { getConnector, putConnector, testConnector } from '../usecases/connectors.ts';
import { deleteRecord, listSources, PUSH_MAX_BYTES, pushRecords } from '../usecases/ingestion.ts';
import { putActionTarget } from '../usecases/actions.ts';
import { draftView } from '../domain/draft.ts';
import { promoteDraft } from '../usecases/promote.ts';
import { ID_PATTERN } from '../domain/ids.ts';
import { requireRole, ROUTE_ROLES } from '../domain/permissions.ts';
import type { Principal } from '../domain/principal.ts';
import type { Deps } from '../usecases/deps.ts';
import { decideDraft, editDraft, escalateDraft, getDraft, listDrafts } from '../usecases/review.ts';
import { getRun, getRunTrace, startRun } from '../usecases/runs.ts';
import { WORKFLOWS } from '../workflows/registry.ts';
import { getHeader, jsonResponse, parseRequestBody, SECURITY_HEADERS } from './middleware.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { principalFromClaims } from './principal.ts';
import { ROUTES, routeKey, type Operation } from './routes.ts';

export interface ApiSettings {
  environment: string;
  tenantClaim: string;
  rolesClaim: string;
}

const MAX_IDEMPOTENCY_KEY = 128;
const ROUTE_BY_KEY = new Map(ROUTES.map((route) => [routeKey(route), route]));

function pathId(event: APIGatewayProxyEventV2, name: string, resource: string): string {
  const value = event.pathParameters?.[name];
  // Ids that are not ours cannot exist: answer exactly like a missing resource.
  if (value === undefined || !ID_PATTERN.test(value)) throw new NotFoundError(resource);
  return value;
}

function tenantQuery(event: APIGatewayProxyEventV2): string | undefined {
  return event.queryStringParameters?.['tenantId'];
}

function claimsOf(event: APIGatewayProxyEventV2): Record<string, unknown> | undefined {
  const context = event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
  return context.authorizer?.jwt?.claims;
}

function etag(version: number): Record<string, string> {
  return { etag: `"${version}"` };
}

/**
 * Routes an HTTP API v2 event to one use case. Parsing and error mapping are shared; each branch
 * is a single use-case call.
 */
export function createApiRouter(deps: Deps, settings: ApiSettings) {
  const openApi = buildOpenApiDocument();

  return async function route(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const route = ROUTE_BY_KEY.get(event.routeKey);
    if (!route) {
      if (event.routeKey === '$default') throw new NotFoundError('Route');
      throw new MethodNotAllowedError();
    }
    const operation: Operation = route.operation;
    if (operation === 'getHealth')
      return jsonResponse(200, { status: 'ok', environment: settings.environment });
    if (operation === 'getOpenApi') return jsonResponse(200, openApi);

    const principal: Principal = principalFromClaims(claimsOf(event), settings);
    // Pushes of source records may be larger than any other request.
    const body = parseRequestBody(event, operation === 'pushRecords' ? PUSH_MAX_BYTES : undefined);
    const ifMatch = getHeader(event, 'if-match');

    switch (operation) {
      case 'listWorkflows': {
        requireRole(principal, ROUTE_ROLES.listWorkflows);
        const items = [...WORKFLOWS.values()].map((w) => ({
          workflowId: w.id,
          title: w.title,
          description: w.description,
        }));
        return jsonResponse(200, { items });
      }
      case 'startRun': {
        const idempotencyKey = getHeader(event, 'idempotency-key');
        if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,128}$/.test(idempotencyKey)) {
          throw new ValidationError(
            `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters.`,
          );
        }
        const workflowId = event.pathParameters?.['workflowId'] ?? '';
        if (!WORKFLOWS.has(workflowId)) throw new NotFoundError('Workflow');
        const run = await startRun(deps, { principal, workflowId, body, idempotencyKey });
        return jsonResponse(202, run, { location: `/v1/runs/${run.runId}` });
      }
      case 'getRun':
        return jsonResponse(
          200,
          await getRun(deps, principal, pathId(event, 'runId', 'Run'), tenantQuery(event)),
        );
      case 'getRunTrace':
        return jsonResponse(
          200,
          await getRunTrace(deps, principal, pathId(event, 'runId', 'Run'), tenantQuery(event)),
        );
      case 'listDrafts': {
        const page = await listDrafts(deps, principal, event.queryStringParameters ?? {});
        return jsonResponse(200, { ...page, items: page.items.map(draftView) });
      }
      case 'getDraft': {
        const draft = await getDraft(deps, principal, pathId(event, 'draftId', 'Draft'));
        return jsonResponse(200, draftView(draft), etag(draft.version));
      }
      case 'editDraft': {
        const draft = await editDraft(deps, principal, pathId(event, 'draftId', 'Draft'), ifMatch, body);
        return jsonResponse(200, draftView(draft), etag(draft.version));
      }
      case 'approveDraft':
      case 'rejectDraft': {
        const decision = operation === 'approveDraft' ? 'approved' : 'rejected';
        const draft = await decideDraft(
          deps,
          principal,
          pathId(event, 'draftId', 'Draft'),
          decision,
          ifMatch,
          body,
        );
        return jsonResponse(200, draftView(draft), etag(draft.version));
      }
      case 'escalateDraft': {
        const draft = await escalateDraft(deps, principal, pathId(event, 'draftId', 'Draft'), ifMatch, body);
        return jsonResponse(200, draftView(draft), etag(draft.version));
      }
      case 'getLedger': {
        const accept = getHeader(event, 'accept') ?? 'application/json';
        const wantsCsv = /\btext\/csv\b/i.test(accept);
        if (!wantsCsv && !/application\/json|\*\/\*|^\s*$/i.test(accept)) {
          throw new NotAcceptableError('The ledger is served as application/json or text/csv.');
        }
        const report = await getLedgerReport(deps, principal, event.queryStringParameters ?? {});
        if (!wantsCsv) return jsonResponse(200, report);
        return {
          statusCode: 200,
          headers: {
            ...SECURITY_HEADERS,
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="rein-ledger-${report.from}-${report.to}.csv"`,
          },
          body: toCsv(report),
        };
      }
      case 'promoteDraft':
        if (
          body !== undefined &&
          (typeof body !== 'object' || body === null || Object.keys(body).length > 0)
        ) {
          throw new ValidationError('This route takes no request body.');
        }
        return jsonResponse(200, await promoteDraft(deps, principal, pathId(event, 'draftId', 'Draft')));
      case 'getMetrics':
        return jsonResponse(200, await getMetrics(deps, principal, event.queryStringParameters ?? {}));
      case 'getBudget':
        return jsonResponse(
          200,
          await getBudget(
            deps,
            principal,
            event.pathParameters?.['tenantId'],
            event.queryStringParameters ?? {},
          ),
        );
      case 'putBudget':
        return jsonResponse(200, await putBudget(deps, principal, event.pathParameters?.['tenantId'], body));
      case 'listSources':
        return jsonResponse(200, await listSources(deps, principal));
      case 'pushRecords':
        return jsonResponse(
          200,
          await pushRecords(deps, principal, event.pathParameters?.['sourceId'], body),
        );
      case 'deleteRecord':
        await deleteRecord(deps, principal, {
          sourceId: event.pathParameters?.['sourceId'],
          accountId: event.pathParameters?.['accountId'],
          recordId: event.pathParameters?.['recordId'],
        });
        return { statusCode: 204, headers: { ...SECURITY_HEADERS } };
      case 'putConnector':
        return jsonResponse(
          200,
          await putConnector(deps, principal, event.pathParameters?.['sourceId'], body),
        );
      case 'getConnector':
        return jsonResponse(200, await getConnector(deps, principal, event.pathParameters?.['sourceId']));
      case 'testConnector':
        return jsonResponse(
          200,
          await testConnector(deps, principal, event.pathParameters?.['sourceId'], body),
        );
      case 'putActionTarget': {
        const { created, target } = await putActionTarget(
          deps,
          principal,
          event.pathParameters?.['targetId'],
          body,
        );
        // The signing secret is in this one answer at most: never cache it anywhere on the way.
        return jsonResponse(created ? 201 : 200, target, { 'cache-control': 'no-store' });
      }
    }
  };
}
