import { newEvent } from '../domain/events.ts';
import type { Deps } from './deps.ts';

/**
 * Budget alerts: each threshold of the tenant's month (default 50, 80 and 100 percent of the
 * limit) is emitted once per month as `budget.threshold_reached`, with the budget's figures. The
 * event and the month's marker are one conditional transaction (`Ledger.recordBudgetAlert`), so a
 * repeated or concurrent check never emits a threshold twice.
 *
 * Called at the end of each model step, once its attempts (every tool-loop turn) are settled and
 * before the draft is stored (one budget read per step, outside the gateway's per-call money path,
 * and one transaction only on a crossing), and again when a run ends (AwaitReview, MarkFailed) to
 * catch up a check that failed or a step that failed after settling, since it compares the month's
 * spend with the thresholds not yet marked.
 */
export async function emitBudgetAlerts(
  deps: Pick<Deps, 'clock' | 'ledger' | 'log'>,
  tenantId: string,
  runId: string,
): Promise<number[]> {
  try {
    const now = deps.clock.now();
    const month = now.toISOString().slice(0, 7);
    const budget = await deps.ledger.getBudget(tenantId, month);
    if (budget.spentUsd <= 0 || budget.limitUsd <= 0) return [];
    const emitted: number[] = [];
    const due = [...budget.alertThresholdsPercent]
      .sort((a, b) => a - b)
      .filter((t) => !budget.alertsSentPercent.includes(t) && budget.spentUsd >= (budget.limitUsd * t) / 100);
    for (const thresholdPercent of due) {
      const event = newEvent(
        'budget.threshold_reached',
        tenantId,
        {
          budget: 'tenant_month',
          month,
          thresholdPercent,
          limitUsd: budget.limitUsd,
          spentUsd: budget.spentUsd,
          runId,
        },
        deps.clock.now(),
      );
      if (await deps.ledger.recordBudgetAlert(tenantId, month, thresholdPercent, event)) {
        emitted.push(thresholdPercent);
      }
    }
    return emitted;
  } catch (error) {
    // An alert never fails a run; the next check emits what this one could not.
    deps.log.warn('Budget alert check failed', {
      tenantId,
      runId,
      errorName: error instanceof Error ? error.name : 'unknown',
    });
    return [];
  }
}
