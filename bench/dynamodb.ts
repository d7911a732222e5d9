import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { callModel } from '#shared/usecases/model-call.ts';
import { DEMO_SEED_PATH } from '../infra/local/seed-path.ts';
import { readSeedFile } from '../infra/local/seed/load.ts';
import { startLocalStack } from '../infra/local/stack.ts';

const WRITES = new Set([
  'PutCommand',
  'UpdateCommand',
  'DeleteCommand',
  'TransactWriteCommand',
  'BatchWriteCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

interface Counts {
  reads: number;
  writes: number;
  byCommand: Record<string, number>;
}

/** Counts every DynamoDB request this process sends (all local Lambdas share it) while `work` runs. */
async function counting<T>(work: () => Promise<T>): Promise<{ result: T; counts: Counts }> {
  const counts: Counts = { reads: 0, writes: 0, byCommand: {} };
  // Bench-only instrumentation of the SDK clients' single entry point (every AWS SDK v3 client and
  // the DynamoDB document client go through it once per request); tests never do this.
  const prototype = Object.getPrototypeOf(DynamoDBClient.prototype) as {
    send: (...args: unknown[]) => unknown;
  };
  const original = prototype.send;
  prototype.send = function patched(this: unknown, ...args: unknown[]) {
    const name = (args[0] as { constructor: { name: string } }).constructor.name;
    counts.byCommand[name] = (counts.byCommand[name] ?? 0) + 1;
    if (WRITES.has(name)) counts.writes += 1;
    else counts.reads += 1;
    return original.apply(this, args);
  };
  try {
    return { result: await work(), counts };
  } finally {
    prototype.send = original;
  }
}

export interface DynamoResult {
  runs: number;
  perRun: { reads: number; writes: number; byCommand: Record<string, number> };
  perModelAttempt: { reads: number; writes: number; byCommand: Record<string, number> };
  /** One model-call task whose first provider call gets a 503 and whose retry is answered. */
  failedThenAnswered: {
    providerCalls: number;
    reads: number;
    writes: number;
    byCommand: Record<string, number>;
  };
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('timed out waiting');
}

/** DynamoDB requests of a full run (request → approved) and of one model attempt, on the local stack. */
export async function measureDynamo(runs: number): Promise<DynamoResult> {
  const stack = await startLocalStack({ port: 0, dataDir: null, seed: await readSeedFile(DEMO_SEED_PATH) });
  try {
    const token = await stack.token({ sub: 'mgr-carol', tenantId: 'acme', roles: ['manager'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const adminToken = await stack.token({ sub: 'admin-dave', tenantId: 'acme', roles: ['admin'] });
    const adminHeaders = { authorization: `Bearer ${adminToken}` };
    const runIds: string[] = [];
    const full = await counting(async () => {
      for (let i = 0; i < runs; i += 1) {
        const started = await fetch(`${stack.url}/v1/workflows/renewal-brief/runs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ accountId: 'acct-northwind' }),
        });
        const run = (await started.json()) as { runId: string };
        runIds.push(run.runId);
        let draftId = '';
        await waitFor(async () => {
          const current = (await (await fetch(`${stack.url}/v1/runs/${run.runId}`, { headers })).json()) as {
            status: string;
            draftId: string | null;
          };
          draftId = current.draftId ?? '';
          return current.status === 'awaiting_review';
        });
        await fetch(`${stack.url}/v1/drafts/${draftId}/approve`, { method: 'POST', headers });
        await waitFor(async () => {
          const current = (await (await fetch(`${stack.url}/v1/runs/${run.runId}`, { headers })).json()) as {
            status: string;
          };
          return current.status === 'approved';
        });
        // RecordOutcome goes on after the status (sweep, span): wait for its span, so none of its
        // requests land in the next measurement.
        await waitFor(async () => {
          const trace = (await (
            await fetch(`${stack.url}/v1/runs/${run.runId}/trace`, { headers: adminHeaders })
          ).json()) as {
            spans?: { name: string }[];
          };
          return (trace.spans ?? []).some((span) => span.name === 'review approved');
        });
      }
    });
    // One more model attempt on an existing run, through the real DynamoDB adapters.
    const target = runIds[0] ?? '';
    const attempt = await counting(() =>
      callModel(stack.modelCallDeps, { tenantId: 'acme', runId: target, attempt: 5 }),
    );
    // A failed provider call (503, counted against the model's breaker) and its answered retry.
    const server = stack.modelServer;
    if (!server) throw new Error('The bench needs the local model server.');
    server.addFaults({ faults: [{ kind: 'server_error', status: 503 }] });
    const callsBefore = server.stats().byModel['gpt-4.1-mini']?.requests ?? 0;
    const failed = await counting(() =>
      callModel(stack.modelCallDeps, { tenantId: 'acme', runId: target, attempt: 6 }),
    );
    const providerCalls = (server.stats().byModel['gpt-4.1-mini']?.requests ?? 0) - callsBefore;
    const per = (n: number) => Math.round((n / runs) * 10) / 10;
    return {
      runs,
      perRun: {
        reads: per(full.counts.reads),
        writes: per(full.counts.writes),
        byCommand: Object.fromEntries(Object.entries(full.counts.byCommand).map(([k, v]) => [k, per(v)])),
      },
      perModelAttempt: attempt.counts,
      failedThenAnswered: { providerCalls, ...failed.counts },
    };
  } finally {
    await stack.stop();
  }
}
