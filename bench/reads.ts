import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { DynamoGatewayStore } from '#shared/adapters/dynamodb/gateway-store.ts';
import { DynamoLedger, ledgerEntryItem } from '#shared/adapters/dynamodb/ledger.ts';
import { costCellUpdate, reviewCellUpdate, rollupShard } from '#shared/adapters/dynamodb/rollups.ts';
import { draftItem, DynamoWorkflowStore, runItem } from '#shared/adapters/dynamodb/workflow-store.ts';
import { costRollupsOf, reviewRollupsOf } from '#shared/domain/rollups.ts';
import { roundUsd } from '#shared/domain/pricing.ts';
import type { Draft, DraftStatus } from '#shared/domain/draft.ts';
import { newId } from '#shared/domain/ids.ts';
import type { Run, RunStatus } from '#shared/domain/run.ts';
import type { LedgerEntry, LedgerEntryTags, Reservation } from '#shared/ports/index.ts';
import { buildSpan } from '#shared/usecases/tracing.ts';
import { DEMO_SEED_PATH } from '../infra/local/seed-path.ts';
import { readSeedFile } from '../infra/local/seed/load.ts';
import { startLocalStack, type LocalStack } from '../infra/local/stack.ts';
import { percentile } from './stats.ts';

/**
 * What one read of the API cost: wall time through the local HTTP API (median of the repetitions),
 * DynamoDB requests and items read (the fewest seen across the repetitions).
 */
export interface ReadCost {
  ms: number;
  requests: number;
  itemsRead: number;
}

export interface ReadsAtSize {
  size: number;
  seedSeconds: number;
  reads: Record<string, ReadCost>;
}

export interface ReadsResult {
  sizes: ReadsAtSize[];
  /** Per read: the figures at the largest size divided by those at the smallest (10× the data). */
  ratios: Record<string, { time: number; itemsRead: number }>;
}

const REPETITIONS = 15;
const SEED_CONCURRENCY = Number(process.env['BENCH_SEED_CONCURRENCY'] ?? 8);

/**
 * Counts what DynamoDB answers while `work` runs, in this process (the local API shares it): requests,
 * and items read — `ScannedCount` of each Query or Scan (what DynamoDB reads before any filter), 1 per
 * item a GetItem returns, the items of a BatchGetItem. Bench-only instrumentation of the SDK clients'
 * single entry point, like bench/dynamodb.ts; tests never do this.
 */
async function countingReads<T>(
  work: () => Promise<T>,
): Promise<{ result: T; requests: number; itemsRead: number }> {
  const prototype = Object.getPrototypeOf(DynamoDBClient.prototype) as {
    send: (...args: unknown[]) => Promise<unknown>;
  };
  const original = prototype.send;
  let requests = 0;
  let itemsRead = 0;
  prototype.send = async function patched(this: unknown, ...args: unknown[]) {
    requests += 1;
    const output = (await original.apply(this, args)) as {
      ScannedCount?: number;
      Item?: unknown;
      Responses?: Record<string, unknown[]> | unknown[];
    };
    if (typeof output.ScannedCount === 'number') itemsRead += output.ScannedCount;
    else if (output.Item) itemsRead += 1;
    else if (output.Responses && !Array.isArray(output.Responses)) {
      itemsRead += Object.values(output.Responses).reduce((sum, items) => sum + items.length, 0);
    }
    return output;
  };
  try {
    return { result: await work(), requests, itemsRead };
  } finally {
    prototype.send = original;
  }
}

/** Runs `task` over `count` indexes, `concurrency` at a time. */
async function pool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        await task(index);
      }
    }),
  );
}

const RUN_STATUSES: RunStatus[] = ['approved', 'awaiting_review', 'failed', 'escalated'];
const DRAFT_STATUSES: DraftStatus[] = ['approved', 'awaiting_review', 'expired', 'escalated'];
const MODELS = ['gpt-4.1-mini', 'gpt-4o-mini'];
/** Items seeded one by one through the adapters' transactional write paths; the rest in batches. */
const REAL_PATH_ITEMS = 100;

