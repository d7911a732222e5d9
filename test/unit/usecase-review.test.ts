import { describe, expect, it } from 'vitest';
import { budgetRefusalCause } from '#shared/domain/budget-refusal.ts';
import {
  BudgetExceededError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ValidationError,
  WorkflowStepError,
} from '#shared/domain/errors.ts';
import { canonicalJson, normalizedEditDistance } from '#shared/domain/edit-distance.ts';
import {
  awaitReview,
  decideDraft,
  editDraft,
  escalateDraft,
  expireReview,
  failureCodeOf,
  getDraft,
  listDrafts,
  ListDraftsQuerySchema,
  markFailed,
  parseIfMatch,
  recordOutcome,
  toDraftSummary,
} from '#shared/usecases/review.ts';
import { makeDeps, type TestDeps } from '../fakes/deps.ts';
import { RecordingEngine } from '../fakes/engine.ts';
import {
  ada,
  alice,
  bob,
  errorSummary,
  maria,
  rejectionOf,
  seedDraft,
  sampleContext,
  seedRun,
  TENANT,
  validBrief,
} from '../fakes/fixtures.ts';

const SEEDED_AT = '2026-10-01T09:00:00.000Z';
const TOKEN = 'task-token-1';

async function draftAwaitingReview(deps: TestDeps = makeDeps(), options: { withToken?: boolean } = {}) {
  const run = await seedRun(deps);
  const draft = await seedDraft(deps, run);
  if (options.withToken ?? true) {
    await awaitReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId, taskToken: TOKEN });
  }
  return { deps, run, draft };
}

