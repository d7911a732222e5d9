import type { Tenant, TenantDirectory } from '#shared/ports/index.ts';

/** The tenant registry in memory, in id order like the DynamoDB adapter. */
export class InMemoryTenantDirectory implements TenantDirectory {
  readonly tenants = new Map<string, Tenant>();

  get(tenantId: string): Promise<Tenant | null> {
    return Promise.resolve(this.tenants.get(tenantId) ?? null);
  }

  put(tenantId: string, name: string, now: Date): Promise<{ tenant: Tenant; created: boolean }> {
    const existing = this.tenants.get(tenantId);
    const at = now.toISOString();
    const tenant = { tenantId, name, createdAt: existing?.createdAt ?? at, updatedAt: at };
    this.tenants.set(tenantId, tenant);
    return Promise.resolve({ tenant, created: existing === undefined });
  }

  list(options: { limit: number; after?: string }): Promise<{ items: Tenant[]; nextCursor: string | null }> {
    const sorted = [...this.tenants.values()].sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    const { after } = options;
    const rest = after === undefined ? sorted : sorted.filter((t) => t.tenantId > after);
    const items = rest.slice(0, options.limit);
    const last = items.at(-1);
    return Promise.resolve({ items, nextCursor: rest.length > options.limit && last ? last.tenantId : null });
  }
}
