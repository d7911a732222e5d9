import { roundUsd } from '#shared/domain/pricing.ts';
import { costRollupsOf } from '#shared/domain/rollups.ts';
import type { DomainEvent } from '#shared/domain/events.ts';
import {
  DEFAULT_ALERT_THRESHOLDS_PERCENT,
  type Budget,
  type CostRollup,
  type Ledger,
  type LedgerEntry,
} from '#shared/ports/index.ts';

/** A month's budget as the fakes keep it; the gateway fake moves money in it. */
export interface BudgetRow {
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  alertThresholds?: number[];
  alertsSent?: number[];
}

/**
 * Budgets and ledger entries in memory. The money moves of the gateway (hold, capture, release)
 * are InMemoryGatewayStore's, which follows the protocol of `domain/hold.ts` on these rows.
 */
export class InMemoryLedger implements Ledger {
  private readonly budgets = new Map<string, BudgetRow>();
  private readonly ledgerEntries: LedgerEntry[] = [];

  constructor(private readonly defaultMonthlyBudgetUsd = 100) {}

  /** The month's budget row, created from the default on first use (like the DynamoDB ledger). */
  row(tenantId: string, month: string): BudgetRow {
    const key = `${tenantId}#${month}`;
    let row = this.budgets.get(key);
    if (!row) {
      row = { limitUsd: this.defaultMonthlyBudgetUsd, spentUsd: 0, reservedUsd: 0 };
      this.budgets.set(key, row);
    }
    return row;
  }

  /** The invocation that made each entry, by index (the DynamoDB entry's key carries it too). */
  private readonly owners: string[] = [];

  /** Whether an entry for this run, try and invocation exists (the entry's put condition). */
  hasEntry(tenantId: string, runId: string, attemptKey: string, owner: string): boolean {
    return this.ledgerEntries.some(
      (e, i) =>
        e.tenantId === tenantId &&
        e.runId === runId &&
        e.attemptKey === attemptKey &&
        this.owners[i] === owner,
    );
  }

  addEntry(entry: LedgerEntry, owner: string): void {
    this.ledgerEntries.push({ ...entry });
    this.owners.push(owner);
  }

  /** Every entry with the invocation that made it. */
  entriesWithOwner(): (LedgerEntry & { owner: string })[] {
    return this.ledgerEntries.map((e, i) => ({ ...e, owner: this.owners[i] ?? '' }));
  }

  getBudget(tenantId: string, month: string): Promise<Budget> {
    return Promise.resolve(this.budget(tenantId, month));
  }

  setBudget(
    tenantId: string,
    month: string,
    limitUsd: number,
    _now: Date,
    alertThresholdsPercent?: readonly number[],
  ): Promise<Budget> {
    const row = this.row(tenantId, month);
    row.limitUsd = limitUsd;
    if (alertThresholdsPercent) row.alertThresholds = [...alertThresholdsPercent];
    return Promise.resolve(this.budget(tenantId, month));
  }

  /** Budget alert events recorded with their marker (the outbox writes of `recordBudgetAlert`). */
  readonly alertEvents: DomainEvent[] = [];

  recordBudgetAlert(
    tenantId: string,
    month: string,
    thresholdPercent: number,
    event: DomainEvent,
  ): Promise<boolean> {
    const row = this.row(tenantId, month);
    const sent = row.alertsSent ?? [];
    if (sent.includes(thresholdPercent) || row.spentUsd < (row.limitUsd * thresholdPercent) / 100) {
      return Promise.resolve(false);
    }
    row.alertsSent = [...sent, thresholdPercent];
    this.alertEvents.push(structuredClone(event));
    return Promise.resolve(true);
  }

  listEntries(query: { fromDay: string; toDay: string; tenantId?: string }): Promise<LedgerEntry[]> {
    return Promise.resolve(
      this.ledgerEntries
        .filter((e) => e.day >= query.fromDay && e.day <= query.toDay)
        .filter((e) => query.tenantId === undefined || e.tenantId === query.tenantId)
        .map((e) => ({ ...e })),
    );
  }

  /** The cost cells the DynamoDB ledger keeps with each charge, derived from the entries. */
  readCostRollups(query: {
    fromDay: string;
    toDay: string;
    tenantId?: string;
    detail: boolean;
  }): Promise<CostRollup[]> {
    return Promise.resolve(costRollupsOf(this.entriesIn(query), query.detail));
  }

  private entriesIn(query: { fromDay: string; toDay: string; tenantId?: string }): LedgerEntry[] {
    return this.ledgerEntries
      .filter((e) => e.day >= query.fromDay && e.day <= query.toDay)
      .filter((e) => query.tenantId === undefined || e.tenantId === query.tenantId);
  }

  /** Synchronous view of a month's budget for assertions. */
  budget(tenantId: string, month: string): Budget {
    const row = this.budgets.get(`${tenantId}#${month}`) ?? {
      limitUsd: this.defaultMonthlyBudgetUsd,
      spentUsd: 0,
      reservedUsd: 0,
    };
    return {
      tenantId,
      month,
      limitUsd: row.limitUsd,
      spentUsd: row.spentUsd,
      reservedUsd: row.reservedUsd,
      availableUsd: roundUsd(row.limitUsd - row.spentUsd - row.reservedUsd),
      alertThresholdsPercent: row.alertThresholds ?? [...DEFAULT_ALERT_THRESHOLDS_PERCENT],
      alertsSentPercent: [...(row.alertsSent ?? [])].sort((a, b) => a - b),
    };
  }

  /** Every ledger entry written, in order. */
  get entries(): LedgerEntry[] {
    return this.ledgerEntries.map((e) => ({ ...e }));
  }

  /** Total settled cost across all tenants. */
  get totalSpentUsd(): number {
    return roundUsd(this.ledgerEntries.reduce((sum, e) => sum + e.costUsd, 0));
  }
}
