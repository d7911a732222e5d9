/**
 * The money protocol of a model attempt: a two-phase **hold and capture** with **leases**.
 *
 * 1. Hold. Before it calls the provider, the invocation running a run's attempt takes a hold on that
 *    attempt: the attempt's maximum cost moves from the tenant's available budget to its reserved
 *    amount, in one transaction whose conditions protect the budget (`available ≥ amount`), the run's
 *    cost limit and the tenant's token window. The hold is a *lease*: it names its owner (one
 *    invocation) and `leaseUntil`, the moment that invocation cannot be alive any more (taken from
 *    the Lambda's remaining time, plus a margin for clock skew).
 * 2. Capture. When the provider answers, the owner settles: the hold becomes `settled`, its actual
 *    cost moves from reserved to spent, and the ledger entry, the attempt record, the run's cost and
 *    the attempt's trace span are written in that same transaction (idempotent per run and try).
 *    When the provider answers nothing (an error status) the owner releases the hold. When the
 *    usage is unknown (a timeout, a reset connection: the provider may have billed it), the owner
 *    releases it *charging the held amount*, flagged `estimated` on the ledger entry.
 *
 * A hold belongs to its owner while its lease is live. Another invocation of the same attempt (Step
 * Functions retried the task while the first still runs) never takes it over: it waits briefly or
 * fails with the retryable `Rein.LeaseHeld`, which the state machine retries. Only a hold whose lease
 * has expired — its owner is dead — is swept (released; nothing is known to be billed). When the
 * settle transaction fails transiently, the owner keeps the answer on the hold (`answered`) and fails
 * with the retryable `Rein.SettlePending`; whoever comes next (the retried task, a sweep) settles
 * that kept answer before anything else. A settled hold is final: a retry finds it and calls nothing.
 *
 * The states and every allowed transition are below; the DynamoDB adapter
 * (`adapters/dynamodb/gateway-store.ts`) writes them and the in-memory fake follows the same table.
 */
export const HOLD_STATES = ['held', 'answered', 'settled', 'released'] as const;
export type HoldState = (typeof HOLD_STATES)[number];

/** The state names as values, so code outside this module never spells a state. */
export const HOLD = {
  held: 'held',
  answered: 'answered',
  settled: 'settled',
  released: 'released',
} as const satisfies Record<HoldState, HoldState>;

/** What may happen to an attempt's hold, by whom. */
export type HoldEvent = 'hold' | 'keepAnswer' | 'settle' | 'settleKept' | 'release' | 'sweep';

/** `absent`: no hold was ever taken for the attempt. */
export type HoldFrom = HoldState | 'absent';

export interface HoldTransition {
  from: readonly HoldFrom[];
  to: HoldState;
  /** Who may fire it: the owner of a live lease, anyone, or anyone once the lease expired. */
  by: 'owner' | 'anyone' | 'anyoneAfterExpiry';
}

/**
 * The transition table. A released hold may be held again: the owner's next try, or a retried
 * invocation after the first gave up or died.
 */
export const HOLD_TRANSITIONS: Readonly<Record<HoldEvent, HoldTransition>> = {
  hold: { from: ['absent', HOLD.released], to: HOLD.held, by: 'anyone' },
  keepAnswer: { from: [HOLD.held], to: HOLD.answered, by: 'owner' },
  settle: { from: [HOLD.held], to: HOLD.settled, by: 'owner' },
  settleKept: { from: [HOLD.answered], to: HOLD.settled, by: 'anyone' },
  release: { from: [HOLD.held], to: HOLD.released, by: 'owner' },
  sweep: { from: [HOLD.held], to: HOLD.released, by: 'anyoneAfterExpiry' },
};

/** States in which the hold's amount is still reserved in the budget. */
export const RESERVING_STATES: readonly HoldState[] = [HOLD.held, HOLD.answered];

export function isHoldState(value: unknown): value is HoldState {
  return typeof value === 'string' && (HOLD_STATES as readonly string[]).includes(value);
}

/** Whether `event` may move a hold in state `from` (with its lease and owner) for `actor` at `now`. */
export function canTransition(
  event: HoldEvent,
  current: { state: HoldFrom; owner: string | null; leaseUntil: number | null },
  actor: string,
  now: number,
): boolean {
  const transition = HOLD_TRANSITIONS[event];
  if (!transition.from.includes(current.state)) return false;
  if (transition.by === 'owner') return current.owner === actor;
  if (transition.by === 'anyoneAfterExpiry') return current.leaseUntil !== null && current.leaseUntil < now;
  return true;
}

/** Added to an invocation's remaining time, so clock skew between hosts never ends a live lease. */
export const LEASE_MARGIN_MS = 10_000;
