import type { SourceId } from '#shared/domain/context.ts';
import { STRICT_OUTBOUND_POLICY } from '#shared/outbound/address-policy.ts';
import type { ContextSource } from '#shared/ports/index.ts';
import type { Deps, RuntimeSettings } from '#shared/usecases/deps.ts';
import { FakeAccountDirectory } from './accounts.ts';
import { FakeClock } from './clock.ts';
import { RecordingEngine } from './engine.ts';
import { InMemoryGatewayStore } from './gateway-store.ts';
import { InMemoryLedger } from './ledger.ts';
import { InMemoryTenantDirectory } from './tenant-directory.ts';
import { ScriptedModelClient } from './model-client.ts';
import { FakeCircuitBreaker, InMemoryRateLimiter } from './rate-limiter.ts';
import { InMemoryConnectorStore, InMemoryRecordStore } from './record-store.ts';
import { LocalConnectorSecrets } from '#shared/adapters/secrets/connector-secrets.ts';
import { InMemoryTraceSink } from './trace-sink.ts';
import { InMemoryWorkflowStore } from './workflow-store.ts';
import {
  InMemoryWebhookStore,
  RecordingEventBus,
  RecordingLog,
  RecordingMetrics,
  ScriptedWebhookTransport,
} from './webhooks.ts';
import { FakeOutbound, InMemoryActionTargets, InMemorySigningSecrets } from './actions.ts';

/** `Deps` with the concrete fakes exposed, so tests can script them and inspect what happened. */
export interface TestDeps extends Deps {
  clock: FakeClock;
  runs: InMemoryWorkflowStore;
  drafts: InMemoryWorkflowStore;
  engine: RecordingEngine;
  traces: InMemoryTraceSink;
  accounts: FakeAccountDirectory;
  records: InMemoryRecordStore;
  connectors: InMemoryConnectorStore;
  connectorSecrets: LocalConnectorSecrets;
  model: ScriptedModelClient;
  ledger: InMemoryLedger;
  tenants: InMemoryTenantDirectory;
  gateway: InMemoryGatewayStore;
  rateLimiter: InMemoryRateLimiter;
  breaker: FakeCircuitBreaker;
  webhooks: InMemoryWebhookStore;
  eventBus: RecordingEventBus;
  webhookTransport: ScriptedWebhookTransport;
  metrics: RecordingMetrics;
  log: RecordingLog;
  actionTargets: InMemoryActionTargets;
  signingSecrets: InMemorySigningSecrets;
  outbound: FakeOutbound;
  /** Every delay passed to `sleep`, in ms, in order. */
  sleeps: number[];
}

export const TEST_SETTINGS: RuntimeSettings = {
  environment: 'test',
  modelAllowList: ['gpt-4.1-mini', 'gpt-4o-mini'],
  traceTtlDays: 7,
  rateLimits: { requestsPerMinute: 100, tokensPerMinute: 1_000_000 },
  attemptTimeoutCapMs: null,
  webhookRetry: { baseSeconds: 10, maxDelaySeconds: 3600, windowSeconds: 24 * 60 * 60 },
  outboxSweepGraceSeconds: 0,
  outbound: STRICT_OUTBOUND_POLICY,
  reviewTimeoutSeconds: null,
  outboundPolicy: STRICT_OUTBOUND_POLICY,
};

export interface DepsOverrides {
  clock?: FakeClock;
  store?: InMemoryWorkflowStore;
  engine?: RecordingEngine;
  traces?: InMemoryTraceSink;
  accounts?: FakeAccountDirectory;
  sources?: ReadonlyMap<SourceId, ContextSource>;
  records?: InMemoryRecordStore;
  connectors?: InMemoryConnectorStore;
  connectorSecrets?: LocalConnectorSecrets;
  model?: ScriptedModelClient;
  ledger?: InMemoryLedger;
  tenants?: InMemoryTenantDirectory;
  rateLimiter?: InMemoryRateLimiter;
  breaker?: FakeCircuitBreaker;
  outbound?: FakeOutbound;
  settings?: Partial<RuntimeSettings>;
  webhookTransport?: ScriptedWebhookTransport;
}

/**
 * A full set of in-memory dependencies. `sleep` records the delay and moves the fake clock by it
 * instead of waiting, so deadlines behave as they would in real time.
 */
export function makeDeps(overrides: DepsOverrides = {}): TestDeps {
  const clock = overrides.clock ?? new FakeClock();
  const store = overrides.store ?? new InMemoryWorkflowStore();
  const sleeps: number[] = [];
  const ledger = overrides.ledger ?? new InMemoryLedger();
  const rateLimiter = overrides.rateLimiter ?? new InMemoryRateLimiter();
  const breaker = overrides.breaker ?? new FakeCircuitBreaker();
  const traces = overrides.traces ?? new InMemoryTraceSink();
  return {
    clock,
    runs: store,
    drafts: store,
    engine: overrides.engine ?? new RecordingEngine(),
    traces,
    accounts: overrides.accounts ?? new FakeAccountDirectory(),
    sources: overrides.sources ?? new Map(),
    records: overrides.records ?? new InMemoryRecordStore(),
    connectors: overrides.connectors ?? new InMemoryConnectorStore(),
    connectorSecrets: overrides.connectorSecrets ?? new LocalConnectorSecrets(),
    model: overrides.model ?? new ScriptedModelClient(),
    ledger,
    tenants: overrides.tenants ?? new InMemoryTenantDirectory(),
    gateway: new InMemoryGatewayStore(ledger, store, rateLimiter, traces),
    rateLimiter,
    breaker,
    webhooks: new InMemoryWebhookStore(),
    eventBus: new RecordingEventBus(),
    webhookTransport: overrides.webhookTransport ?? new ScriptedWebhookTransport(),
    metrics: new RecordingMetrics(),
    log: new RecordingLog(),
    actions: store,
    actionTargets: new InMemoryActionTargets(),
    signingSecrets: new InMemorySigningSecrets(),
    outbound: overrides.outbound ?? new FakeOutbound(),
    settings: { ...TEST_SETTINGS, ...overrides.settings },
    sleeps,
    sleep: (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
  };
}
