import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import { clientsFor, startTestStack, waitForRun, type ApiClient, type UserName } from './local-stack.ts';

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

  it('emits exactly one budget.threshold_reached for 80% once the month crosses it, and none again', async () => {
    const gina = users.gina;
    const alerts = (threshold: number) =>
      stack.eventBus.published.filter(
        (e) =>
          e.tenantId === 'globex' &&
          e.type === 'budget.threshold_reached' &&
          e.data.thresholdPercent === threshold,
      );
    const month = new Date().toISOString().slice(0, 7);
    // A first run spends C; nothing is crossed under the seed's budget.
    const first = await gina.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-cyberdyne' });
    const firstRun = await waitForRun(gina, String(first.body['runId']), ['awaiting_review']);
    const cost = Number(firstRun['costUsd']);
    expect(cost).toBeGreaterThan(0);
    expect(alerts(50)).toEqual([]);
    // Finance lowers the month's budget so the spend is 85% of it: over 50% and 80%, under 100%.
    const limit = Number((cost / 0.85).toFixed(8));
    const put = await users.frank.request('PUT', '/v1/tenants/globex/budget', {
      body: { limitUsd: limit, month },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body['alertThresholdsPercent']).toEqual([50, 80, 100]);

    // The next two runs cannot be covered: each fails with budget_exceeded (the 402's figures are
    // on the run's error), and each MarkFailed checks the thresholds.
    for (let i = 0; i < 2; i += 1) {
      const next = await gina.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-cyberdyne' });
      const runId = String(next.body['runId']);
      const failed = await waitForRun(gina, runId, ['failed']);
      expect(failed['error']).toMatchObject({ code: 'budget_exceeded' });
      await until('run.failed on the bus', () =>
        stack.eventBus.published.find((e) => e.type === 'run.failed' && e.data.runId === runId),
      );
    }
    expect(alerts(80)).toHaveLength(1);
    expect(alerts(80)[0]?.data).toMatchObject({
      budget: 'tenant_month',
      month,
      thresholdPercent: 80,
      limitUsd: limit,
      spentUsd: cost,
    });
    expect(alerts(50)).toHaveLength(1);
    expect(alerts(100)).toEqual([]);
    const budget = await users.frank.get(`/v1/tenants/globex/budget?month=${month}`);
    expect(budget.body['alertsSentPercent']).toEqual([50, 80]);
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

describe('webhooks across a stop and start of the local stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rein-webhooks-restart-'));
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers events recorded before the stack was killed once it starts again', async () => {
    // A drainer that never runs before the stop: the events stay in the outbox.
    const first = await startTestStack({ dataDir, outboxPollMs: 3_600_000 });
    let draftId: string;
    let webhookId: string;
    try {
      const users = await clientsFor(first);
      webhookId = await subscribe(users.dave, receiver, ['run.awaiting_review', 'draft.decided']);
      // The drainer's first sweep ran at start; from here on nothing is dispatched.
      const started = await users.bob.post('/v1/workflows/renewal-brief/runs', { accountId: 'acct-initech' });
      const run = await waitForRun(users.bob, String(started.body['runId']), ['awaiting_review']);
      draftId = String(run['draftId']);
      expect((await users.bob.post(`/v1/drafts/${draftId}/reject`)).status).toBe(200);
      expect(receiver.received).toEqual([]);
    } finally {
      await first.stop();
    }

    const second = await startTestStack({ dataDir });
    try {
      const types = await until('both events after the restart', () => {
        const seen = receiver.received.map((r) => r.type).sort();
        return seen.length >= 2 ? seen : undefined;
      });
      expect(types).toEqual(['draft.decided', 'run.awaiting_review']);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      expect(receiver.received.find((r) => r.type === 'draft.decided')?.body).toMatchObject({
        data: { draftId, decision: 'rejected' },
      });
      const users = await clientsFor(second);
      const log = await users.dave.get(`/v1/webhooks/${webhookId}/deliveries`);
      expect((log.body['items'] as unknown[]).length).toBe(2);
    } finally {
      await second.stop();
    }
  });
});
