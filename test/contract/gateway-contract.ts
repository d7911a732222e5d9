import fc from 'fast-check';
import { expect } from 'vitest';
import { BudgetExceededError, SETTLE_PENDING_ERROR } from '#shared/domain/errors.ts';
import { RESERVING_STATES, type HoldState } from '#shared/domain/hold.ts';
import { roundUsd } from '#shared/domain/pricing.ts';
import type {
  Budget,
  CostRollup,
  GatewayStore,
  LedgerEntry,
  LedgerEntryTags,
  Reservation,
} from '#shared/ports/index.ts';
import { buildSpan } from '#shared/usecases/tracing.ts';

/**
 * The gateway's contract as properties, for any GatewayStore: random interleavings of reserve /
 * provider answer / settle / release / crash / retry / lease expiry / sweep, with the invariants of
 * the money path checked after every step:
 *
 * - spent = Σ ledger entries (every charge is a settled hold or an estimated release);
 * - the cost rollups (both families) add up to the ledger entries: cost, estimated cost, calls, tokens;
 * - reserved = Σ amounts of the holds that still reserve (held, answered);
 * - spent + reserved ≤ limit;
 * - each provider answer handed to the gateway is charged at most once at every step, and exactly
 *   once (at its reported cost) after a final lease expiry and sweep;
 * - no hold outlives its lease plus one sweep.
 *
 * Invocations are modelled as the gateway sees them: an invocation acts only while its lease is
 * live (a Lambda cannot outlive its timeout); letting time pass beyond a lease kills its owner.
 */

/** What a subject (the in-memory fake, or the DynamoDB adapter on DynamoDB Local) exposes to the suite. */
export interface GatewaySubject {
  gateway: GatewayStore;
  /** A fresh tenant whose month budget has `limitUsd`, with `runs` runs created. */
  tenant(limitUsd: number, runs: number, now: Date): Promise<{ tenantId: string; runIds: string[] }>;
  budget(tenantId: string, month: string): Promise<Budget>;
  /** The tenant's ledger entries of the month, each with the invocation that made it. */
  entries(tenantId: string, month: string): Promise<(LedgerEntry & { owner: string })[]>;
  /** The tenant's cost rollup cells of the month (`detail`: per account and user). */
  rollups(tenantId: string, month: string, detail: boolean): Promise<CostRollup[]>;
  holds(
    tenantId: string,
    runIds: readonly string[],
  ): Promise<{ state: HoldState; amountUsd: number; leaseUntil: number }[]>;
  /** The next settle transaction fails transiently (throttling, an outage). */
  failNextSettle(): void;
}

type Op =
  | { kind: 'start'; run: number; attempt: number; amount: number; leaseMs: number }
  | { kind: 'answer'; inv: number; share: number }
  | { kind: 'settle'; inv: number; storeFails: boolean }
  | { kind: 'release'; inv: number; estimated: boolean }
  | { kind: 'nextTry'; inv: number }
  | { kind: 'crash'; inv: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      run: fc.nat(2),
      attempt: fc.integer({ min: 1, max: 2 }),
      amount: fc.constantFrom(0.1, 0.2, 0.3),
      leaseMs: fc.constantFrom(1_000, 5_000, 20_000),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('answer' as const),
      inv: fc.nat(5),
      share: fc.constantFrom(0, 0.5, 1),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('settle' as const), inv: fc.nat(5), storeFails: fc.boolean() }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('release' as const), inv: fc.nat(5), estimated: fc.boolean() }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('nextTry' as const), inv: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('crash' as const), inv: fc.nat(5) }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(500, 3_000, 15_000) }),
    weight: 2,
  },
  { arbitrary: fc.constant({ kind: 'sweep' as const }), weight: 1 },
);

export const gatewayOps = fc.array(opArbitrary, { minLength: 1, maxLength: 30 });

interface Invocation {
  owner: string;
  run: number;
  attempt: number;
  amount: number;
  tryNumber: number;
  leaseUntil: number;
  reservation: Reservation | null;
  answer: { costUsd: number } | null;
}

