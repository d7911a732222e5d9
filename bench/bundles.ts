import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { percentile } from './stats.ts';

export interface BundleResult {
  name: string;
  bytes: number;
  coldImportP50Ms: number;
  ratioToEmpty: number;
}

const ENTRIES = ['api', 'context', 'model-call', 'validate', 'review'];

/** Cold import time of a module: a fresh Node process per sample, timing only the import. */
function coldImportMs(file: string, samples: number): number {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`,
      ],
      { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'us-east-1' } },
    );
    times.push(Number(out.trim()));
  }
  return percentile(times, 50);
}

/**
 * Bundles every Lambda entry with the options of `infra/constructs/rein-function.ts` (ESM, minified,
 * module-first resolution, the createRequire banner) and an empty handler as the baseline.
 */
export async function measureBundles(samples: number): Promise<BundleResult[]> {
  // Inside the project, so that the SDK (external, as in Lambda's runtime) resolves from node_modules.
  mkdirSync(resolve('node_modules/.cache'), { recursive: true });
  const dir = mkdtempSync(resolve('node_modules/.cache/rein-bench-'));
  try {
    const empty = join(dir, 'empty-entry.ts');
    writeFileSync(empty, 'export const handler = async (): Promise<void> => {};\n');
    const entries: Record<string, string> = { empty };
    for (const name of ENTRIES) entries[name] = resolve(`functions/${name}/handler.ts`);
    for (const [name, entry] of Object.entries(entries)) {
      await build({
        entryPoints: [entry],
        outfile: join(dir, `${name}.mjs`),
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'esm',
        minify: true,
        mainFields: ['module', 'main'],
        banner: {
          js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        },
        // NodejsFunction's default for Node ≥ 18 runtimes: the AWS SDK v3 comes with the runtime.
        external: ['@aws-sdk/*'],
        logLevel: 'silent',
      });
    }
    const emptyMs = coldImportMs(join(dir, 'empty.mjs'), samples);
    const results: BundleResult[] = [
      {
        name: 'empty',
        bytes: statSync(join(dir, 'empty.mjs')).size,
        coldImportP50Ms: emptyMs,
        ratioToEmpty: 1,
      },
    ];
    for (const name of ENTRIES) {
      const file = join(dir, `${name}.mjs`);
      const ms = coldImportMs(file, samples);
      results.push({ name, bytes: statSync(file).size, coldImportP50Ms: ms, ratioToEmpty: ms / emptyMs });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
