import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import { newId } from '#shared/domain/ids.ts';
import type { Run } from '#shared/domain/run.ts';
import type { ModelClient } from '#shared/ports/index.ts';
import { fetchContext } from '#shared/usecases/context.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { callModel } from '#shared/usecases/model-call.ts';
import { buildModelInput, estimateInputTokens } from '#shared/usecases/prompt.ts';
import { livePrompt } from '#shared/workflows/definition.ts';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import { parseEnv } from '#shared/config.ts';
import { StaticSecretSource } from '#shared/adapters/secrets/static-secret-source.ts';
import { buildDeps } from '../functions/commons/deps.ts';
import { openAi } from '../functions/commons/openai.ts';
import { DEMO_SEED_PATH } from '../infra/local/seed-path.ts';
import { readSeedFile } from '../infra/local/seed/load.ts';
import { startLocalStack, type LocalStack } from '../infra/local/stack.ts';
import { percentile } from './stats.ts';

const TENANT = 'acme';
const ACCOUNT = 'acct-northwind';
const WARM_UP = 20;
export const CONCURRENCY = 16;

/** What one model call sent to DynamoDB, attributed through AsyncLocalStorage (so concurrent calls stay apart). */
interface CallTally {
  requests: number;
  itemsWritten: number;
  /** Requests sent while no other request of this call was in flight: the call's sequential round trips. */
  roundTrips: number;
  roundTripsBeforeProvider: number;
  providerCalls: number;
  inFlight: number;
}

const tallies = new AsyncLocalStorage<CallTally>();

/** Items a write request writes (a transaction's ConditionCheck writes nothing). */
function itemsWrittenBy(command: { constructor: { name: string }; input?: unknown }): number {
  const name = command.constructor.name;
  const input = (command.input ?? {}) as {
    TransactItems?: Record<string, unknown>[];
    RequestItems?: Record<string, unknown[]>;
  };
  if (name.startsWith('TransactWrite'))
    return (input.TransactItems ?? []).filter((item) => !('ConditionCheck' in item)).length;
  if (name.startsWith('BatchWrite'))
    return Object.values(input.RequestItems ?? {}).reduce((sum, items) => sum + items.length, 0);
  if (/^(Put|Update|Delete)/.test(name)) return 1;
  return 0;
}

/**
 * Bench-only instrumentation of the SDK clients' single entry point (every AWS SDK v3 client and the
 * document client go through it once per request): counts each request against the call it belongs to.
 */
function instrumentDynamo(): () => void {
  const prototype = Object.getPrototypeOf(DynamoDBClient.prototype) as {
    send: (...args: unknown[]) => Promise<unknown>;
  };
  const original = prototype.send;
  prototype.send = async function patched(this: unknown, ...args: unknown[]) {
    const tally = tallies.getStore();
    if (!tally) return original.apply(this, args);
    tally.requests += 1;
    tally.itemsWritten += itemsWrittenBy(args[0] as { constructor: { name: string }; input?: unknown });
    if (tally.inFlight === 0) {
      tally.roundTrips += 1;
      if (tally.providerCalls === 0) tally.roundTripsBeforeProvider += 1;
    }
    tally.inFlight += 1;
    try {
      return await original.apply(this, args);
    } finally {
      tally.inFlight -= 1;
    }
  };
  return () => {
    prototype.send = original;
  };
}

/** Counts the provider calls of the current model call. */
function countingModel(inner: ModelClient): ModelClient {
  return {
    generate: (request) => {
      const tally = tallies.getStore();
      if (tally) tally.providerCalls += 1;
      return inner.generate(request);
    },
  };
}

export interface PairedLatency {
  calls: number;
  direct: { p50: number; p99: number };
  gateway: { p50: number; p99: number };
  /** Gateway minus direct, paired per call (same iteration or batch slot), p50 and p99. */
  addedP50Ms: number;
  addedP99Ms: number;
}

export interface DynamoGatewayResult {
  sequential: PairedLatency & {
    /** Sequential DynamoDB round trips per provider call: before it, after it, in all (mean). */
    roundTripsBeforeProvider: number;
    roundTripsAfterProvider: number;
    roundTripsPerProviderCall: number;
    requestsPerCall: number;
    itemsWrittenPerCall: number;
  };
  concurrent: PairedLatency & {
    concurrency: number;
    roundTripsPerProviderCall: number;
    requestsPerCall: number;
    itemsWrittenPerCall: number;
  };
}