describe('decideDraft', () => {
  it('writes the outcome and sends exactly one task success', async () => {
    const { deps, draft } = await draftAwaitingReview();
    deps.clock.advance(90_000);

    const decided = await decideDraft(deps, alice, draft.draftId, 'approved', '"1"', {
      reason: 'Looks right.',
    });

    expect(decided).toEqual({
      ...draft,
      status: 'approved',
      version: 2,
      outcome: {
        decision: 'approved',
        reviewer: alice.sub,
        reason: 'Looks right.',
        editDistance: 0,
        timeToDecisionMs: 90_000,
        decidedAt: '2026-10-01T09:01:30.000Z',
      },
      updatedAt: '2026-10-01T09:01:30.000Z',
    });
    expect(deps.engine.successes).toEqual([{ taskToken: TOKEN, output: { decision: 'approved' } }]);
  });

  it('measures the edit distance between the model draft and the edited content', async () => {
    const { deps, draft } = await draftAwaitingReview();
    const edited = validBrief({ summary: 'Usage fell sharply; an export ticket is open.' });
    await editDraft(deps, alice, draft.draftId, '"1"', { content: edited });

    const decided = await decideDraft(deps, alice, draft.draftId, 'rejected', '"2"', undefined);

    expect(decided.outcome).toEqual({
      decision: 'rejected',
      reviewer: alice.sub,
      reason: null,
      editDistance: normalizedEditDistance(canonicalJson(validBrief()), canonicalJson(edited)),
      timeToDecisionMs: 0,
      decidedAt: SEEDED_AT,
    });
    expect(decided.outcome?.editDistance).toBeGreaterThan(0);
  });

  it('answers a second approve with 409 and sends nothing more', async () => {
    const { deps, draft } = await draftAwaitingReview();
    await decideDraft(deps, alice, draft.draftId, 'approved', undefined, undefined);

    const error = await rejectionOf(
      decideDraft(deps, maria, draft.draftId, 'approved', undefined, undefined),
    );

    expect(error).toEqual(
      new ConflictError('The draft is already approved.', [{ path: 'status', message: 'is approved' }]),
    );
    expect(errorSummary(error).status).toBe(409);
    expect(deps.engine.successes).toHaveLength(1);
  });

  it('answers 412 with the current version when If-Match is stale', async () => {
    const { deps, draft } = await draftAwaitingReview();
    await editDraft(deps, alice, draft.draftId, '"1"', { content: validBrief({ openQuestions: [] }) });

    const error = await rejectionOf(decideDraft(deps, alice, draft.draftId, 'approved', '"1"', undefined));

    expect(error).toEqual(
      new PreconditionFailedError('The draft has changed since you read it.', [
        { path: 'version', message: 'the current version is 2' },
      ]),
    );
    expect(deps.engine.successes).toEqual([]);
  });

  it('lets only a manager or an admin decide an escalated draft', async () => {
    const { deps, run, draft } = await draftAwaitingReview();
    const escalated = await escalateDraft(deps, alice, draft.draftId, '"1"', {
      reason: 'Pricing exception.',
    });
    const runWhileEscalated = await deps.runs.getRun(TENANT, run.runId);

    const refused = await rejectionOf(
      decideDraft(deps, alice, draft.draftId, 'approved', undefined, undefined),
    );
    const approved = await decideDraft(deps, maria, draft.draftId, 'approved', undefined, undefined);

    expect(escalated.escalation).toEqual({ by: alice.sub, reason: 'Pricing exception.', at: SEEDED_AT });
    expect(runWhileEscalated?.status).toBe('escalated');
    expect(refused).toEqual(
      new ForbiddenError('An escalated draft can only be changed by a manager or an admin.'),
    );
    expect({ status: approved.status, reviewer: approved.outcome?.reviewer }).toEqual({
      status: 'approved',
      reviewer: maria.sub,
    });
    expect(deps.engine.successes).toEqual([{ taskToken: TOKEN, output: { decision: 'approved' } }]);
  });

  it("hides another CSM's draft as not found", async () => {
    const { deps, draft } = await draftAwaitingReview();

    expect(
      await rejectionOf(decideDraft(deps, bob, draft.draftId, 'approved', undefined, undefined)),
    ).toEqual(new NotFoundError('Draft'));
  });

  it('rejects unknown body fields with 400', async () => {
    const { deps, draft } = await draftAwaitingReview();

    const error = await rejectionOf(
      decideDraft(deps, alice, draft.draftId, 'approved', undefined, { approve: true }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('The request body is invalid.');
  });

  it('finishes the run itself when the execution can no longer take the decision', async () => {
    const deps = makeDeps({ engine: new RecordingEngine({ sendTaskSuccess: new Error('TaskTimedOut') }) });
    const { run, draft } = await draftAwaitingReview(deps);

    await decideDraft(deps, alice, draft.draftId, 'rejected', undefined, undefined);

    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('rejected');
  });
});

describe('escalateDraft', () => {
  it('answers 409 when the draft is already escalated', async () => {
    const { deps, draft } = await draftAwaitingReview();
    await escalateDraft(deps, alice, draft.draftId, undefined, undefined);

    expect(await rejectionOf(escalateDraft(deps, maria, draft.draftId, undefined, undefined))).toEqual(
      new ConflictError('The draft is already escalated.'),
    );
  });
});

describe('editDraft', () => {
  it('replaces the content, keeps the original and bumps the version', async () => {
    const { deps, draft } = await draftAwaitingReview();
    const edited = validBrief({ health: 'critical' });
    deps.clock.advance(1_000);

    const result = await editDraft(deps, alice, draft.draftId, 'W/"1"', { content: edited });

    expect(result).toEqual({
      ...draft,
      content: edited,
      version: 2,
      updatedAt: '2026-10-01T09:00:01.000Z',
      edits: [{ version: 2, editor: 'csm-alice', at: '2026-10-01T09:00:01.000Z' }],
    });
  });

  it('requires If-Match (428) and a well-formed one (400)', async () => {
    const { deps, draft } = await draftAwaitingReview();

    expect(
      await rejectionOf(editDraft(deps, alice, draft.draftId, undefined, { content: validBrief() })),
    ).toEqual(new PreconditionRequiredError('PATCH requires an If-Match header.'));
    expect(
      await rejectionOf(editDraft(deps, alice, draft.draftId, '*', { content: validBrief() })),
    ).toBeInstanceOf(ValidationError);
  });

  it('rejects content outside the output schema or against the business rules', async () => {
    const { deps, draft } = await draftAwaitingReview();

    const extraField = await rejectionOf(
      editDraft(deps, alice, draft.draftId, '"1"', { content: { ...validBrief(), secret: 1 } }),
    );
    const invented = await rejectionOf(
      editDraft(deps, alice, draft.draftId, '"1"', {
        content: validBrief({ risks: [{ title: 'x', severity: 'low', evidence: ['crm:other'] }] }),
      }),
    );

    expect(extraField.message).toBe('The content does not match the workflow output schema.');
    expect(invented).toEqual(
      new ValidationError('The content breaks the workflow rules.', [
        { path: 'content', message: 'risks[0].evidence cites "crm:other", which is not in the context' },
      ]),
    );
    expect((await deps.drafts.getDraft(TENANT, draft.draftId))?.version).toBe(1);
  });
});

describe('awaitReview', () => {
  it('keeps the task token and marks the run awaiting review without resuming it', async () => {
    const { deps, run, draft } = await draftAwaitingReview();

    expect(await deps.drafts.getTaskToken(TENANT, draft.draftId)).toBe(TOKEN);
    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('awaiting_review');
    expect(deps.engine.successes).toEqual([]);
  });

  it('sends the success itself when the draft was decided before the token was registered', async () => {
    const { deps, run, draft } = await draftAwaitingReview(makeDeps(), { withToken: false });
    await decideDraft(deps, alice, draft.draftId, 'approved', undefined, undefined);
    expect(deps.engine.successes).toEqual([]);

    await awaitReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId, taskToken: TOKEN });

    expect(deps.engine.successes).toEqual([{ taskToken: TOKEN, output: { decision: 'approved' } }]);
  });

  it('resumes the execution once when the decision lands while the token is being registered', async () => {
    const { deps, run, draft } = await draftAwaitingReview(makeDeps(), { withToken: false });
    // The reviewer's write lands after AwaitReview read the draft but before its token is stored.
    deps.drafts.interleave('saveTaskToken', async () => {
      await decideDraft(deps, alice, draft.draftId, 'approved', undefined, undefined);
    });

    await awaitReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId, taskToken: TOKEN });

    expect(deps.engine.successes).toEqual([{ taskToken: TOKEN, output: { decision: 'approved' } }]);
  });
});

