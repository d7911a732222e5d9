import { z } from 'zod';
import { STRICT_OUTBOUND_POLICY, type OutboundPolicy } from './outbound/address-policy.ts';

/**
 * Runtime configuration, parsed once from the environment with zod and frozen. This module is the
 * only place that reads `process.env`. Each Lambda asks for the sections it needs; a missing
 * required value fails the cold start with a message naming the variable.
 *
 * | env var                | meaning                                                        | default |
 * |------------------------|----------------------------------------------------------------|---------|
 * | REIN_ENV               | environment name: local, dev, staging, prod                     | required |
 * | WORKFLOW_TABLE         | DynamoDB table for runs, drafts, contexts, idempotency keys     | required where used |
 * | RECORDS_TABLE          | DynamoDB table holding source records (CRM, usage, …)           | required where used |
 * | TRACE_TABLE            | DynamoDB table for trace spans                                  | required where used |
 * | LEDGER_TABLE           | DynamoDB table for budgets, reservations and ledger entries     | required where used |
 * | TRACE_TTL_DAYS         | days a trace is kept before DynamoDB TTL removes it             | required where used |
 * | STATE_MACHINE_ARN      | the renewal workflow state machine (API Lambda)                  | required where used |
 * | OPENAI_SECRET_ARN      | Secrets Manager secret holding the OpenAI key (AWS)             | unset locally |
 * | OPENAI_API_KEY         | the key itself, local stack only (the local SecretSource)       | unset |
 * | OPENAI_BASE_URL        | OpenAI-compatible endpoint, as the SDK honours it               | SDK default |
 * | MODEL_ALLOW_LIST       | comma-separated model ids this environment may call            | required where used |
 * | AUTH_TENANT_CLAIM      | JWT claim holding the tenant id                                 | required where used |
 * | AUTH_ROLES_CLAIM       | JWT claim holding the roles                                     | required where used |
 * | AUTH_MACHINE_SCOPE     | scope a machine client's (client credentials) access token must carry, e.g. `rein-dev/ingest` | unset: no machine clients |
 * | AUTH_MACHINE_CLIENTS   | JSON `[{"clientId","tenantId"}]`: each machine client and the one tenant it is bound to | `[]` |
 * | REVIEW_TIMEOUT_SECONDS | how long a draft waits for review, s (StoreDraft stores expiresAt) | unset: no expiresAt |
 * | DEFAULT_MONTHLY_BUDGET_USD | a tenant's monthly budget until an operator sets one, USD  | required where used |
 * | RATE_LIMIT_RPM         | runs a tenant may start per minute                              | required where used |
 * | RATE_LIMIT_TPM         | model tokens (estimated in + max out) a tenant may use per minute | required where used |
 * | MODEL_ATTEMPT_TIMEOUT_MS | caps every workflow's per-attempt model timeout, ms         | the workflow's own |
 * | DYNAMODB_ENDPOINT      | endpoint override (DynamoDB Local)                              | unset |
 * | CONNECTOR_SECRET_PREFIX | Secrets Manager name prefix of tenants' connector secrets (`rein/<env>/connectors`) | required where used |
 * | ACTION_SECRETS_PREFIX  | Secrets Manager name prefix of action targets' signing secrets (AWS), e.g. `rein/dev/action-targets/` | unset locally (the local stand-in is used) |
 * | OUTBOUND_ALLOW_LOOPBACK | `true` lets connectors, action targets and webhooks reach http://127.0.0.1 (local stage only; refused elsewhere) | false |
 * | EVENT_BUS_NAME         | the stage's EventBridge bus for domain events (delivery Lambda)  | required where used |
 * | WEBHOOK_RETRY_BASE_SECONDS | first webhook retry delay, doubled per failed attempt, s     | 30 |
 * | WEBHOOK_RETRY_MAX_DELAY_SECONDS | longest delay between webhook attempts, s               | 21600 (6 h) |
 * | WEBHOOK_RETRY_WINDOW_SECONDS | how long a delivery is retried before it is dead-lettered, s | 97200 (27 h) |
 * | OUTBOX_SWEEP_GRACE_SECONDS | age of an undispatched event before the sweep dispatches it, s (the stream comes first) | 120 |
 * | LOG_LEVEL              | Powertools log level: DEBUG, INFO, WARN, ERROR                   | INFO |
 * | AWS_REGION             | AWS region, set by Lambda                                       | required where used |
 */
const csv = z
  .string()
  .min(1)
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  );