const LIMIT_USD = 0.5;
const START = new Date('2026-11-24T12:00:00.000Z');
const MONTH = '2026-11';
const CENT = 1e-9;

/** Runs one interleaving against a subject, checking the invariants after every step. */
export async function runInterleaving(subject: GatewaySubject, ops: readonly Op[]): Promise<void> {
  const { tenantId, runIds } = await subject.tenant(LIMIT_USD, 3, START);
  let now = START.getTime();
  let invocations: Invocation[] = [];
  let owners = 0;
  /** Answers handed to the gateway (settled or kept), by run and try: each must be charged once. */
  const handed = new Map<string, number>();
  const tokens = { key: `${tenantId}#tpm`, tokens: 1, limitPerMinute: 1_000_000_000 };
  const tags = (runId: string, model: string): LedgerEntryTags => ({
    tenantId,
    workflowId: 'renewal-brief',
    runId,
    userId: 'contract',
    model,
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    environment: 'test',
  });
  const span = (runId: string) =>
    buildSpan(tenantId, runId, {
      name: 'chat m',
      kind: 'model_attempt',
      start: new Date(now),
      end: new Date(now),
      status: 'ok',
      attributes: {},
    });
  const runIdOf = (index: number) => runIds[index % runIds.length] ?? '';
  const live = (index: number) => {
    const alive = invocations.filter((inv) => inv.leaseUntil >= now);
    return alive.length === 0 ? null : (alive[index % alive.length] ?? null);
  };

  const reserve = async (inv: Invocation): Promise<void> => {
    const runId = runIdOf(inv.run);
    const reservation: Reservation = {
      tenantId,
      runId,
      attempt: inv.attempt,
      attemptKey: `${inv.attempt}.m.${inv.tryNumber}`,
      model: 'm',
      amountUsd: inv.amount,
      month: MONTH,
      owner: inv.owner,
      leaseUntil: inv.leaseUntil,
    };
    try {
      const outcome = await subject.gateway.reserve(reservation, 100, tokens, new Date(now));
      if (outcome.reserved) inv.reservation = reservation;
      else invocations = invocations.filter((other) => other !== inv); // it waits or stops: gone here
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      invocations = invocations.filter((other) => other !== inv);
    }
  };

  const check = async (afterSweepAt: number | null): Promise<void> => {
    const [budget, entries, holds, cells, detailCells] = await Promise.all([
      subject.budget(tenantId, MONTH),
      subject.entries(tenantId, MONTH),
      subject.holds(tenantId, runIds),
      subject.rollups(tenantId, MONTH, false),
      subject.rollups(tenantId, MONTH, true),
    ]);
    const charged = roundUsd(entries.reduce((sum, entry) => sum + entry.costUsd, 0));
    const sum = (values: number[]) => roundUsd(values.reduce((a, b) => a + b, 0));
    for (const family of [cells, detailCells]) {
      expect(sum(family.map((cell) => cell.costUsd))).toBe(charged);
      expect(sum(family.map((cell) => cell.estimatedUsd))).toBe(
        sum(entries.filter((entry) => entry.estimated).map((entry) => entry.costUsd)),
      );
      expect(sum(family.map((cell) => cell.calls))).toBe(entries.length);
      expect(sum(family.map((cell) => cell.inputTokens + cell.outputTokens))).toBe(
        sum(entries.map((entry) => entry.inputTokens + entry.outputTokens)),
      );
    }
    const reserving = holds.filter((hold) => RESERVING_STATES.includes(hold.state));
    const held = roundUsd(reserving.reduce((sum, hold) => sum + hold.amountUsd, 0));
    expect(Math.abs(budget.spentUsd - charged)).toBeLessThan(CENT + 1e-6);
    expect(Math.abs(budget.reservedUsd - held)).toBeLessThan(CENT + 1e-6);
    expect(roundUsd(budget.spentUsd + budget.reservedUsd)).toBeLessThanOrEqual(budget.limitUsd + CENT);
    const perTry = new Map<string, number>();
    for (const entry of entries) {
      const key = `${entry.runId}#${entry.attemptKey}#${entry.owner}`;
      perTry.set(key, (perTry.get(key) ?? 0) + 1);
    }
    expect([...perTry.values()].every((count) => count === 1)).toBe(true);
    if (afterSweepAt !== null) {
      expect(reserving.filter((hold) => hold.leaseUntil < afterSweepAt)).toEqual([]);
    }
    return Promise.resolve();
  };

  for (const op of ops) {
    let sweptAt: number | null = null;
    switch (op.kind) {
      case 'start': {
        owners += 1;
        const inv: Invocation = {
          owner: `inv_${owners}`,
          run: op.run,
          attempt: op.attempt,
          amount: op.amount,
          tryNumber: 1,
          leaseUntil: now + op.leaseMs,
          reservation: null,
          answer: null,
        };
        invocations.push(inv);
        await reserve(inv);
        break;
      }
      case 'answer': {
        const inv = live(op.inv);
        if (inv?.reservation && !inv.answer) inv.answer = { costUsd: roundUsd(inv.amount * op.share) };
        break;
      }
      case 'settle': {
        const inv = live(op.inv);
        if (!inv?.reservation || !inv.answer) break;
        const { reservation } = inv;
        if (op.storeFails) subject.failNextSettle();
        handed.set(`${reservation.runId}#${reservation.attemptKey}#${reservation.owner}`, inv.answer.costUsd);
        try {
          await subject.gateway.settle(
            {
              attempt: {
                attempt: reservation.attempt,
                model: 'm',
                outputText: '{}',
                refusal: null,
                finishReason: 'completed',
                validationErrors: null,
                costUsd: inv.answer.costUsd,
                billing: {
                  reservation,
                  usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 },
                  priceVersion: 'contract',
                },
              },
              tags: tags(reservation.runId, 'm'),
              span: span(reservation.runId),
            },
            new Date(now),
          );
        } catch (error) {
          if (!(op.storeFails && error instanceof Error && error.name === SETTLE_PENDING_ERROR)) throw error;
        }
        invocations = invocations.filter((other) => other !== inv); // the invocation ends either way
        break;
      }
      case 'release': {
        const inv = live(op.inv);
        if (!inv?.reservation || inv.answer) break;
        await subject.gateway.release(
          {
            reservation: inv.reservation,
            span: span(inv.reservation.runId),
            estimatedCharge: op.estimated ? tags(inv.reservation.runId, 'm') : null,
          },
          new Date(now),
        );
        inv.reservation = null;
        break;
      }
      case 'nextTry': {
        const inv = live(op.inv);
        if (!inv || inv.reservation) break;
        inv.tryNumber += 1;
        await reserve(inv);
        break;
      }
      case 'crash': {
        const inv = live(op.inv);
        // A dead invocation keeps its lease: nobody may take its hold until the lease ends.
        if (inv) invocations = invocations.filter((other) => other !== inv);
        break;
      }
      case 'advance':
        now += op.ms;
        break;
      case 'sweep':
        await subject.gateway.sweepExpired(tenantId, new Date(now));
        sweptAt = now;
        break;
    }
    await check(sweptAt);
  }

  // Every lease ends and one sweep runs: every answer handed to the gateway is charged exactly once.
  now += 60_000;
  await subject.gateway.sweepExpired(tenantId, new Date(now));
  await check(now);
  const entries = await subject.entries(tenantId, MONTH);
  for (const [key, costUsd] of handed) {
    const charges = entries.filter(
      (entry) => `${entry.runId}#${entry.attemptKey}#${entry.owner}` === key && !entry.estimated,
    );
    expect({ key, charges: charges.map((entry) => entry.costUsd) }).toEqual({ key, charges: [costUsd] });
  }
  const budget = await subject.budget(tenantId, MONTH);
  expect(budget.reservedUsd).toBe(0);
}
