import type { SourceId } from '../domain/context.ts';
import type { OutboundPolicy } from '../outbound/address-policy.ts';
import type {
  AccountDirectory,
  ActionStore,
  ActionTargetStore,
  OutboundSender,
  SigningSecretStore,
  CircuitBreaker,
  RateLimiter,
  Clock,
  ContextSource,
  DraftStore,
  EventBus,
  GatewayStore,
  LogSink,
  MetricsSink,
  Ledger,
  ConnectorSecrets,
  ConnectorStore,
  ModelClient,
  RecordStore,
  RunStore,
  TenantDirectory,
  TraceSink,
  WebhookStore,
  WebhookTransport,
  WorkflowEngine,
} from '../ports/index.ts';
import type { RetryPolicy } from '../domain/webhooks.ts';

/** Environment facts the use cases need, resolved from config by each composition root. */
export interface RuntimeSettings {
  environment: string;
  modelAllowList: readonly string[];
  traceTtlDays: number;
  /** Per-tenant limits, enforced across all Lambdas through the RateLimiter. */
  rateLimits: { requestsPerMinute: number; tokensPerMinute: number };
  /** An environment's cap on the per-attempt model timeout, ms (null: the workflow's own). */
  attemptTimeoutCapMs: number | null;
  /** Webhook retries: exponential backoff within a window (≥ 24 h in deployed stages, seconds locally). */
  webhookRetry: RetryPolicy;
  /** How old an undispatched event must be before the scheduled sweep dispatches it (the stream comes first). */
  outboxSweepGraceSeconds: number;
  /** What connectors may reach (shared/outbound): https to public addresses, loopback locally if configured. */
  outbound: OutboundPolicy;
  /** How long a draft waits for review, s: StoreDraft stores the absolute `expiresAt` (null: none). */
  reviewTimeoutSeconds: number | null;
  /** What Rein may send requests to (action targets are checked against it when configured). */
  outboundPolicy: OutboundPolicy;
}

/** Every port a use case may need. Each use case declares the subset it uses with `Pick`. */
export interface Deps {
  clock: Clock;
  runs: RunStore;
  drafts: DraftStore;
  engine: WorkflowEngine;
  traces: TraceSink;
  accounts: AccountDirectory;
  /** The context layer's readers, one per catalogue source (stored records, or a tenant's connector). */
  sources: ReadonlyMap<SourceId, ContextSource>;
  /** The records tenants push through the ingestion API. */
  records: RecordStore;
  /** Tenants' pull connectors (config) and their secrets (Secrets Manager in AWS). */
  connectors: ConnectorStore;
  connectorSecrets: ConnectorSecrets;
  model: ModelClient;
  ledger: Ledger;
  /** The tenants Rein knows (operators register them). */
  tenants: TenantDirectory;
  /** The model gateway's reserve / settle / release transactions. */
  gateway: GatewayStore;
  rateLimiter: RateLimiter;
  breaker: CircuitBreaker;
  /** Webhook subscriptions, deliveries and the outbox's waiting list. */
  webhooks: WebhookStore;
  eventBus: EventBus;
  webhookTransport: WebhookTransport;
  metrics: MetricsSink;
  log: LogSink;
  /** Execution-status writes of approved actions. */
  actions: ActionStore;
  /** Tenants' action targets (settings only; the signing secret is in `signingSecrets`). */
  actionTargets: ActionTargetStore;
  signingSecrets: SigningSecretStore;
  /** The one outbound HTTP path, bound to the environment's outbound policy. */
  outbound: OutboundSender;
  settings: RuntimeSettings;
  /** Waits between provider retries; tests pass a fake that records the delays. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => new Date() };
export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
