import { describe, expect, it } from 'vitest';
import { draftIdOf, MAX_MODEL_ATTEMPTS, storeDraft, validateOutput } from '#shared/usecases/validate.ts';
import { makeDeps } from '../fakes/deps.ts';
import {
  alice,
  errorSummary,
  rejectionOf,
  sampleContext,
  seedAttempt,
  seedRun,
  TENANT,
  validAnswer,
  validBrief,
} from '../fakes/fixtures.ts';

async function withAttempt(answer: Parameters<typeof seedAttempt>[3], attempt = 1) {
  const deps = makeDeps();
  const run = await seedRun(deps);
  await seedAttempt(deps, run, attempt, answer);
  return { deps, run, task: { tenantId: TENANT, runId: run.runId, attempt } };
}

describe('validateOutput', () => {
  it('accepts an answer that matches the schema and cites only context evidence', async () => {
    const { deps, run, task } = await withAttempt({});

    expect(await validateOutput(deps, task)).toEqual({
      valid: true,
      canRepair: false,
      nextAttempt: 2,
      problems: 0,
    });
    expect((await deps.runs.getAttempt(TENANT, run.runId, 1))?.validationErrors).toBeNull();
  });

  it('offers a repair for invalid JSON on the first attempt and stores the problem for the repair prompt', async () => {
    const { deps, run, task } = await withAttempt({ outputText: '{"summary": "cut' });

    expect(await validateOutput(deps, task)).toEqual({
      valid: false,
      canRepair: true,
      nextAttempt: 2,
      problems: 1,
    });
    expect((await deps.runs.getAttempt(TENANT, run.runId, 1))?.validationErrors).toEqual([
      'the answer is not valid JSON',
    ]);
  });

  it('offers no repair after the last attempt', async () => {
    const { deps, task } = await withAttempt({ outputText: 'not json' }, MAX_MODEL_ATTEMPTS);

    expect(await validateOutput(deps, task)).toEqual({
      valid: false,
      canRepair: false,
      nextAttempt: 3,
      problems: 1,
    });
  });

  it('lists schema violations by path', async () => {
    const { deps, run, task } = await withAttempt({
      outputText: JSON.stringify({ ...validAnswer(), health: 'great', risks: 'none' }),
    });

    expect(await validateOutput(deps, task)).toEqual({
      valid: false,
      canRepair: true,
      nextAttempt: 2,
      problems: 2,
    });
    expect((await deps.runs.getAttempt(TENANT, run.runId, 1))?.validationErrors).toEqual([
      expect.stringMatching(/^health: /),
      expect.stringMatching(/^risks: /),
    ]);
  });

  it('sends an action of an undeclared type, invalid arguments or uncited evidence to the repair round', async () => {
    const task = { title: 'Call the champion', owner: 'CSM', dueDate: '2026-10-15' };
    const answer = validAnswer({}, [
      { type: 'crm.delete_account', arguments: {}, rationale: 'Asked to.', evidence: ['ticket:T-100'] },
      { type: 'crm.create_task', arguments: { ...task, dueDate: 'soon' }, rationale: 'x', evidence: [] },
    ] as never);
    const { deps, task: validation } = await withAttempt({ outputText: JSON.stringify(answer) });

    expect(await validateOutput(deps, validation)).toMatchObject({ valid: false, canRepair: true });

    const uncited = validAnswer({}, [
      { type: 'crm.create_task', arguments: task, rationale: 'x', evidence: ['invoice:INV-999'] },
    ]);
    const second = await withAttempt({ outputText: JSON.stringify(uncited) });
    expect(await validateOutput(second.deps, second.task)).toMatchObject({ valid: false, problems: 1 });
    expect((await second.deps.runs.getAttempt(TENANT, second.run.runId, 1))?.validationErrors).toEqual([
      'proposedActions[0].evidence cites "invoice:INV-999", which is not in the context',
    ]);
  });

  it('rejects evidence ids the context does not hold', async () => {
    const invented = validAnswer({
      risks: [{ title: 'Late payment', severity: 'high', evidence: ['invoice:INV-999'] }],
    });
    const { deps, run, task } = await withAttempt({ outputText: JSON.stringify(invented) });

    expect(await validateOutput(deps, task)).toEqual({
      valid: false,
      canRepair: true,
      nextAttempt: 2,
      problems: 1,
    });
    expect((await deps.runs.getAttempt(TENANT, run.runId, 1))?.validationErrors).toEqual([
      'risks[0].evidence cites "invoice:INV-999", which is not in the context',
    ]);
  });

  it('treats an answer cut short by the token limit as invalid', async () => {
    const { deps, run, task } = await withAttempt({ finishReason: 'incomplete:max_output_tokens' });

    expect(await validateOutput(deps, task)).toEqual({
      valid: false,
      canRepair: true,
      nextAttempt: 2,
      problems: 1,
    });
    expect((await deps.runs.getAttempt(TENANT, run.runId, 1))?.validationErrors).toEqual([
      'the answer was cut short (incomplete:max_output_tokens)',
    ]);
  });

  it('fails a refusal with Rein.model_refused, with no repair', async () => {
    const { deps, run, task } = await withAttempt({ outputText: null, refusal: 'I cannot help with that.' });

    const error = await rejectionOf(validateOutput(deps, task));

    expect(errorSummary(error)).toEqual({
      name: 'Rein.model_refused',
      code: 'model_refused',
      status: 500,
      message: 'The model refused to write this brief.',
    });
    expect((await deps.runs.getAttempt(TENANT, run.runId, 1))?.validationErrors).toEqual([
      'the model refused to answer',
    ]);
  });

  it('fails with Rein.internal_error when the attempt was never recorded', async () => {
    const deps = makeDeps();
    const run = await seedRun(deps);

    const error = await rejectionOf(validateOutput(deps, { tenantId: TENANT, runId: run.runId, attempt: 1 }));

    expect([error.name, error.message]).toEqual(['Rein.internal_error', 'Attempt 1 was not recorded.']);
  });

  it('records a validation span', async () => {
    const { deps, run, task } = await withAttempt({ outputText: 'nope' });

    await validateOutput(deps, task);

    expect(
      deps.traces.spansOf(TENANT, run.runId).map((span) => [span.kind, span.status, span.attributes]),
    ).toEqual([
      [
        'validation',
        'error',
        {
          'rein.run.id': run.runId,
          'rein.tenant.id': TENANT,
          'rein.attempt': 1,
          'rein.validation.valid': false,
          'rein.validation.problems': ['the answer is not valid JSON'],
        },
      ],
    ]);
  });
});

