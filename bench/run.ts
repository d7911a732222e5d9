import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { measureBundles } from './bundles.ts';
import { measureDynamo } from './dynamodb.ts';
import { measureGatewayOnDynamo } from './gateway-dynamo.ts';
import { measureGatewayOverhead } from './gateway-overhead.ts';
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
