import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { actionRecordsOf, argsHashOf, type ActionRecord } from '#shared/domain/actions.ts';
import { ForbiddenError, ValidationError } from '#shared/domain/errors.ts';
import { ACTION_DELIVERY, executeActions, putActionTarget } from '#shared/usecases/actions.ts';
import { awaitReview, decideDraft, expireReview } from '#shared/usecases/review.ts';
import { RENEWAL_ACTIONS, RenewalBriefOutputSchema } from '#shared/workflows/renewal-brief.ts';
import { makeDeps, type TestDeps } from '../fakes/deps.ts';
import { RecordingEngine } from '../fakes/engine.ts';
import {
  ada,
  alice,
  errorSummary,
  maria,
  rejectionOf,
  seedDraft,
  seedRun,
  TENANT,
  validAnswer,
} from '../fakes/fixtures.ts';

const TASK_ARGS = { title: 'Review seat usage with the champion', owner: 'Alice', dueDate: '2026-10-15' };
const RISK_ARGS = { level: 'medium', reason: 'Seat utilisation is at 41%.' };
const EMAIL_ARGS = { subject: 'Your renewal', body: 'Hello, could we talk about your renewal?' };

function proposals() {
  return [
    {
      type: 'crm.create_task',
      arguments: TASK_ARGS,
      rationale: 'Low usage.',
      evidence: ['usage:acct-northwind'],
    },
    {
      type: 'crm.update_renewal_risk',
      arguments: RISK_ARGS,
      rationale: 'Risks.',
      evidence: ['ticket:T-100'],
    },
    {
      type: 'email.customer_followup',
      arguments: EMAIL_ARGS,
      rationale: 'Ticket.',
      evidence: ['ticket:T-100'],
    },
  ];
}

async function draftWithActions(deps: TestDeps = makeDeps()) {
  const run = await seedRun(deps);
  const draftId = run.runId.replace(/^run_/, 'drf_');
  const actions = actionRecordsOf(draftId, proposals(), RENEWAL_ACTIONS);
  const draft = await seedDraft(deps, run, { actions });
  await awaitReview(deps, { tenantId: TENANT, runId: run.runId, draftId, taskToken: 'token-1' });
  const [task, risk, email] = actions as [ActionRecord, ActionRecord, ActionRecord];
  return { deps, run, draft, task, risk, email };
}

async function withTarget(deps: TestDeps): Promise<string> {
  const { target } = await putActionTarget(deps, ada, 'crm', { url: 'https://crm.example.com/rein' });
  if (!target.signingSecret) throw new Error('no secret');
  return target.signingSecret;
}

describe('the renewal brief output schema', () => {
  it('accepts the three declared action types with valid arguments and refuses any other type or argument', () => {
    expect(RenewalBriefOutputSchema.safeParse(validAnswer({}, proposals())).success).toBe(true);
    const unknownType = validAnswer({}, [
      { type: 'crm.delete_account', arguments: {}, rationale: 'x', evidence: ['ticket:T-100'] },
    ] as never);
    expect(RenewalBriefOutputSchema.safeParse(unknownType).success).toBe(false);
    const extraArg = validAnswer({}, [
      {
        type: 'crm.create_task',
        arguments: { ...TASK_ARGS, priority: 'high' },
        rationale: 'x',
        evidence: [],
      },
    ] as never);
    expect(RenewalBriefOutputSchema.safeParse(extraArg).success).toBe(false);
  });
});

