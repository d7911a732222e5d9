import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { machineClientBindings, parseEnv, required } from '#shared/config.ts';
import { createApiRouter } from '#shared/http/api.ts';
import { httpErrors } from '#shared/http/middleware.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { createLogger } from '../commons/logger.ts';
import { lambdaDeps, type SdkAdapters } from '../commons/deps.ts';
import { connectorSecrets } from '../commons/connector-secrets.ts';
import { stepFunctions } from '../commons/step-functions.ts';
import { signingSecrets } from '../commons/signing-secrets.ts';

const logger = createLogger('rein-api');

/** Layer 1: the HTTP API. Middleware maps errors; the router calls one use case per route. */
export function createHandler(deps: () => Deps, env = () => parseEnv()) {
  let router: ReturnType<typeof createApiRouter> | null = null;
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrors(logger))
    .handler(async (event) => {
      if (!router) {
        const config = env();
        logger.setLogLevel(config.LOG_LEVEL ?? 'INFO');
        router = createApiRouter(deps(), {
          environment: config.REIN_ENV,
          tenantClaim: required(config, 'AUTH_TENANT_CLAIM'),
          rolesClaim: required(config, 'AUTH_ROLES_CLAIM'),
          machineClients: machineClientBindings(config),
        });
      }
      return router(event);
    });
}

/** The SDK adapters this function uses (the local stack builds it from the same list). */
export const adapters: SdkAdapters = { ...stepFunctions, ...connectorSecrets, ...signingSecrets };

export const handler = createHandler(lambdaDeps(adapters));
