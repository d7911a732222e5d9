import { BudgetExceededError } from '#shared/domain/errors.ts';
import type { DomainEvent } from '#shared/domain/events.ts';
import { roundUsd } from '#shared/domain/pricing.ts';
import {
  DEFAULT_ALERT_THRESHOLDS_PERCENT,
  type Budget,
  type Ledger,
  type LedgerEntry,
  type LedgerEntryTags,
  type Reservation,
  type Settlement,
} from '#shared/ports/index.ts';

type ReservationState = 'reserved' | 'answered' | 'settled' | 'released' | 'swept';
type LedgerOperation = 'reserve' | 'settle' | 'release';

interface BudgetRow {
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  alertThresholds?: number[];
  alertsSent?: number[];
}

/**
 * The ledger's conditional semantics in memory: a reservation must fit the month's availability
 * (else BudgetExceededError), a reservation key is reserved once, settling and releasing happen
 * once per `(runId, attemptKey)`. `reserve`, `settle` and `release` are the money half of the
 * gateway's transactions; InMemoryGatewayStore combines them with the other fakes.
 */
export class InMemoryLedger implements Ledger {
  private readonly budgets = new Map<string, BudgetRow>();
  private readonly reservations = new Map<
    string,
    {
      reservation: Reservation;
      state: ReservationState;
      settlement: Settlement | null;
      answeredAt: Date | null;
    }
  >();
  private readonly ledgerEntries: LedgerEntry[] = [];
  private readonly scheduledFailures: { operation: LedgerOperation; error: Error }[] = [];
  /** Every call, in order, with its attempt key and whether it changed anything. */
  readonly calls: { operation: LedgerOperation; attemptKey: string; applied: boolean }[] = [];

  constructor(private readonly defaultMonthlyBudgetUsd = 100) {}

  /** The next call of `operation` throws `error` before changing anything (a crash, a throttle). */
  failNext(operation: LedgerOperation, error: Error): void {
    this.scheduledFailures.push({ operation, error });
  }

  private takeFailure(operation: LedgerOperation): Error | null {
    const index = this.scheduledFailures.findIndex((f) => f.operation === operation);
    if (index < 0) return null;
    const [failure] = this.scheduledFailures.splice(index, 1);
    return failure?.error ?? null;
  }

  private budgetRow(tenantId: string, month: string): BudgetRow {
    const key = `${tenantId}#${month}`;
    let row = this.budgets.get(key);
    if (!row) {
      row = { limitUsd: this.defaultMonthlyBudgetUsd, spentUsd: 0, reservedUsd: 0 };
      this.budgets.set(key, row);
    }
    return row;
  }

  private held(reservation: Reservation) {
    return this.reservations.get(InMemoryLedger.reservationKey(reservation));
  }

  /** Whether `reservation`'s key was reserved and not released (held, answered or settled). */
  isTaken(reservation: Reservation): boolean {
    const state = this.held(reservation)?.state;
    return state !== undefined && state !== 'released';
  }

  /** Whether `reservation`'s key is held (reserved, not yet settled or released) by its owner. */
  heldBy(reservation: Reservation): boolean {
    const held = this.held(reservation);
    return held?.state === 'reserved' && held.reservation.owner === reservation.owner;
  }

  /** Whether the month's availability covers `reservation`. */
  fits(reservation: Reservation): boolean {
    const row = this.budgetRow(reservation.tenantId, reservation.month);
    return roundUsd(row.limitUsd - row.spentUsd - row.reservedUsd) >= reservation.amountUsd;
  }

  /** The reservations of a run left reserved or answered, in the order they were made. */
  heldOf(
    tenantId: string,
    runId: string,
  ): { reservation: Reservation; settlement: Settlement | null; answeredAt: Date | null }[] {
    return [...this.reservations.values()]
      .filter(
        (r) =>
          (r.state === 'reserved' || r.state === 'answered') &&
          r.reservation.tenantId === tenantId &&
          r.reservation.runId === runId,
      )
      .map((r) => ({
        reservation: { ...r.reservation },
        settlement: r.settlement,
        answeredAt: r.answeredAt,
      }));
  }

  private static reservationKey(r: Reservation): string {
    return `${r.tenantId}#${r.runId}#${r.attemptKey}#${r.owner}`;
  }