describe('approving a draft with actions', () => {
  it('answers 400 naming every undecided action and changes nothing', async () => {
    const { deps, draft, task, risk, email } = await draftWithActions();

    const error = await rejectionOf(
      decideDraft(deps, maria, draft.draftId, 'approved', undefined, {
        actions: [{ actionId: task.actionId, decision: 'approve' }],
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain(risk.actionId);
    expect(error.message).toContain(email.actionId);
    expect((await deps.drafts.getDraft(TENANT, draft.draftId))?.status).toBe('awaiting_review');
    expect(deps.engine.successes).toEqual([]);
  });

  it('answers 403 for the customer e-mail when a CSM approves it, and changes nothing', async () => {
    const { deps, draft, task, risk, email } = await draftWithActions();

    const error = await rejectionOf(
      decideDraft(deps, alice, draft.draftId, 'approved', undefined, {
        actions: [
          { actionId: task.actionId, decision: 'approve' },
          { actionId: risk.actionId, decision: 'approve' },
          { actionId: email.actionId, decision: 'approve' },
        ],
      }),
    );

    expect(error).toBeInstanceOf(ForbiddenError);
    expect(errorSummary(error)).toMatchObject({ status: 403 });
    expect(error.message).toContain(email.actionId);
    expect((await deps.drafts.getDraft(TENANT, draft.draftId))?.status).toBe('awaiting_review');
  });

  it('lets a CSM approve the CRM actions while rejecting the e-mail', async () => {
    const { deps, draft, task, risk, email } = await draftWithActions();

    const decided = await decideDraft(deps, alice, draft.draftId, 'approved', undefined, {
      actions: [
        { actionId: task.actionId, decision: 'approve' },
        { actionId: risk.actionId, decision: 'approve' },
        { actionId: email.actionId, decision: 'reject' },
      ],
    });

    expect(decided.actions.map((action) => action.status)).toEqual(['approved', 'approved', 'rejected']);
  });

  it('validates edited arguments against the action schema, with the path of each problem', async () => {
    const { deps, draft, task, risk, email } = await draftWithActions();

    const error = await rejectionOf(
      decideDraft(deps, maria, draft.draftId, 'approved', undefined, {
        actions: [
          { actionId: task.actionId, decision: 'approve', args: { ...TASK_ARGS, dueDate: 'soon', extra: 1 } },
          { actionId: risk.actionId, decision: 'reject' },
          { actionId: email.actionId, decision: 'reject' },
        ],
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error instanceof ValidationError ? error.details : null).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'actions.0.args.dueDate' }),
        expect.objectContaining({ path: 'actions.0.args' }),
      ]),
    );
  });

  it('records who decided, when, and the hash of the exact arguments, marking edited ones', async () => {
    const { deps, draft, task, risk, email } = await draftWithActions();
    const edited = { ...TASK_ARGS, title: 'Adoption review with the champion' };

    const decided = await decideDraft(deps, maria, draft.draftId, 'approved', undefined, {
      actions: [
        { actionId: task.actionId, decision: 'approve', args: edited },
        { actionId: risk.actionId, decision: 'approve' },
        { actionId: email.actionId, decision: 'reject' },
      ],
    });

    const at = deps.clock.now().toISOString();
    expect(decided.actions).toEqual([
      {
        ...task,
        args: edited,
        edited: true,
        status: 'approved',
        decision: { decision: 'approve', by: maria.sub, at, argsHash: argsHashOf(edited) },
      },
      {
        ...risk,
        status: 'approved',
        decision: { decision: 'approve', by: maria.sub, at, argsHash: argsHashOf(RISK_ARGS) },
      },
      {
        ...email,
        status: 'rejected',
        decision: { decision: 'reject', by: maria.sub, at, argsHash: argsHashOf(EMAIL_ARGS) },
      },
    ]);
  });

  it('rejecting the draft rejects all its actions', async () => {
    const { deps, draft } = await draftWithActions();

    const decided = await decideDraft(deps, alice, draft.draftId, 'rejected', undefined, {});

    expect(decided.actions.map((action) => action.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('an expired draft expires its actions: an approval never expires into a yes', async () => {
    const { deps, run, draft } = await draftWithActions();

    await expireReview(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });

    const stored = await deps.drafts.getDraft(TENANT, draft.draftId);
    expect(stored?.actions.map((action) => action.status)).toEqual(['expired', 'expired', 'expired']);
  });

  it('argsHashOf does not depend on key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (args) => {
        const reversed = Object.fromEntries(Object.entries(args).reverse());
        expect(argsHashOf(reversed)).toBe(argsHashOf(args));
      }),
    );
  });
});

