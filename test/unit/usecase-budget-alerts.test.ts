import { describe, expect, it } from 'vitest';
import { emitBudgetAlerts } from '#shared/usecases/budget-alerts.ts';
import type { Reservation } from '#shared/ports/index.ts';
import { makeDeps, type TestDeps } from '../fakes/deps.ts';
import { seedRun } from '../fakes/fixtures.ts';

const TENANT = 'acme';

/** Charges `usd` to the tenant's current month through the ledger's own reserve and settle. */
async function spend(deps: TestDeps, usd: number, key: string): Promise<void> {
  if (!(await deps.runs.getRun(TENANT, 'run_1')))
    await deps.runs.createRun({ ...(await seedRun(deps)), runId: 'run_1' });
  const month = deps.clock.now().toISOString().slice(0, 7);
  const reservation: Reservation = {
    tenantId: TENANT,
    runId: 'run_1',
    attemptKey: key,
    amountUsd: usd,
    month,
    owner: 'o',
  };
  await deps.gateway.reserve(
    reservation,
    { key: `${TENANT}#tpm`, tokens: 1, limitPerMinute: 1e9 },
    deps.clock.now(),
  );
  await deps.gateway.settle(
    {
      attempt: {
        attempt: 1,
        model: 'gpt-4.1-mini',
        outputText: '{}',
        refusal: null,
        finishReason: 'completed',
        validationErrors: null,
        costUsd: usd,
        billing: {
          reservation,
          usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 },
          priceVersion: 'test',
        },
      },
      tags: {
        tenantId: TENANT,
        workflowId: 'renewal-brief',
        runId: 'run_1',
        userId: 'u',
        model: 'gpt-4.1-mini',
        promptId: 'p',
        promptVersion: '1',
        environment: 'test',
      },
      clearBreakerOf: null,
    },
    deps.clock.now(),
  );
}

describe('budget alerts', () => {
  it('emits each crossed threshold once a month with the budget figures', async () => {
    const deps = makeDeps();
    const month = deps.clock.now().toISOString().slice(0, 7);
    await deps.ledger.setBudget(TENANT, month, 10, deps.clock.now());
    await spend(deps, 4, 'a');
    expect(await emitBudgetAlerts(deps, TENANT, 'run_1')).toEqual([]);
    await spend(deps, 4.5, 'b');
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
    await spend(deps, 3, 'a');
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
