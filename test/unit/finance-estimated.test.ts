import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '#shared/ports/index.ts';
import { costRollupsOf } from '#shared/domain/rollups.ts';
import { groupRollups, toCsv } from '#shared/usecases/finance.ts';

function entry(costUsd: number, estimated: boolean, runId: string): LedgerEntry {
  return {
    tenantId: 'acme',
    workflowId: 'renewal-brief',
    runId,
    userId: 'csm-alice',
    model: 'gpt-4.1-mini',
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    environment: 'test',
    at: '2026-10-01T09:00:00.000Z',
    day: '2026-10-01',
    attemptKey: '1.gpt-4.1-mini.1',
    costUsd,
    inputTokens: estimated ? 0 : 100,
    cachedInputTokens: 0,
    outputTokens: estimated ? 0 : 50,
    reasoningTokens: 0,
    priceVersion: estimated ? 'estimated' : 'p',
    estimated,
  };
}

describe('ledger report', () => {
  it('shows charges estimated at the reservation apart from reported ones, within the total', () => {
    const cells = costRollupsOf([entry(0.002, false, 'run_1'), entry(0.004, true, 'run_2')], false);
    const rows = groupRollups(cells, ['tenant']);

    expect(rows).toEqual([
      {
        key: 'acme',
        group: { tenant: 'acme' },
        costUsd: 0.006,
        estimatedUsd: 0.004,
        attempts: 2,
        runs: 2,
        inputTokens: 100,
        cachedInputTokens: 0,
        outputTokens: 50,
      },
    ]);
    const csv = toCsv({
      from: '2026-10-01',
      to: '2026-10-01',
      groupBy: 'tenant',
      dimensions: ['tenant'],
      tenantId: null,
      currency: 'USD',
      totalUsd: 0.006,
      estimatedUsd: 0.004,
      rows,
    });
    expect(csv.split('\n')[1]).toBe('acme,USD,2026-10-01,2026-10-01,0.006000,2,2,100,0,50,0.004000');
  });
});
