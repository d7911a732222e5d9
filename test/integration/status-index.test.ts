import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { DynamoWorkflowStore } from '#shared/adapters/dynamodb/workflow-store.ts';
import type { Draft, DraftStatus } from '#shared/domain/draft.ts';
import { newId } from '#shared/domain/ids.ts';
import { reviewRollupsOf } from '#shared/domain/rollups.ts';
import type { RunStatus } from '#shared/domain/run.ts';
import type { ReviewRollup } from '#shared/ports/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { newRun, startTestStack, tableNamed } from './local-stack.ts';

/**
 * Runs and drafts listed by status through the status indexes on DynamoDB Local: the listed items
 * are exactly the matching ones, in order, across pages and after status changes; and a page reads
 * only matching items (counted from the Query answers' ScannedCount), so a status without a match
 * reads nothing whatever else the tenant has.
 */

let stack: LocalStack;
let doc: DynamoDBDocumentClient;
let store: DynamoWorkflowStore;
let itemsRead = 0;

beforeAll(async () => {
  stack = await startTestStack();
  doc = createDocumentClient({ region: 'us-east-1', endpoint: stack.dynamo.endpoint });
  doc.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as { ScannedCount?: number };
      itemsRead += output.ScannedCount ?? 0;
      return result;
    },
    { step: 'initialize', name: 'countItemsRead' },
  );
  store = new DynamoWorkflowStore(doc, tableNamed(stack, 'WorkflowTable'));
});

afterAll(async () => {
  await stack.stop();
});

const OWNERS = ['csm-alice', 'csm-bob'];
const ACCOUNTS = ['acct-a', 'acct-b'];

function draftOf(tenantId: string, index: number): Draft {
  const createdAt = new Date(Date.UTC(2026, 10, 1, 0, 0, index)).toISOString();
  return {
    draftId: `draft_${String(index).padStart(4, '0')}`,
    runId: newId('run'),
    tenantId,
    workflowId: 'renewal-brief',
    ownerId: OWNERS[index % 2] ?? 'csm-alice',
    accountId: ACCOUNTS[Math.floor(index / 2) % 2] ?? 'acct-a',
    status: 'awaiting_review',
    version: 1,
    content: { summary: 'x' },
    original: { summary: 'x' },
    evidence: [],
    promptId: 'renewal-brief',
    promptVersion: 'v2',
    model: 'gpt-4.1-mini',
    escalation: null,
    outcome: null,
    actions: [],
    createdAt,
    updatedAt: createdAt,
  };
}

/** Every page of a draft list, following the cursors. */
async function allDrafts(
  tenantId: string,
  query: { statuses?: DraftStatus[]; accountId?: string; ownerId?: string },
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page += 1) {
    const result = await store.listDrafts(tenantId, { ...query, limit, ...(cursor ? { cursor } : {}) });
    expect(result.items.length).toBeLessThanOrEqual(limit);
    ids.push(...result.items.map((draft) => draft.draftId));
    if (result.nextCursor === null) return ids;
    cursor = result.nextCursor;
  }
  throw new Error('too many pages');
}

const STATUS_CHANGES: Record<DraftStatus, DraftStatus[]> = {
  awaiting_review: ['escalated', 'approved', 'rejected', 'expired'],
  escalated: ['approved', 'rejected', 'expired'],
  approved: [],
  rejected: [],
  expired: [],
};

