import { createHmac } from 'node:crypto';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newEvent, type DomainEvent } from '#shared/domain/events.ts';
import { nextAttemptAt, DEPLOYED_RETRY_POLICY } from '#shared/domain/webhooks.ts';
import type { Principal } from '#shared/domain/principal.ts';
import { dispatchEvents, sweepOutbox } from '#shared/usecases/event-delivery.ts';
import { createWebhook, listDeliveries, listWebhooks, redeliver } from '#shared/usecases/webhooks.ts';
import { createHandler } from '../../functions/events/handler.ts';
import { parseEnv } from '#shared/config.ts';
import { makeDeps, type TestDeps } from '../fakes/deps.ts';
import { ScriptedWebhookTransport } from '../fakes/webhooks.ts';

const admin: Principal = { sub: 'admin-dave', tenantId: 'acme', roles: ['admin'] };

function decided(deps: TestDeps, tenantId = 'acme'): DomainEvent {
  return newEvent(
    'draft.decided',
    tenantId,
    {
      draftId: 'drf_1',
      runId: 'run_1',
      workflowId: 'renewal-brief',
      decision: 'approved',
      reviewer: 'csm-alice',
    },
    deps.clock.now(),
  );
}

async function subscribed(deps: TestDeps, events: string[] = ['draft.decided']) {
  return createWebhook(deps, admin, { url: 'https://hooks.example.com/rein', events });
}

describe('webhook subscriptions', () => {
  it('shows the whsec_ signing secret once, at creation, and never in the list', async () => {
    const deps = makeDeps();
    const created = await subscribed(deps);
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await listWebhooks(deps, admin);
    expect(listed.items).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
  });

  it('refuses a target the outbound policy refuses, naming the url field', async () => {
    const deps = makeDeps({ webhookTransport: new ScriptedWebhookTransport(['https://10.']) });
    await expect(
      createWebhook(deps, admin, { url: 'https://10.1.2.3/hook', events: ['run.failed'] }),
    ).rejects.toMatchObject({ status: 400, details: [{ path: 'url' }] });
    expect((await listWebhooks(deps, admin)).items).toEqual([]);
  });

  it('refuses unknown event types and repeated ones', async () => {
    const deps = makeDeps();
    await expect(
      createWebhook(deps, admin, { url: 'https://a.example.com', events: ['draft.eaten'] }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      createWebhook(deps, admin, { url: 'https://a.example.com', events: ['run.failed', 'run.failed'] }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('event delivery', () => {
  it('signs each request per Standard Webhooks with the event id as webhook-id', async () => {
    const deps = makeDeps();
    const { secret } = await subscribed(deps);
    const event = decided(deps);
    await dispatchEvents(deps, [event]);
    const [sent] = deps.webhookTransport.sent;
    expect(sent?.headers['webhook-id']).toBe(event.id);
    const timestamp = sent?.headers['webhook-timestamp'] ?? '';
    expect(timestamp).toBe(String(Math.floor(deps.clock.now().getTime() / 1000)));
    const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
      .update(`${event.id}.${timestamp}.${sent?.body ?? ''}`)
      .digest('base64');
    expect(sent?.headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(JSON.parse(sent?.body ?? '{}')).toMatchObject({
      id: event.id,
      type: 'draft.decided',
      data: event.data,
    });
    expect(deps.eventBus.published).toEqual([event]);
  });

  it('delivers only to active subscriptions of the event tenant that asked for its type', async () => {
    const deps = makeDeps();
    await subscribed(deps, ['run.failed']);
    await dispatchEvents(deps, [decided(deps), decided(deps, 'globex')]);
    expect(deps.webhookTransport.sent).toEqual([]);
  });

  it('creates one delivery per event and subscription however often the event is dispatched', async () => {
    const deps = makeDeps();
    const { webhookId } = await subscribed(deps);
    const event = decided(deps);
    await dispatchEvents(deps, [event]);
    await dispatchEvents(deps, [event]);
    const log = await listDeliveries(deps, admin, webhookId, {});
    expect(log.items).toHaveLength(1);
    expect(deps.webhookTransport.sent).toHaveLength(1);
  });

  it('retries a failing endpoint with backoff and records each attempt', async () => {
    const deps = makeDeps();
    deps.webhookTransport.answer(500, new Error('No complete answer within 10000 ms.'));
    const { webhookId } = await subscribed(deps);
    await dispatchEvents(deps, [decided(deps)]);
    let [delivery] = (await listDeliveries(deps, admin, webhookId, {})).items;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastResponseCode: 500 });
    expect(Date.parse(delivery?.nextAttemptAt ?? '')).toBe(deps.clock.now().getTime() + 10_000);

    await sweepOutbox(deps);
    expect(deps.webhookTransport.sent).toHaveLength(1);
    deps.clock.advance(10_000);
    await sweepOutbox(deps);
    [delivery] = (await listDeliveries(deps, admin, webhookId, {})).items;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 2, lastResponseCode: null });
    expect(delivery?.lastError).toContain('No complete answer');
    deps.clock.advance(20_000);
    await sweepOutbox(deps);
    [delivery] = (await listDeliveries(deps, admin, webhookId, {})).items;
    expect(delivery).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      lastResponseCode: 200,
      nextAttemptAt: null,
    });
    expect(new Set(deps.webhookTransport.sent.map((s) => s.headers['webhook-id'])).size).toBe(1);
    expect(deps.metrics.counts.get('WebhookDeliveryFailures')).toBe(2);
  });

  it('dead-letters a delivery after the retry window and disables a subscription that never succeeded', async () => {
    const deps = makeDeps({
      settings: { webhookRetry: { baseSeconds: 10, maxDelaySeconds: 60, windowSeconds: 120 } },
    });
    deps.webhookTransport.answer(...Array.from({ length: 50 }, () => 503));
    const { webhookId } = await subscribed(deps);
    await dispatchEvents(deps, [decided(deps)]);
    for (let i = 0; i < 20; i += 1) {
      deps.clock.advance(60_000);
      await sweepOutbox(deps);
    }
    const [delivery] = (await listDeliveries(deps, admin, webhookId, {})).items;
    expect(delivery).toMatchObject({ status: 'dead', nextAttemptAt: null, lastResponseCode: 503 });
    expect(deps.metrics.counts.get('WebhookDeliveriesDeadLettered')).toBe(1);
    const [webhook] = (await listWebhooks(deps, admin)).items;
    expect(webhook?.status).toBe('disabled');
    expect(webhook?.disabledReason).toContain('HTTP 503');
    // A disabled subscription gets no new deliveries, and its dead ones cannot be redelivered.
    await dispatchEvents(deps, [decided(deps)]);
    expect((await listDeliveries(deps, admin, webhookId, {})).items).toHaveLength(1);
    await expect(redeliver(deps, admin, webhookId, delivery?.deliveryId ?? '')).rejects.toMatchObject({
      status: 409,
    });
  });

  it('keeps a subscription that succeeded since the dead delivery was created', async () => {
    const deps = makeDeps({
      settings: { webhookRetry: { baseSeconds: 10, maxDelaySeconds: 60, windowSeconds: 60 } },
    });
    const { webhookId } = await subscribed(deps);
    deps.webhookTransport.answer(503);
    await dispatchEvents(deps, [decided(deps)]);
    deps.clock.advance(1_000);
    await dispatchEvents(deps, [decided(deps)]);
    deps.webhookTransport.answer(...Array.from({ length: 20 }, () => 503));
    for (let i = 0; i < 5; i += 1) {
      deps.clock.advance(60_000);
      await sweepOutbox(deps);
    }
    const statuses = (await listDeliveries(deps, admin, webhookId, {})).items.map((d) => d.status).sort();
    expect(statuses).toEqual(['dead', 'succeeded']);
    expect((await listWebhooks(deps, admin)).items[0]?.status).toBe('active');
  });

  it('sweeps events still waiting in the outbox', async () => {
    const deps = makeDeps();
    await subscribed(deps);
    const event = decided(deps);
    deps.webhooks.record(event);
    expect(await sweepOutbox(deps)).toEqual({ dispatched: 1, attempted: 0 });
    expect(deps.webhooks.dispatched).toEqual([event.id]);
    expect(deps.webhookTransport.sent).toHaveLength(1);
  });
});

describe('retry schedule', () => {
  it('spans at least 24 hours in deployed stages before a delivery is dead-lettered', () => {
    const start = new Date('2026-01-01T00:00:00Z');
    let now = start;
    let attempts = 1;
    for (;;) {
      const next = nextAttemptAt(DEPLOYED_RETRY_POLICY, attempts, start, now);
      if (next === null) break;
      now = next;
      attempts += 1;
    }
    expect(now.getTime() - start.getTime()).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
    expect(attempts).toBeLessThan(30);
  });

  it('never shrinks between attempts, never exceeds the cap and never leaves the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 1, max: 60 }),
        (base, cap, window, attempts) => {
          const policy = { baseSeconds: base, maxDelaySeconds: Math.max(base, cap), windowSeconds: window };
          const start = new Date(0);
          const now = new Date(1_000);
          const a = nextAttemptAt(policy, attempts, start, now);
          const b = nextAttemptAt(policy, attempts + 1, start, now);
          if (a !== null) {
            expect(a.getTime() - now.getTime()).toBeLessThanOrEqual(policy.maxDelaySeconds * 1000);
            expect(a.getTime()).toBeLessThanOrEqual(window * 1000);
          }
          if (a !== null && b !== null) expect(b.getTime()).toBeGreaterThanOrEqual(a.getTime());
        },
      ),
    );
  });
});

