import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