describe('expireReview and recordOutcome', () => {
  it('expires an undecided draft and finishes the run as expired', async () => {
    const { deps, run, draft } = await draftAwaitingReview();
    deps.clock.advance(3_600_000);

    await expireReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });

    expect(await deps.drafts.getDraft(TENANT, draft.draftId)).toEqual({
      ...draft,
      status: 'expired',
      version: 2,
      outcome: {
        decision: 'expired',
        reviewer: null,
        reason: 'No decision within the review timeout.',
        editDistance: 0,
        timeToDecisionMs: 3_600_000,
        decidedAt: '2026-10-01T10:00:00.000Z',
      },
      updatedAt: '2026-10-01T10:00:00.000Z',
    });
    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('expired');
    expect(await deps.drafts.getTaskToken(TENANT, draft.draftId)).toBeNull();
  });

  it('keeps a decision that won the race against the timeout', async () => {
    const deps = makeDeps({ engine: new RecordingEngine({ sendTaskSuccess: new Error('TaskTimedOut') }) });
    const { run, draft } = await draftAwaitingReview(deps);
    deps.drafts.interleave('updateDraft', async () => {
      await decideDraft(deps, maria, draft.draftId, 'approved', undefined, undefined);
    });

    await expireReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });

    const final = await deps.drafts.getDraft(TENANT, draft.draftId);
    expect({
      status: final?.status,
      decision: final?.outcome?.decision,
      reviewer: final?.outcome?.reviewer,
    }).toEqual({
      status: 'approved',
      decision: 'approved',
      reviewer: maria.sub,
    });
    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('approved');
  });

  it('gives the run the final status of its draft and forgets the task token', async () => {
    const { deps, run, draft } = await draftAwaitingReview();
    await decideDraft(deps, ada, draft.draftId, 'rejected', undefined, { reason: 'Wrong account.' });

    await recordOutcome(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });

    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('rejected');
    expect(await deps.drafts.getTaskToken(TENANT, draft.draftId)).toBeNull();
    expect(deps.traces.spansOf(TENANT, run.runId).at(-1)?.attributes).toEqual({
      'rein.run.id': run.runId,
      'rein.tenant.id': TENANT,
      'rein.review.decision': 'rejected',
      'rein.review.reviewer': ada.sub,
      'rein.review.edit_distance': 0,
      'rein.review.time_to_decision_ms': 0,
      'rein.review.escalated': false,
    });
  });

  it('refuses to record the outcome of a draft that is still open', async () => {
    const { deps, run, draft } = await draftAwaitingReview();

    expect(
      await rejectionOf(recordOutcome(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId })),
    ).toEqual(new ConflictError('The draft is still awaiting_review.'));
  });
});

