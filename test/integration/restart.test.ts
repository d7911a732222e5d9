import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { approvalFor, clientsFor, startTestStack, waitForRun, type ApiClient } from './local-stack.ts';

// These tests drive real stops and starts of the local stack on one data directory, so they start
// their own stacks (three in all) instead of using the shared one.
const dataDir = mkdtempSync(join(tmpdir(), 'rein-restart-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function startBrief(client: ApiClient, accountId: string): Promise<string> {
  const started = await client.post('/v1/workflows/renewal-brief/runs', { accountId });
  expect(started.status, started.text).toBe(202);
  return String(started.body['runId']);
}

async function reservedUsd(stack: LocalStack): Promise<number> {
  const users = await clientsFor(stack);
  const budget = await users.erin.get('/v1/tenants/acme/budget');
  expect(budget.status, budget.text).toBe(200);
  return Number(budget.body['reservedUsd']);
}

/** Waits until the local model server has received `count` requests (the runs are in their model call). */
async function waitForModelRequests(stack: LocalStack, count: number): Promise<void> {
  const server = stack.modelServer;
  if (!server) throw new Error('The test stack must run the local model server.');
  while (server.stats().requests < count) await new Promise((resolve) => setTimeout(resolve, 50));
}

function sleepUntil(iso: string): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(iso) - Date.now()) + 50));
}

describe('local stack restart', () => {
  const ids = {
    expiring: { runId: '', draftId: '', expiresAt: '' },
    reviewed: { runId: '', draftId: '', expiresAt: '' },
    resumed: '',
    interrupted: '',
  };

  it('stores the review deadline on the draft and the run when the review starts', async () => {
    const stack = await startTestStack({ dataDir, reviewTimeoutSeconds: 3 });
    try {
      const users = await clientsFor(stack);
      const runId = await startBrief(users.carol, 'acct-initech');
      const run = await waitForRun(users.carol, runId, ['awaiting_review']);
      const draft = await users.carol.get(`/v1/drafts/${String(run['draftId'])}`);
      expect(draft.status, draft.text).toBe(200);
      const expiresAt = String(draft.body['expiresAt']);
      expect(Date.parse(expiresAt) - Date.parse(String(draft.body['createdAt']))).toBe(3000);
      expect(run['expiresAt']).toBe(expiresAt);
      ids.expiring = { runId, draftId: String(run['draftId']), expiresAt };
    } finally {
      await stack.stop();
    }
  });

  it('after a restart, expires a review whose deadline passed while stopped at once, whatever the new timeout', async () => {
    await sleepUntil(ids.expiring.expiresAt);
    // A restart with a one-hour review timeout: only the stored deadline can expire this review now.
    const stack = await startTestStack({ dataDir, reviewTimeoutSeconds: 3600 });
    try {
      const users = await clientsFor(stack);
      const run = await waitForRun(users.carol, ids.expiring.runId, ['expired'], 20_000);
      expect(run['expiresAt']).toBe(ids.expiring.expiresAt);
      const draft = await users.carol.get(`/v1/drafts/${ids.expiring.draftId}`);
      expect(draft.body).toMatchObject({ status: 'expired', expiresAt: ids.expiring.expiresAt });

      // Leave three runs for the next restart: one awaiting review, two hung in their model call.
      const reviewedRunId = await startBrief(users.bob, 'acct-initech');
      const reviewed = await waitForRun(users.bob, reviewedRunId, ['awaiting_review']);
      ids.reviewed = {
        runId: reviewedRunId,
        draftId: String(reviewed['draftId']),
        expiresAt: String(reviewed['expiresAt']),
      };
      stack.modelServer?.reset();
      for (const account of ['acct-northwind', 'acct-hooli'])
        stack.modelServer?.addFaults({ match: account, faults: [{ kind: 'timeout', delayMs: 120_000 }] });
      ids.resumed = await startBrief(users.carol, 'acct-northwind');
      ids.interrupted = await startBrief(users.carol, 'acct-hooli');
      await waitForModelRequests(stack, 2);
      expect(await reservedUsd(stack)).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });

  it('after a restart, resumes runs in flight or fails them as interrupted, releasing their holds, and keeps reviews decidable', async () => {
    // The interrupted run's journal entry names a state the definition does not have (as after an
    // upgrade): its progress is unknown, so it cannot be resumed safely.
    const journalDir = join(dataDir, 'executions');
    const entry = readdirSync(journalDir).find((name) =>
      name.startsWith(encodeURIComponent(ids.interrupted)),
    );
    if (!entry) throw new Error('The interrupted run has no journal entry.');
    writeFileSync(
      join(journalDir, entry),
      JSON.stringify({
        runId: ids.interrupted,
        state: 'CallModelV0',
        input: { tenantId: 'acme', runId: ids.interrupted },
      }),
    );

    const stack = await startTestStack({ dataDir });
    try {
      const users = await clientsFor(stack);
      const resumed = await waitForRun(users.carol, ids.resumed, ['awaiting_review']);
      expect(resumed['error']).toBeNull();
      const interrupted = await waitForRun(users.carol, ids.interrupted, ['failed']);
      expect(interrupted['error']).toEqual({
        code: 'interrupted',
        message: 'The run was interrupted when the engine executing it stopped.',
      });
      expect(await reservedUsd(stack)).toBe(0);

      const draft = await users.bob.get(`/v1/drafts/${ids.reviewed.draftId}`);
      expect(draft.body).toMatchObject({ status: 'awaiting_review', expiresAt: ids.reviewed.expiresAt });
      const approved = await users.bob.post(
        `/v1/drafts/${ids.reviewed.draftId}/approve`,
        await approvalFor(users.bob, ids.reviewed.draftId),
      );
      expect(approved.status, approved.text).toBe(200);
      expect((await waitForRun(users.bob, ids.reviewed.runId, ['approved']))['status']).toBe('approved');
    } finally {
      await stack.stop();
    }
  });
});
