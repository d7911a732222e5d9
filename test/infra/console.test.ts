import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { buildApp, onlyResource, resourcesOf, templatesOf } from './support.ts';

const reinApp = buildApp();

describe.each(ENV_NAMES)('the %s review console', (env) => {
  const { stateless } = templatesOf(reinApp, env);
  const [siteId] = Object.entries(resourcesOf(stateless, 'AWS::S3::Bucket')).find(([id]) =>
    id.startsWith('ConsoleSite'),
  ) ?? [''];
  const [distributionId, distribution] = onlyResource(stateless, 'AWS::CloudFront::Distribution');
  const config = (distribution.Properties?.['DistributionConfig'] ?? {}) as Record<string, unknown>;

  it('keeps its files in a private, encrypted bucket that refuses plain HTTP', () => {
    expect(siteId).not.toBe('');
    stateless.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.objectLike({}),
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 's3/' }),
    });
    stateless.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: siteId },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // Only this distribution, through origin access control, may read objects.
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Condition: Match.objectLike({
              StringEquals: Match.objectLike({ 'AWS:SourceArn': Match.anyValue() }),
            }),
          }),
        ]),
      }),
    });
  });

  it('serves through CloudFront with origin access control (no OAI), HTTPS only, index.html at /', () => {
    stateless.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    stateless.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    expect(config['DefaultRootObject']).toBe('index.html');
    const origins = config['Origins'] as {
      OriginAccessControlId?: unknown;
      S3OriginConfig?: { OriginAccessIdentity?: string };
    }[];
    for (const origin of origins) {
      expect(origin.OriginAccessControlId).toBeDefined();
      expect(origin.S3OriginConfig?.OriginAccessIdentity ?? '').toBe('');
    }
    expect(config['DefaultCacheBehavior']).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https' });
    expect(config['Logging']).toMatchObject({ Prefix: 'cloudfront/' });
    // config.json changes with every deploy: never cached.
    expect(config['CacheBehaviors']).toEqual([
      expect.objectContaining({ PathPattern: '/config.json', ViewerProtocolPolicy: 'redirect-to-https' }),
    ]);
  });

  it('adds security headers with a CSP that allows scripts only from the console itself', () => {
    const [, policy] = onlyResource(stateless, 'AWS::CloudFront::ResponseHeadersPolicy');
    const headers = (
      policy.Properties?.['ResponseHeadersPolicyConfig'] as Record<string, Record<string, unknown>>
    )['SecurityHeadersConfig'];
    const csp = JSON.stringify(headers?.['ContentSecurityPolicy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(headers).toMatchObject({
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ContentTypeOptions: { Override: true },
      StrictTransportSecurity: {
        AccessControlMaxAgeSec: 730 * 86_400,
        IncludeSubdomains: true,
        Override: true,
      },
    });
  });

  it('signs in with a public Cognito client: code grant only, back to the console URL, no secret', () => {
    const clients = Object.values(resourcesOf(stateless, 'AWS::Cognito::UserPoolClient'));
    expect(clients).toHaveLength(1);
    const client = clients[0]?.Properties ?? {};
    expect(client['GenerateSecret']).toBe(false);
    expect(client['AllowedOAuthFlows']).toEqual(['code']);
    expect(client['AllowedOAuthFlowsUserPoolClient']).toBe(true);
    const callback = {
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/']],
    };
    expect(client['CallbackURLs']).toEqual([callback]);
    expect(client['LogoutURLs']).toEqual([callback]);
    stateless.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    stateless.hasResourceProperties('AWS::Cognito::UserPoolDomain', { ManagedLoginVersion: 2 });
  });

  it("lets the API's authorizer accept the console's ID tokens", () => {
    const [consoleClientId] = onlyResource(stateless, 'AWS::Cognito::UserPoolClient');
    stateless.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: Match.objectLike({
        Audience: Match.arrayWith([{ Ref: consoleClientId }]),
      }),
    });
  });

  it('deploys the files and a config.json and invalidates the entry files', () => {
    const deployments = Object.values(resourcesOf(stateless, 'Custom::CDKBucketDeployment'));
    expect(deployments).toHaveLength(1);
    const properties = deployments[0]?.Properties ?? {};
    expect(properties['DestinationBucketName']).toEqual({ Ref: siteId });
    expect(properties['DistributionPaths']).toEqual(['/index.html', '/config.json']);
    // Two sources: the static files and config.json, whose tokens (API URL, client id, domain) are filled at deploy.
    expect(properties['SourceObjectKeys']).toHaveLength(2);
    const markers = JSON.stringify(properties['SourceMarkers']);
    expect(markers).toContain('HttpApi');
    expect(markers).toContain('ConsoleClient');
  });
});

describe('a stage with an external OIDC issuer', () => {
  it('has no console (it signs in through the Cognito managed login)', () => {
    const oidcApp = buildApp({
      stages: ['staging'],
      overrides: {
        auth: {
          kind: 'oidc',
          issuer: 'https://login.example.com/',
          audience: ['rein-api'],
          tenantClaim: 't',
          rolesClaim: 'r',
        },
      },
    });
    templatesOf(oidcApp, 'staging').stateless.resourceCountIs('AWS::CloudFront::Distribution', 0);
  });
});
