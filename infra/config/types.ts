import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';

/** The deployable environments; each one is a CDK Stage with its own config file. */
export const ENV_NAMES = ['dev', 'staging', 'prod'] as const;
export const EnvNameSchema = z.enum(ENV_NAMES);
export type EnvName = z.infer<typeof EnvNameSchema>;

/**
 * Identity provider of an environment's API.
 * - `cognito`: the stateful stack creates a user pool with the custom attribute `tenant_id` and one
 *   group per role; the API reads the tenant from `custom:tenant_id` and the roles from
 *   `cognito:groups` (both are claims of the Cognito ID token, which is the bearer token to send).
 *   `threatProtection` selects the Plus feature plan with enforced threat protection.
 *   `machineClients` are tenants' client-credentials clients (access tokens with scope
 *   `rein-<env>/ingest`; the tenant comes from Rein's binding of the client id).
 * - `oidc`: an external issuer; the HTTP API's JWT authorizer checks `issuer` and `audience`.
 */
/**
 * A tenant's machine client (OAuth 2.0 client credentials): the stateful stack creates a Cognito
 * app client with a generated secret that may request only the stage's `ingest` scope, and the
 * API binds its client id to `tenantId` (role `integration`). `name` is the stable part of the
 * construct id: renaming it replaces the client (new id and secret). See infra/README.md.
 */
export const MachineClientConfigSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and dashes, at most 40'),
  tenantId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
});
export type MachineClientConfig = z.infer<typeof MachineClientConfigSchema>;

export const CognitoAuthSchema = z.object({
  kind: z.literal('cognito'),
  threatProtection: z.boolean(),
  /** Machine clients of tenants, each bound to one tenant; absent or empty: none. */
  machineClients: z
    .array(MachineClientConfigSchema)
    .optional()
    .refine(
      (clients) => new Set((clients ?? []).map((client) => client.name)).size === (clients ?? []).length,
      'machine client names must be unique',
    ),
});
export const OidcAuthSchema = z.object({
  kind: z.literal('oidc'),
  issuer: z.url(),
  audience: z.array(z.string().min(1)).min(1),
  tenantClaim: z.string().min(1),
  rolesClaim: z.string().min(1),
});
export const AuthConfigSchema = z.discriminatedUnion('kind', [CognitoAuthSchema, OidcAuthSchema]);
export type AuthConfig = z.infer<typeof AuthConfigSchema>;

/** The claims the API function reads, for an auth config. */
export function authClaims(auth: AuthConfig): { tenantClaim: string; rolesClaim: string } {
  return auth.kind === 'cognito'
    ? { tenantClaim: 'custom:tenant_id', rolesClaim: 'cognito:groups' }
    : { tenantClaim: auth.tenantClaim, rolesClaim: auth.rolesClaim };
}

/** The resource server of a stage's API in its user pool, and the one scope machine clients get. */
export function machineScope(envName: EnvName): { identifier: string; scopeName: string; fullName: string } {
  const identifier = `rein-${envName}`;
  return { identifier, scopeName: 'ingest', fullName: `${identifier}/ingest` };
}

/** Step Functions caps a task's TimeoutSeconds at one year. */
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

/**
 * One environment's settings. Units are in the names (seconds, days, USD, per minute/second).
 * `account` and `region` come from CDK context (`-c account=… -c region=…`); when absent the
 * stacks are environment-agnostic, so `cdk synth` needs no credentials and makes no lookups.
 */
export const EnvironmentConfigSchema = z
  .object({
    envName: EnvNameSchema,
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
      .optional(),
    /** Model ids the gateway may call in this environment (MODEL_ALLOW_LIST). */
    modelAllowList: z.array(z.string().min(1)).min(1),
    /** A tenant's monthly budget until an operator sets one (DEFAULT_MONTHLY_BUDGET_USD). */
    defaultMonthlyBudgetUsd: z.number().nonnegative(),
    /** Per-tenant limits enforced in code by the ledger-backed rate limiter (RATE_LIMIT_RPM/TPM). */
    rateLimits: z.object({
      requestsPerMinute: z.number().int().positive(),
      tokensPerMinute: z.number().int().positive(),
    }),
    /** How long a draft waits for review before the run expires (AwaitReview TimeoutSeconds). */
    reviewTimeoutSeconds: z.number().int().positive().max(ONE_YEAR_SECONDS),
    /** Days a trace is kept before DynamoDB TTL removes it (TRACE_TTL_DAYS). */
    traceRetentionDays: z.number().int().positive(),
    /** What CloudFormation does with data-bearing resources when they leave the template. */
    removalPolicy: z.enum([RemovalPolicy.DESTROY, RemovalPolicy.RETAIN]),
    auth: AuthConfigSchema,
    /** Origins allowed by the HTTP API's CORS configuration. */
    corsAllowOrigins: z.array(z.string().min(1)).min(1),
    /** Default stage throttling of the HTTP API (steady requests per second, burst). */
    apiThrottling: z.object({
      rateLimit: z.number().positive(),
      burstLimit: z.number().int().positive(),
    }),
    /** Where alarm notifications go (an e-mail subscription on the stage's alarm topic); optional. */
    alarmEmail: z.email().optional(),
    /** An existing SNS topic (e.g. the on-call pager's) that also receives every alarm; optional. */
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/)
      .optional(),
    /** Level of every function's Powertools logs (LOG_LEVEL). */
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
    /**
     * Webhook delivery: exponential backoff from `retryBaseSeconds`, doubling up to
     * `retryMaxDelaySeconds`, for `retryWindowSeconds` (at least 24 h in every deployed stage), then
     * dead-lettered; the schedule dispatches events the stream has not after `outboxSweepGraceSeconds`.
     */
    webhooks: z.object({
      retryBaseSeconds: z.number().positive(),
      retryMaxDelaySeconds: z.number().positive(),
      retryWindowSeconds: z.number().min(24 * 60 * 60),
      outboxSweepGraceSeconds: z.number().nonnegative(),
    }),
    /** Retention of every CloudWatch log group of the environment. */
    logRetention: z.enum(RetentionDays),
  })
  .refine(
    (config) =>
      config.envName === 'dev' || config.alarmEmail !== undefined || config.alarmTopicArn !== undefined,
    {
      message: 'staging and prod need an alarm destination: alarmEmail and/or alarmTopicArn.',
      path: ['alarmEmail'],
    },
  );
export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;

/** Webhook delivery of every deployed stage: 30 s doubling to 6 h between attempts, for 27 h. */
export const WEBHOOK_DELIVERY = {
  retryBaseSeconds: 30,
  retryMaxDelaySeconds: 6 * 60 * 60,
  retryWindowSeconds: 27 * 60 * 60,
  outboxSweepGraceSeconds: 120,
} as const;
/** What a config file declares: everything except what comes from CDK context. */
export type EnvironmentConfigInput = Omit<EnvironmentConfig, 'account' | 'region'>;
