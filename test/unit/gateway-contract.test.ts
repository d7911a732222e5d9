import fc from 'fast-check';
import { describe, it } from 'vitest';
import { newId } from '#shared/domain/ids.ts';
import { gatewayOps, runInterleaving, type GatewaySubject } from '../contract/gateway-contract.ts';
import { makeDeps } from '../fakes/deps.ts';
import { alice, seedRun } from '../fakes/fixtures.ts';

/** The in-memory fake under the gateway's property contract (the DynamoDB adapter runs it in test/integration). */
function fakeSubject(): GatewaySubject {
  const deps = makeDeps();
  return {
    gateway: deps.gateway,
    tenant: async (limitUsd, runs, now) => {
      const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
      await deps.ledger.setBudget(tenantId, now.toISOString().slice(0, 7), limitUsd, now);
      const runIds: string[] = [];
      for (let i = 0; i < runs; i += 1)
        runIds.push((await seedRun(deps, { principal: { ...alice, tenantId } })).runId);
      return { tenantId, runIds };
    },
    budget: (tenantId, month) => deps.ledger.getBudget(tenantId, month),
    entries: (tenantId) =>
      Promise.resolve(deps.ledger.entriesWithOwner().filter((entry) => entry.tenantId === tenantId)),
    rollups: (tenantId, month, detail) =>
      deps.ledger.readCostRollups({ fromDay: `${month}-01`, toDay: `${month}-31`, tenantId, detail }),
    holds: (tenantId) =>
      Promise.resolve(
        deps.gateway.holdsOf(tenantId).map((hold) => ({
          state: hold.state,
          amountUsd: hold.reservation.amountUsd,
          leaseUntil: hold.reservation.leaseUntil,
        })),
      ),
    failNextSettle: () => {
      deps.gateway.failSettleTransiently();
    },
  };
}

describe('the gateway contract (in-memory fake)', () => {
  it('keeps spend, holds and charges consistent under random interleavings of reserve, answer, settle, release, crash, retry, lease expiry and sweep', async () => {
    await fc.assert(
      fc.asyncProperty(gatewayOps, (ops) => runInterleaving(fakeSubject(), ops)),
      { numRuns: 300 },
    );
  });
});