/** The run, draft and charge of seed item `index`, dated on a day of the current month so far. */
function seedItem(tenantId: string, index: number, now: Date) {
  const days = now.getUTCDate();
  const created = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), (index % days) + 1, 8, 0, 0, index % 1000),
  );
  const accountId = `acct-${String(index % 50)}`;
  const requestedBy = `csm-${String(index % 10)}`;
  const model = MODELS[index % 2] ?? 'gpt-4.1-mini';
  const costUsd = roundUsd(0.001 + (index % 97) / 100_000);
  const run: Run = {
    runId: newId('run'),
    tenantId,
    workflowId: 'renewal-brief',
    requestedBy,
    accountId,
    input: { accountId },
    status: RUN_STATUSES[index % RUN_STATUSES.length] ?? 'approved',
    draftId: null,
    error: null,
    costUsd: 0,
    promptId: 'renewal-brief',
    promptVersion: 'v2',
    model: null,
    createdAt: created.toISOString(),
    updatedAt: created.toISOString(),
  };
  const status = DRAFT_STATUSES[index % DRAFT_STATUSES.length] ?? 'approved';
  const decided = status === 'approved' || status === 'expired';
  const draft: Draft = {
    draftId: newId('draft'),
    runId: run.runId,
    tenantId,
    workflowId: 'renewal-brief',
    ownerId: requestedBy,
    accountId,
    status,
    version: 1,
    content: { summary: 'x'.repeat(2000) },
    original: { summary: 'x'.repeat(2000) },
    evidence: [],
    promptId: 'renewal-brief',
    promptVersion: 'v2',
    model,
    escalation: status === 'escalated' ? { by: 'mgr-carol', reason: null, at: created.toISOString() } : null,
    outcome: decided
      ? {
          decision: status === 'approved' ? 'approved' : 'expired',
          reviewer: status === 'approved' ? requestedBy : null,
          reason: null,
          editDistance: status === 'approved' ? (index % 3) / 10 : 0,
          timeToDecisionMs: status === 'approved' ? 60_000 + index : 0,
          decidedAt: created.toISOString(),
        }
      : null,
    actions: [],
    createdAt: created.toISOString(),
    updatedAt: created.toISOString(),
  };
  const reservation: Reservation = {
    tenantId,
    runId: run.runId,
    attempt: 1,
    attemptKey: `1.${model}.1`,
    model,
    amountUsd: 0.01,
    month: created.toISOString().slice(0, 7),
    owner: `bench_${String(index)}`,
    leaseUntil: created.getTime() + 60_000,
  };
  const tags: LedgerEntryTags = {
    tenantId,
    workflowId: 'renewal-brief',
    runId: run.runId,
    userId: requestedBy,
    accountId,
    model,
    promptId: 'renewal-brief',
    promptVersion: 'v2',
    environment: 'bench',
  };
  const usage = { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 150, reasoningTokens: 0 };
  return { created, run, draft, reservation, tags, usage, costUsd, model };
}

/**
 * Seeds `size` runs, drafts and ledger entries for one tenant. The first REAL_PATH_ITEMS go one by one
 * through the real adapters' write paths: `createRun`, `createDraft` (the draft with its review
 * counters, one transaction) and the gateway's `reserve` + `settle` (hold, budget, entry, cost
 * rollups, attempt, run cost, span). DynamoDB Local takes tens of ms per transaction on this machine,
 * so the rest is written in batches (BatchWriteItem, 25 a request) of the same items the adapters
 * build (runItem, draftItem, ledgerEntryItem, the run's cost included), with the rollup cells they
 * add up to written once per cell (costCellUpdate, reviewCellUpdate): what the reads see is the same.
 */
