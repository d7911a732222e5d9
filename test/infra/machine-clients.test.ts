import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { buildApp, functionByEntry, onlyResource, resourcesOf, templatesOf } from './support.ts';

const reinApp = buildApp();

/** Joins an `Fn::Join` of strings and imports, naming each import `<import:ExportName>`. */
function joined(value: unknown): string {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`Not an Fn::Join: ${JSON.stringify(value)}`);
  return join[1]
    .map((part) =>
      typeof part === 'string'
        ? part
        : `<import:${String((part as { 'Fn::ImportValue'?: string })['Fn::ImportValue'])}>`,
    )
    .join(join[0]);
}

/** The API function's machine-client binding, with client ids as the import names. */
function bindingOf(stateless: ReturnType<typeof templatesOf>['stateless']): [string, string][] {
  const [, api] = functionByEntry(stateless, 'functions/api/handler.ts');
  const variables = (api.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
  const value = variables['AUTH_MACHINE_CLIENTS'];
  const parsed = JSON.parse(typeof value === 'string' ? value : joined(value)) as {
    clientId: string;
    tenantId: string;
  }[];
  return parsed.map(({ clientId, tenantId }) => [clientId, tenantId]);
}
const TWO_CLIENTS = {
  auth: {
    kind: 'cognito' as const,
    threatProtection: false,
    machineClients: [
      { name: 'acme-crm', tenantId: 'acme' },
      { name: 'globex-usage', tenantId: 'globex' },
    ],
  },
};

describe.each(ENV_NAMES)('the %s machine clients (OAuth client credentials)', (env) => {
  const { stateful, stateless } = templatesOf(reinApp, env);
  const config = reinApp.stages[env].config;
  const configured = config.auth.kind === 'cognito' ? (config.auth.machineClients ?? []) : [];

  it('declares the resource server rein-<env> with the one scope ingest in the stage user pool', () => {
    const [, server] = onlyResource(stateful, 'AWS::Cognito::UserPoolResourceServer');
    const [userPoolId] = onlyResource(stateful, 'AWS::Cognito::UserPool');
    expect(server.Properties).toEqual({
      Identifier: `rein-${env}`,
      Name: `Rein ${env} API`,
      Scopes: [
        {
          ScopeName: 'ingest',
          ScopeDescription: 'Push and delete source records of the client’s tenant (role integration).',
        },
      ],
      UserPoolId: { Ref: userPoolId },
    });
  });

  it('creates one confidential client per configured machine client, allowed only client_credentials and the ingest scope', () => {
    const clients = Object.values(resourcesOf(stateful, 'AWS::Cognito::UserPoolClient')).filter((client) =>
      String(client.Properties?.['ClientName']).includes('-m2m-'),
    );
    expect(clients.map((client) => client.Properties?.['ClientName'])).toEqual(
      configured.map(({ name }) => `rein-${env}-m2m-${name}`),
    );
    const [serverId] = onlyResource(stateful, 'AWS::Cognito::UserPoolResourceServer');
    for (const client of clients) {
      expect(client.Properties).toMatchObject({
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: [{ 'Fn::Join': ['', [{ Ref: serverId }, '/ingest']] }],
        // No person signs in through a machine client.
        ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
        SupportedIdentityProviders: ['COGNITO'],
        AccessTokenValidity: 60,
        TokenValidityUnits: { AccessToken: 'minutes' },
      });
      expect(client.Properties?.['CallbackURLs']).toBeUndefined();
    }
  });

  it('binds each machine client to its tenant in the API function and names the scope it must carry', () => {
    const [, api] = functionByEntry(stateless, 'functions/api/handler.ts');
    const variables = (api.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(variables['AUTH_MACHINE_SCOPE']).toBe(`rein-${env}/ingest`);
    expect(
      bindingOf(stateless).map(([clientId, tenantId]) => [
        clientId.replace(
          new RegExp(
            `^<import:rein-${env}-stateful:ExportsOutputRefUserPoolMachineClient([a-z0-9]+)[0-9A-F]{16}>$`,
          ),
          '$1',
        ),
        tenantId,
      ]),
    ).toEqual(configured.map(({ name, tenantId }) => [name.replace(/-/g, ''), tenantId]));
  });

  it('outputs the token endpoint when the stage has machine clients', () => {
    const outputs = Object.keys(stateless.findOutputs('*'));
    if (configured.length > 0) expect(outputs).toContain('TokenEndpoint');
    else expect(outputs).not.toContain('TokenEndpoint');
  });
});

describe('a stage with two machine clients', () => {
  const app = buildApp({ stages: ['staging'], overrides: TWO_CLIENTS });
  const { stateful, stateless } = templatesOf(app, 'staging');

  it('gives each its own client and binds both, each to its own tenant only', () => {
    const clients = Object.entries(resourcesOf(stateful, 'AWS::Cognito::UserPoolClient')).filter(([, c]) =>
      String(c.Properties?.['ClientName']).includes('-m2m-'),
    );
    expect(clients.map(([, c]) => c.Properties?.['ClientName'])).toEqual([
      'rein-staging-m2m-acme-crm',
      'rein-staging-m2m-globex-usage',
    ]);
    expect(
      bindingOf(stateless).map(([clientId, tenantId]) => [
        clientId.replace(
          /^<import:rein-staging-stateful:ExportsOutputRefUserPool(MachineClient[a-z0-9]+)[0-9A-F]{16}>$/,
          '$1',
        ),
        tenantId,
      ]),
    ).toEqual([
      ['MachineClientacmecrm', 'acme'],
      ['MachineClientglobexusage', 'globex'],
    ]);
  });

  it('accepts both client ids as audiences of the authorizer', () => {
    const [, authorizer] = onlyResource(stateless, 'AWS::ApiGatewayV2::Authorizer');
    const audience = JSON.stringify(
      (authorizer.Properties?.['JwtConfiguration'] as { Audience: unknown[] }).Audience,
    );
    expect(audience).toContain('MachineClientacmecrm');
    expect(audience).toContain('MachineClientglobexusage');
  });

  it('has a token endpoint on a domain of its own when the stage has no console', () => {
    const noConsole = buildApp({ stages: ['staging'], overrides: TWO_CLIENTS, console: false });
    const templates = templatesOf(noConsole, 'staging');
    onlyResource(templates.stateless, 'AWS::Cognito::UserPoolDomain');
    expect(Object.keys(templates.stateless.findOutputs('TokenEndpoint'))).toEqual(['TokenEndpoint']);
  });
});
