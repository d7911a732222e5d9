/**
 * `npm run eval` end to end: the CLI in replay mode writes the three reports and exits 0, and exits
 * non-zero, naming the suite and the re-record command, when the recordings do not fit the request.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TSX = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');

let reports: string;
beforeAll(async () => {
  reports = await mkdtemp(join(tmpdir(), 'rein-eval-reports-'));
});
afterAll(async () => {
  await rm(reports, { recursive: true, force: true });
});

async function evalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [TSX, 'evals/run.ts', '--reports-dir', reports, ...args],
      { env: { ...process.env, OPENAI_API_KEY: '' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: String(failed.stdout),
      stderr: String(failed.stderr),
    };
  }
}

describe('npm run eval', () => {
  it('replays the renewal-brief suite, writes JSON, JUnit and HTML reports and exits 0', async () => {
    const { code, stdout, stderr } = await evalCli(['--suite', 'renewal-brief']);

    expect(code, stderr).toBe(0);
    expect(stdout).toContain('✓ no regression against the local-model-server baseline');
    const results = JSON.parse(await readFile(join(reports, 'renewal-brief', 'results.json'), 'utf8')) as {
      comparison: { status: string };
      cases: unknown[];
    };
    expect(results.comparison.status).toBe('pass');
    expect(results.cases.length).toBeGreaterThanOrEqual(40);
    expect(await readFile(join(reports, 'renewal-brief', 'junit.xml'), 'utf8')).toMatch(
      /^<\?xml version="1\.0"/,
    );
    expect(await readFile(join(reports, 'renewal-brief', 'report.html'), 'utf8')).toContain(
      '<h2>By category</h2>',
    );
  });

  it('exits 1 with the suite and the re-record command when no recording fits (another model)', async () => {
    const { code, stdout } = await evalCli(['--suite', 'renewal-brief', '--model', 'gpt-4o-mini']);

    expect(code).toBe(1);
    expect(stdout).toContain('✗ REGRESSION');
    expect(stdout).toMatch(
      /Suite renewal-brief: \d+ of \d+ cases have no recorded response .*Re-record with: npm run eval -- --suite renewal-brief --record/,
    );
  });

  it('exits 2 on a usage error', async () => {
    const { code, stderr } = await evalCli(['--target', 'replay', '--record']);

    expect(code).toBe(2);
    expect(stderr).toContain('--record needs a live target: --target local or openai.');
  });
});