  reserve(reservation: Reservation, _now: Date): Promise<void> {
    const failure = this.takeFailure('reserve');
    if (failure) return Promise.reject(failure);
    // Like the DynamoDB ledger: a released key may be reserved again (a retried invocation restarts its tries).
    if (this.isTaken(reservation)) {
      this.calls.push({ operation: 'reserve', attemptKey: reservation.attemptKey, applied: false });
      return Promise.resolve();
    }
    const row = this.budgetRow(reservation.tenantId, reservation.month);
    if (!this.fits(reservation)) {
      this.calls.push({ operation: 'reserve', attemptKey: reservation.attemptKey, applied: false });
      return Promise.reject(
        new BudgetExceededError("The tenant's monthly budget cannot cover this model attempt."),
      );
    }
    row.reservedUsd = roundUsd(row.reservedUsd + reservation.amountUsd);
    this.reservations.set(InMemoryLedger.reservationKey(reservation), {
      reservation: { ...reservation },
      state: 'reserved',
      settlement: null,
      answeredAt: null,
    });
    this.calls.push({ operation: 'reserve', attemptKey: reservation.attemptKey, applied: true });
    return Promise.resolve();
  }

  /**
   * Settles a reservation its owner holds (or, `from: 'answered'`, one marked answered); false,
   * changing nothing, otherwise.
   */
  settle(
    reservation: Reservation,
    actual: {
      costUsd: number;
      inputTokens: number;
      cachedInputTokens: number;
      outputTokens: number;
      reasoningTokens: number;
      priceVersion: string;
    },
    tags: LedgerEntryTags,
    now: Date,
    from: 'reserved' | 'answered' | 'swept' = 'reserved',
  ): Promise<boolean> {
    const failure = this.takeFailure('settle');
    if (failure) return Promise.reject(failure);
    const held = this.held(reservation);
    const holds =
      from === 'reserved'
        ? this.heldBy(reservation)
        : held?.state === from && (from === 'answered' || held.reservation.owner === reservation.owner);
    if (!held || !holds) {
      this.calls.push({ operation: 'settle', attemptKey: reservation.attemptKey, applied: false });
      return Promise.resolve(false);
    }
    held.state = 'settled';
    held.settlement = null;
    const costUsd = roundUsd(actual.costUsd);
    const row = this.budgetRow(reservation.tenantId, reservation.month);
    // A late settlement (from swept): the reserved amount went back to the budget with the sweep.
    if (from !== 'swept') row.reservedUsd = roundUsd(row.reservedUsd - reservation.amountUsd);
    row.spentUsd = roundUsd(row.spentUsd + costUsd);
    this.ledgerEntries.push({
      ...tags,
      at: now.toISOString(),
      day: now.toISOString().slice(0, 10),
      attemptKey: reservation.attemptKey,
      costUsd,
      inputTokens: actual.inputTokens,
      cachedInputTokens: actual.cachedInputTokens,
      outputTokens: actual.outputTokens,
      reasoningTokens: actual.reasoningTokens,
      priceVersion: actual.priceVersion,
    });
    this.calls.push({ operation: 'settle', attemptKey: reservation.attemptKey, applied: true });
    return Promise.resolve(true);
  }

  /** Keeps an answer that could not be settled on its reservation, for a later sweep. */
  markAnswered(reservation: Reservation, settlement: Settlement, at: Date): boolean {
    if (!this.heldBy(reservation)) return false;
    const held = this.held(reservation);
    if (!held) return false;
    held.state = 'answered';
    held.settlement = structuredClone(settlement);
    held.answeredAt = at;
    return true;
  }

  /** The state of this invocation's own reservation item. */
  stateOf(reservation: Reservation): ReservationState | null {
    return this.held(reservation)?.state ?? null;
  }

  /**
   * Releases a held reservation (its owner's, or with `anyOwner` anyone's: the sweep); false when it
   * was not held that way.
   */
  release(reservation: Reservation, anyOwner = false): Promise<boolean> {
    const failure = this.takeFailure('release');
    if (failure) return Promise.reject(failure);
    const held = this.held(reservation);
    if (!held || held.state !== 'reserved' || !(anyOwner || held.reservation.owner === reservation.owner)) {
      this.calls.push({ operation: 'release', attemptKey: reservation.attemptKey, applied: false });
      return Promise.resolve(false);
    }
    held.state = anyOwner ? 'swept' : 'released';
    const row = this.budgetRow(reservation.tenantId, reservation.month);
    row.reservedUsd = roundUsd(row.reservedUsd - held.reservation.amountUsd);
    this.calls.push({ operation: 'release', attemptKey: reservation.attemptKey, applied: true });
    return Promise.resolve(true);
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
    const row = this.budgetRow(tenantId, month);
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
    const row = this.budgetRow(tenantId, month);
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

  /** The state of the latest reservation of an attempt key (whichever invocation made it), or null. */
  reservationState(tenantId: string, runId: string, attemptKey: string): ReservationState | null {
    const matching = [...this.reservations.values()].filter(
      (r) =>
        r.reservation.tenantId === tenantId &&
        r.reservation.runId === runId &&
        r.reservation.attemptKey === attemptKey,
    );
    return matching.at(-1)?.state ?? null;
  }

  /** Total settled cost across all tenants. */
  get totalSpentUsd(): number {
    return roundUsd(this.ledgerEntries.reduce((sum, e) => sum + e.costUsd, 0));
  }
}
