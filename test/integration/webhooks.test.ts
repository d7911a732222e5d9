import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { budgetKey } from '#shared/adapters/dynamodb/ledger.ts';
import { DynamoWebhookStore } from '#shared/adapters/dynamodb/webhook-store.ts';
import { roundUsd } from '#shared/domain/pricing.ts';
import {
  clientsFor,
  startStackProcess,
  startTestStack,
  tableNamed,
  waitForRun,
  type ApiClient,
  type UserName,
} from './local-stack.ts';

interface Received {
  id: string;
  type: string;
  body: Record<string, unknown>;
  verified: boolean;
}

/**
 * A real HTTP receiver on loopback. It verifies every request with the `standardwebhooks` package
 * and the secret it is given, and answers the scripted statuses in order (then 200).
 */
class Receiver {
  readonly received: Received[] = [];
  private server: Server | null = null;
  private secret = '';
  private answers: number[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const payload = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        };
        let verified: boolean;
        try {
          new Webhook(this.secret).verify(payload, headers);
          verified = true;
        } catch {
          verified = false;
        }
        const body = JSON.parse(payload) as Record<string, unknown>;
        this.received.push({ id: headers['webhook-id'], type: String(body['type']), body, verified });
        res.statusCode = this.answers.shift() ?? 200;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${address.port}/hook`;
  }

  useSecret(secret: string): void {
    this.secret = secret;
  }

  failNext(...statuses: number[]): void {
    this.answers.push(...statuses);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) {
        resolve();
        return;
      }
      this.server.closeAllConnections();
      this.server.close(() => {
        resolve();
      });
    });
  }
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Sets what a tenant's month has spent, as if earlier runs had (nothing held): the budget item's
 * figures, written directly, since spending real money up to a threshold would take many runs.
 */
async function setMonthSpend(
  stack: LocalStack,
  tenantId: string,
  month: string,
  spentUsd: number,
  limitUsd: number,
): Promise<void> {
  const doc = createDocumentClient({ region: 'us-east-1', endpoint: stack.dynamo.endpoint });
  await doc.send(
    new UpdateCommand({
      TableName: tableNamed(stack, 'LedgerTable'),
      Key: budgetKey(tenantId, month),
      UpdateExpression: 'SET spentUsd = :spent, limitUsd = :limit, availableUsd = :available',
      ConditionExpression: 'reservedUsd = :zero',
      ExpressionAttributeValues: {
        ':spent': spentUsd,
        ':limit': limitUsd,
        ':available': roundUsd(limitUsd - spentUsd),
        ':zero': 0,
      },
    }),
  );
}

async function subscribe(admin: ApiClient, receiver: Receiver, events: string[]): Promise<string> {
  const created = await admin.post('/v1/webhooks', {
    url: receiver.url,
    events,
    description: 'test receiver',
  });
  expect(created.status, created.text).toBe(201);
  const secret = String(created.body['secret']);
  expect(secret).toMatch(/^whsec_/);
  receiver.useSecret(secret);
  return String(created.body['webhookId']);
}

describe('webhooks on the local stack', () => {
  let stack: LocalStack;
  let users: Record<UserName, ApiClient>;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    stack = await startTestStack();
    users = await clientsFor(stack);
  });

  afterAll(async () => {
    await stack.stop();
    await receiver.stop();
  });

  it('signs run.awaiting_review and, on approval, draft.decided with the secret shown at creation', async () => {
    const webhookId = await subscribe(users.dave, receiver, ['run.awaiting_review', 'draft.decided']);
    const listed = await users.dave.get('/v1/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain('whsec_');

    const started = await users.alice.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-northwind',
    });
    expect(started.status, started.text).toBe(202);
    const runId = String(started.body['runId']);
    const run = await waitForRun(users.alice, runId, ['awaiting_review']);
    const draftId = String(run['draftId']);

    const ready = await until('run.awaiting_review', () =>
      receiver.received.find((r) => r.type === 'run.awaiting_review' && r.body['data'] !== undefined),
    );
    expect(ready.verified).toBe(true);
    expect(ready.body).toMatchObject({
      type: 'run.awaiting_review',
      tenantId: 'acme',
      data: { runId, draftId, workflowId: 'renewal-brief' },
    });

    const approved = await users.alice.post(`/v1/drafts/${draftId}/approve`);
    expect(approved.status, approved.text).toBe(200);
    const decided = await until('draft.decided', () =>
      receiver.received.find((r) => r.type === 'draft.decided'),
    );
    expect(decided.verified).toBe(true);
    expect(decided.body).toMatchObject({
      data: { draftId, runId, decision: 'approved', reviewer: 'csm-alice' },
    });
    // Payloads carry ids and statuses, never the draft's content.
    expect(JSON.stringify(decided.body)).not.toContain('summary');

    const deliveries = await users.dave.get(`/v1/webhooks/${webhookId}/deliveries`);
    expect(deliveries.status).toBe(200);
    const items = deliveries.body['items'] as Record<string, unknown>[];
    expect(
      items.map((d) => [d['eventType'], d['status'], d['attempts'], d['lastResponseCode']]).sort(),
    ).toEqual([
      ['draft.decided', 'succeeded', 1, 200],
      ['run.awaiting_review', 'succeeded', 1, 200],
    ]);
    // The stage's bus got the same events.
    expect(stack.eventBus.published.map((e) => e.type)).toEqual(
      expect.arrayContaining(['run.awaiting_review', 'draft.decided']),
    );
    expect((await users.dave.request('DELETE', `/v1/webhooks/${webhookId}`)).status).toBe(204);
  });

  it('retries a receiver that fails twice: the same event id arrives three times and the log shows it', async () => {
    receiver.received.length = 0;
    const webhookId = await subscribe(users.dave, receiver, ['draft.escalated']);
    receiver.failNext(500, 503);
    const started = await users.alice.post('/v1/workflows/renewal-brief/runs', {
      accountId: 'acct-northwind',
    });
    const run = await waitForRun(users.alice, String(started.body['runId']), ['awaiting_review']);
    const escalated = await users.alice.post(`/v1/drafts/${String(run['draftId'])}/escalate`);
    expect(escalated.status, escalated.text).toBe(200);

    const delivered = await until('three attempts', () =>
      receiver.received.filter((r) => r.type === 'draft.escalated').length >= 3 ? true : undefined,
    );
    expect(delivered).toBe(true);
    const attempts = receiver.received.filter((r) => r.type === 'draft.escalated');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(attempts.every((a) => a.verified)).toBe(true);

    const log = await until('the delivery to succeed', async () => {
      const result = await users.dave.get(`/v1/webhooks/${webhookId}/deliveries`);
      const [delivery] = result.body['items'] as Record<string, unknown>[];
      return delivery?.['status'] === 'succeeded' ? delivery : undefined;
    });
    expect(log).toMatchObject({
      eventId: attempts[0]?.id,
      attempts: 3,
      lastResponseCode: 200,
      nextAttemptAt: null,
    });

    // A redelivery sends the same event id once more.
    const redelivered = await users.dave.post(
      `/v1/webhooks/${webhookId}/deliveries/${String(log['deliveryId'])}/redeliver`,
    );
    expect(redelivered.status, redelivered.text).toBe(202);
    await until('the redelivery', () =>
      receiver.received.filter((r) => r.type === 'draft.escalated').length === 4 ? true : undefined,
    );
    expect(receiver.received.at(-1)?.id).toBe(attempts[0]?.id);
    await users.dave.request('DELETE', `/v1/webhooks/${webhookId}`);
  });

  it.each([
    ['a private address', 'http://10.0.0.8/hook'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['a host resolving to metadata', 'http://[::ffff:169.254.169.254]/'],
  ])('refuses a webhook to %s at creation', async (_name, url) => {
    const refused = await users.dave.post('/v1/webhooks', { url, events: ['run.failed'] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_request', details: [{ path: 'url' }] } });
    const listed = await users.dave.get('/v1/webhooks');
    expect(JSON.stringify(listed.body)).not.toContain(url);
  });

  it('emits budget.threshold_reached for 80% right after the model call that crosses it, once, before the review', async () => {
    const gina = users.gina;
    const month = new Date().toISOString().slice(0, 7);
    const alerts = (threshold: number) =>
      stack.eventBus.published.filter(
        (e) =>
          e.tenantId === 'globex' &&
          e.type === 'budget.threshold_reached' &&
          e.data.thresholdPercent === threshold,
      );
    const briefFor = async () => {
      const started = await gina.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-cyberdyne' });
      expect(started.status, started.text).toBe(202);
      return waitForRun(gina, String(started.body['runId']), ['awaiting_review']);
    };
    // A first run measures what one costs; the seed's $100 month is far from any threshold.
    const cost = Number((await briefFor())['costUsd']);
    expect(cost).toBeGreaterThan(0);
    const limit = 100;
    // The month has now spent half a run short of 80%: the next run's model call crosses it.
    const before = roundUsd(limit * 0.8 - cost / 2);
    await setMonthSpend(stack, 'globex', month, before, limit);

    const crossing = await briefFor();
    const draft = await gina.get(`/v1/drafts/${String(crossing['draftId'])}`);
    const crossed = await until('the 80% alert on the bus', () => alerts(80)[0]);
    expect(crossed.data).toEqual({
      budget: 'tenant_month',
      month,
      thresholdPercent: 80,
      limitUsd: limit,
      spentUsd: roundUsd(before + Number(crossing['costUsd'])),
      runId: crossing['runId'],
    });
    // Emitted by the model call that settled the spend, before its draft was even stored.
    expect(Date.parse(crossed.occurredAt)).toBeLessThan(Date.parse(String(draft.body['createdAt'])));
    // 50% was passed by the same settle; 100% is still ahead.
    expect(alerts(50)).toHaveLength(1);

    // Another run spends more: no threshold is emitted twice in a month.
    await briefFor();
    expect(alerts(80)).toHaveLength(1);
    expect(alerts(100)).toEqual([]);
    const budget = await users.frank.get(`/v1/tenants/globex/budget?month=${month}`);
    expect(budget.body['alertsSentPercent']).toEqual([50, 80]);
  });

  it("fails a run whose model call the month cannot cover with the budget's name and figures, as the 402 at start gives them", async () => {
    const gina = users.gina;
    const month = new Date().toISOString().slice(0, 7);
    const limit = 100;
    // A millionth of a dollar left: a run may start, but its model attempt's hold does not fit.
    await setMonthSpend(stack, 'globex', month, 99.999999, limit);
    const started = await gina.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-cyberdyne' });
    expect(started.status, started.text).toBe(202);
    const failed = await waitForRun(gina, String(started.body['runId']), ['failed']);
    const error = failed['error'] as {
      code: string;
      message: string;
      details: { path: string; message: string }[];
    };
    const attemptUsd = error.details.find((d) => d.path === 'attemptUsd')?.message;
    expect(Number(attemptUsd)).toBeGreaterThan(0.000001);
    expect(error).toEqual({
      code: 'budget_exceeded',
      message: `The tenant's monthly budget for ${month} cannot cover this model attempt: limit $100, spent $99.999999, reserved $0, attempt $${attemptUsd}.`,
      details: [
        { path: 'budget', message: 'tenant_month' },
        { path: 'month', message: month },
        { path: 'limitUsd', message: '100' },
        { path: 'spentUsd', message: '99.999999' },
        { path: 'reservedUsd', message: '0' },
        { path: 'attemptUsd', message: attemptUsd },
      ],
    });

    // Spent to the cent: the run is refused at start, with the same budget named.
    await setMonthSpend(stack, 'globex', month, limit, limit);
    const refused = await gina.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-cyberdyne' });
    expect(refused.status, refused.text).toBe(402);
    expect(refused.body['error']).toMatchObject({
      code: 'budget_exceeded',
      message: `The tenant's monthly budget for ${month} is spent: limit $100, spent $100, reserved $0.`,
      details: [
        { path: 'budget', message: 'tenant_month' },
        { path: 'month', message: month },
        { path: 'limitUsd', message: '100' },
        { path: 'spentUsd', message: '100' },
        { path: 'reservedUsd', message: '0' },
      ],
    });
  });

  it('lets only tenant admins manage webhooks, and never shows another tenant’s', async () => {
    expect((await users.carol.get('/v1/webhooks')).status).toBe(403);
    const webhookId = await subscribe(users.dave, receiver, ['run.failed']);
    const hank = await stack.token({ sub: 'admin-x', tenantId: 'globex', roles: ['admin'] });
    const { ApiClient: Client } = await import('./local-stack.ts');
    const other = new Client(stack.url, hank);
    expect((await other.get(`/v1/webhooks/${webhookId}/deliveries`)).status).toBe(404);
    expect((await other.request('DELETE', `/v1/webhooks/${webhookId}`)).status).toBe(404);
    await users.dave.request('DELETE', `/v1/webhooks/${webhookId}`);
  });
});