describe('drafts by status through the index', () => {
  it('lists exactly the drafts of the asked statuses, account and owner, newest first, across pages and status changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(11), fc.nat(3)), { minLength: 0, maxLength: 12 }),
        fc.subarray(['awaiting_review', 'escalated', 'approved', 'rejected', 'expired'] as DraftStatus[], {
          minLength: 1,
        }),
        fc.option(fc.constantFrom(...ACCOUNTS), { nil: undefined }),
        fc.option(fc.constantFrom(...OWNERS), { nil: undefined }),
        fc.integer({ min: 1, max: 5 }),
        async (changes, statuses, accountId, ownerId, limit) => {
          const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
          const model = Array.from({ length: 12 }, (_, index) => draftOf(tenantId, index));
          for (const draft of model) await store.createDraft(draft);
          for (const [index, choice] of changes) {
            const draft = model[index];
            if (!draft) continue;
            const next =
              STATUS_CHANGES[draft.status][choice % Math.max(1, STATUS_CHANGES[draft.status].length)];
            if (next === undefined) continue;
            const result = await store.updateDraft(
              tenantId,
              draft.draftId,
              { version: draft.version, statuses: [draft.status] },
              { status: next, updatedAt: new Date().toISOString() },
            );
            expect(result.ok).toBe(true);
            draft.status = next;
            draft.version += 1;
          }
          const expected = model
            .filter((draft) => statuses.includes(draft.status))
            .filter((draft) => accountId === undefined || draft.accountId === accountId)
            .filter((draft) => ownerId === undefined || draft.ownerId === ownerId)
            .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
            .map((draft) => draft.draftId);
          const query = {
            statuses,
            ...(accountId ? { accountId } : {}),
            ...(ownerId ? { ownerId } : {}),
          };
          expect(await allDrafts(tenantId, query, limit)).toEqual(expected);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('reads no item for a status without a match, and only a page of matches for one with many', async () => {
    const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
    for (let index = 0; index < 60; index += 1) await store.createDraft(draftOf(tenantId, index));
    const approved = draftOf(tenantId, 7);
    await store.updateDraft(
      tenantId,
      approved.draftId,
      { version: 1, statuses: ['awaiting_review'] },
      { status: 'approved', updatedAt: new Date().toISOString() },
    );

    itemsRead = 0;
    const none = await store.listDrafts(tenantId, { statuses: ['rejected'], limit: 20 });
    expect([none.items, none.nextCursor, itemsRead]).toEqual([[], null, 0]);

    itemsRead = 0;
    const one = await store.listDrafts(tenantId, { statuses: ['approved', 'rejected'], limit: 20 });
    expect(one.items.map((draft) => [draft.draftId, draft.status])).toEqual([[approved.draftId, 'approved']]);
    expect(itemsRead).toBe(1);

    itemsRead = 0;
    const page = await store.listDrafts(tenantId, { statuses: ['awaiting_review'], limit: 10 });
    expect(page.items).toHaveLength(10);
    expect(page.nextCursor).not.toBeNull();
    // One more than the page, to know whether a next page exists.
    expect(itemsRead).toBe(11);
  });

  it('rejects a cursor that is not one of this list', async () => {
    await expect(
      store.listDrafts('acme', {
        statuses: ['approved'],
        limit: 5,
        cursor: Buffer.from('{"pk":"globex#DRAFT#x"}').toString('base64url'),
      }),
    ).rejects.toThrow('The cursor is invalid.');
  });
});

describe('review rollups written with the drafts and their decisions', () => {
  it('equal the counters of the drafts themselves, whatever the decisions and escalations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            day: fc.integer({ min: 1, max: 3 }),
            escalate: fc.boolean(),
            decision: fc.constantFrom('approved', 'rejected', 'expired', null),
            editDistance: fc.constantFrom(0, 0.25, 0.5),
            timeToDecisionMs: fc.integer({ min: 0, max: 10_000_000 }),
          }),
          { maxLength: 10 },
        ),
        async (plans) => {
          const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
          const drafts: Draft[] = [];
          for (const [index, plan] of plans.entries()) {
            const draft = draftOf(tenantId, index);
            draft.createdAt = new Date(Date.UTC(2026, 10, plan.day, 0, 0, index)).toISOString();
            await store.createDraft(draft);
            let version = 1;
            let status: DraftStatus = 'awaiting_review';
            if (plan.escalate) {
              const escalation = { by: 'mgr-carol', reason: null, at: draft.createdAt };
              await store.updateDraft(
                tenantId,
                draft.draftId,
                { version, statuses: ['awaiting_review'] },
                { status: 'escalated', escalation, updatedAt: draft.createdAt },
              );
              Object.assign(draft, { status: 'escalated', escalation });
              version += 1;
              status = 'escalated';
            }
            if (plan.decision !== null) {
              const outcome = {
                decision: plan.decision,
                reviewer: plan.decision === 'expired' ? null : 'csm-alice',
                reason: null,
                editDistance: plan.decision === 'expired' ? 0 : plan.editDistance,
                timeToDecisionMs: plan.timeToDecisionMs,
                decidedAt: draft.createdAt,
              };
              const result = await store.updateDraft(
                tenantId,
                draft.draftId,
                { version, statuses: [status] },
                { status: plan.decision, outcome, updatedAt: draft.createdAt },
              );
              expect(result.ok).toBe(true);
              Object.assign(draft, { status: plan.decision, outcome });
            }
            drafts.push(draft);
          }
          const key = (cell: ReviewRollup) => `${cell.day}#${cell.workflowId}#${cell.promptVersion}`;
          // The store splits a cell in shards by draft id: add the shards up to compare.
          const merged = new Map<string, ReviewRollup>();
          for (const cell of await store.readReviewRollups(tenantId, '2026-11-01', '2026-11-30')) {
            const into = merged.get(key(cell));
            if (!into) {
              merged.set(key(cell), { ...cell, timeToDecisionBuckets: { ...cell.timeToDecisionBuckets } });
              continue;
            }
            for (const name of [
              'drafts',
              'escalated',
              'decided',
              'approved',
              'rejected',
              'expired',
              'decidedByPeople',
              'edited',
              'editDistanceSum',
              'timeToDecisionSumMs',
            ] as const) {
              into[name] += cell[name];
            }
            for (const [bucket, n] of Object.entries(cell.timeToDecisionBuckets)) {
              into.timeToDecisionBuckets[bucket] = (into.timeToDecisionBuckets[bucket] ?? 0) + n;
            }
          }
          const expected = reviewRollupsOf(drafts).sort((a, b) => (key(a) < key(b) ? -1 : 1));
          const actual = [...merged.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
          expect(actual).toEqual(
            expected.map((cell) => ({
              ...cell,
              editDistanceSum: expect.closeTo(cell.editDistanceSum, 9) as number,
            })),
          );
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('runs by status through the index', () => {
  it('lists the runs of a status, an account and a requester, moving them as their status changes', async () => {
    const tenantId = newId('tenant').replace(/[^a-z0-9]/g, '');
    const runs = Array.from({ length: 8 }, (_, index) => ({
      ...newRun(tenantId, index % 2 === 0 ? 'acct-a' : 'acct-b'),
      createdAt: new Date(Date.UTC(2026, 10, 2, 0, 0, index)).toISOString(),
    }));
    for (const run of runs) await store.createRun(run);
    const changes: [number, RunStatus][] = [
      [0, 'failed'],
      [3, 'awaiting_review'],
      [5, 'awaiting_review'],
    ];
    for (const [index, status] of changes) {
      await store.updateRun(tenantId, runs[index]?.runId ?? '', { status }, new Date());
    }
    await store.updateRun(tenantId, runs[5]?.runId ?? '', { status: 'approved' }, new Date());
    const range = { fromIso: '2026-11-01T00:00:00.000Z', toIso: '2026-12-01T00:00:00.000Z', limit: 3 };
    const ids = (list: { items: { runId: string }[] }) => list.items.map((run) => run.runId);

    itemsRead = 0;
    expect(ids(await store.listRuns(tenantId, { ...range, statuses: ['failed'] }))).toEqual([runs[0]?.runId]);
    expect(itemsRead).toBe(1);
    expect(
      ids(await store.listRuns(tenantId, { ...range, statuses: ['awaiting_review', 'approved'] })),
    ).toEqual([runs[5]?.runId, runs[3]?.runId]);
    expect(ids(await store.listRuns(tenantId, { ...range, statuses: ['rejected'] }))).toEqual([]);
    const running = await store.listRuns(tenantId, { ...range, statuses: ['running'], accountId: 'acct-b' });
    expect(ids(running)).toEqual([runs[7]?.runId, runs[1]?.runId]);
    expect(running.nextCursor).toBeNull();
    const all = await store.listRuns(tenantId, { ...range, accountId: 'acct-a', requestedBy: 'mgr-carol' });
    expect(ids(all)).toEqual([runs[6]?.runId, runs[4]?.runId, runs[2]?.runId]);
    const rest = await store.listRuns(tenantId, {
      ...range,
      accountId: 'acct-a',
      requestedBy: 'mgr-carol',
      ...(all.nextCursor ? { cursor: all.nextCursor } : {}),
    });
    expect(ids(rest)).toEqual([runs[0]?.runId]);
  });
});
