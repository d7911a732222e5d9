import { outboundPolicy, parseEnv, required, type Env } from '#shared/config.ts';
import { DynamoWebhookStore } from '#shared/adapters/dynamodb/webhook-store.ts';
import { OutboundWebhookTransport } from '#shared/adapters/outbound/webhook-transport.ts';
import { DynamoActionStore, LocalSigningSecrets } from '#shared/adapters/dynamodb/action-store.ts';
import { sendOutbound } from '#shared/outbound/http.ts';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { DynamoGatewayStore } from '#shared/adapters/dynamodb/gateway-store.ts';
import { DynamoLedger } from '#shared/adapters/dynamodb/ledger.ts';
import { DynamoTenantDirectory } from '#shared/adapters/dynamodb/tenant-directory.ts';
import { DynamoCircuitBreaker, type BreakerPolicy } from '#shared/adapters/dynamodb/circuit-breaker.ts';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb/rate-limiter.ts';
import {
  createRecordSources,
  DynamoAccountDirectory,
  DynamoConnectorStore,
  DynamoRecordStore,
} from '#shared/adapters/dynamodb/records-source.ts';
import { SOURCES } from '#shared/sources/catalogue.ts';
import { DynamoTraceSink } from '#shared/adapters/dynamodb/trace-sink.ts';
import { DynamoWorkflowStore } from '#shared/adapters/dynamodb/workflow-store.ts';
import { StaticSecretSource } from '#shared/adapters/secrets/static-secret-source.ts';
import type {
  AccountDirectory,
  ActionStore,
  ActionTargetStore,
  SigningSecretStore,
  CircuitBreaker,
  ConnectorSecrets,
  ConnectorStore,
  RateLimiter,
  DraftStore,
  EventBus,
  GatewayStore,
  MetricsSink,
  Ledger,
  TenantDirectory,
  ModelClient,
  RecordStore,
  RunStore,
  SecretSource,
  TraceSink,
  WebhookStore,
  WorkflowEngine,
} from '#shared/ports/index.ts';
import { realSleep, systemClock, type Deps } from '#shared/usecases/deps.ts';
import { createLogger, logSink } from './logger.ts';
import { emfMetrics } from './metrics.ts';

/** Five consecutive provider failures open a model's circuit for 30 s. */
export const BREAKER_POLICY: BreakerPolicy = { failureThreshold: 5, coolDownMs: 30_000 };

/** A port that fails loudly when a Lambda uses something its configuration does not give it. */
function unavailable(what: string): object {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (property === 'then') return undefined;
        return () => Promise.reject(new Error(`${what} is not configured for this function.`));
      },
    },
  );
}

/**
 * The adapters that need a heavy SDK (openai, Step Functions, Secrets Manager). Each handler module
 * exports the ones it uses as `adapters` (./openai.ts, ./step-functions.ts), so a Lambda bundle carries only
 * the SDKs its function needs; the local stack builds each function from the same export.
 */
export interface SdkAdapters {
  engine?: (env: Readonly<Env>) => WorkflowEngine | undefined;
  secrets?: (env: Readonly<Env>) => SecretSource | undefined;
  model?: (env: Readonly<Env>, secrets: SecretSource) => ModelClient;
  eventBus?: (env: Readonly<Env>) => EventBus | undefined;
  /** Tenants' connector secrets (Secrets Manager), for the API (writes) and the context task (reads). */
  connectorSecrets?: (env: Readonly<Env>) => ConnectorSecrets | undefined;
  /** Action targets' signing secrets (Secrets Manager); the local stage uses its stand-in instead. */
  signingSecrets?: (env: Readonly<Env>) => SigningSecretStore | undefined;
}

/**
 * The composition root shared by every runtime. Each function gets only the tables its environment
 * names (CDK's `bind…` helpers set those together with the IAM grants) and the SDK adapters its
 * handler module declares. Overrides let the local stack swap the engine and the secret source.
 */
