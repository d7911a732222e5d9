/**
 * Approval-gated actions end to end on the local stack, with a real HTTP receiver on loopback (the
 * demo CRM's action receiver): only approved actions leave Rein, once, signed, with the reviewer's
 * arguments; retries are bounded; failures are visible on the draft.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startActionReceiver, type ActionReceiver } from '../../infra/local/demo-crm/action-receiver.ts';
import { ApiClient, clientsFor, startTestStack, waitForRun, type UserName } from './local-stack.ts';

let stack: LocalStack;
let users: Record<UserName, ApiClient>;
let receiver: ActionReceiver;
let signingSecret: string;

interface ActionView {
  actionId: string;
  type: string;
  args: Record<string, unknown>;
  status: string;
  edited: boolean;
  decision: { by: string; argsHash: string } | null;
  execution: { attempts: number; responseId: string | null; error: { message: string } | null } | null;
}

beforeAll(async () => {
  receiver = await startActionReceiver();
  stack = await startTestStack();
  users = await clientsFor(stack);
  const put = await users.dave.request('PUT', '/v1/action-targets/crm', {
    body: { url: receiver.actionsUrl, description: 'Demo CRM' },
  });
  expect(put.status, put.text).toBe(201);
  signingSecret = String(put.body['signingSecret']);
  expect(signingSecret).toMatch(/^whsec_/);
  receiver.setSecret('acme', signingSecret);
});

afterAll(async () => {
  await stack.stop();
  await receiver.close();
});

async function draftWithActions(client: ApiClient, accountId: string) {
  const started = await client.post('/v1/workflows/renewal-brief/runs', { accountId });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = await waitForRun(client, runId, ['awaiting_review', 'failed']);
  expect(run['status'], JSON.stringify(run)).toBe('awaiting_review');
  const draftId = String(run['draftId']);
  const draft = await client.get(`/v1/drafts/${draftId}`);
  const actions = draft.body['actions'] as ActionView[];
  expect(actions.length, draft.text).toBeGreaterThan(0);
  return { runId, draftId, actions };
}

async function actionsWhenSettled(client: ApiClient, draftId: string): Promise<ActionView[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const draft = await client.get(`/v1/drafts/${draftId}`);
    const actions = draft.body['actions'] as ActionView[];
    if (actions.every((action) => !['approved', 'executing'].includes(action.status))) return actions;
    if (Date.now() > deadline) throw new Error(`Actions still pending: ${draft.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function receivedFor(runId: string) {
  return receiver
    .received()
    .filter((request) => (request.body as { runId?: string } | null)?.runId === runId);
}

const rejectAll = (actions: ActionView[]) =>
  actions.map((action) => ({ actionId: action.actionId, decision: 'reject' }));

describe('approval-gated actions on the local stack', () => {
  it('sends exactly the approved action, with the edited arguments, signed and keyed by its id; nothing more on a second approval or a retried execution', async () => {
    const { runId, draftId, actions } = await draftWithActions(users.carol, 'acct-contoso');
    const task = actions.find((action) => action.type === 'crm.create_task');
    if (!task) throw new Error('The local model proposed no crm.create_task for acct-contoso.');
    const edited = { ...task.args, title: 'Call the champion about the export ticket' };

    const approved = await users.carol.post(`/v1/drafts/${draftId}/approve`, {
      reason: 'Task only',
      actions: actions.map((action) =>
        action.actionId === task.actionId
          ? { actionId: action.actionId, decision: 'approve', args: edited }
          : { actionId: action.actionId, decision: 'reject' },
      ),
    });
    expect(approved.status, approved.text).toBe(200);

    const settled = await actionsWhenSettled(users.carol, draftId);
    const sent = receivedFor(runId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      idempotencyKey: task.actionId,
      webhookId: task.actionId,
      signatureValid: true,
      status: 201,
      body: {
        actionId: task.actionId,
        type: 'crm.create_task',
        args: edited,
        tenantId: 'acme',
        runId,
        accountId: 'acct-contoso',
        approvedBy: 'mgr-carol',
      },
    });
    expect(settled.find((action) => action.actionId === task.actionId)).toMatchObject({
      status: 'executed',
      edited: true,
      decision: { by: 'mgr-carol' },
      execution: { attempts: 1, responseId: sent[0]?.recordId, error: null },
    });
    expect(settled.filter((action) => action.actionId !== task.actionId).map((a) => a.status)).toEqual(
      actions.filter((action) => action.actionId !== task.actionId).map(() => 'rejected'),
    );
    const run = await waitForRun(users.carol, runId, ['approved']);
    expect(run['actions']).toMatchObject({ executed: 1, failed: 0, rejected: actions.length - 1 });

    // A second approval is refused; a retried ExecuteActions state sends nothing.
    expect((await users.carol.post(`/v1/drafts/${draftId}/approve`, { actions: [] })).status).toBe(409);
    await stack.invokeTask('functions/actions/handler.ts', {
      action: 'executeActions',
      tenantId: 'acme',
      runId,
      draftId,
    });
    expect(receivedFor(runId)).toHaveLength(1);

    const trace = await users.dave.get(`/v1/runs/${runId}/trace`);
    const spans = (trace.body['spans'] as { kind: string; attributes: Record<string, unknown> }[]).filter(
      (span) => span.kind === 'action',
    );
    expect(spans.map((span) => span.attributes['rein.action.outcome'])).toEqual(['executed']);
  });

  it('sends nothing for a rejected draft', async () => {
    const { runId, draftId } = await draftWithActions(users.carol, 'acct-initech');

    expect((await users.carol.post(`/v1/drafts/${draftId}/reject`, { reason: 'Not now' })).status).toBe(200);
    await waitForRun(users.carol, runId, ['rejected']);
    await stack.invokeTask('functions/actions/handler.ts', {
      action: 'executeActions',
      tenantId: 'acme',
      runId,
      draftId,
    });

    expect(receivedFor(runId)).toEqual([]);
    const draft = await users.carol.get(`/v1/drafts/${draftId}`);
    expect((draft.body['actions'] as ActionView[]).every((action) => action.status === 'rejected')).toBe(
      true,
    );
  });

  it('retries a receiver answering 503 twice, then records the action executed', async () => {
    const { runId, draftId, actions } = await draftWithActions(users.carol, 'acct-contoso');
    const [first, ...others] = actions as [ActionView, ...ActionView[]];
    receiver.failNext(503, 503);

    const approved = await users.carol.post(`/v1/drafts/${draftId}/approve`, {
      actions: [{ actionId: first.actionId, decision: 'approve' }, ...rejectAll(others)],
    });
    expect(approved.status, approved.text).toBe(200);

    const settled = await actionsWhenSettled(users.carol, draftId);
    expect(receivedFor(runId).map((request) => request.status)).toEqual([503, 503, 201]);
    expect(new Set(receivedFor(runId).map((request) => request.idempotencyKey))).toEqual(
      new Set([first.actionId]),
    );
    expect(settled[0]).toMatchObject({ status: 'executed', execution: { attempts: 3, error: null } });
  });

  it('records a 400 as failed, with the reason visible on the draft', async () => {
    const { runId, draftId, actions } = await draftWithActions(users.carol, 'acct-contoso');
    const [first, ...others] = actions as [ActionView, ...ActionView[]];
    receiver.failNext(400);

    await users.carol.post(`/v1/drafts/${draftId}/approve`, {
      actions: [{ actionId: first.actionId, decision: 'approve' }, ...rejectAll(others)],
    });

    const settled = await actionsWhenSettled(users.carol, draftId);
    expect(receivedFor(runId)).toHaveLength(1);
    expect(settled[0]).toMatchObject({
      status: 'failed',
      execution: { attempts: 1, error: { message: 'The target answered 400: Scripted failure 400.' } },
    });
    const run = await waitForRun(users.carol, runId, ['approved']);
    expect(run['actions']).toMatchObject({ failed: 1, executed: 0 });
  });

  it('answers 403 when a CSM approves the customer e-mail, and 400 naming undecided actions', async () => {
    const { draftId, actions } = await draftWithActions(users.alice, 'acct-contoso');
    const email = actions.find((action) => action.type === 'email.customer_followup');
    if (!email) throw new Error('The local model proposed no customer e-mail for acct-contoso.');

    const forbidden = await users.alice.post(`/v1/drafts/${draftId}/approve`, {
      actions: actions.map((action) => ({ actionId: action.actionId, decision: 'approve' })),
    });
    expect(forbidden.status, forbidden.text).toBe(403);
    expect(forbidden.text).toContain(email.actionId);

    const undecided = await users.alice.post(`/v1/drafts/${draftId}/approve`, { actions: [] });
    expect(undecided.status).toBe(400);
    for (const action of actions) expect(undecided.text).toContain(action.actionId);

    const draft = await users.alice.get(`/v1/drafts/${draftId}`);
    expect(draft.body['status']).toBe('awaiting_review');
  });
});

describe('PUT /v1/action-targets/{targetId}', () => {
  it('is for tenant admins: CSMs, managers, operators and finance get 403', async () => {
    for (const name of ['alice', 'carol', 'hank', 'frank', 'erin'] as const) {
      const result = await users[name].request('PUT', '/v1/action-targets/crm', {
        body: { url: 'https://crm.example.com/rein' },
      });
      expect(result.status, `${name}: ${result.text}`).toBe(403);
    }
  });

  it('refuses hostile input with 400 and never shows the secret again', async () => {
    for (const body of [
      { url: 'https://169.254.169.254/latest/meta-data' },
      { url: 'file:///etc/passwd' },
      { url: 'https://crm.example.com', secret: 'mine' },
      { url: 'x'.repeat(3000) },
      {},
    ]) {
      const result = await users.dave.request('PUT', '/v1/action-targets/crm', { body });
      expect(result.status, JSON.stringify(body)).toBe(400);
    }
    const bad = await users.dave.request('PUT', '/v1/action-targets/..%2Fcrm', {
      body: { url: 'https://crm.example.com' },
    });
    expect([400, 404]).toContain(bad.status);

    const again = await users.dave.request('PUT', '/v1/action-targets/crm', {
      body: { url: receiver.actionsUrl },
    });
    expect(again.status).toBe(200);
    expect(again.body).not.toHaveProperty('signingSecret');
    expect(again.headers.get('cache-control')).toBe('no-store');
  });

  it('never returns the signing secret in drafts, runs, traces or errors', async () => {
    const { runId, draftId } = await draftWithActions(users.carol, 'acct-contoso');
    const secretBody = signingSecret.replace(/^whsec_/, '');
    for (const result of [
      await users.carol.get(`/v1/drafts/${draftId}`),
      await users.carol.get(`/v1/runs/${runId}`),
      await users.dave.get(`/v1/runs/${runId}/trace`),
      await users.carol.get('/v1/drafts'),
      await users.carol.post(`/v1/drafts/${draftId}/approve`, {
        actions: [{ actionId: 'nope', decision: 'x' }],
      }),
    ]) {
      expect(result.text).not.toContain(secretBody);
    }
  });
});
