import { z } from 'zod';

/** `integration` is a tenant's machine client: it may call the ingestion routes and nothing else. */
export const TENANT_ROLES = ['csm', 'manager', 'admin', 'integration'] as const;
export const PLATFORM_ROLES = ['finance', 'operator'] as const;
export const RoleSchema = z.enum([...TENANT_ROLES, ...PLATFORM_ROLES]);
export type Role = z.infer<typeof RoleSchema>;

/** The authenticated caller, as established from verified JWT claims. */
export const PrincipalSchema = z.object({
  sub: z.string().min(1).max(256),
  tenantId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  roles: z.array(RoleSchema).min(1),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((role) => roles.includes(role));
}
