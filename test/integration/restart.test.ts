import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { approvalFor, clientsFor, startTestStack, waitForRun } from './local-stack.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'rein-restart-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local stack restart', () => {
  it('keeps the data and lets a draft that was awaiting review be decided after a restart', async () => {
    const first = await startTestStack({ dataDir });
    let runId: string;
    let draftId: string;
    try {
      const users = await clientsFor(first);
      const started = await users.bob.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-initech' });
      runId = String(started.body['runId']);
      const run = await waitForRun(users.bob, runId, ['awaiting_review']);
      draftId = String(run['draftId']);
    } finally {
      await first.stop();
    }

    const second = await startTestStack({ dataDir });
    try {
      const users = await clientsFor(second);
      const draft = await users.bob.get(`/v1/drafts/${draftId}`);
      expect(draft.status).toBe(200);
      expect(draft.body['status']).toBe('awaiting_review');
      const approved = await users.bob.post(
        `/v1/drafts/${draftId}/approve`,
        await approvalFor(users.bob, draftId),
      );
      expect(approved.status, approved.text).toBe(200);
      const run = await waitForRun(users.bob, runId, ['approved']);
      expect(run['status']).toBe('approved');
    } finally {
      await second.stop();
    }
  });
});
