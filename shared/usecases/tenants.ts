import { z } from 'zod';
import { NotFoundError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import type { Deps } from './deps.ts';

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const ListTenantsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .regex(TENANT_ID, 'must be a cursor from the previous page')
      .optional()
      .meta({ description: 'The previous page’s `nextCursor`.' }),
  })
  .strict();

export const PutTenantBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(200).meta({ description: 'Display name, e.g. Acme Software.' }),
});

export const TenantViewSchema = z.object({
  tenantId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  budget: z
    .object({
      month: z.string(),
      currency: z.literal('USD'),
      limitUsd: z.number(),
      spentUsd: z.number(),
      reservedUsd: z.number(),
      availableUsd: z.number(),
    })
    .meta({ description: 'The current month’s budget (the default budget until an operator sets one).' }),
});
export type TenantView = z.infer<typeof TenantViewSchema>;

export const TenantPageSchema = z.object({
  items: z.array(TenantViewSchema),
  nextCursor: z.string().nullable(),
});
export type TenantPage = z.infer<typeof TenantPageSchema>;

async function withBudget(
  deps: Pick<Deps, 'ledger'>,
  tenant: { tenantId: string; name: string; createdAt: string; updatedAt: string },
  month: string,
): Promise<TenantView> {
  const budget = await deps.ledger.getBudget(tenant.tenantId, month);
  return {
    ...tenant,
    budget: {
      month,
      currency: 'USD',
      limitUsd: budget.limitUsd,
      spentUsd: budget.spentUsd,
      reservedUsd: budget.reservedUsd,
      availableUsd: budget.availableUsd,
    },
  };
}

/**
 * `GET /v1/tenants` (finance, operators): the tenants Rein knows, in id order, a page at a time,
 * each with this month's budget figures. A page reads one query and one budget item per tenant.
 */
export async function listTenants(
  deps: Pick<Deps, 'tenants' | 'ledger' | 'clock'>,
  query: z.output<typeof ListTenantsQuerySchema>,
): Promise<TenantPage> {
  const page = await deps.tenants.list({
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { after: query.cursor }),
  });
  const month = deps.clock.now().toISOString().slice(0, 7);
  const items = await Promise.all(page.items.map((tenant) => withBudget(deps, tenant, month)));
  return { items, nextCursor: page.nextCursor };
}

/** `PUT /v1/tenants/{tenantId}` (operators): registers a tenant or renames it. */
export async function putTenant(
  deps: Pick<Deps, 'tenants' | 'ledger' | 'clock'>,
  _principal: Principal,
  tenantId: string,
  body: z.output<typeof PutTenantBodySchema>,
): Promise<{ tenant: TenantView; created: boolean }> {
  if (!TENANT_ID.test(tenantId)) throw new NotFoundError('Tenant');
  const now = deps.clock.now();
  const { tenant, created } = await deps.tenants.put(tenantId, body.name, now);
  return { tenant: await withBudget(deps, tenant, now.toISOString().slice(0, 7)), created };
}

/** A tenant Rein does not know answers 404, exactly like another tenant's resource. */
export async function requireKnownTenant(deps: Pick<Deps, 'tenants'>, tenantId: string): Promise<void> {
  if (!(await deps.tenants.get(tenantId))) throw new NotFoundError('Tenant');
}