function summarize(direct: number[], gateway: number[], added: number[]): PairedLatency {
  return {
    calls: gateway.length,
    direct: { p50: percentile(direct, 50), p99: percentile(direct, 99) },
    gateway: { p50: percentile(gateway, 50), p99: percentile(gateway, 99) },
    addedP50Ms: percentile(added, 50),
    addedP99Ms: percentile(added, 99),
  };
}

const mean = (values: readonly number[]) =>
  Math.round((values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length)) * 100) / 100;

/**
 * The model gateway with the real DynamoDB adapters (the model-call Lambda's composition root) on
 * DynamoDB Local, against a direct openai SDK call to the same local model server: single-stream
 * (order alternated per call) and at CONCURRENCY calls at once (batches alternated), each call on a
 * fresh run of the same tenant.
 */
export async function measureGatewayOnDynamo(calls: number): Promise<DynamoGatewayResult> {
  const stack: LocalStack = await startLocalStack({
    port: 0,
    dataDir: null,
    seed: await readSeedFile(DEMO_SEED_PATH),
  });
  const restore = instrumentDynamo();
  try {
    const server = stack.modelServer;
    if (!server) throw new Error('The bench needs the local model server.');
    // The model-call Lambda's composition root, with the records table too (the bench gathers contexts).
    const tableOf = (prefix: string) =>
      Object.entries(stack.tables).find(([logicalId]) => logicalId.startsWith(prefix))?.[1] ?? '';
    const built = buildDeps(
      parseEnv({
        REIN_ENV: 'local',
        AWS_REGION: 'us-east-1',
        DYNAMODB_ENDPOINT: stack.dynamo.endpoint,
        WORKFLOW_TABLE: tableOf('WorkflowTable'),
        RECORDS_TABLE: tableOf('RecordsTable'),
        TRACE_TABLE: tableOf('TraceTable'),
        LEDGER_TABLE: tableOf('LedgerTable'),
        TRACE_TTL_DAYS: '1',
        MODEL_ALLOW_LIST: 'gpt-4.1-mini,gpt-4o-mini',
        OPENAI_BASE_URL: server.url,
        DEFAULT_MONTHLY_BUDGET_USD: '1000000',
        RATE_LIMIT_RPM: '1000000',
        RATE_LIMIT_TPM: '1000000000',
      }),
      openAi,
      { secrets: new StaticSecretSource('local-model-server-key') },
    );
    const deps: Deps = { ...built, model: countingModel(built.model) };
    const month = new Date().toISOString().slice(0, 7);
    await stack.apiDeps.ledger.setBudget(TENANT, month, 1_000_000, new Date());

    const workflow = renewalBrief;
    const prompt = livePrompt(workflow.prompts);
    const sdk = new OpenAI({ apiKey: 'bench', baseURL: server.url, maxRetries: 0 });
    const format = zodTextFormat(RenewalBriefSchema, 'renewal_brief');

    const newRun = async (): Promise<{ run: Run; input: string; inputTokens: number }> => {
      const now = new Date().toISOString();
      const run: Run = {
        runId: newId('run'),
        tenantId: TENANT,
        workflowId: workflow.id,
        requestedBy: 'mgr-carol',
        accountId: ACCOUNT,
        input: { accountId: ACCOUNT },
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
      await deps.runs.createRun(run);
      await fetchContext(deps, { tenantId: TENANT, runId: run.runId });
      const context = await deps.runs.getContext(TENANT, run.runId);
      if (!context) throw new Error('The bench run has no context.');
      // What FetchContext passes to CallModel in the state machine (see shared/workflows/tasks.ts).
      return {
        run,
        input: buildModelInput(context, null),
        inputTokens: estimateInputTokens(workflow, context, null),
      };
    };
    const direct = async (input: string): Promise<number> => {
      const start = performance.now();
      await sdk.responses.create({
        model: 'gpt-4.1-mini',
        instructions: prompt.instructions,
        input,
        text: { format: { type: 'json_schema', name: format.name, schema: format.schema, strict: true } },
        max_output_tokens: workflow.modelPolicy.maxOutputTokens,
        store: false,
      });
      return performance.now() - start;
    };
    const gateway = async (run: Run, inputTokens: number): Promise<{ ms: number; tally: CallTally }> => {
      const tally: CallTally = {
        requests: 0,
        itemsWritten: 0,
        roundTrips: 0,
        roundTripsBeforeProvider: 0,
        providerCalls: 0,
        inFlight: 0,
      };
      const start = performance.now();
      await tallies.run(tally, () =>
        callModel(deps, {
          tenantId: TENANT,
          runId: run.runId,
          attempt: 1,
          workflowId: workflow.id,
          inputTokens,
        }),
      );
      return { ms: performance.now() - start, tally };
    };

    // Single stream, order alternated per call.
    const runs = [];
    for (let i = 0; i < calls + WARM_UP; i += 1) runs.push(await newRun());
    const seq = {
      direct: [] as number[],
      gateway: [] as number[],
      added: [] as number[],
      tallies: [] as CallTally[],
    };
    for (const [i, { run, input, inputTokens }] of runs.entries()) {
      let d: number;
      let g: { ms: number; tally: CallTally };
      if (i % 2 === 0) {
        d = await direct(input);
        g = await gateway(run, inputTokens);
      } else {
        g = await gateway(run, inputTokens);
        d = await direct(input);
      }
      if (i < WARM_UP) continue;
      seq.direct.push(d);
      seq.gateway.push(g.ms);
      seq.added.push(g.ms - d);
      seq.tallies.push(g.tally);
    }

    // CONCURRENCY calls at once, batches alternated.
    const batches = Math.ceil(calls / CONCURRENCY);
    const con = {
      direct: [] as number[],
      gateway: [] as number[],
      added: [] as number[],
      tallies: [] as CallTally[],
    };
    for (let b = 0; b < batches + 2; b += 1) {
      const batch: { run: Run; input: string; inputTokens: number }[] = [];
      for (let j = 0; j < CONCURRENCY; j += 1) batch.push(await newRun());
      const runDirect = () => Promise.all(batch.map(({ input }) => direct(input)));
      const runGateway = () => Promise.all(batch.map(({ run, inputTokens }) => gateway(run, inputTokens)));
      let ds: number[];
      let gs: { ms: number; tally: CallTally }[];
      if (b % 2 === 0) {
        ds = await runDirect();
        gs = await runGateway();
      } else {
        gs = await runGateway();
        ds = await runDirect();
      }
      if (b < 2) continue; // warm-up batches
      for (let j = 0; j < CONCURRENCY; j += 1) {
        const d = ds[j] ?? Number.NaN;
        const g = gs[j];
        if (!g) continue;
        con.direct.push(d);
        con.gateway.push(g.ms);
        con.added.push(g.ms - d);
        con.tallies.push(g.tally);
      }
    }

    const perProvider = (ts: CallTally[], pick: (t: CallTally) => number) =>
      mean(ts.map((t) => pick(t) / Math.max(1, t.providerCalls)));
    return {
      sequential: {
        ...summarize(seq.direct, seq.gateway, seq.added),
        roundTripsBeforeProvider: perProvider(seq.tallies, (t) => t.roundTripsBeforeProvider),
        roundTripsAfterProvider: perProvider(seq.tallies, (t) => t.roundTrips - t.roundTripsBeforeProvider),
        roundTripsPerProviderCall: perProvider(seq.tallies, (t) => t.roundTrips),
        requestsPerCall: mean(seq.tallies.map((t) => t.requests)),
        itemsWrittenPerCall: mean(seq.tallies.map((t) => t.itemsWritten)),
      },
      concurrent: {
        ...summarize(con.direct, con.gateway, con.added),
        concurrency: CONCURRENCY,
        roundTripsPerProviderCall: perProvider(con.tallies, (t) => t.roundTrips),
        requestsPerCall: mean(con.tallies.map((t) => t.requests)),
        itemsWrittenPerCall: mean(con.tallies.map((t) => t.itemsWritten)),
      },
    };
  } finally {
    restore();
    await stack.stop();
  }
}
