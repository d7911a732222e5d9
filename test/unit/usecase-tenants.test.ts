import { describe, expect, it } from 'vitest';
import { NotFoundError } from '#shared/domain/errors.ts';
import type { Principal } from '#shared/domain/principal.ts';
import { getBudget, putBudget } from '#shared/usecases/finance.ts';
import { listTenants, putTenant } from '#shared/usecases/tenants.ts';
import { makeDeps } from '../fakes/deps.ts';

const operator: Principal = { sub: 'ops-frank', tenantId: 'rein-platform', roles: ['operator'] };
const finance: Principal = { sub: 'fin-erin', tenantId: 'rein-platform', roles: ['finance'] };

describe('tenants', () => {
  it('registers a tenant (created), renames it (not created, createdAt kept) and lists it with its budget', async () => {
    const deps = makeDeps();
    const first = await putTenant(deps, operator, 'acme', { name: 'Acme' });
    deps.clock.advance(60_000);
    const second = await putTenant(deps, operator, 'acme', { name: 'Acme Software' });
    await deps.ledger.setBudget('acme', '2026-10', 200, deps.clock.now());

    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.tenant.createdAt).toBe(first.tenant.createdAt);
    expect(await listTenants(deps, { limit: 50 })).toEqual({
      items: [
        {
          tenantId: 'acme',
          name: 'Acme Software',
          createdAt: first.tenant.createdAt,
          updatedAt: second.tenant.updatedAt,
          budget: {
            month: '2026-10',
            currency: 'USD',
            limitUsd: 200,
            spentUsd: 0,
            reservedUsd: 0,
            availableUsd: 200,
          },
        },
      ],
      nextCursor: null,
    });
  });

  it('pages tenants in id order with a cursor', async () => {
    const deps = makeDeps();
    for (const id of ['globex', 'acme', 'initech']) await putTenant(deps, operator, id, { name: id });
    const first = await listTenants(deps, { limit: 2 });
    const rest = await listTenants(deps, { limit: 2, cursor: first.nextCursor ?? '' });
    expect([first.items.map((t) => t.tenantId), first.nextCursor]).toEqual([['acme', 'globex'], 'globex']);
    expect([rest.items.map((t) => t.tenantId), rest.nextCursor]).toEqual([['initech'], null]);
  });
});

describe('budgets of unknown tenants', () => {
  it('answers 404 on GET and PUT and writes no budget, then works once the tenant is registered', async () => {
    const deps = makeDeps();
    await expect(getBudget(deps, finance, 'nobody', {})).rejects.toThrow(NotFoundError);
    await expect(putBudget(deps, operator, 'nobody', { limitUsd: 10 })).rejects.toThrow(NotFoundError);
    expect(await deps.tenants.get('nobody')).toBeNull();

    await putTenant(deps, operator, 'nobody', { name: 'Now known' });
    const set = await putBudget(deps, operator, 'nobody', { limitUsd: 10 });
    expect(set.limitUsd).toBe(10);
    expect((await getBudget(deps, finance, 'nobody', {})).limitUsd).toBe(10);
  });
});
