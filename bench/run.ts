import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { measureBundles } from './bundles.ts';
import { measureDynamo } from './dynamodb.ts';
import { measureGatewayOnDynamo } from './gateway-dynamo.ts';
import { measureGatewayOverhead } from './gateway-overhead.ts';
import { measureReads } from './reads.ts';
import { measureThroughput } from './throughput.ts';
import { fmt } from './stats.ts';
import { measureConsole } from './web-console.ts';

/** Where `npm run bench -- --json` writes its figures (fields documented in the README). */
export const SUMMARY_PATH = 'reports/bench/summary.json';

function commit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/**
 * `npm run bench`: prints figures and ratios measured in this run against baselines measured in
 * the same run. It reports; it never fails on a number. With `--json`, it also writes them to
 * SUMMARY_PATH so they can be compared across commits. Targets: the gateway adds under 5 ms at p99
 * with in-memory ports; at most 2 sequential DynamoDB round trips per provider call.
 */
async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const calls = Math.max(300, Number(process.env['BENCH_CALLS'] ?? 300));
  const lines: string[] = ['Rein benchmarks', ''];

  const web = await measureConsole();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  lines.push(
    'Review console (web/, vite build)',
    `  initial JS   ${kib(web.initialJsGzipBytes)} gzipped (${kib(web.initialJsBytes)} raw, ${web.initialFiles.join(', ')})   (target: ≤ 200 KB gzipped → ${web.initialJsGzipBytes <= 200_000 ? 'met' : 'NOT met'})`,
    `  initial CSS  ${kib(web.cssGzipBytes)} gzipped`,
    ...web.lazy.map((chunk) => `  on demand    ${chunk.file} ${kib(chunk.gzipBytes)} gzipped`),
    '',
  );

  const overhead = await measureGatewayOverhead(calls);
  lines.push(
    `Model gateway vs direct openai SDK call, in-memory ports (${overhead.calls} calls each, order alternated, local model server)`,
    `  direct SDK   p50 ${fmt(overhead.bare.p50)}   p99 ${fmt(overhead.bare.p99)}`,
    `  gateway      p50 ${fmt(overhead.gateway.p50)}   p99 ${fmt(overhead.gateway.p99)}`,
    `  added (paired per call) p50 ${fmt(overhead.addedP50Ms)}   p99 ${fmt(overhead.addedP99Ms)}   ratio p50 ${overhead.ratioP50.toFixed(2)}x   (target: added p99 < 5 ms → ${overhead.addedP99Ms < 5 ? 'met' : 'NOT met'})`,
    '',
  );

  const real = await measureGatewayOnDynamo(calls);
  const { sequential: seq, concurrent: con } = real;
  lines.push(
    `Model gateway vs direct openai SDK call, real DynamoDB adapters on DynamoDB Local (${seq.calls} calls each, order alternated)`,
    `  direct SDK   p50 ${fmt(seq.direct.p50)}   p99 ${fmt(seq.direct.p99)}`,
    `  gateway      p50 ${fmt(seq.gateway.p50)}   p99 ${fmt(seq.gateway.p99)}`,
    `  added (paired per call) p50 ${fmt(seq.addedP50Ms)}   p99 ${fmt(seq.addedP99Ms)}`,
    `  sequential DynamoDB round trips per provider call ${seq.roundTripsPerProviderCall} (before ${seq.roundTripsBeforeProvider}, after ${seq.roundTripsAfterProvider})   (target: ≤ 2 → ${seq.roundTripsPerProviderCall <= 2 ? 'met' : 'NOT met'})`,
    `  DynamoDB requests per call ${seq.requestsPerCall}   items written per call ${seq.itemsWrittenPerCall}`,
    `  at concurrency ${con.concurrency} (${con.calls} calls, batches alternated): direct p50 ${fmt(con.direct.p50)}   gateway p50 ${fmt(con.gateway.p50)}   added p50 ${fmt(con.addedP50Ms)}   p99 ${fmt(con.addedP99Ms)}`,
    `    round trips per provider call ${con.roundTripsPerProviderCall}   requests per call ${con.requestsPerCall}   items written per call ${con.itemsWrittenPerCall}`,
    '',
  );

  const dynamo = await measureDynamo(Number(process.env['BENCH_RUNS'] ?? 10));
  lines.push(
    `DynamoDB requests (local stack, ${dynamo.runs} full runs request → approved; per run includes the bench's own polling of status and trace)`,
    `  per run             reads ${dynamo.perRun.reads}   writes ${dynamo.perRun.writes}   ${JSON.stringify(dynamo.perRun.byCommand)}`,
    `  per model attempt   reads ${dynamo.perModelAttempt.reads}   writes ${dynamo.perModelAttempt.writes}   ${JSON.stringify(dynamo.perModelAttempt.byCommand)}`,
    `  503 then answered   ${dynamo.failedThenAnswered.providerCalls} provider calls: reads ${dynamo.failedThenAnswered.reads}   writes ${dynamo.failedThenAnswered.writes} (${(dynamo.failedThenAnswered.writes / Math.max(1, dynamo.failedThenAnswered.providerCalls)).toFixed(1)} per attempt)   ${JSON.stringify(dynamo.failedThenAnswered.byCommand)}`,
    '',
  );

  const readSizes = [1_000, 10_000];
  const reads = await measureReads(readSizes);
  const [small, large] = reads.sizes;
  lines.push(
    `Reads that stay flat: one tenant with ${readSizes.map((n) => n.toLocaleString('en-US')).join(' and ')} runs/drafts/ledger entries (local HTTP API on DynamoDB Local; median of 15, sizes alternated; items = DynamoDB items read)`,
    `  seeded in ${reads.sizes.map((size) => `${size.seedSeconds} s`).join(' and ')}`,
  );
  if (small && large) {
    for (const [name, ratio] of Object.entries(reads.ratios)) {
      const a = small.reads[name];
      const b = large.reads[name];
      if (!a || !b) continue;
      lines.push(
        `  ${name.padEnd(36)} ${fmt(a.ms).padStart(9)} ${String(a.itemsRead).padStart(4)} items ${String(a.requests).padStart(2)} req   →  ${fmt(b.ms).padStart(9)} ${String(b.itemsRead).padStart(4)} items ${String(b.requests).padStart(2)} req   10× data: time ${ratio.time.toFixed(2)}x items ${ratio.itemsRead.toFixed(2)}x`,
      );
    }
    const flat = Object.values(reads.ratios).every((ratio) => ratio.itemsRead <= 1);
    const fast = Object.values(reads.ratios).every((ratio) => ratio.time <= 1.5);
    lines.push(
      `  (target: items read independent of data size → ${flat ? 'met' : 'NOT met'}; time ratio ≤ 1.5× → ${fast ? 'met' : 'NOT met'})`,
    );
  }
  lines.push('');

  const throughput = await measureThroughput([4, 8, 16], Number(process.env['BENCH_RUNS_PER_CLIENT'] ?? 4));
  lines.push(
    'Throughput of the local stack (clients each start a run and poll it until its draft awaits review)',
  );
  for (const level of throughput) {
    lines.push(
      `  concurrency ${String(level.concurrency).padStart(2)}   ${level.runsPerSecond.toFixed(1).padStart(5)} runs/s   (${level.runs} runs in ${level.seconds.toFixed(1)} s${level.notDone > 0 ? `, ${level.notDone} not done` : ''})`,
    );
  }
  lines.push('');

  const bundles = await measureBundles(Number(process.env['BENCH_IMPORT_SAMPLES'] ?? 5));
  lines.push(
    'Lambda bundles (esbuild, options of infra/constructs/rein-function.ts); cold import p50 vs an empty handler',
  );
  for (const bundle of bundles) {
    lines.push(
      `  ${bundle.name.padEnd(11)} ${(bundle.bytes / 1024).toFixed(1).padStart(8)} KiB   import ${fmt(bundle.coldImportP50Ms).padStart(10)}   ${bundle.ratioToEmpty.toFixed(1)}x`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  if (json) {
    const summary = {
      commit: commit(),
      measuredAt: new Date().toISOString(),
      gateway: { inMemory: overhead, dynamodb: real },
      dynamodbRequests: dynamo,
      reads,
      bundles,
    };
    mkdirSync(dirname(SUMMARY_PATH), { recursive: true });
    writeFileSync(SUMMARY_PATH, `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`\nWrote ${SUMMARY_PATH}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