describe('event delivery Lambda', () => {
  it('dispatches inserted outbox items of the stream and ignores every other record', async () => {
    const deps = makeDeps();
    await subscribed(deps);
    const event = decided(deps);
    const handler = createHandler(
      () => deps,
      () => parseEnv({ REIN_ENV: 'local' }),
    );
    const image = {
      pk: { S: `acme#EVENT#${event.id}` },
      sk: { S: 'EVENT' },
      id: { S: event.id },
      type: { S: event.type },
      tenantId: { S: event.tenantId },
      occurredAt: { S: event.occurredAt },
      data: {
        M: {
          draftId: { S: 'drf_1' },
          runId: { S: 'run_1' },
          workflowId: { S: 'renewal-brief' },
          decision: { S: 'approved' },
          reviewer: { S: 'csm-alice' },
        },
      },
    };
    const result = await handler(
      {
        Records: [
          { eventID: '1', eventName: 'INSERT', dynamodb: { NewImage: image } },
          { eventID: '2', eventName: 'MODIFY', dynamodb: { NewImage: image } },
          { eventID: '3', eventName: 'INSERT', dynamodb: { NewImage: { ...image, sk: { S: 'RUN' } } } },
        ],
      },
      { awsRequestId: 'r1', functionName: 'events' } as unknown as Context,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(deps.webhookTransport.sent).toHaveLength(1);
    expect(deps.eventBus.published.map((e) => e.id)).toEqual([event.id]);
  });
});
