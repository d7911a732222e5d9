import { describe, expect, it } from 'vitest';
import { matchRoute, routeKey, ROUTES } from '#shared/http/routes.ts';

describe('matchRoute', () => {
  it('matches a concrete path and extracts its parameters', () => {
    const match = matchRoute('POST', '/v1/drafts/drf_01jd0000000000000000000000/approve');
    expect(match).toMatchObject({
      route: { method: 'POST', path: '/v1/drafts/{draftId}/approve', auth: true, operation: 'approveDraft' },
      pathParameters: { draftId: 'drf_01jd0000000000000000000000' },
    });
  });

  it('reports a method mismatch when the path exists under another method', () => {
    expect(matchRoute('DELETE', '/v1/drafts/drf_01jd0000000000000000000000')).toEqual({
      route: null,
      methodMismatch: true,
    });
  });

  it('reports no route for an unknown path', () => {
    expect(matchRoute('GET', '/v1/nothing')).toEqual({ route: null, methodMismatch: false });
  });

  it('never lets a parameter span path segments', () => {
    expect(matchRoute('GET', '/v1/runs/a/b')).toEqual({ route: null, methodMismatch: false });
  });

  it('matches literal dots in a route path literally', () => {
    // "/v1/openapi.json" must not also answer "/v1/openapiXjson".
    expect(matchRoute('GET', '/v1/openapiXjson')).toEqual({ route: null, methodMismatch: false });
  });

  it('has one route per method and path, each with its API Gateway route key', () => {
    const keys = ROUTES.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('GET /v1/runs/{runId}');
  });
});