export function buildDeps(
  env: Readonly<Env>,
  adapters: SdkAdapters,
  overrides: {
    engine?: WorkflowEngine;
    secrets?: SecretSource;
    connectorSecrets?: ConnectorSecrets;
    eventBus?: EventBus;
    metrics?: MetricsSink;
  } = {},
): Deps {
  const gatewayLogger = createLogger('rein-gateway', env);
  const doc = createDocumentClient({
    region: env.AWS_REGION ?? 'us-east-1',
    endpoint: env.DYNAMODB_ENDPOINT,
  });
  const store = env.WORKFLOW_TABLE ? new DynamoWorkflowStore(doc, env.WORKFLOW_TABLE) : null;
  const records = env.RECORDS_TABLE ? new DynamoRecordStore(doc, env.RECORDS_TABLE) : null;

  let secrets = overrides.secrets ?? adapters.secrets?.(env);
  if (!secrets && env.OPENAI_API_KEY && env.REIN_ENV === 'local')
    secrets = new StaticSecretSource(env.OPENAI_API_KEY);
  const secretSource = secrets;
  const engine = overrides.engine ?? adapters.engine?.(env);
  const eventBus = overrides.eventBus ?? adapters.eventBus?.(env);
  const actionStore = env.WORKFLOW_TABLE ? new DynamoActionStore(doc, env.WORKFLOW_TABLE) : null;
  const signingSecrets =
    env.REIN_ENV === 'local' && env.WORKFLOW_TABLE
      ? new LocalSigningSecrets(doc, env.WORKFLOW_TABLE)
      : adapters.signingSecrets?.(env);
  const policy = outboundPolicy(env);

  return {
    clock: systemClock,
    sleep: realSleep,
    runs: store ?? (unavailable('WORKFLOW_TABLE') as RunStore),
    drafts: store ?? (unavailable('WORKFLOW_TABLE') as DraftStore),
    engine: engine ?? (unavailable('STATE_MACHINE_ARN') as WorkflowEngine),
    traces: env.TRACE_TABLE
      ? new DynamoTraceSink(doc, env.TRACE_TABLE, required(env, 'TRACE_TTL_DAYS'))
      : (unavailable('TRACE_TABLE') as TraceSink),
    accounts: env.RECORDS_TABLE
      ? new DynamoAccountDirectory(doc, env.RECORDS_TABLE)
      : (unavailable('RECORDS_TABLE') as AccountDirectory),
    sources: records ? createRecordSources(records, SOURCES.keys()) : new Map(),
    records: records ?? (unavailable('RECORDS_TABLE') as RecordStore),
    connectors: env.RECORDS_TABLE
      ? new DynamoConnectorStore(doc, env.RECORDS_TABLE)
      : (unavailable('RECORDS_TABLE') as ConnectorStore),
    connectorSecrets:
      overrides.connectorSecrets ??
      adapters.connectorSecrets?.(env) ??
      (unavailable('CONNECTOR_SECRET_PREFIX') as ConnectorSecrets),
    model:
      secretSource && adapters.model
        ? adapters.model(env, secretSource)
        : (unavailable('the model client (OPENAI_SECRET_ARN)') as ModelClient),
    ledger: env.LEDGER_TABLE
      ? new DynamoLedger(
          doc,
          env.LEDGER_TABLE,
          required(env, 'DEFAULT_MONTHLY_BUDGET_USD'),
          env.WORKFLOW_TABLE,
        )
      : (unavailable('LEDGER_TABLE') as Ledger),
    tenants: env.LEDGER_TABLE
      ? new DynamoTenantDirectory(doc, env.LEDGER_TABLE)
      : (unavailable('LEDGER_TABLE') as TenantDirectory),
    gateway:
      env.LEDGER_TABLE && env.WORKFLOW_TABLE && env.TRACE_TABLE
        ? new DynamoGatewayStore(
            doc,
            { ledger: env.LEDGER_TABLE, workflow: env.WORKFLOW_TABLE, trace: env.TRACE_TABLE },
            required(env, 'TRACE_TTL_DAYS'),
            required(env, 'DEFAULT_MONTHLY_BUDGET_USD'),
            realSleep,
            (message, details) => {
              gatewayLogger.warn(message, details);
            },
          )
        : (unavailable('LEDGER_TABLE, WORKFLOW_TABLE and TRACE_TABLE') as GatewayStore),
    rateLimiter: env.LEDGER_TABLE
      ? new DynamoRateLimiter(doc, env.LEDGER_TABLE)
      : (unavailable('LEDGER_TABLE') as RateLimiter),
    breaker: env.LEDGER_TABLE
      ? new DynamoCircuitBreaker(doc, env.LEDGER_TABLE, env.REIN_ENV, BREAKER_POLICY)
      : (unavailable('LEDGER_TABLE') as CircuitBreaker),
    webhooks: env.WORKFLOW_TABLE
      ? new DynamoWebhookStore(doc, env.WORKFLOW_TABLE)
      : (unavailable('WORKFLOW_TABLE') as WebhookStore),
    eventBus: eventBus ?? (unavailable('EVENT_BUS_NAME') as EventBus),
    webhookTransport: new OutboundWebhookTransport(outboundPolicy(env)),
    metrics: overrides.metrics ?? emfMetrics(env),
    log: logSink(createLogger('rein', env)),
    actions: actionStore ?? (unavailable('WORKFLOW_TABLE') as ActionStore),
    actionTargets: actionStore ?? (unavailable('WORKFLOW_TABLE') as ActionTargetStore),
    signingSecrets:
      signingSecrets ?? (unavailable('the signing secrets (ACTION_SECRETS_PREFIX)') as SigningSecretStore),
    outbound: { send: (request) => sendOutbound(request, policy) },
    settings: {
      environment: env.REIN_ENV,
      webhookRetry: {
        baseSeconds: env.WEBHOOK_RETRY_BASE_SECONDS,
        maxDelaySeconds: env.WEBHOOK_RETRY_MAX_DELAY_SECONDS,
        windowSeconds: env.WEBHOOK_RETRY_WINDOW_SECONDS,
      },
      outboxSweepGraceSeconds: env.OUTBOX_SWEEP_GRACE_SECONDS,
      modelAllowList: env.MODEL_ALLOW_LIST ?? [],
      traceTtlDays: env.TRACE_TTL_DAYS ?? 0,
      attemptTimeoutCapMs: env.MODEL_ATTEMPT_TIMEOUT_MS ?? null,
      outbound: outboundPolicy(env),
      reviewTimeoutSeconds: env.REVIEW_TIMEOUT_SECONDS ?? null,
      outboundPolicy: policy,
      // Functions that touch the ledger enforce rate limits, so they must be configured there.
      rateLimits: env.LEDGER_TABLE
        ? {
            requestsPerMinute: required(env, 'RATE_LIMIT_RPM'),
            tokensPerMinute: required(env, 'RATE_LIMIT_TPM'),
          }
        : { requestsPerMinute: 0, tokensPerMinute: 0 },
    },
  };
}

/** The Lambda runtime's dependencies, built once per container from `process.env`. */
export function lambdaDeps(adapters: SdkAdapters): () => Deps {
  let cached: Deps | null = null;
  return () => {
    cached ??= buildDeps(parseEnv(), adapters);
    return cached;
  };
}