describe('markFailed', () => {
  it.each([
    ['Rein.budget_exceeded', 'budget_exceeded', 'The budget does not cover this run.'],
    ['Rein.model_unavailable', 'model_unavailable', 'No model could produce an answer.'],
    [
      'InvalidModelOutputError',
      'invalid_model_output',
      'The model output failed validation after a repair attempt.',
    ],
    ['States.TaskFailed', 'internal_error', 'The run failed because of an internal error.'],
    ['Rein.not_a_code', 'internal_error', 'The run failed because of an internal error.'],
    [undefined, 'internal_error', 'The run failed because of an internal error.'],
  ])('records %s as %s with a fixed message', async (errorName, code, message) => {
    const deps = makeDeps();
    const run = await seedRun(deps);

    // Step Functions passes the state's Error and Cause; only the name may reach the run.
    const error = { Error: errorName, Cause: 'provider said: sk-live-123 is invalid' };

    const result = await markFailed(deps, { tenantId: TENANT, runId: run.runId, error });

    const stored = await deps.runs.getRun(TENANT, run.runId);
    expect(result).toEqual({ code });
    expect({ status: stored?.status, error: stored?.error }).toEqual({
      status: 'failed',
      error: { code, message },
    });
  });

  it.each([
    ['as the local engine passes it', (message: string) => message],
    [
      'inside the Lambda runtime’s error document, as Step Functions passes it in AWS',
      (message: string) =>
        JSON.stringify({ errorType: 'Rein.budget_exceeded', errorMessage: message, trace: [] }),
    ],
  ])(
    'records a budget refusal with the budget that blocked and its figures (Cause %s)',
    async (_how, wrap) => {
      const deps = makeDeps();
      const run = await seedRun(deps);
      const refusal = new BudgetExceededError({
        budget: 'run_cost_cap',
        limitUsd: 0.5,
        spentUsd: 0.4721,
        attemptUsd: 0.0412,
      });
      const stepError = new WorkflowStepError(
        'budget_exceeded',
        budgetRefusalCause(refusal.refusal),
        refusal,
      );

      await markFailed(deps, {
        tenantId: TENANT,
        runId: run.runId,
        error: { Error: stepError.name, Cause: wrap(stepError.message) },
      });

      expect((await deps.runs.getRun(TENANT, run.runId))?.error).toEqual({
        code: 'budget_exceeded',
        message:
          "The run's cost cap cannot cover the next model attempt: cap $0.5, spent by the run $0.4721, attempt $0.0412.",
        details: [
          { path: 'budget', message: 'run_cost_cap' },
          { path: 'limitUsd', message: '0.5' },
          { path: 'spentUsd', message: '0.4721' },
          { path: 'attemptUsd', message: '0.0412' },
        ],
      });
    },
  );

  it('records no failure on a run that had ended', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'approved' });

    await markFailed(deps, { tenantId: TENANT, runId: run.runId, error: { Error: 'Rein.internal_error' } });

    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('approved');
    expect(deps.traces.spansOf(TENANT, run.runId)).toEqual([]);
  });

  it('leaves a finished run as it was', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'approved' });

    await markFailed(deps, { tenantId: TENANT, runId: run.runId, error: { Error: 'Rein.internal_error' } });

    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('approved');
  });

  it('maps error names to failure codes', () => {
    expect(
      ['Rein.rate_limited', 'Rein.context_unavailable', 'Rein.model_refused'].map(failureCodeOf),
    ).toEqual(['rate_limited', 'context_unavailable', 'model_refused']);
  });
});