const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

describe('webhooks across a kill -9 and start of the local stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rein-webhooks-restart-'));
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // What the killed stack recorded and left in its outbox, for the restart to deliver.
  const recorded = { webhookId: '', draftId: '', outbox: [] as { id: string; type: string }[] };

  it('records events in the outbox of a stack process that is then killed with kill -9 before delivering them', async () => {
    // The stack in a process of its own, whose drainer does not sweep again after its start.
    const first = await startStackProcess(dataDir);
    try {
      const users = await first.clients();
      recorded.webhookId = await subscribe(users.dave, receiver, ['run.awaiting_review', 'draft.decided']);
      const started = await users.bob.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-initech' });
      const run = await waitForRun(users.bob, String(started.body['runId']), ['awaiting_review']);
      recorded.draftId = String(run['draftId']);
      expect((await users.bob.post(`/v1/drafts/${recorded.draftId}/reject`)).status).toBe(200);
      // Both events wait in the outbox, recorded with the state changes they report.
      const store = new DynamoWebhookStore(
        createDocumentClient({ region: 'us-east-1', endpoint: first.dynamoEndpoint }),
        String(
          Object.entries(first.tables).find(([logicalId]) => logicalId.startsWith('WorkflowTable'))?.[1],
        ),
      );
      recorded.outbox = (await store.listUndispatchedEvents(new Date(), 10)).map((e) => ({
        id: e.id,
        type: e.type,
      }));
      expect(recorded.outbox.map((e) => e.type).sort()).toEqual(['draft.decided', 'run.awaiting_review']);
    } finally {
      await first.kill();
    }
    expect(receiver.received).toEqual([]);
  });

  it('delivers them once the stack starts again, with the same event ids, signed', async () => {
    const second = await startTestStack({ dataDir });
    try {
      const types = await until('both events after the restart', () => {
        const seen = receiver.received.map((r) => r.type).sort();
        return seen.length >= 2 ? seen : undefined;
      });
      expect(types).toEqual(['draft.decided', 'run.awaiting_review']);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      // The very events the killed stack recorded, with their ids (each request's webhook-id).
      expect(receiver.received.map((r) => ({ id: r.id, type: r.type })).sort(byId)).toEqual(
        [...recorded.outbox].sort(byId),
      );
      expect(receiver.received.find((r) => r.type === 'draft.decided')?.body).toMatchObject({
        data: { draftId: recorded.draftId, decision: 'rejected' },
      });
      const users = await clientsFor(second);
      const log = await users.dave.get(`/v1/webhooks/${recorded.webhookId}/deliveries`);
      const items = log.body['items'] as Record<string, unknown>[];
      expect(items.map((d) => [d['eventId'], d['status'], d['attempts']]).sort()).toEqual(
        recorded.outbox.map((e) => [e.id, 'succeeded', 1]).sort(),
      );
    } finally {
      await second.stop();
    }
  });
});
