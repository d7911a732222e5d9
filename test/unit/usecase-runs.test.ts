import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '#shared/domain/errors.ts';
import { ID_PATTERN } from '#shared/domain/ids.ts';
import type { Principal } from '#shared/domain/principal.ts';
import { getRun, getRunTrace, listRuns, ListRunsQuerySchema, startRun } from '#shared/usecases/runs.ts';
import { FakeAccountDirectory } from '../fakes/accounts.ts';
import { makeDeps, type DepsOverrides } from '../fakes/deps.ts';
import { RecordingEngine } from '../fakes/engine.ts';
import {
  ACCOUNT,
  ACCOUNTS,
  ada,
  alice,
  bob,
  BOBS_ACCOUNT,
  fiona,
  maria,
  olga,
  OTHER_TENANT,
  errorSummary,
  rejectionOf,
  TENANT,
} from '../fakes/fixtures.ts';

function depsWithAccounts(overrides: DepsOverrides = {}) {
  return makeDeps({ accounts: new FakeAccountDirectory(ACCOUNTS), ...overrides });
}

function command(principal: Principal, body: unknown, idempotencyKey?: string) {
  return { principal, workflowId: 'renewal-brief', body, idempotencyKey };
}

describe('startRun', () => {
  it('creates a running run, traces the request and starts one execution', async () => {
    const deps = depsWithAccounts();

    const run = await startRun(deps, command(alice, { accountId: ACCOUNT, notes: 'QBR on Friday.' }));

    expect(run).toEqual({
      runId: expect.stringMatching(ID_PATTERN) as string,
      tenantId: TENANT,
      workflowId: 'renewal-brief',
      requestedBy: alice.sub,
      accountId: ACCOUNT,
      input: { accountId: ACCOUNT, notes: 'QBR on Friday.' },
      status: 'running',
      draftId: null,
      error: null,
      costUsd: 0,
      promptId: 'renewal-brief',
      promptVersion: 'v2',
      model: null,
      createdAt: '2026-10-01T09:00:00.000Z',
      updatedAt: '2026-10-01T09:00:00.000Z',
    });
    expect(await deps.runs.getRun(TENANT, run.runId)).toEqual(run);
    expect(deps.engine.started).toEqual([
      { tenantId: TENANT, runId: run.runId, workflowId: 'renewal-brief' },
    ]);
    expect(
      deps.traces.spansOf(TENANT, run.runId).map((span) => [span.name, span.kind, span.attributes]),
    ).toEqual([
      [
        'POST /v1/workflows/renewal-brief/runs',
        'request',
        {
          'rein.run.id': run.runId,
          'rein.tenant.id': TENANT,
          'enduser.id': alice.sub,
          'rein.workflow.id': 'renewal-brief',
          'rein.account.id': ACCOUNT,
          'rein.idempotency_key.present': false,
        },
      ],
    ]);
  });

  it('answers 404 for an account that does not exist in the tenant', async () => {
    const deps = depsWithAccounts();
    const stranger: Principal = { sub: 'csm-alice', tenantId: OTHER_TENANT, roles: ['manager'] };

    for (const [principal, accountId] of [
      [alice, 'acct-unknown'],
      [stranger, ACCOUNT],
    ] as const) {
      expect(await rejectionOf(startRun(deps, command(principal, { accountId })))).toEqual(
        new NotFoundError('Account'),
      );
    }
    expect(deps.engine.started).toEqual([]);
  });

  it("answers 403 when a CSM asks for another CSM's account, and lets a manager or an admin", async () => {
    const deps = depsWithAccounts();

    expect(await rejectionOf(startRun(deps, command(alice, { accountId: BOBS_ACCOUNT })))).toEqual(
      new ForbiddenError('You can request briefs only for accounts you own.'),
    );
    await startRun(deps, command(maria, { accountId: BOBS_ACCOUNT }));
    await startRun(deps, command(ada, { accountId: BOBS_ACCOUNT }));
    expect(deps.engine.started).toHaveLength(2);
  });

  it('answers 403 to platform roles', async () => {
    const deps = depsWithAccounts();

    expect(await rejectionOf(startRun(deps, command(fiona, { accountId: ACCOUNT })))).toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('answers 400 with details for extra fields or a malformed account id', async () => {
    const deps = depsWithAccounts();

    const extra = await rejectionOf(
      startRun(deps, command(alice, { accountId: ACCOUNT, tenantId: OTHER_TENANT })),
    );
    const malformed = await rejectionOf(startRun(deps, command(alice, { accountId: 'ACCT 1' })));

    expect(extra).toEqual(
      new ValidationError('The request body does not match the workflow input schema.', [
        { path: '', message: 'Unrecognized key: "tenantId"' },
      ]),
    );
    expect(malformed).toEqual(
      new ValidationError('The request body does not match the workflow input schema.', [
        { path: 'accountId', message: 'must be a lower-case account id' },
      ]),
    );
    expect(deps.engine.started).toEqual([]);
  });

  it('returns the same run for the same Idempotency-Key and body, starting one execution', async () => {
    const deps = depsWithAccounts();

    const first = await startRun(deps, command(alice, { accountId: ACCOUNT, notes: 'n' }, 'key-1'));
    deps.clock.advance(1_000);
    const again = await startRun(deps, command(alice, { notes: 'n', accountId: ACCOUNT }, 'key-1'));

    expect(again).toEqual(first);
    expect(deps.engine.started).toHaveLength(1);
  });

  it('answers 409 when an Idempotency-Key is reused with another body', async () => {
    const deps = depsWithAccounts();
    await startRun(deps, command(alice, { accountId: ACCOUNT }, 'key-1'));

    expect(
      await rejectionOf(startRun(deps, command(alice, { accountId: ACCOUNT, notes: 'x' }, 'key-1'))),
    ).toEqual(new ConflictError('This Idempotency-Key was used with a different request body.'));
    expect(deps.engine.started).toHaveLength(1);
  });

  it("scopes Idempotency-Keys to the caller: another user's same key starts a new run", async () => {
    const deps = depsWithAccounts();

    const mine = await startRun(deps, command(alice, { accountId: ACCOUNT }, 'key-1'));
    const theirs = await startRun(deps, command(maria, { accountId: ACCOUNT }, 'key-1'));

    expect(theirs.runId).not.toBe(mine.runId);
    expect(deps.engine.started).toHaveLength(2);
  });

  it('returns the stored run for a replayed Idempotency-Key even when the rate limit is spent', async () => {
    const deps = depsWithAccounts({
      settings: { rateLimits: { requestsPerMinute: 1, tokensPerMinute: 1_000_000 } },
    });
    const first = await startRun(deps, command(alice, { accountId: ACCOUNT }, 'key-1'));

    const replay = await startRun(deps, command(alice, { accountId: ACCOUNT }, 'key-1'));

    expect(replay).toEqual(first);
  });

  it('marks the run failed and rethrows when the execution cannot be started', async () => {
    const deps = depsWithAccounts({
      engine: new RecordingEngine({ startExecution: new Error('ExecutionLimitExceeded') }),
    });

    await expect(startRun(deps, command(alice, { accountId: ACCOUNT }))).rejects.toThrow(
      'ExecutionLimitExceeded',
    );

    const runIds = deps.runs.runIds(TENANT);
    const stored = runIds[0] === undefined ? null : await deps.runs.getRun(TENANT, runIds[0]);
    expect(runIds).toHaveLength(1);
    expect({ status: stored?.status, error: stored?.error }).toEqual({
      status: 'failed',
      error: { code: 'internal_error', message: 'The workflow could not be started.' },
    });
  });

  it("answers 402 when the tenant's monthly budget is spent", async () => {
    const deps = depsWithAccounts();
    await deps.ledger.setBudget(TENANT, '2026-10', 0, deps.clock.now());

    expect(await rejectionOf(startRun(deps, command(alice, { accountId: ACCOUNT })))).toEqual(
      new BudgetExceededError("The tenant's monthly budget is spent."),
    );
  });

  it('answers 429 with Retry-After past the per-minute request limit', async () => {
    const deps = depsWithAccounts({
      settings: { rateLimits: { requestsPerMinute: 1, tokensPerMinute: 1_000_000 } },
    });
    await startRun(deps, command(alice, { accountId: ACCOUNT }));
    deps.clock.advance(15_000);

    const error = await rejectionOf(startRun(deps, command(alice, { accountId: ACCOUNT })));

    expect(error).toEqual(new RateLimitedError(45));
    expect(errorSummary(error)).toEqual({
      name: 'RateLimitedError',
      code: 'rate_limited',
      status: 429,
      message: 'Too many requests; retry later.',
    });
  });
});

describe('getRun and getRunTrace', () => {
  it('shows a run to its requester, a manager and an operator naming the tenant, and hides it from another CSM', async () => {
    const deps = depsWithAccounts();
    const run = await startRun(deps, command(alice, { accountId: ACCOUNT }));

    // No draft yet, so no action counts.
    const view = { ...run, actions: null };
    expect(await getRun(deps, alice, run.runId, undefined)).toEqual(view);
    expect(await getRun(deps, maria, run.runId, undefined)).toEqual(view);
    expect(await getRun(deps, olga, run.runId, TENANT)).toEqual(view);
    expect(await rejectionOf(getRun(deps, bob, run.runId, undefined))).toEqual(new NotFoundError('Run'));
    expect(await rejectionOf(getRun(deps, olga, run.runId, undefined))).toEqual(new NotFoundError('Run'));
  });

  it('serves the trace of a run of the tenant', async () => {
    const deps = depsWithAccounts();
    const run = await startRun(deps, command(alice, { accountId: ACCOUNT }));

    const trace = await getRunTrace(deps, ada, run.runId, undefined);

    expect(trace).toEqual({
      runId: run.runId,
      traceId: deps.traces.spansOf(TENANT, run.runId)[0]?.traceId,
      spans: deps.traces.spansOf(TENANT, run.runId),
    });
  });
});

describe('listRuns', () => {
  async function tenantWithRuns() {
    const deps = depsWithAccounts();
    const alices = await startRun(deps, command(alice, { accountId: ACCOUNT }));
    const bobs = await startRun(deps, command(bob, { accountId: BOBS_ACCOUNT }));
    await deps.runs.updateRun(
      TENANT,
      bobs.runId,
      { status: 'failed', error: { code: 'model_unavailable', message: 'x' } },
      deps.clock.now(),
    );
    return { deps, alices, bobs };
  }
  const query = (raw: Record<string, string> = {}) => ListRunsQuerySchema.parse(raw);

  it("shows a CSM only the runs they requested, and a manager the tenant's", async () => {
    const { deps, alices, bobs } = await tenantWithRuns();

    const own = await listRuns(deps, alice, query());
    const all = await listRuns(deps, maria, query());

    expect(own.items.map((run) => run.runId)).toEqual([alices.runId]);
    expect(all.items.map((run) => run.runId).sort()).toEqual([alices.runId, bobs.runId].sort());
  });

  it('finds failed runs by status, several statuses at once, and by account', async () => {
    const { deps, alices, bobs } = await tenantWithRuns();

    const failed = await listRuns(deps, maria, query({ status: 'failed' }));
    const either = await listRuns(deps, maria, query({ status: 'failed,running' }));
    const byAccount = await listRuns(deps, maria, query({ accountId: ACCOUNT }));

    expect(failed.items.map((run) => [run.runId, run.error?.code])).toEqual([
      [bobs.runId, 'model_unavailable'],
    ]);
    expect(either.items).toHaveLength(2);
    expect(byAccount.items.map((run) => run.runId)).toEqual([alices.runId]);
  });

  it("lets finance read a tenant's run costs without their input, and operators the whole run", async () => {
    const { deps } = await tenantWithRuns();

    const forFinance = await listRuns(deps, fiona, query({ tenantId: TENANT }));
    const forOperator = await listRuns(deps, olga, query({ tenantId: TENANT }));

    expect(forFinance.items.map((run) => ['input' in run, typeof run.costUsd])).toEqual([
      [false, 'number'],
      [false, 'number'],
    ]);
    expect(forOperator.items.every((run) => run.input !== undefined)).toBe(true);
  });

  it("refuses another tenant's runs to tenant users, and pages with a cursor", async () => {
    const { deps } = await tenantWithRuns();

    expect(await rejectionOf(listRuns(deps, maria, query({ tenantId: OTHER_TENANT })))).toBeInstanceOf(
      ForbiddenError,
    );
    const first = await listRuns(deps, maria, query({ limit: '1' }));
    const second = await listRuns(deps, maria, query({ limit: '1', cursor: first.nextCursor ?? '' }));
    expect([first.items.length, second.items.length, second.nextCursor]).toEqual([1, 1, null]);
    expect(second.items[0]?.runId).not.toBe(first.items[0]?.runId);
  });

  it('rejects an unknown status with the field it came from', () => {
    const parsed = ListRunsQuerySchema.safeParse({ status: 'failed,finished' });
    expect(parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'))).toEqual([
      'status',
    ]);
  });
});