describe('reading drafts', () => {
  it("lists only a CSM's own drafts, and every draft for a manager", async () => {
    const deps = makeDeps();
    const mine = await seedDraft(deps, await seedRun(deps, { principal: alice }));
    deps.clock.advance(1);
    const bobs = await seedDraft(deps, await seedRun(deps, { principal: bob, accountId: 'acct-contoso' }));

    const forAlice = await listDrafts(deps, alice, ListDraftsQuerySchema.parse({}));
    const forMaria = await listDrafts(
      deps,
      maria,
      ListDraftsQuerySchema.parse({ status: 'awaiting_review', limit: '10' }),
    );

    expect(forAlice.items.map((d) => d.draftId)).toEqual([mine.draftId]);
    expect(forMaria).toEqual({ items: [toDraftSummary(bobs), toDraftSummary(mine)], nextCursor: null });
  });

  it('lists summaries without content, by several statuses at once and by account', async () => {
    const deps = makeDeps();
    const mine = await seedDraft(deps, await seedRun(deps, { principal: alice }));
    deps.clock.advance(1);
    const bobs = await seedDraft(deps, await seedRun(deps, { principal: bob, accountId: 'acct-contoso' }));
    await escalateDraft(deps, bob, bobs.draftId, undefined, undefined);

    const open = await listDrafts(
      deps,
      maria,
      ListDraftsQuerySchema.parse({ status: 'awaiting_review,escalated' }),
    );
    const escalated = await listDrafts(deps, maria, ListDraftsQuerySchema.parse({ status: 'escalated' }));
    const contoso = await listDrafts(deps, maria, ListDraftsQuerySchema.parse({ accountId: 'acct-contoso' }));

    expect(open.items.map((d) => [d.draftId, d.status])).toEqual([
      [bobs.draftId, 'escalated'],
      [mine.draftId, 'awaiting_review'],
    ]);
    expect(open.items.some((d) => 'content' in d || 'evidence' in d)).toBe(false);
    expect(escalated.items.map((d) => d.draftId)).toEqual([bobs.draftId]);
    expect(contoso.items.map((d) => d.draftId)).toEqual([bobs.draftId]);
  });

  it('refuses an unknown query parameter, a bad limit or an unknown status', () => {
    for (const query of [
      { owner: 'csm-bob' },
      { limit: '0' },
      { limit: 'all' },
      { status: 'open' },
      { status: 'awaiting_review,open' },
    ]) {
      expect(ListDraftsQuerySchema.safeParse(query).success).toBe(false);
    }
  });

  it("hides another CSM's draft as not found but shows it to an admin", async () => {
    const { deps, draft } = await draftAwaitingReview();

    expect(await rejectionOf(getDraft(deps, bob, draft.draftId))).toEqual(new NotFoundError('Draft'));
    expect((await getDraft(deps, ada, draft.draftId)).draft).toEqual(draft);
  });
});

describe('parseIfMatch', () => {
  it('reads strong, weak and bare versions and rejects anything else', () => {
    expect([
      parseIfMatch('"3"'),
      parseIfMatch('W/"3"'),
      parseIfMatch(' 3 '),
      parseIfMatch(undefined),
    ]).toEqual([3, 3, 3, undefined]);
    for (const header of ['*', '"abc"', '"1", "2"', '']) {
      expect(() => parseIfMatch(header)).toThrow(ValidationError);
    }
  });
});

