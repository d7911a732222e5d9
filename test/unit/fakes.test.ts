import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from '#shared/domain/errors.ts';
import type { Reservation } from '#shared/ports/index.ts';
import { FakeClock } from '../fakes/clock.ts';
import { makeDeps } from '../fakes/deps.ts';
import { InMemoryLedger } from '../fakes/ledger.ts';
import { seedDraft, seedRun, TENANT } from '../fakes/fixtures.ts';

// The use-case tests lean on these fakes behaving like the DynamoDB adapters; these pin that down.

const NOW = new Date('2026-10-01T09:00:00Z');
const tokens = { key: `${TENANT}#tpm`, tokens: 10, limitPerMinute: 1_000_000 };

function reservationOf(runId: string, amountUsd: number, attemptKey = '1.m.1'): Reservation {
  return {
    tenantId: TENANT,
    runId,
    attempt: 1,
    attemptKey,
    model: 'm',
    amountUsd,
    month: '2026-10',
    owner: 'inv_1',
    leaseUntil: NOW.getTime() + 60_000,
  };
}

describe('InMemoryGatewayStore', () => {
  it("refuses a hold only when settled spend plus the hold passes the limit, and waits on others' holds", async () => {
    const deps = makeDeps({ ledger: new InMemoryLedger(1), clock: new FakeClock(NOW) });
    const [first, second] = [await seedRun(deps), await seedRun(deps)];
    await deps.gateway.reserve(reservationOf(first.runId, 0.8), 10, tokens, NOW);

    const month = { budget: 'tenant_month', month: '2026-10', limitUsd: 1, spentUsd: 0, reservedUsd: 0.8 };
    expect(await deps.gateway.reserve(reservationOf(second.runId, 0.3), 10, tokens, NOW)).toEqual({
      reserved: false,
      heldByOthers: { ...month, attemptUsd: 0.3 },
    });
    const refused = deps.gateway.reserve(reservationOf(second.runId, 1.1), 10, tokens, NOW);
    await expect(refused).rejects.toThrow(BudgetExceededError);
    await expect(refused).rejects.toMatchObject({ refusal: { ...month, attemptUsd: 1.1 } });
    expect(deps.ledger.budget(TENANT, '2026-10')).toEqual({
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

  it("reports another invocation's live lease, and sweeps it only once expired", async () => {
    const deps = makeDeps({ clock: new FakeClock(NOW) });
    const run = await seedRun(deps);
    const mine = reservationOf(run.runId, 0.4);
    await deps.gateway.reserve(mine, 10, tokens, NOW);
    const retry = { ...mine, owner: 'inv_2' };

    expect(await deps.gateway.reserve(retry, 10, tokens, NOW)).toEqual({
      reserved: false,
      leaseUntil: mine.leaseUntil,
    });
    const later = new Date(mine.leaseUntil + 1);
    expect(
      await deps.gateway.reserve({ ...retry, leaseUntil: later.getTime() + 60_000 }, 10, tokens, later),
    ).toEqual({
      reserved: true,
    });
    expect(deps.gateway.holdOf(TENANT, run.runId, 1)?.reservation.owner).toBe('inv_2');
    expect(deps.ledger.budget(TENANT, '2026-10').reservedUsd).toBe(0.4);
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
