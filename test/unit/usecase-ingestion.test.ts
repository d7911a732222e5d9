import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '#shared/domain/errors.ts';
import type { Principal } from '#shared/domain/principal.ts';
import { deleteRecord, listSources, pushRecords } from '#shared/usecases/ingestion.ts';
import { ROUTES, routeKey } from '#shared/http/routes.ts';
import { FakeClock } from '../fakes/clock.ts';
import { makeDeps } from '../fakes/deps.ts';
import { InMemoryRecordStore } from '../fakes/record-store.ts';

const machine: Principal = { sub: 'client-acme-etl', tenantId: 'acme', roles: ['integration'] };
const admin: Principal = { sub: 'admin-dave', tenantId: 'acme', roles: ['admin'] };
const csm: Principal = { sub: 'csm-alice', tenantId: 'acme', roles: ['csm'] };

function usage(activeUsers: number, updatedAt: string, recordId = 'acct-one') {
  return {
    accountId: 'acct-one',
    recordId,
    updatedAt,
    data: { period: '2026-11', activeUsers, licensedSeats: 100 },
  };
}

function setup() {
  const records = new InMemoryRecordStore();
  return { deps: { records, clock: new FakeClock('2026-12-01T00:00:00.000Z') }, records };
}

describe('pushRecords', () => {
  it("refuses a record whose data names another account than its accountId, with the field's path", async () => {
    const { deps, records } = setup();
    const named = (accountId: string, recordId: string) => ({
      ...usage(10, '2026-11-01T00:00:00Z', recordId),
      data: { period: '2026-11', activeUsers: 10, licensedSeats: 100, accountId },
    });
    const result = await pushRecords(deps, machine, 'usage', {
      records: [
        named('acct-other', 'u-wrong'),
        named('acct-one', 'u-right'),
        usage(3, '2026-11-01T00:00:00Z', 'u-silent'),
      ],
    });
    expect(result.results.map((r) => [r.recordId, r.outcome, r.errors])).toEqual([
      [
        'u-wrong',
        'invalid',
        [
          {
            path: 'data.accountId',
            message: 'must equal the record\'s accountId "acct-one", not "acct-other"',
          },
        ],
      ],
      ['u-right', 'created', undefined],
      ['u-silent', 'created', undefined],
    ]);
    expect((await records.list('acme', 'usage', 'acct-one')).map((r) => r.recordId).sort()).toEqual([
      'u-right',
      'u-silent',
    ]);
  });

  it('reports created, updated, unchanged, stale and invalid for the records of one batch', async () => {
    const { deps } = setup();
    await pushRecords(deps, machine, 'usage', {
      records: [usage(10, '2026-11-01T00:00:00Z', 'u-upd'), usage(10, '2026-11-01T00:00:00Z', 'u-same')],
    });

    const result = await pushRecords(deps, machine, 'usage', {
      records: [
        usage(1, '2026-11-02T00:00:00Z', 'u-new'),
        usage(20, '2026-11-02T00:00:00Z', 'u-upd'),
        usage(10, '2026-11-01T00:00:00Z', 'u-same'),
        usage(5, '2026-10-01T00:00:00Z', 'u-upd'),
        { accountId: 'acct-one', recordId: 'u-bad', updatedAt: 'yesterday', data: { activeUsers: 'many' } },
      ],
    });

    expect(result.results.map((r) => [r.recordId, r.outcome])).toEqual([
      ['u-new', 'created'],
      ['u-upd', 'updated'],
      ['u-same', 'unchanged'],
      // Same record as the second one but older: whichever lands last, the newest updatedAt stays.
      ['u-upd', expect.stringMatching(/^(stale|updated)$/)],
      ['u-bad', 'invalid'],
    ]);
    expect(result.results[4]?.errors).toEqual([{ path: 'updatedAt', message: 'Invalid ISO datetime' }]);
    const stored = await deps.records.list('acme', 'usage', 'acct-one');
    expect(stored.find((r) => r.recordId === 'u-upd')?.data).toMatchObject({ activeUsers: 20 });
  });

  it('checks data against the source schema and names each problem by path', async () => {
    const { deps, records } = setup();
    const result = await pushRecords(deps, machine, 'crm', {
      records: [
        {
          accountId: 'acct-one',
          recordId: 'acct-one',
          updatedAt: '2026-11-01T00:00:00Z',
          data: { name: 'One' },
        },
      ],
    });
    expect(result.results[0]).toEqual({
      index: 0,
      accountId: 'acct-one',
      recordId: 'acct-one',
      outcome: 'invalid',
      errors: [
        { path: 'data.ownerId', message: 'Invalid input: expected string, received undefined' },
        { path: 'data.arr', message: 'Invalid input: expected number, received undefined' },
      ],
    });
    expect(records.items.size).toBe(0);
  });

  it('refuses a batch naming an id with traversal or control characters whole, writing nothing', async () => {
    const { deps, records } = setup();
    const push = pushRecords(deps, machine, 'usage', {
      records: [
        usage(1, '2026-11-01T00:00:00Z', 'fine'),
        usage(1, '2026-11-01T00:00:00Z', '../../etc'),
        { ...usage(1, '2026-11-01T00:00:00Z'), accountId: 'acct\u0000x' },
      ],
    });
    await expect(push).rejects.toThrow(ValidationError);
    await expect(push).rejects.toMatchObject({
      details: [
        { path: 'records.1.recordId', message: 'is not a valid id' },
        { path: 'records.2.accountId', message: 'is not a valid id' },
      ],
    });
    expect(records.items.size).toBe(0);
  });

  it('answers 413 for more than 100 records and 404 for an unknown source', async () => {
    const { deps, records } = setup();
    const many = Array.from({ length: 101 }, (_, i) => usage(i, '2026-11-01T00:00:00Z', `u-${i}`));
    await expect(pushRecords(deps, machine, 'usage', { records: many })).rejects.toThrow(
      PayloadTooLargeError,
    );
    await expect(pushRecords(deps, machine, 'billing', { records: [] })).rejects.toThrow(NotFoundError);
    expect(records.items.size).toBe(0);
  });

  it('keeps the record with the newest updatedAt whatever order the pushes arrive in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 28 })), {
          minLength: 1,
          maxLength: 12,
        }),
        async (pushes) => {
          const { deps } = setup();
          for (const [users, day] of pushes) {
            const at = `2026-11-${String(day).padStart(2, '0')}T00:00:00Z`;
            await pushRecords(deps, machine, 'usage', { records: [usage(users, at)] });
          }
          const [stored] = await deps.records.list('acme', 'usage', 'acct-one');
          const newestDay = Math.max(...pushes.map(([, day]) => day));
          expect(stored?.updatedAt).toBe(`2026-11-${String(newestDay).padStart(2, '0')}T00:00:00.000Z`);
        },
      ),
    );
  });
});

