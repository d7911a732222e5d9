import { DEMO_SEED_PATH } from '../infra/local/seed-path.ts';
import { readSeedFile } from '../infra/local/seed/load.ts';
import { startLocalStack } from '../infra/local/stack.ts';

export interface ThroughputResult {
  concurrency: number;
  runs: number;
  seconds: number;
  runsPerSecond: number;
  /** Runs that did not reach review (failed, or still running after 60 s): not counted as done. */
  notDone: number;
}

/**
 * Runs per second of the whole local stack (HTTP API, engine, DynamoDB Local, local model server)
 * with `concurrency` clients, each starting a run and polling it until its draft awaits review
 * (request → FetchContext → CallModel → ValidateOutput → StoreDraft → AwaitReview), then the next.
 */
export async function measureThroughput(
  concurrencies: readonly number[],
  runsPerClient: number,
): Promise<ThroughputResult[]> {
  const stack = await startLocalStack({
    port: 0,
    dataDir: null,
    seed: await readSeedFile(DEMO_SEED_PATH),
    // Only the stack's speed may limit the runs, not the tenant's rate limits.
    configOverrides: { rateLimits: { requestsPerMinute: 100_000, tokensPerMinute: 1_000_000_000 } },
  });
  try {
    const token = await stack.token({ sub: 'mgr-carol', tenantId: 'acme', roles: ['manager'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const oneRun = async (): Promise<boolean> => {
      const started = await fetch(`${stack.url}/v1/workflows/renewal-brief/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ accountId: 'acct-northwind' }),
      });
      if (started.status !== 202) return false;
      const { runId } = (await started.json()) as { runId: string };
      for (let i = 0; i < 600; i += 1) {
        const run = (await (await fetch(`${stack.url}/v1/runs/${runId}`, { headers })).json()) as {
          status: string;
        };
        if (run.status === 'awaiting_review') return true;
        if (run.status !== 'running') return false;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    };
    // One warm-up run per level, outside the measurement (module caches, JIT, DynamoDB Local).
    await oneRun();
    const results: ThroughputResult[] = [];
    for (const concurrency of concurrencies) {
      const start = performance.now();
      let done = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = 0; i < runsPerClient; i += 1) if (await oneRun()) done += 1;
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      const runs = concurrency * runsPerClient;
      results.push({ concurrency, runs, seconds, runsPerSecond: done / seconds, notDone: runs - done });
    }
    return results;
  } finally {
    await stack.stop();
  }
}