describe('executeActions', () => {
  async function approved(deps: TestDeps = makeDeps()) {
    const setup = await draftWithActions(deps);
    const secret = await withTarget(setup.deps);
    const edited = { ...TASK_ARGS, owner: 'Maria' };
    await decideDraft(setup.deps, maria, setup.draft.draftId, 'approved', undefined, {
      actions: [
        { actionId: setup.task.actionId, decision: 'approve', args: edited },
        { actionId: setup.risk.actionId, decision: 'reject' },
        { actionId: setup.email.actionId, decision: 'approve' },
      ],
    });
    const task = { tenantId: TENANT, runId: setup.run.runId, draftId: setup.draft.draftId };
    return { ...setup, secret, edited, task };
  }

  it('sends each approved action once, signed, with its id as idempotency key; never a rejected one', async () => {
    const { deps, secret, edited, task, email, run, draft } = await approved();

    const counts = await executeActions(deps, task);

    expect(counts).toMatchObject({ total: 3, executed: 2, rejected: 1, failed: 0 });
    expect(deps.outbound.requests).toHaveLength(2);
    const [first, second] = deps.outbound.requests;
    const body = JSON.parse(first?.body ?? '{}') as Record<string, unknown>;
    expect(body).toEqual({
      actionId: draft.actions[0]?.actionId,
      type: 'crm.create_task',
      args: edited,
      tenantId: TENANT,
      runId: run.runId,
      accountId: draft.accountId,
      approvedBy: maria.sub,
      approvedAt: deps.clock.now().toISOString(),
    });
    expect(first?.headers?.['idempotency-key']).toBe(draft.actions[0]?.actionId);
    expect(second?.headers?.['idempotency-key']).toBe(email.actionId);
    // The Standard Webhooks signature, recomputed independently: v1,base64(HMAC-SHA256("{id}.{timestamp}.{body}")).
    const id = first?.headers?.['webhook-id'] ?? '';
    const timestamp = first?.headers?.['webhook-timestamp'] ?? '';
    const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
      .update(`${id}.${timestamp}.${first?.body ?? ''}`)
      .digest('base64');
    expect(first?.headers?.['webhook-signature']).toBe(`v1,${expected}`);
    expect(id).toBe(draft.actions[0]?.actionId);
    expect(timestamp).toBe(String(Math.floor(deps.clock.now().getTime() / 1000)));
    const stored = await deps.drafts.getDraft(TENANT, task.draftId);
    expect(stored?.actions[0]?.execution).toMatchObject({ attempts: 1, responseId: 'rec-1', error: null });
  });

  it('a second execution (a retried state, a second approval) sends nothing more', async () => {
    const { deps, task } = await approved();

    await executeActions(deps, task);
    await executeActions(deps, task);

    expect(deps.outbound.requests).toHaveLength(2);
  });

  it('records action.executed and action.failed in the outbox with each outcome, once, with ids and the code only', async () => {
    const { deps, task, run, draft, email } = await approved();
    deps.outbound.answer({ status: 200, body: { id: 'rec-1' } }, { status: 400, body: { error: 'no' } });
    const actionEvents = () => deps.runs.outbox.filter((event) => event.type.startsWith('action.'));

    await executeActions(deps, task);
    await executeActions(deps, task);

    const ids = { runId: run.runId, workflowId: draft.workflowId, draftId: draft.draftId };
    expect(actionEvents().map((event) => [event.type, event.tenantId, event.data])).toEqual([
      ['action.executed', TENANT, { ...ids, actionId: draft.actions[0]?.actionId }],
      ['action.failed', TENANT, { ...ids, actionId: email.actionId, code: 'http_400' }],
    ]);
    expect(JSON.stringify(actionEvents())).not.toContain(EMAIL_ARGS.subject);
  });

  it('retries 503 and timeouts with backoff, then records executed', async () => {
    const { deps, task } = await approved();
    deps.outbound.answer({ status: 503 }, { fail: 'timeout' }, { status: 200, body: { id: 'crm-1' } });

    await executeActions(deps, task);

    const stored = await deps.drafts.getDraft(TENANT, task.draftId);
    expect(stored?.actions[0]).toMatchObject({
      status: 'executed',
      execution: { attempts: 3, responseId: 'crm-1', lastStatus: 200 },
    });
    expect(deps.sleeps).toEqual([ACTION_DELIVERY.backoffMs, ACTION_DELIVERY.backoffMs * 2]);
    const spans = (await deps.traces.list(TENANT, task.runId)).filter((span) => span.kind === 'action');
    expect(spans.map((span) => span.attributes['rein.action.outcome'])).toEqual([
      'retry',
      'retry',
      'executed',
      'executed',
    ]);
  });

  it('gives up after the bounded number of attempts and records failed with the reason', async () => {
    const { deps, task } = await approved();
    deps.outbound.answer(...Array.from({ length: ACTION_DELIVERY.maxAttempts }, () => ({ status: 429 })));

    await executeActions(deps, task);

    const stored = await deps.drafts.getDraft(TENANT, task.draftId);
    expect(stored?.actions[0]).toMatchObject({
      status: 'failed',
      execution: { attempts: ACTION_DELIVERY.maxAttempts, error: { code: 'http_429' } },
    });
  });

  it('fails at once on a 400 with the reason the target gave, without retrying', async () => {
    const { deps, task } = await approved();
    deps.outbound.answer({ status: 400, body: { error: { message: 'owner Maria is unknown' } } });

    await executeActions(deps, task);

    const stored = await deps.drafts.getDraft(TENANT, task.draftId);
    expect(stored?.actions[0]).toMatchObject({
      status: 'failed',
      execution: {
        attempts: 1,
        error: { code: 'http_400', message: 'The target answered 400: owner Maria is unknown' },
      },
    });
    expect(deps.sleeps).toEqual([]);
  });

  it('sends nothing for a rejected draft', async () => {
    const { deps, draft, run } = await draftWithActions();
    await withTarget(deps);
    await decideDraft(deps, alice, draft.draftId, 'rejected', undefined, {});

    await executeActions(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });

    expect(deps.outbound.requests).toEqual([]);
  });

  it('fails an approved action whose target is not configured, sending nothing', async () => {
    const { deps, draft, run, task, risk, email } = await draftWithActions();
    await decideDraft(deps, maria, draft.draftId, 'approved', undefined, {
      actions: [
        { actionId: task.actionId, decision: 'approve' },
        { actionId: risk.actionId, decision: 'reject' },
        { actionId: email.actionId, decision: 'reject' },
      ],
    });

    const counts = await executeActions(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });

    expect(counts.failed).toBe(1);
    expect(deps.outbound.requests).toEqual([]);
  });
});