describe('storeDraft', () => {
  it('stores the validated output as version 1 awaiting review, with only the cited evidence', async () => {
    const { deps, run, task } = await withAttempt({});

    const result = await storeDraft(deps, task);

    const draftId = draftIdOf(run.runId);
    const context = sampleContext();
    expect(result).toEqual({ draftId });
    expect(await deps.drafts.getDraft(TENANT, draftId)).toEqual({
      draftId,
      runId: run.runId,
      tenantId: TENANT,
      workflowId: 'renewal-brief',
      ownerId: alice.sub,
      accountId: run.accountId,
      status: 'awaiting_review',
      version: 1,
      content: validBrief(),
      original: validBrief(),
      // The brief cites usage and the ticket, not the CRM record.
      evidence: [context.items[1], context.items[2]],
      promptId: 'renewal-brief',
      promptVersion: 'v2',
      model: 'gpt-4.1-mini',
      escalation: null,
      outcome: null,
      expiresAt: null,
      actions: [],
      edits: [],
      createdAt: '2026-10-01T09:00:00.000Z',
      updatedAt: '2026-10-01T09:00:00.000Z',
    });
    expect((await deps.runs.getRun(TENANT, run.runId))?.draftId).toBe(draftId);
  });

  it('starts the review with an absolute deadline on the draft and the run, kept by a retried call', async () => {
    const { deps, run, task } = await withAttempt({});
    deps.settings.reviewTimeoutSeconds = 40;

    const { draftId } = await storeDraft(deps, task);
    deps.clock.advance(5_000);
    await storeDraft(deps, task);

    expect((await deps.drafts.getDraft(TENANT, draftId))?.expiresAt).toBe('2026-10-01T09:00:40.000Z');
    expect((await deps.runs.getRun(TENANT, run.runId))?.expiresAt).toBe('2026-10-01T09:00:40.000Z');
  });

  it('returns the same draft on a retried call and writes no second one', async () => {
    const { deps, task } = await withAttempt({});

    const first = await storeDraft(deps, task);
    deps.clock.advance(5_000);
    const second = await storeDraft(deps, task);

    expect(second).toEqual(first);
    expect(deps.drafts.allDrafts(TENANT).map((d) => [d.draftId, d.createdAt])).toEqual([
      [first.draftId, '2026-10-01T09:00:00.000Z'],
    ]);
  });

  it('refuses to store an invalid output with Rein.invalid_model_output', async () => {
    const { deps, task } = await withAttempt({ outputText: '[]' });

    const error = await rejectionOf(storeDraft(deps, task));

    expect([error.name, error.message]).toEqual([
      'Rein.invalid_model_output',
      'The model output is not valid.',
    ]);
    expect(deps.drafts.allDrafts(TENANT)).toEqual([]);
  });

  it('derives the draft id from the run id', () => {
    expect(draftIdOf('run_01jd0000000000000000000000')).toBe('drf_01jd0000000000000000000000');
  });
});
