import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { devConfig } from '../../infra/config/dev.ts';
import { prodConfig } from '../../infra/config/prod.ts';
import { stagingConfig } from '../../infra/config/staging.ts';
import { EnvironmentConfigSchema } from '../../infra/config/types.ts';
import { buildApp, resourcesOf, templatesOf } from './support.ts';

const reinApp = buildApp();

const DAY = 24 * 60 * 60;

describe('environment configs', () => {
  it.each([devConfig, stagingConfig, prodConfig])('$envName satisfies the schema', (config) => {
    expect(() => EnvironmentConfigSchema.parse(config)).not.toThrow();
  });

  it('give dev one day and prod seven days to review a draft', () => {
    expect(reinApp.stages.dev.config.reviewTimeoutSeconds).toBe(DAY);
    expect(reinApp.stages.prod.config.reviewTimeoutSeconds).toBe(7 * DAY);
  });

  it('allow the cheap models in dev and the production models in prod', () => {
    expect(devConfig.modelAllowList).toEqual(['gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o-mini']);
    expect(prodConfig.modelAllowList).toEqual(['gpt-4.1-mini', 'gpt-4.1']);
  });

  it('reject a review timeout Step Functions cannot wait for', () => {
    expect(() => buildApp({ stages: ['dev'], overrides: { reviewTimeoutSeconds: 400 * DAY } })).toThrow(
      /reviewTimeoutSeconds/,
    );
  });

  it('apply overrides, as the local stack does for short review timeouts', () => {
    const overridden = buildApp({ stages: ['dev'], overrides: { reviewTimeoutSeconds: 5 } });
    expect(overridden.stages.dev.config.reviewTimeoutSeconds).toBe(5);
    expect(Object.keys(overridden.stages)).toEqual(['dev']);
  });
});

describe('account and region', () => {
  it('leave stacks environment-agnostic when no context is given', () => {
    expect(Token.isUnresolved(reinApp.stages.prod.stateful.account)).toBe(true);
    expect(Token.isUnresolved(reinApp.stages.prod.stateful.region)).toBe(true);
    expect(reinApp.stages.prod.stateful.environment).toBe('aws://unknown-account/unknown-region');
  });

  it('come from CDK context when given', () => {
    const pinned = buildApp({ stages: ['prod'], context: { account: '123456789012', region: 'eu-west-1' } });
    expect(pinned.stages.prod.stateful.environment).toBe('aws://123456789012/eu-west-1');
    expect(pinned.stages.prod.stateless.environment).toBe('aws://123456789012/eu-west-1');
  });
});

describe('removal policy', () => {
  it('retains prod data: tables, secret and user pool survive a stack deletion and resist it', () => {
    const { stateful } = templatesOf(reinApp, 'prod');
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret', 'AWS::Cognito::UserPool']) {
      for (const resource of Object.values(resourcesOf(stateful, type))) {
        expect(resource.DeletionPolicy, type).toBe('Retain');
        expect(resource.UpdateReplacePolicy, type).toBe('Retain');
      }
    }
    for (const table of Object.values(resourcesOf(stateful, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties?.['DeletionProtectionEnabled']).toBe(true);
    }
    expect(reinApp.stages.prod.stateful.terminationProtection).toBe(true);
    expect(reinApp.stages.prod.config.removalPolicy).toBe(RemovalPolicy.RETAIN);
  });

  it('destroys dev data with the stack', () => {
    const { stateful } = templatesOf(reinApp, 'dev');
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret', 'AWS::Cognito::UserPool']) {
      for (const resource of Object.values(resourcesOf(stateful, type))) {
        expect(resource.DeletionPolicy, type).toBe('Delete');
      }
    }
    for (const table of Object.values(resourcesOf(stateful, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties?.['DeletionProtectionEnabled']).toBe(false);
    }
    expect(reinApp.stages.dev.stateful.terminationProtection).toBe(false);
  });
});

describe('per-environment settings in the templates', () => {
  it.each(['dev', 'staging', 'prod'] as const)('%s keeps traces and logs as configured', (env) => {
    const { stateless } = templatesOf(reinApp, env);
    const config = reinApp.stages[env].config;
    for (const group of Object.values(resourcesOf(stateless, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties?.['RetentionInDays']).toBe(config.logRetention);
    }
    // Rein's functions (CDK's own BucketDeployment handler for the console has no such settings).
    for (const fn of Object.values(resourcesOf(stateless, 'AWS::Lambda::Function')).filter(
      (fn) => fn.Metadata?.['rein:entry'] !== undefined,
    )) {
      const variables = (fn.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
      // Every function that writes traces (all but event delivery) keeps them as configured.
      if (variables['TRACE_TABLE'] !== undefined) {
        expect(variables['TRACE_TTL_DAYS']).toBe(String(config.traceRetentionDays));
      }
    }
  });

  it('enforces Cognito threat protection in prod only, and always requires MFA', () => {
    const pool = (env: 'dev' | 'prod'): Record<string, unknown> | undefined =>
      Object.values(resourcesOf(templatesOf(reinApp, env).stateful, 'AWS::Cognito::UserPool'))[0]?.Properties;
    expect(pool('prod')).toMatchObject({
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      MfaConfiguration: 'ON',
    });
    expect(pool('dev')).toMatchObject({ UserPoolTier: 'ESSENTIALS', MfaConfiguration: 'ON' });
  });

  it('creates one Cognito group per role and a tenant_id attribute clients cannot write', () => {
    const { stateful } = templatesOf(reinApp, 'dev');
    const groups = Object.values(resourcesOf(stateful, 'AWS::Cognito::UserPoolGroup')).map(
      (group) => group.Properties?.['GroupName'],
    );
    expect(groups.sort()).toEqual(['admin', 'csm', 'finance', 'manager', 'operator']);
    stateful.hasResourceProperties('AWS::Cognito::UserPool', {
      Schema: Match.arrayWith([
        {
          Name: 'tenant_id',
          AttributeDataType: 'String',
          Mutable: true,
          StringAttributeConstraints: { MinLength: '1', MaxLength: '63' },
        },
      ]),
    });
    const [client] = Object.values(resourcesOf(stateful, 'AWS::Cognito::UserPoolClient'));
    expect(client?.Properties?.['ReadAttributes']).toContain('custom:tenant_id');
    expect(client?.Properties?.['WriteAttributes']).not.toContain('custom:tenant_id');
  });
});
