import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from '#shared/domain/errors.ts';
import type { LedgerEntryTags, Reservation } from '#shared/ports/index.ts';
import { makeDeps } from '../fakes/deps.ts';
import { InMemoryLedger } from '../fakes/ledger.ts';
import { seedDraft, seedRun, TENANT } from '../fakes/fixtures.ts';

// The use-case tests lean on these fakes behaving like the DynamoDB adapters; these pin that down.

const reservation: Reservation = {
  tenantId: TENANT,
  runId: 'run_1',
  attemptKey: '1.m.1',
  amountUsd: 0.4,
  month: '2026-10',
  owner: 'inv_1',
};
const tags: LedgerEntryTags = {
  tenantId: TENANT,
  workflowId: 'renewal-brief',
  runId: 'run_1',
  userId: 'csm-alice',
  model: 'gpt-4.1-mini',
  promptId: 'renewal-brief',
  promptVersion: 'v1',
  environment: 'test',
};
const actual = {
  costUsd: 0.1,
  inputTokens: 10,
  cachedInputTokens: 0,
  outputTokens: 10,
  reasoningTokens: 0,
  priceVersion: 'p',
};
const NOW = new Date('2026-10-01T09:00:00Z');

describe('InMemoryLedger', () => {
  it('refuses a reservation that does not fit the available budget', async () => {
    const ledger = new InMemoryLedger(1);
    await ledger.reserve({ ...reservation, amountUsd: 0.8 }, NOW);

    await expect(
      ledger.reserve({ ...reservation, attemptKey: '1.m.2', amountUsd: 0.3 }, NOW),
    ).rejects.toThrow(BudgetExceededError);
    expect(ledger.budget(TENANT, '2026-10')).toEqual({
      tenantId: TENANT,
      month: '2026-10',
      limitUsd: 1,
      spentUsd: 0,
      reservedUsd: 0.8,
      availableUsd: 0.2,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
  });

  it('settles once per run and attempt key and returns the unused reservation', async () => {
    const ledger = new InMemoryLedger(1);
    await ledger.reserve(reservation, NOW);

    const results = [
      await ledger.settle(reservation, actual, tags, NOW),
      await ledger.settle(reservation, actual, tags, NOW),
    ];

    expect(results).toEqual([true, false]);
    expect(ledger.entries).toHaveLength(1);
    expect(ledger.budget(TENANT, '2026-10')).toMatchObject({
      spentUsd: 0.1,
      reservedUsd: 0,
      availableUsd: 0.9,
      alertThresholdsPercent: [50, 80, 100],
      alertsSentPercent: [],
    });
  });

  it('releases once and never after settling', async () => {
    const ledger = new InMemoryLedger(1);
    await ledger.reserve(reservation, NOW);
    await ledger.release(reservation);
    await ledger.release(reservation);

    expect(ledger.budget(TENANT, '2026-10')).toMatchObject({ reservedUsd: 0, availableUsd: 1 });
    expect(await ledger.settle(reservation, actual, tags, NOW)).toBe(false);
  });
});

describe('InMemoryWorkflowStore', () => {
  it('updates a draft only at the expected version and status', async () => {
    const deps = makeDeps();
    const draft = await seedDraft(deps, await seedRun(deps));
    const at = NOW.toISOString();

    const stale = await deps.drafts.updateDraft(
      TENANT,
      draft.draftId,
      { version: 2, statuses: ['awaiting_review'] },
      { updatedAt: at },
    );
    const wrongStatus = await deps.drafts.updateDraft(
      TENANT,
      draft.draftId,
      { statuses: ['escalated'] },
      { updatedAt: at },
    );
    const ok = await deps.drafts.updateDraft(
      TENANT,
      draft.draftId,
      { version: 1, statuses: ['awaiting_review'] },
      { status: 'approved', updatedAt: at },
    );

    expect([stale.ok, wrongStatus.ok, ok.ok ? ok.draft.version : null]).toEqual([false, false, 2]);
  });

  it('never changes the status of a finished run', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'rejected' });

    expect(await deps.runs.updateRun(TENANT, run.runId, { status: 'approved' }, NOW)).toBeNull();
    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('rejected');
  });

  it('returns the existing run for a live idempotency key', async () => {
    const deps = makeDeps();
    const first = await seedRun(deps);
    const key = { key: 'csm-alice\u0000k', requestHash: 'h1', expiresAt: 1_900_000_000 };
    const a = { ...first, runId: 'run_01jd0000000000000000000001' };
    const b = { ...first, runId: 'run_01jd0000000000000000000002' };

    expect(await deps.runs.createRun(a, key)).toEqual({ created: true });
    expect(await deps.runs.createRun(b, { ...key, requestHash: 'h2' })).toEqual({
      created: false,
      existing: { requestHash: 'h1', runId: a.runId },
    });
    expect(await deps.runs.getRun(TENANT, b.runId)).toBeNull();
  });
});
