import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Route } from '#shared/http/contract.ts';
import { ROUTES } from '#shared/http/routes.ts';
import type { EnvironmentConfig } from '../config/types.ts';

/** The Cognito pieces the authorizer needs when the environment's auth kind is `cognito`. */
export interface CognitoAuthResources {
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /**
   * Tenants' machine clients (client credentials). The authorizer lists their ids as audiences: a
   * Cognito access token has no `aud`, and API Gateway then checks its `client_id` against them.
   */
  readonly machineClients: readonly MachineClient[];
  /** The scope a machine client's token must carry, e.g. `rein-dev/ingest`. */
  readonly machineScope: string;
}

/** One machine client and the tenant the API binds it to. */
export interface MachineClient {
  readonly name: string;
  readonly tenantId: string;
  readonly client: cognito.IUserPoolClient;
}

export interface ReinHttpApiProps {
  readonly config: EnvironmentConfig;
  readonly handler: lambda.IFunction;
  /** Required when `config.auth.kind` is `cognito`. */
  readonly cognito?: CognitoAuthResources;
  /** The review console: its app client's tokens are accepted too, and its origin may call the API. */
  readonly console?: { readonly client: cognito.IUserPoolClient; readonly origin: string };
}

/** Request headers a browser client sends; the rest of the contract is in `shared/http`. */
const ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'if-match', 'accept'];
const EXPOSE_HEADERS = ['etag', 'retry-after', 'location', 'x-request-id'];

function httpMethod(route: Route): apigw.HttpMethod {
  return apigw.HttpMethod[route.method];
}

/**
 * The v1 HTTP API: one route per entry of `ROUTES`, all integrated with the API function. The JWT
 * authorizer guards every route except the `auth: false` ones (health, OpenAPI document), which
 * are public by design. CORS, default-stage throttling and JSON access logs come from config.
 */
export class ReinHttpApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  readonly routes: Record<string, apigw.HttpRoute[]> = {};

  constructor(scope: Construct, id: string, props: ReinHttpApiProps) {
    super(scope, id);
    const { config } = props;

    const authorizer = this.createAuthorizer(props);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `rein-${config.envName}`,
      description: `Rein ${config.envName} API (v1)`,
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: [...config.corsAllowOrigins, ...(props.console ? [props.console.origin] : [])],
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PUT,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.DELETE,
          apigw.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ALLOW_HEADERS,
        exposeHeaders: EXPOSE_HEADERS,
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiThrottling.rateLimit, burstLimit: config.apiThrottling.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            sub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    // One API-scoped invoke permission instead of one per route.
    const integration = new integrations.HttpLambdaIntegration('ApiIntegration', props.handler, {
      scopePermissionToRoute: false,
    });
    for (const route of ROUTES) {
      const created = this.httpApi.addRoutes({
        path: route.path,
        methods: [httpMethod(route)],
        integration,
        ...(route.auth ? {} : { authorizer: new apigw.HttpNoneAuthorizer() }),
      });
      this.routes[`${route.method} ${route.path}`] = created;
      if (!route.auth) {
        for (const httpRoute of created) {
          Validations.of(httpRoute).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason: `${route.method} ${route.path} (${route.operation}) is public by design: health checks and the OpenAPI document are served without a token; every other route uses the JWT authorizer.`,
          });
        }
      }
    }
  }

  private createAuthorizer(props: ReinHttpApiProps): apigw.IHttpRouteAuthorizer {
    const { auth } = props.config;
    if (auth.kind === 'oidc') {
      return new authorizers.HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, {
        jwtAudience: auth.audience,
        identitySource: ['$request.header.Authorization'],
      });
    }
    if (!props.cognito) throw new Error('A cognito auth config needs the user pool and its client.');
    return new authorizers.HttpUserPoolAuthorizer('JwtAuthorizer', props.cognito.userPool, {
      userPoolClients: [
        props.cognito.userPoolClient,
        ...(props.console ? [props.console.client] : []),
        ...props.cognito.machineClients.map((machine) => machine.client),
      ],
      identitySource: ['$request.header.Authorization'],
    });
  }
}