async function seedTenant(stack: LocalStack, tenantId: string, size: number): Promise<void> {
  const doc = createDocumentClient({ region: 'us-east-1', endpoint: stack.dynamo.endpoint });
  const table = (prefix: string) => {
    const name = Object.entries(stack.tables).find(([id]) => id.startsWith(prefix))?.[1];
    if (!name) throw new Error(`no ${prefix}`);
    return name;
  };
  const workflowTable = table('WorkflowTable');
  const ledgerTable = table('LedgerTable');
  const store = new DynamoWorkflowStore(doc, workflowTable);
  const ledger = new DynamoLedger(doc, ledgerTable, 1_000_000);
  const gateway = new DynamoGatewayStore(
    doc,
    { ledger: ledgerTable, workflow: workflowTable, trace: table('TraceTable') },
    1,
    1_000_000,
  );
  const now = new Date();
  await ledger.setBudget(tenantId, now.toISOString().slice(0, 7), 1_000_000, now);
  const items = Array.from({ length: size }, (_, index) => seedItem(tenantId, index, now));

  const real = items.slice(0, REAL_PATH_ITEMS);
  await pool(real.length, SEED_CONCURRENCY, async (index) => {
    const item = real[index];
    if (!item) return;
    await store.createRun(item.run);
    await store.createDraft(item.draft);
    const tokens = { key: `${tenantId}#tpm#${String(index % 16)}`, tokens: 1, limitPerMinute: 1_000_000_000 };
    const held = await gateway.reserve(item.reservation, 100, tokens, item.created);
    if (!held.reserved) throw new Error(`seed reservation refused: ${JSON.stringify(held)}`);
    await gateway.settle(
      {
        attempt: {
          attempt: 1,
          model: item.model,
          outputText: '{}',
          refusal: null,
          finishReason: 'completed',
          validationErrors: null,
          costUsd: item.costUsd,
          billing: { reservation: item.reservation, usage: item.usage, priceVersion: 'bench' },
        },
        tags: item.tags,
        span: buildSpan(tenantId, item.run.runId, {
          name: `chat ${item.model}`,
          kind: 'model_attempt',
          start: item.created,
          end: item.created,
          status: 'ok',
          attributes: {},
        }),
      },
      item.created,
    );
  });

  const bulk = items.slice(REAL_PATH_ITEMS);
  const puts: { table: string; item: Record<string, unknown> }[] = [];
  const entries: LedgerEntry[] = [];
  for (const item of bulk) {
    puts.push({
      table: workflowTable,
      item: runItem({ ...item.run, costUsd: item.costUsd, model: item.model }),
    });
    puts.push({ table: workflowTable, item: draftItem(item.draft) });
    const entry = ledgerEntryItem(
      item.reservation,
      { costUsd: item.costUsd, usage: item.usage, priceVersion: 'bench', estimated: false },
      item.tags,
      item.created,
    );
    puts.push({ table: ledgerTable, item: entry });
    entries.push({ ...entry, runId: item.run.runId });
  }
  const batches = Array.from({ length: Math.ceil(puts.length / 25) }, (_, i) =>
    puts.slice(i * 25, i * 25 + 25),
  );
  await pool(batches.length, SEED_CONCURRENCY, async (index) => {
    let requests: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> = {};
    for (const put of batches[index] ?? []) {
      (requests[put.table] ??= []).push({ PutRequest: { Item: put.item } });
    }
    for (let tries = 0; Object.keys(requests).length > 0; tries += 1) {
      if (tries > 10) throw new Error('BatchWriteItem left items unprocessed');
      const result = await doc.send(new BatchWriteCommand({ RequestItems: requests }));
      requests = (result.UnprocessedItems ?? {}) as typeof requests;
    }
  });
  // The rollup cells the bulk items add to, once per cell (the same cells, shards and attributes).
  const byShard = <T>(values: readonly T[], id: (value: T) => string) => {
    const shards = new Map<number, T[]>();
    for (const value of values) {
      const shard = rollupShard(id(value));
      shards.set(shard, [...(shards.get(shard) ?? []), value]);
    }
    return shards;
  };
  const updates = [
    ...[...byShard(entries, (entry) => entry.runId)].flatMap(([shard, ofShard]) =>
      costRollupsOf(ofShard, false).map((cell) =>
        costCellUpdate(ledgerTable, cell, cell, { detail: false, shard }),
      ),
    ),
    ...costRollupsOf(entries, true).map((cell) => costCellUpdate(ledgerTable, cell, cell, { detail: true })),
    ...[
      ...byShard(
        bulk.map((item) => item.draft),
        (draft) => draft.draftId,
      ),
    ].flatMap(([shard, ofShard]) =>
      reviewRollupsOf(ofShard).map((cell) => reviewCellUpdate(workflowTable, cell, shard)),
    ),
  ];
  await pool(updates.length, SEED_CONCURRENCY, async (index) => {
    const update = updates[index];
    if (update) await doc.send(new UpdateCommand(update.Update));
  });
}

/**
 * `GET` reads of the API at 1,000 and 10,000 runs/drafts/ledger entries of one tenant (each size a
 * tenant of its own on the same tables): the ledger by day, by model and as CSV, the metrics, the
 * drafts filtered by a status without a match and by one with matches, the runs list and the most
 * expensive runs. Target: items read independent of the data size; time ratio ≤ 1.5×.
 */
