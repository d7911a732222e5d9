import { describe, expect, it } from 'vitest';
import { emitBudgetAlerts } from '#shared/usecases/budget-alerts.ts';
import { makeDeps, type TestDeps } from '../fakes/deps.ts';

const TENANT = 'acme';

/** Adds settled spend to the tenant's current month (what the gateway's settle does to the row). */
function spend(deps: TestDeps, usd: number): void {
  deps.ledger.row(TENANT, deps.clock.now().toISOString().slice(0, 7)).spentUsd += usd;
}

describe('budget alerts', () => {
  it('emits each crossed threshold once a month with the budget figures', async () => {
    const deps = makeDeps();
    const month = deps.clock.now().toISOString().slice(0, 7);
    await deps.ledger.setBudget(TENANT, month, 10, deps.clock.now());
    spend(deps, 4);
    expect(await emitBudgetAlerts(deps, TENANT, 'run_1')).toEqual([]);
    spend(deps, 4.5);
    expect(await emitBudgetAlerts(deps, TENANT, 'run_1')).toEqual([50, 80]);
    expect(await emitBudgetAlerts(deps, TENANT, 'run_1')).toEqual([]);
    expect(deps.ledger.alertEvents.map((e) => e.data)).toEqual([
      { budget: 'tenant_month', month, thresholdPercent: 50, limitUsd: 10, spentUsd: 8.5, runId: 'run_1' },
      { budget: 'tenant_month', month, thresholdPercent: 80, limitUsd: 10, spentUsd: 8.5, runId: 'run_1' },
    ]);
    expect(deps.ledger.budget(TENANT, month).alertsSentPercent).toEqual([50, 80]);
  });

  it('uses the thresholds set with the budget', async () => {
    const deps = makeDeps();
    const month = deps.clock.now().toISOString().slice(0, 7);
    await deps.ledger.setBudget(TENANT, month, 10, deps.clock.now(), [25]);
    spend(deps, 3);
    expect(await emitBudgetAlerts(deps, TENANT, 'run_1')).toEqual([25]);
  });

  it('emits nothing before anything is spent, even with a zero budget', async () => {
    const deps = makeDeps();
    const month = deps.clock.now().toISOString().slice(0, 7);
    await deps.ledger.setBudget(TENANT, month, 0, deps.clock.now());
    expect(await emitBudgetAlerts(deps, TENANT, 'run_1')).toEqual([]);
    expect(deps.ledger.alertEvents).toEqual([]);
  });
});