describe('domain events of the review lifecycle', () => {
  it('records run.awaiting_review once, however often AwaitReview runs (retry, resume after restart)', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'running' });
    const draft = await seedDraft(deps, run);
    // StoreDraft has run; the run is still running until AwaitReview registers.
    await deps.runs.updateRun(TENANT, run.runId, { status: 'running' }, deps.clock.now());
    const task = { tenantId: TENANT, runId: run.runId, draftId: draft.draftId, taskToken: TOKEN };
    await awaitReview(deps, task);
    await awaitReview(deps, task);
    expect(deps.runs.outbox.map((e) => [e.type, e.data])).toEqual([
      ['run.awaiting_review', { runId: run.runId, workflowId: 'renewal-brief', draftId: draft.draftId }],
    ]);
  });

  it('records draft.decided with the decision and reviewer, and nothing for a lost double approve', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'awaiting_review' });
    const draft = await seedDraft(deps, run);
    await decideDraft(deps, alice, draft.draftId, 'approved', undefined, {});
    await rejectionOf(decideDraft(deps, alice, draft.draftId, 'approved', undefined, {}));
    expect(deps.runs.outbox.map((e) => [e.type, e.tenantId, e.data])).toEqual([
      [
        'draft.decided',
        TENANT,
        {
          draftId: draft.draftId,
          runId: run.runId,
          workflowId: 'renewal-brief',
          decision: 'approved',
          reviewer: 'csm-alice',
        },
      ],
    ]);
  });

  it('records draft.escalated, and draft.decided as expired when the review times out', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'awaiting_review' });
    const draft = await seedDraft(deps, run);
    await escalateDraft(deps, alice, draft.draftId, undefined, { reason: 'pricing question' });
    await expireReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });
    expect(deps.runs.outbox.map((e) => e.type)).toEqual(['draft.escalated', 'draft.decided']);
    expect(deps.runs.outbox[1]?.data).toMatchObject({ decision: 'expired', reviewer: null });
    // Reasons typed by people are not part of any event.
    expect(JSON.stringify(deps.runs.outbox)).not.toContain('pricing question');
  });

  it('records run.failed with the failure code once', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps, { status: 'running' });
    await markFailed(deps, { tenantId: TENANT, runId: run.runId, error: { Error: 'Rein.budget_exceeded' } });
    await markFailed(deps, { tenantId: TENANT, runId: run.runId, error: { Error: 'Rein.budget_exceeded' } });
    expect(deps.runs.outbox.map((e) => [e.type, e.data])).toEqual([
      ['run.failed', { runId: run.runId, code: 'budget_exceeded' }],
    ]);
  });
});

describe('getDraft details', () => {
  const invoice = {
    id: 'invoice:INV-1',
    source: 'invoices',
    recordId: 'INV-1',
    fields: { invoiceId: 'INV-1', status: 'paid' },
    provenance: { fetchedAt: '2026-10-01T08:59:00.000Z', contentHash: 'sha256:inv' },
  };

  it("carries the account's name, every item the model saw marked cited or not, and the data gaps", async () => {
    const deps = makeDeps();
    deps.accounts.add({
      tenantId: TENANT,
      accountId: 'acct-northwind',
      ownerId: 'csm-alice',
      name: 'Northwind BV',
    });
    const gap = { source: 'contract', reason: 'not_found', detail: 'no record' } as const;
    const run = await seedRun(deps, {
      context: sampleContext({ items: [...sampleContext().items, invoice], dataGaps: [gap] }),
    });
    const draft = await seedDraft(deps, run);

    const { details } = await getDraft(deps, alice, draft.draftId);

    expect(details.accountName).toBe('Northwind BV');
    expect(details.seenEvidence.map((item) => [item.id, item.cited])).toEqual([
      ['crm:acct-northwind', true],
      ['usage:acct-northwind', true],
      ['ticket:T-100', true],
      ['invoice:INV-1', false],
    ]);
    expect(details.seenEvidence[3]).toEqual({ ...invoice, cited: false });
    expect(details.dataGaps).toEqual([gap]);
  });

  it("falls back to the CRM evidence's name when the directory has no name for the account", async () => {
    const { deps, draft } = await draftAwaitingReview();
    expect((await getDraft(deps, alice, draft.draftId)).details.accountName).toBe('Northwind Traders');
  });
});

describe('edit history', () => {
  it('records each edit with the version it made, the editor and the time, in the same write as the content', async () => {
    const { deps, draft } = await draftAwaitingReview();
    deps.clock.advance(1000);
    await editDraft(deps, alice, draft.draftId, '"1"', { content: validBrief({ summary: 'First edit.' }) });
    deps.clock.advance(1000);
    const second = await editDraft(deps, ada, draft.draftId, '"2"', {
      content: validBrief({ summary: 'Second edit.' }),
    });

    expect(second.edits).toEqual([
      { version: 2, editor: 'csm-alice', at: '2026-10-01T09:00:01.000Z' },
      { version: 3, editor: ada.sub, at: '2026-10-01T09:00:02.000Z' },
    ]);
    // A stale edit changes neither the content nor the history.
    await expect(
      editDraft(deps, alice, draft.draftId, '"2"', { content: validBrief({ summary: 'Late.' }) }),
    ).rejects.toThrow(PreconditionFailedError);
    expect((await getDraft(deps, alice, draft.draftId)).draft.edits).toHaveLength(2);
  });
});
