import { execFile } from 'node:child_process';
import { copyFile, cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { loadSuite, EVALS_DIR } from '../../evals/load.ts';
import { appendCaseToSuite } from '../../evals/promote.ts';
import { runSuite } from '../../evals/runner.ts';
import { startLocalTarget } from '../../evals/targets.ts';
import { EvalCaseSchema } from '../../evals/schema.ts';
import {
  approvalFor,
  clientsFor,
  startTestStack,
  waitForRun,
  type ApiClient,
  type UserName,
} from './local-stack.ts';

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  users = await clientsFor(stack);
  dir = await mkdtemp(join(tmpdir(), 'rein-promote-'));
});

afterAll(async () => {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
});

async function reviewedDraft(decide: 'approve' | 'none'): Promise<string> {
  const started = await users.alice.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-hooli' });
  const run = await waitForRun(users.alice, String(started.body['runId']), ['awaiting_review']);
  const draftId = String(run['draftId']);
  if (decide === 'approve') {
    const draft = await users.alice.get(`/v1/drafts/${draftId}`);
    const content = {
      ...(draft.body['content'] as Record<string, unknown>),
      summary: 'Edited by the reviewer.',
    };
    expect(
      (await users.alice.patch(`/v1/drafts/${draftId}`, { content }, { 'if-match': '"1"' })).status,
    ).toBe(200);
    expect(
      (
        await users.alice.post(
          `/v1/drafts/${draftId}/approve`,
          await approvalFor(users.alice, draftId, { reason: 'usage gap noted' }),
        )
      ).status,
    ).toBe(200);
  }
  return draftId;
}

describe('promoting a reviewed draft into an eval case', () => {
  it('turns an approved draft into a valid case that the eval runner then executes and passes', async () => {
    const draftId = await reviewedDraft('approve');
    const promoted = await users.dave.post(`/v1/drafts/${draftId}/promote`);
    expect(promoted.status, promoted.text).toBe(200);
    expect(promoted.body['workflowId']).toBe('renewal-brief');
    const evalCase = EvalCaseSchema.parse(promoted.body['case']);
    expect(evalCase.category).toBe('tool_failure');
    expect(evalCase.fixture.failingSources).toEqual(['usage']);
    expect(evalCase.reference?.['summary']).toBe('Edited by the reviewer.');
    // The snapshot holds allow-listed fields only.
    expect(JSON.stringify(evalCase.fixture)).not.toMatch(
      /creditScore|internalNotes|contactPhone|discountFloorPct/,
    );

    // Append to a copy of the real suite (comments kept), then run just that case on the local model server.
    const file = join(dir, 'suite.yaml');
    await copyFile(join(EVALS_DIR, 'renewal-brief', 'suite.yaml'), file);
    await appendCaseToSuite(file, promoted.body['case']);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=')).toBe(true);
    const loaded = await loadSuite(file);
    const target = await startLocalTarget();
    try {
      const result = await runSuite({ loaded, target, caseIds: [evalCase.id] });
      expect(result.cases).toHaveLength(1);
      expect(result.cases[0]?.status, JSON.stringify(result.cases[0])).toBe('passed');
    } finally {
      await target.close();
    }
  });

  it('refuses to promote an undecided draft, and lets only admins promote', async () => {
    const draftId = await reviewedDraft('none');
    expect((await users.dave.post(`/v1/drafts/${draftId}/promote`)).status).toBe(409);
    expect((await users.alice.post(`/v1/drafts/${draftId}/promote`)).status).toBe(403);
    expect((await users.carol.post(`/v1/drafts/${draftId}/promote`)).status).toBe(403);
  });

  it('refuses a case whose id is already in the suite and leaves the file unchanged', async () => {
    const file = join(dir, 'dup.yaml');
    await copyFile(join(EVALS_DIR, 'renewal-brief', 'suite.yaml'), file);
    const before = await readFile(file, 'utf8');
    const first = (parseDocument(before).toJS() as { cases: unknown[] }).cases[0];
    await expect(appendCaseToSuite(file, first)).rejects.toThrow(/duplicate case id/);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('follows the README loop (promote, record, update the baseline) and leaves files that pass the format check', async () => {
    const draftId = await reviewedDraft('approve');
    // A copy of the repository, so the commands write where they would in a checkout.
    const repo = join(dir, 'repo');
    await cp(process.cwd(), repo, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|\.git|reports|\.rein|cdk\.out)$/.test(source),
    });
    await symlink(join(process.cwd(), 'node_modules'), join(repo, 'node_modules'));
    const token = await stack.token({ sub: 'admin-dave', tenantId: 'acme', roles: ['admin'] });
    const tsx = (args: string[]) =>
      run(process.execPath, [join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs'), ...args], repo);

    const promoted = await tsx([
      'evals/promote.ts',
      draftId,
      '--url',
      stack.url,
      '--token',
      token,
      '--category',
      'common',
    ]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/Replaced \d+ personal or customer-identifying values/);
    expect(promoted.stdout).toContain('(common)');
    const suite = await readFile(join(repo, 'evals', 'renewal-brief', 'suite.yaml'), 'utf8');
    const added = (parseDocument(suite).toJS() as { cases: unknown[] }).cases.at(-1);
    expect(JSON.stringify(added)).toContain('Customer A');
    expect(JSON.stringify(added)).not.toContain('Hooli');
    const reports = join(dir, 'reports');
    const recorded = await tsx([
      'evals/run.ts',
      '--suite',
      'renewal-brief',
      '--record',
      '--reports-dir',
      reports,
    ]);
    expect(recorded.stdout, recorded.stderr).toContain('recordings in');
    const updated = await tsx([
      'evals/run.ts',
      '--suite',
      'renewal-brief',
      '--update-baseline',
      '--reports-dir',
      reports,
    ]);
    expect(updated.code, updated.stdout + updated.stderr).toBe(0);

    const check = await run(
      process.execPath,
      [join(repo, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '.'],
      repo,
    );
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });
});

async function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      env: { ...process.env, OPENAI_API_KEY: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
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
