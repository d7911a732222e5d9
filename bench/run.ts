import { measureBundles } from './bundles.ts';
import { measureDynamo } from './dynamodb.ts';
import { measureGatewayOverhead } from './gateway-overhead.ts';
import { fmt } from './stats.ts';
import { measureConsole } from './web-console.ts';

/**
 * `npm run bench`: prints figures and ratios measured in this run against baselines measured in
 * the same run. It reports; it never fails on a number. Targets (issue 3): the gateway adds under
 * 5 ms at p99 with in-memory ports; at most 3 DynamoDB writes per model attempt.
 */
async function main(): Promise<void> {
  const calls = Number(process.env['BENCH_CALLS'] ?? 300);
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
    `Model gateway vs bare openai SDK (${overhead.calls} calls each, local model server, in-memory ports)`,
    `  bare SDK     p50 ${fmt(overhead.bare.p50)}   p99 ${fmt(overhead.bare.p99)}`,
    `  gateway      p50 ${fmt(overhead.gateway.p50)}   p99 ${fmt(overhead.gateway.p99)}`,
    `  added (paired per call) p50 ${fmt(overhead.addedP50Ms)}   p99 ${fmt(overhead.addedP99Ms)}   ratio p50 ${overhead.ratioP50.toFixed(2)}x   (target: added p99 < 5 ms → ${overhead.addedP99Ms < 5 ? 'met' : 'NOT met'})`,
    '',
  );

  const dynamo = await measureDynamo(Number(process.env['BENCH_RUNS'] ?? 10));
  lines.push(
    `DynamoDB requests (local stack, ${dynamo.runs} full runs request → approved; per run includes the bench's own polling of status and trace)`,
    `  per run             reads ${dynamo.perRun.reads}   writes ${dynamo.perRun.writes}   ${JSON.stringify(dynamo.perRun.byCommand)}`,
    `  per model attempt   reads ${dynamo.perModelAttempt.reads}   writes ${dynamo.perModelAttempt.writes}   ${JSON.stringify(dynamo.perModelAttempt.byCommand)}   (target: ≤ 3 writes → ${dynamo.perModelAttempt.writes <= 3 ? 'met' : 'NOT met'})`,
    `  503 then answered   ${dynamo.failedThenAnswered.providerCalls} provider calls: reads ${dynamo.failedThenAnswered.reads}   writes ${dynamo.failedThenAnswered.writes} (${(dynamo.failedThenAnswered.writes / Math.max(1, dynamo.failedThenAnswered.providerCalls)).toFixed(1)} per attempt)   ${JSON.stringify(dynamo.failedThenAnswered.byCommand)}`,
    '',
  );

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
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
