import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../domain/errors.ts';
import type { Deps } from '../usecases/deps.ts';
import type { ApiSettings, Route } from './contract.ts';
import { principalFromClaims } from './principal.ts';
import { ROUTES, routeKey } from './routes.ts';

export type { ApiSettings } from './contract.ts';

const ROUTE_BY_KEY: ReadonlyMap<string, Route> = new Map(ROUTES.map((route) => [routeKey(route), route]));

function claimsOf(event: APIGatewayProxyEventV2): Record<string, unknown> | undefined {
  const context = event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
  return context.authorizer?.jwt?.claims;
}

/**
 * Routes an HTTP API v2 event to its route record. The record parses the request, checks roles
 * at the door and makes one use-case call; errors become HTTP in the middleware.
 */
export function createApiRouter(deps: Deps, settings: ApiSettings) {
  return async function route(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const route = ROUTE_BY_KEY.get(event.routeKey);
    if (!route) {
      if (event.routeKey === '$default') throw new NotFoundError('Route');
      throw new MethodNotAllowedError();
    }
    const principal = route.auth ? principalFromClaims(claimsOf(event), settings) : null;
    return route.invoke({ event, principal, deps, settings });
  };
}
