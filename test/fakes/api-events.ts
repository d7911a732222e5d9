import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { Principal } from '#shared/domain/principal.ts';

export const TENANT_CLAIM = 'custom:tenant';
export const ROLES_CLAIM = 'custom:roles';

export type Claims = Record<string, string | number | boolean | string[]>;

/** The claims API Gateway's JWT authorizer passes for a principal (roles flattened to "[a b]"). */
export function claimsFor(principal: Principal): Claims {
  return {
    sub: principal.sub,
    [TENANT_CLAIM]: principal.tenantId,
    [ROLES_CLAIM]: `[${principal.roles.join(' ')}]`,
  };
}

/**
 * A hand-built HTTP API v2 event. `json` is serialized with a JSON content type; `claims` puts
 * an authorizer context on the request as the JWT authorizer would.
 */
export function apiEvent(options: {
  routeKey: string;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  headers?: Record<string, string>;
  json?: unknown;
  claims?: Claims;
}): APIGatewayProxyEventV2 {
  const [method = 'GET', template = '/'] = options.routeKey.split(' ');
  const rawPath = template.replace(
    /\{([a-zA-Z]+)\}/g,
    (_m, name: string) => options.pathParameters?.[name] ?? '',
  );
  const headers: Record<string, string> = {
    ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  const requestContext = {
    accountId: '123456789012',
    apiId: 'api',
    domainName: 'api.example.com',
    domainPrefix: 'api',
    http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'vitest' },
    requestId: 'req-test',
    routeKey: options.routeKey,
    stage: '$default',
    time: '01/Oct/2026:09:00:00 +0000',
    timeEpoch: Date.parse('2026-10-01T09:00:00Z'),
  };
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: options.routeKey,
    rawPath,
    rawQueryString: new URLSearchParams(options.queryStringParameters ?? {}).toString(),
    headers,
    requestContext,
    isBase64Encoded: false,
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.queryStringParameters ? { queryStringParameters: options.queryStringParameters } : {}),
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
  };
  if (!options.claims) return event;
  const withAuthorizer: APIGatewayProxyEventV2WithJWTAuthorizer = {
    ...event,
    requestContext: {
      ...requestContext,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: options.claims, scopes: null } },
    },
  };
  return withAuthorizer;
}