export const EnvSchema = z.object({
  REIN_ENV: z.enum(['local', 'dev', 'staging', 'prod']),
  WORKFLOW_TABLE: z.string().min(1).optional(),
  RECORDS_TABLE: z.string().min(1).optional(),
  TRACE_TABLE: z.string().min(1).optional(),
  LEDGER_TABLE: z.string().min(1).optional(),
  TRACE_TTL_DAYS: z.coerce.number().int().positive().optional(),
  STATE_MACHINE_ARN: z.string().min(1).optional(),
  OPENAI_SECRET_ARN: z.string().min(1).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  MODEL_ALLOW_LIST: csv.optional(),
  AUTH_TENANT_CLAIM: z.string().min(1).optional(),
  AUTH_ROLES_CLAIM: z.string().min(1).optional(),
  AUTH_MACHINE_SCOPE: z
    .string()
    .regex(/^[\w.:/-]{1,256}$/)
    .optional(),
  AUTH_MACHINE_CLIENTS: z
    .string()
    .min(1)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(
      z.array(
        z.strictObject({
          clientId: z.string().regex(/^[\w+]{1,128}$/),
          tenantId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
        }),
      ),
    )
    .optional(),
  DEFAULT_MONTHLY_BUDGET_USD: z.coerce.number().nonnegative().optional(),
  RATE_LIMIT_RPM: z.coerce.number().int().positive().optional(),
  RATE_LIMIT_TPM: z.coerce.number().int().positive().optional(),
  REVIEW_TIMEOUT_SECONDS: z.coerce.number().int().positive().optional(),
  MODEL_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  OUTBOUND_ALLOW_LOOPBACK: z.enum(['true', 'false']).optional(),
  CONNECTOR_SECRET_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]+$/)
    .optional(),
  ACTION_SECRETS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,200}\/$/)
    .optional(),
  AWS_REGION: z.string().min(1).optional(),
  EVENT_BUS_NAME: z.string().min(1).optional(),
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().positive().default(30),
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: z.coerce
    .number()
    .positive()
    .default(6 * 60 * 60),
  WEBHOOK_RETRY_WINDOW_SECONDS: z.coerce
    .number()
    .positive()
    .default(27 * 60 * 60),
  OUTBOX_SWEEP_GRACE_SECONDS: z.coerce.number().nonnegative().default(120),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).optional(),
});
export type Env = z.infer<typeof EnvSchema>;

/**
 * The machine clients the API accepts (see `shared/http/principal.ts`): none without a scope. A
 * client listed twice for different tenants is a configuration error, not a choice.
 */
export function machineClientBindings(
  env: Pick<Env, 'AUTH_MACHINE_SCOPE' | 'AUTH_MACHINE_CLIENTS'>,
): { scope: string; tenantByClientId: Readonly<Record<string, string>> } | undefined {
  if (env.AUTH_MACHINE_SCOPE === undefined) return undefined;
  const tenantByClientId: Record<string, string> = {};
  for (const { clientId, tenantId } of env.AUTH_MACHINE_CLIENTS ?? []) {
    const bound = tenantByClientId[clientId];
    if (bound !== undefined && bound !== tenantId)
      throw new ConfigError(`AUTH_MACHINE_CLIENTS binds client ${clientId} to two tenants.`);
    tenantByClientId[clientId] = tenantId;
  }
  return { scope: env.AUTH_MACHINE_SCOPE, tenantByClientId: Object.freeze(tenantByClientId) };
}

/**
 * What Rein may send out to (see `shared/outbound/address-policy.ts`): https to public addresses in
 * every deployed stage; the local stage may also reach loopback over http, only when configured.
 */
export function outboundPolicy(env: Pick<Env, 'REIN_ENV' | 'OUTBOUND_ALLOW_LOOPBACK'>): OutboundPolicy {
  if (env.OUTBOUND_ALLOW_LOOPBACK !== 'true') return STRICT_OUTBOUND_POLICY;
  if (env.REIN_ENV !== 'local') {
    throw new ConfigError('OUTBOUND_ALLOW_LOOPBACK=true is allowed only with REIN_ENV=local.');
  }
  return Object.freeze({ allowHttp: true, allowLoopback: true });
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (default: `process.env`) into a frozen config. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Readonly<Env> {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** Returns a setting that this runtime needs, or fails naming the variable. */
export function required<K extends keyof Env>(env: Readonly<Env>, key: K): NonNullable<Env[K]> {
  const value = env[key];
  if (value === undefined || value === null) {
    throw new ConfigError(`Missing required configuration ${key}.`);
  }
  return value;
}