describe('deleteRecord and listSources', () => {
  it('deletes a pushed record once, then answers 404, and refuses encoded traversal with 400', async () => {
    const { deps } = setup();
    await pushRecords(deps, admin, 'usage', { records: [usage(1, '2026-11-01T00:00:00Z')] });

    await deleteRecord(deps, machine, { sourceId: 'usage', accountId: 'acct-one', recordId: 'acct-one' });
    await expect(
      deleteRecord(deps, machine, { sourceId: 'usage', accountId: 'acct-one', recordId: 'acct-one' }),
    ).rejects.toThrow(NotFoundError);
    await expect(
      deleteRecord(deps, machine, { sourceId: 'usage', accountId: 'acct-one', recordId: '..%2F..%2Fx' }),
    ).rejects.toThrow(ValidationError);
    await expect(
      deleteRecord(deps, machine, { sourceId: 'usage', accountId: 'acct%0Aone', recordId: 'x' }),
    ).rejects.toThrow(ValidationError);
  });

  it('lists the catalogue with record schemas and the caller tenant counts only', async () => {
    const { deps } = setup();
    await pushRecords(deps, machine, 'usage', { records: [usage(1, '2026-11-01T00:00:00Z')] });
    await pushRecords(deps, { ...machine, tenantId: 'globex' }, 'usage', {
      records: [usage(1, '2026-11-01T00:00:00Z', 'a'), usage(1, '2026-11-01T00:00:00Z', 'b')],
    });

    const { items } = await listSources(deps, machine);

    expect(items.map((item) => item.sourceId)).toEqual(['crm', 'usage', 'tickets', 'invoices', 'contract']);
    const usageItem = items.find((item) => item.sourceId === 'usage');
    expect(usageItem).toMatchObject({
      recordCount: 1,
      lastUpdatedAt: '2026-12-01T00:00:00.000Z',
      maxAgeDays: 62,
    });
    expect(usageItem?.recordSchema).toMatchObject({
      type: 'object',
      required: ['activeUsers', 'licensedSeats'],
    });
  });
});

describe('the door of the source routes', () => {
  it('lets the integration role call the source routes and nothing else', () => {
    for (const route of ROUTES) {
      const isSourceRoute = route.path === '/v1/sources' || route.path.startsWith('/v1/sources/');
      const roles = route.access === 'public' ? [] : route.access;
      expect({ route: routeKey(route), integration: roles.includes('integration') }).toEqual({
        route: routeKey(route),
        integration: isSourceRoute,
      });
    }
  });

  it('refuses a user role on a push before anything is written', async () => {
    const deps = makeDeps();
    const push = ROUTES.find((route) => route.operation === 'pushRecords');
    const event = {
      pathParameters: { sourceId: 'usage' },
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [usage(1, '2026-11-01T00:00:00Z')] }),
    } as unknown as APIGatewayProxyEventV2;
    const settings = { environment: 'test', tenantClaim: 'tenant', rolesClaim: 'roles' };
    await expect(push?.invoke({ event, principal: csm, deps, settings })).rejects.toThrow(ForbiddenError);
    expect((await deps.records.stats('acme')).length).toBe(0);
  });
});
