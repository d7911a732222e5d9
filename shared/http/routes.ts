/**
 * The API's routes, in one list that the CDK HTTP API, the API Lambda's router and the local
 * HTTP server all read. `auth: false` routes are served without the JWT authorizer.
 */
export const ROUTES = [
  { method: 'GET', path: '/v1/health', auth: false, operation: 'getHealth' },
  { method: 'GET', path: '/v1/openapi.json', auth: false, operation: 'getOpenApi' },
  { method: 'GET', path: '/v1/workflows', auth: true, operation: 'listWorkflows' },
  { method: 'POST', path: '/v1/workflows/{workflowId}/runs', auth: true, operation: 'startRun' },
  { method: 'GET', path: '/v1/runs/{runId}', auth: true, operation: 'getRun' },
  { method: 'GET', path: '/v1/runs/{runId}/trace', auth: true, operation: 'getRunTrace' },
  { method: 'GET', path: '/v1/drafts', auth: true, operation: 'listDrafts' },
  { method: 'GET', path: '/v1/drafts/{draftId}', auth: true, operation: 'getDraft' },
  { method: 'PATCH', path: '/v1/drafts/{draftId}', auth: true, operation: 'editDraft' },
  { method: 'POST', path: '/v1/drafts/{draftId}/approve', auth: true, operation: 'approveDraft' },
  { method: 'POST', path: '/v1/drafts/{draftId}/reject', auth: true, operation: 'rejectDraft' },
  { method: 'POST', path: '/v1/drafts/{draftId}/escalate', auth: true, operation: 'escalateDraft' },
  { method: 'POST', path: '/v1/drafts/{draftId}/promote', auth: true, operation: 'promoteDraft' },
  { method: 'GET', path: '/v1/ledger', auth: true, operation: 'getLedger' },
  { method: 'GET', path: '/v1/metrics', auth: true, operation: 'getMetrics' },
  { method: 'GET', path: '/v1/tenants/{tenantId}/budget', auth: true, operation: 'getBudget' },
  { method: 'PUT', path: '/v1/tenants/{tenantId}/budget', auth: true, operation: 'putBudget' },
  { method: 'GET', path: '/v1/sources', auth: true, operation: 'listSources' },
  { method: 'PUT', path: '/v1/sources/{sourceId}/records', auth: true, operation: 'pushRecords' },
  {
    method: 'DELETE',
    path: '/v1/sources/{sourceId}/records/{accountId}/{recordId}',
    auth: true,
    operation: 'deleteRecord',
  },
  { method: 'PUT', path: '/v1/connectors/{sourceId}', auth: true, operation: 'putConnector' },
  { method: 'GET', path: '/v1/connectors/{sourceId}', auth: true, operation: 'getConnector' },
  { method: 'POST', path: '/v1/connectors/{sourceId}/test', auth: true, operation: 'testConnector' },
  { method: 'PUT', path: '/v1/action-targets/{targetId}', auth: true, operation: 'putActionTarget' },
] as const;

export type Route = (typeof ROUTES)[number];
export type Operation = Route['operation'];

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