export async function measureReads(sizes: readonly number[]): Promise<ReadsResult> {
  const stack = await startLocalStack({ port: 0, dataDir: null, seed: await readSeedFile(DEMO_SEED_PATH) });
  try {
    const tenants: { size: number; seedSeconds: number; admin: string; manager: string }[] = [];
    for (const size of sizes) {
      const tenantId = `bench${String(size)}`;
      const started = performance.now();
      await seedTenant(stack, tenantId, size);
      tenants.push({
        size,
        seedSeconds: Math.round((performance.now() - started) / 100) / 10,
        admin: await stack.token({ sub: 'admin-bench', tenantId, roles: ['admin'] }),
        manager: await stack.token({ sub: 'mgr-bench', tenantId, roles: ['manager'] }),
      });
    }
    const today = new Date().toISOString().slice(0, 10);
    const first = `${today.slice(0, 7)}-01`;
    const reads: [string, 'admin' | 'manager', string][] = [
      ['ledger groupBy=day', 'admin', '/v1/ledger?groupBy=day'],
      ['ledger groupBy=model', 'admin', '/v1/ledger?groupBy=model'],
      ['ledger groupBy=account,day', 'admin', '/v1/ledger?groupBy=account,day'],
      ['ledger CSV (groupBy=day)', 'admin', '/v1/ledger?groupBy=day&format=csv'],
      ['metrics (month)', 'manager', `/v1/metrics?from=${first}&to=${today}`],
      ['drafts status=rejected (no match)', 'manager', '/v1/drafts?status=rejected'],
      ['drafts status=awaiting_review', 'manager', '/v1/drafts?status=awaiting_review'],
      ['runs list', 'manager', '/v1/runs'],
      ['runs status=failed', 'manager', '/v1/runs?status=failed'],
      ['ledger top-runs limit=10', 'admin', '/v1/ledger/top-runs?limit=10'],
    ];
    const results: ReadsAtSize[] = tenants.map((tenant) => ({
      size: tenant.size,
      seedSeconds: tenant.seedSeconds,
      reads: {},
    }));
    for (const [name, role, path] of reads) {
      const samples = tenants.map(() => ({ times: [] as number[], requests: Infinity, itemsRead: Infinity }));
      // The sizes alternate within each repetition, so load on the machine hits both alike.
      for (let repetition = 0; repetition <= REPETITIONS; repetition += 1) {
        for (const [index, tenant] of tenants.entries()) {
          const get = async () => {
            const response = await fetch(`${stack.url}${path}`, {
              headers: { authorization: `Bearer ${tenant[role]}` },
            });
            const text = await response.text();
            if (response.status !== 200) throw new Error(`${path}: ${String(response.status)} ${text}`);
          };
          const start = performance.now();
          const { requests, itemsRead } = await countingReads(get);
          const elapsed = performance.now() - start;
          const sample = samples[index];
          // Repetition 0 warms up.
          if (sample && repetition > 0) {
            sample.times.push(elapsed);
            // The fewest seen: the local stack's background work (the outbox drainer, sweeps) shares
            // this process and can add requests to a window, never take them away.
            sample.requests = Math.min(sample.requests, requests);
            sample.itemsRead = Math.min(sample.itemsRead, itemsRead);
          }
        }
      }
      for (const [index, sample] of samples.entries()) {
        const result = results[index];
        if (result) {
          result.reads[name] = {
            ms: Math.round(percentile(sample.times, 50) * 100) / 100,
            requests: sample.requests,
            itemsRead: sample.itemsRead,
          };
        }
      }
    }
    const smallest = results[0];
    const largest = results[results.length - 1];
    const ratios: ReadsResult['ratios'] = {};
    if (smallest && largest) {
      for (const [name, cost] of Object.entries(largest.reads)) {
        const base = smallest.reads[name];
        if (!base) continue;
        ratios[name] = {
          time: Math.round((cost.ms / base.ms) * 100) / 100,
          itemsRead:
            base.itemsRead === 0
              ? cost.itemsRead === 0
                ? 1
                : Infinity
              : Math.round((cost.itemsRead / base.itemsRead) * 100) / 100,
        };
      }
    }
    return { sizes: results, ratios };
  } finally {
    await stack.stop();
  }
}