describe('putActionTarget', () => {
  it('shows the signing secret once, when the target is created, and keeps it on update', async () => {
    const deps = makeDeps();

    const created = await putActionTarget(deps, ada, 'crm', { url: 'https://crm.example.com/a' });
    const updated = await putActionTarget(deps, ada, 'crm', { url: 'https://crm.example.com/b' });

    expect(created.created).toBe(true);
    expect(created.target.signingSecret).toMatch(/^whsec_/);
    expect(updated).toEqual({
      created: false,
      target: expect.objectContaining({ url: 'https://crm.example.com/b' }) as unknown,
    });
    expect(updated.target).not.toHaveProperty('signingSecret');
    expect(await deps.signingSecrets.getSigningSecret(TENANT, 'crm')).toBe(created.target.signingSecret);
  });

  it('refuses URLs the outbound policy forbids: http, loopback, metadata, credentials', async () => {
    const deps = makeDeps();
    for (const url of [
      'http://crm.example.com/hook',
      'https://127.0.0.1/hook',
      'https://169.254.169.254/latest',
      'https://user:pw@crm.example.com/',
      'not a url',
    ]) {
      const error = await rejectionOf(putActionTarget(deps, ada, 'crm', { url }));
      expect(error, url).toBeInstanceOf(ValidationError);
    }
    expect(await deps.actionTargets.getTarget(TENANT, 'crm')).toBeNull();
  });
});

describe('approval when the execution can no longer take it', () => {
  it('sends the approved actions once from the approval itself, and a later ExecuteActions sends nothing more', async () => {
    const deps = makeDeps({ engine: new RecordingEngine({ sendTaskSuccess: new Error('TaskTimedOut') }) });
    const { run, draft, task, risk, email } = await draftWithActions(deps);
    await withTarget(deps);

    const decided = await decideDraft(deps, maria, draft.draftId, 'approved', undefined, {
      actions: [
        { actionId: task.actionId, decision: 'approve' },
        { actionId: risk.actionId, decision: 'reject' },
        { actionId: email.actionId, decision: 'reject' },
      ],
    });

    expect(deps.outbound.requests).toHaveLength(1);
    expect(JSON.parse(deps.outbound.requests[0]?.body ?? '{}')).toMatchObject({
      actionId: task.actionId,
      type: 'crm.create_task',
    });
    expect(decided.actions.map((action) => action.status)).toEqual(['executed', 'rejected', 'rejected']);
    expect((await deps.runs.getRun(TENANT, run.runId))?.status).toBe('approved');

    // An execution that was alive after all reaches ExecuteActions: the claim keeps it from resending.
    await executeActions(deps, { tenantId: TENANT, runId: run.runId, draftId: draft.draftId });
    expect(deps.outbound.requests).toHaveLength(1);
  });
});
