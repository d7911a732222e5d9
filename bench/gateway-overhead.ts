import { DEPLOYED_RETRY_POLICY } from '#shared/domain/webhooks.ts';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import type { ContextObject } from '#shared/domain/context.ts';
import type { Run } from '#shared/domain/run.ts';
import { STRICT_OUTBOUND_POLICY } from '#shared/outbound/address-policy.ts';
import { OpenAiModelClient } from '#shared/adapters/openai/model-client.ts';
import type {
  AttemptRecord,
  Budget,
  GatewayStore,
  Ledger,
  RunStore,
  TraceSink,
} from '#shared/ports/index.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import { buildModelInput } from '#shared/usecases/prompt.ts';
import { livePrompt } from '#shared/workflows/definition.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import { startModelServer } from '../infra/local/model-server/index.ts';
import { percentile } from './stats.ts';

/** The smallest in-memory ports callModel needs, so the bench measures the gateway's own work. */
function memoryDeps(
  model: OpenAiModelClient,
  run: Run,
  context: ContextObject,
): Pick<
  Deps,
  | 'clock'
  | 'runs'
  | 'traces'
  | 'model'
  | 'gateway'
  | 'settings'
  | 'sleep'
  | 'breaker'
  | 'metrics'
  | 'ledger'
  | 'log'
> {
  const attempts = new Map<string, AttemptRecord>();
  const runs: Pick<RunStore, 'getRun' | 'getContext' | 'getAttempt' | 'updateRun'> = {
    getRun: () => Promise.resolve(run),
    getContext: () => Promise.resolve(context),
    getAttempt: (_t, runId, attempt) => Promise.resolve(attempts.get(`${runId}#${attempt}`) ?? null),
    updateRun: () => Promise.resolve(run),
  };
  const gateway: GatewayStore = {
    reserve: () => Promise.resolve({ reserved: true }),
    settle: ({ attempt }) => {
      attempts.set(`${run.runId}#${attempt.attempt}`, attempt);
      return Promise.resolve();
    },
    release: () => Promise.resolve(),
    sweepExpired: () => Promise.resolve([]),
  };
  const traces: TraceSink = { record: () => Promise.resolve(), list: () => Promise.resolve([]) };
  // The budget alert check after each settle reads the month's budget: nothing is spent, nothing crossed.
  const budget = (tenantId: string, month: string): Budget => ({
    tenantId,
    month,
    limitUsd: 1e9,
    spentUsd: 0,
    reservedUsd: 0,
    availableUsd: 1e9,
    alertThresholdsPercent: [],
    alertsSentPercent: [],
  });
  const ledger: Ledger = {
    getBudget: (tenantId, month) => Promise.resolve(budget(tenantId, month)),
    setBudget: (tenantId, month) => Promise.resolve(budget(tenantId, month)),
    recordBudgetAlert: () => Promise.resolve(false),
    listEntries: () => Promise.resolve([]),
    readCostRollups: () => Promise.resolve([]),
  };
  return {
    ledger,
    log: { info: () => undefined, warn: () => undefined },
    clock: { now: () => new Date() },
    sleep: () => Promise.resolve(),
    runs: runs as RunStore,
    traces,
    model,
    gateway,
    breaker: {
      check: () => Promise.resolve({ open: false, failures: 0 }),
      recordFailure: () => Promise.resolve(),
      clearFailures: () => Promise.resolve(),
    },
    metrics: { count: () => undefined, measure: () => undefined },
    settings: {
      environment: 'bench',
      modelAllowList: ['gpt-4.1-mini'],
      traceTtlDays: 1,
      outbound: STRICT_OUTBOUND_POLICY,
      rateLimits: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
      attemptTimeoutCapMs: null,
      webhookRetry: DEPLOYED_RETRY_POLICY,
      outboxSweepGraceSeconds: 0,
      reviewTimeoutSeconds: null,
      outboundPolicy: STRICT_OUTBOUND_POLICY,
    },
  };
}

export interface OverheadResult {
  calls: number;
  bare: { p50: number; p99: number };
  gateway: { p50: number; p99: number };
  addedP50Ms: number;
  addedP99Ms: number;
  ratioP50: number;
}

/**
 * The gateway's added latency per model call: the bare SDK call and `callModel` (in-memory ports,
 * the real OpenAI adapter) against the same local model server, interleaved so both see the same
 * machine state.
 */
export async function measureGatewayOverhead(calls: number): Promise<OverheadResult> {
  const server = await startModelServer({ port: 0 });
  try {
    const now = new Date().toISOString();
    const context: ContextObject = {
      workflowId: 'renewal-brief',
      accountId: 'acct-bench',
      fetchedAt: now,
      notes: null,
      items: [
        {
          id: 'crm:acct-bench',
          source: 'crm',
          recordId: 'acct-bench',
          fields: { name: 'Bench Corp', segment: 'enterprise', arr: 100000 },
          provenance: { fetchedAt: now, contentHash: 'sha256:0' },
        },
      ],
      dataGaps: [],
    };
    const prompt = livePrompt(renewalBrief.prompts);
    const input = buildModelInput(context, null);
    const sdk = new OpenAI({ apiKey: 'bench', baseURL: server.url, maxRetries: 0 });
    const format = zodTextFormat(RenewalBriefSchema, 'renewal_brief');
    const adapter = new OpenAiModelClient({ apiKey: () => Promise.resolve('bench'), baseURL: server.url });
    const bare: number[] = [];
    const gateway: number[] = [];
    const added: number[] = [];
    const bareCall = () =>
      sdk.responses.create({
        model: 'gpt-4.1-mini',
        instructions: prompt.instructions,
        input,
        text: { format: { type: 'json_schema', name: format.name, schema: format.schema, strict: true } },
        max_output_tokens: renewalBrief.modelPolicy.maxOutputTokens,
        store: false,
      });
    for (let i = 0; i < calls + 20; i += 1) {
      const run: Run = {
        runId: `run_bench${String(i).padStart(22, '0')}`,
        tenantId: 'bench',
        workflowId: 'renewal-brief',
        requestedBy: 'bench',
        accountId: 'acct-bench',
        input: { accountId: 'acct-bench' },
        status: 'running',
        draftId: null,
        error: null,
        costUsd: 0,
        promptId: prompt.id,
        promptVersion: prompt.version,
        model: null,
        createdAt: now,
        updatedAt: now,
      };
      const gatewayCall = () =>
        callModel(memoryDeps(adapter, run, context), { tenantId: 'bench', runId: run.runId, attempt: 1 });
      const timed = async (call: () => Promise<unknown>) => {
        const start = performance.now();
        await call();
        return performance.now() - start;
      };
      // Order alternated per iteration, so neither side always runs on a warmer machine.
      let b: number;
      let g: number;
      if (i % 2 === 0) {
        b = await timed(bareCall);
        g = await timed(gatewayCall);
      } else {
        g = await timed(gatewayCall);
        b = await timed(bareCall);
      }
      // The first 20 of each warm up the JIT and the connection pool.
      if (i >= 20) {
        bare.push(b);
        gateway.push(g);
        // Paired: the same iteration's gateway call minus its bare call, so machine noise cancels out.
        added.push(g - b);
      }
    }
    const b = { p50: percentile(bare, 50), p99: percentile(bare, 99) };
    const g = { p50: percentile(gateway, 50), p99: percentile(gateway, 99) };
    return {
      calls,
      bare: b,
      gateway: g,
      addedP50Ms: percentile(added, 50),
      addedP99Ms: percentile(added, 99),
      ratioP50: g.p50 / b.p50,
    };
  } finally {
    await server.close();
  }
}
