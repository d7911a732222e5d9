import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '#shared/http/routes.ts';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { corsOfTemplates } from '../../infra/local/cors.ts';
import { TemplateSet } from '../../infra/local/template.ts';
import { buildApp, functionByEntry, onlyResource, resourcesOf, templatesOf } from './support.ts';

const reinApp = buildApp();

describe.each(ENV_NAMES)('the %s HTTP API', (env) => {
  const { stateless } = templatesOf(reinApp, env);
  const config = reinApp.stages[env].config;
  const routes = Object.values(resourcesOf(stateless, 'AWS::ApiGatewayV2::Route'));
  const [authorizerId] = onlyResource(stateless, 'AWS::ApiGatewayV2::Authorizer');
  const [apiFunctionId] = functionByEntry(stateless, 'functions/api/handler.ts');

  it('has one route per entry of ROUTES and no other', () => {
    expect(routes.map((route) => route.Properties?.['RouteKey']).sort()).toEqual(
      ROUTES.map((route) => `${route.method} ${route.path}`).sort(),
    );
  });

  it.each(ROUTES.filter((route) => route.auth))('guards $method $path with the JWT authorizer', (route) => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: `${route.method} ${route.path}`,
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizerId },
    });
  });

  it.each(ROUTES.filter((route) => !route.auth))('serves $method $path without a token', (route) => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: `${route.method} ${route.path}`,
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
  });

  it('integrates every route with the API function', () => {
    const [integrationId, integration] = onlyResource(stateless, 'AWS::ApiGatewayV2::Integration');
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [apiFunctionId, 'Arn'] },
    });
    for (const route of routes) {
      expect(route.Properties?.['Target']).toEqual({
        'Fn::Join': ['', ['integrations/', { Ref: integrationId }]],
      });
    }
  });

  it('verifies Cognito tokens of the stage user pool (API client, review console, machine clients)', () => {
    const [consoleClientId] = onlyResource(stateless, 'AWS::Cognito::UserPoolClient');
    const machineClients = config.auth.kind === 'cognito' ? (config.auth.machineClients ?? []) : [];
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['https://cognito-idp.'])] }),
        Audience: [
          Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('UserPoolApiClient') }),
          { Ref: consoleClientId },
          // Access tokens have no `aud`: API Gateway checks their `client_id` against this list.
          ...machineClients.map(({ name }) =>
            Match.objectLike({
              'Fn::ImportValue': Match.stringLikeRegexp(`UserPoolMachineClient${name.replace(/-/g, '')}`),
            }),
          ),
        ],
      },
    });
  });

  it('throttles and access-logs the default stage as configured', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: config.apiThrottling.rateLimit,
        ThrottlingBurstLimit: config.apiThrottling.burstLimit,
      },
      AccessLogSettings: {
        DestinationArn: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }),
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
  });

  it("allows CORS only from the configured origins and the stage's review console", () => {
    const [distributionId] = onlyResource(stateless, 'AWS::CloudFront::Distribution');
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: [
          ...config.corsAllowOrigins,
          { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] },
        ],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type', 'idempotency-key', 'if-match']),
      }),
    });
  });

  it('outputs the API URL', () => {
    const outputs = stateless.findOutputs('ApiUrl');
    expect(Object.keys(outputs)).toEqual(['ApiUrl']);
  });
});

describe('an environment configured for an external OIDC issuer', () => {
  const oidcApp = buildApp({
    stages: ['staging'],
    overrides: {
      auth: {
        kind: 'oidc',
        issuer: 'https://login.example.com/',
        audience: ['rein-api'],
        tenantClaim: 'https://rein.example.com/tenant',
        rolesClaim: 'https://rein.example.com/roles',
      },
    },
  });
  const { stateful, stateless } = templatesOf(oidcApp, 'staging');

  it('checks the issuer and audience with a JWT authorizer and creates no user pool', () => {
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://login.example.com/', Audience: ['rein-api'] },
    });
    stateful.resourceCountIs('AWS::Cognito::UserPool', 0);
  });

  it('tells the API function which claims hold the tenant and the roles', () => {
    const [, api] = functionByEntry(stateless, 'functions/api/handler.ts');
    expect(api.Properties?.['Environment']).toMatchObject({
      Variables: {
        AUTH_TENANT_CLAIM: 'https://rein.example.com/tenant',
        AUTH_ROLES_CLAIM: 'https://rein.example.com/roles',
      },
    });
  });
});

describe('CORS on the local stack', () => {
  it.each(ENV_NAMES)('comes from the %s HTTP API CDK synthesizes, with the console origin last', (env) => {
    const templates = new TemplateSet({
      stateless: templatesOf(reinApp, env).stateless.toJSON(),
    });
    expect(corsOfTemplates(templates)).toMatchObject({
      // The console's CloudFront origin resolves locally to a placeholder no browser sends; the
      // local console is served from the API's own origin and needs no CORS.
      AllowOrigins: [
        ...reinApp.stages[env].config.corsAllowOrigins,
        expect.stringMatching(/^https:\/\/.*ConsoleDistribution/),
      ],
      AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      MaxAge: 3600,
    });
  });
});
