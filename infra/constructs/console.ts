import { CfnOutput, Duration, Fn, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import { consoleContentSecurityPolicy, type ConsoleRuntimeConfig } from '../config/console.ts';
import type { EnvironmentConfig } from '../config/types.ts';

/** What the stage deploys as the console: the Vite build, a placeholder page (tests), or nothing. */
export type ConsoleAssets = { kind: 'build'; dir: string } | { kind: 'placeholder' };

export interface ReinConsoleProps {
  readonly config: EnvironmentConfig;
  readonly userPool: cognito.IUserPool;
  readonly assets: ConsoleAssets;
}

const PLACEHOLDER = '<!doctype html><title>Rein</title><p>The console was synthesized without a build.</p>';

/**
 * The review console of one stage: a private S3 bucket behind CloudFront (origin access control,
 * HTTPS only, security headers with a strict CSP), a Cognito app client for the managed login
 * (authorization code with PKCE, no secret) on a Cognito domain, and a `config.json` naming the
 * API and those sign-in settings, deployed next to the static files. Created in two steps because
 * the API's authorizer must accept this client and `config.json` must name the API:
 * `new ReinConsole(…)` before the API, `deploy(apiUrl)` after it.
 */
export class ReinConsole extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly url: string;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  private readonly props: ReinConsoleProps;

  constructor(scope: Construct, id: string, props: ReinConsoleProps) {
    super(scope, id);
    this.props = props;
    const { config } = props;
    const removalPolicy: RemovalPolicy = config.removalPolicy;
    const region = Stack.of(this).region;

    const logs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket of the console bucket and distribution; logging it into itself would loop.',
    });

    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
      removalPolicy,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: `Rein ${config.envName} console security headers`,
      securityHeadersBehavior: {
        // The API (execute-api) and Cognito (managed login domain, OIDC discovery) are the only other origins.
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleContentSecurityPolicy([
            `https://*.execute-api.${region}.amazonaws.com`,
            `https://cognito-idp.${region}.amazonaws.com`,
            `https://*.auth.${region}.amazoncognito.com`,
          ]),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Rein ${config.envName} review console`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        // The stage's settings change with a deploy and must not be served stale.
        '/config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: headers,
        },
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        "The console serves customers' staff wherever they work; access is controlled by sign-in, not by country.",
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason:
        'The distribution serves static files only; every data request goes to the API, which has its own authorizer and throttling. A WAF web ACL (us-east-1) is an account-level decision outside this app.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The stage uses the default *.cloudfront.net certificate, whose TLS policy CloudFront fixes; a minimum of TLSv1.2_2021 needs a custom domain and ACM certificate, which no stage config names yet.',
    });

    this.domain = new cognito.UserPoolDomain(this, 'Login', {
      userPool: props.userPool,
      cognitoDomain: { domainPrefix: Fn.join('-', ['rein', config.envName, Stack.of(this).account]) },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    this.client = new cognito.UserPoolClient(this, 'Client', {
      userPool: props.userPool,
      userPoolClientName: `rein-${config.envName}-console`,
      // A browser app: no secret; Cognito requires PKCE from public clients using the code grant.
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${this.url}/`],
        logoutUrls: [`${this.url}/`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes('tenant_id'),
    });
    // Managed login (v2) shows a page per app client only once it has a branding.
    new cognito.CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: props.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
  }

  /** Uploads the static files and the stage's `config.json` (naming `apiUrl`), and invalidates the entry files. */
  deploy(apiUrl: string): s3deploy.BucketDeployment {
    const { config, assets, userPool } = this.props;
    const region = Stack.of(this).region;
    const runtime: ConsoleRuntimeConfig = {
      stage: config.envName,
      apiBaseUrl: apiUrl.replace(/\/$/, ''),
      reviewTimeoutSeconds: config.reviewTimeoutSeconds,
      auth: {
        mode: 'cognito',
        tenantClaim: 'custom:tenant_id',
        rolesClaim: 'cognito:groups',
        authority: `https://cognito-idp.${region}.amazonaws.com/${userPool.userPoolId}`,
        clientId: this.client.userPoolClientId,
        domain: `https://${this.domain.domainName}.auth.${region}.amazoncognito.com`,
        scope: 'openid email profile',
      },
    };
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [
        assets.kind === 'build'
          ? s3deploy.Source.asset(assets.dir)
          : s3deploy.Source.data('index.html', PLACEHOLDER),
        s3deploy.Source.jsonData('config.json', runtime),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 256,
    });
    this.acknowledgeDeploymentHandler();
    new CfnOutput(this, 'ConsoleUrl', {
      description: `The Rein ${config.envName} review console`,
      value: this.url,
    });
    return deployment;
  }

  /**
   * The BucketDeployment's singleton handler (a CDK-provided custom resource run only during
   * deploys): each finding acknowledged by name.
   */
  private acknowledgeDeploymentHandler(): void {
    const stack = Stack.of(this);
    const site = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const handlers: IConstruct[] = stack.node.children.filter((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    const objectAccess =
      "CDK's BucketDeployment copies the build from the CDK asset bucket into the console bucket, so its handler reads, lists and deletes objects of exactly those two buckets.";
    const findings: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        "CDK's BucketDeployment handler writes its logs with the AWS managed AWSLambdaBasicExecutionRole; it runs only during deploys.",
      'AwsSolutions-IAM5[Action::s3:GetObject*]': objectAccess,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': objectAccess,
      'AwsSolutions-IAM5[Action::s3:List*]': objectAccess,
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]': objectAccess,
      'AwsSolutions-IAM5[Action::s3:Abort*]': objectAccess,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]':
        "The objects of the CDK bootstrap asset bucket, where the console's build is uploaded before it is copied.",
      [`AwsSolutions-IAM5[Resource::<${site}.Arn>/*]`]:
        'The objects of the console bucket, which the deployment replaces.',
      'AwsSolutions-L1':
        "The handler's Lambda runtime is chosen by aws-cdk-lib's BucketDeployment and moves with aws-cdk-lib releases.",
      'AwsSolutions-IAM5[Resource::*]':
        "CloudFront's CreateInvalidation/GetInvalidation as CDK's BucketDeployment grants them, to invalidate index.html and config.json after a deploy.",
    };
    for (const handler of handlers) {
      for (const [id, reason] of Object.entries(findings))
        Validations.of(handler).acknowledge({ id, reason });
    }
  }
}
