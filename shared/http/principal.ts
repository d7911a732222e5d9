import { UnauthorizedError } from '../domain/errors.ts';
import { PrincipalSchema, RoleSchema, type Principal, type Role } from '../domain/principal.ts';

/**
 * Reads a roles claim in every form it reaches a Lambda: a JSON array, API Gateway's flattened
 * `"[csm manager]"`, or a space- or comma-separated string. Unknown roles are ignored.
 */
export function parseRolesClaim(value: unknown): Role[] {
  let parts: unknown[] = [];
  if (Array.isArray(value)) parts = value;
  else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[') && trimmed.includes('"')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        parts = Array.isArray(parsed) ? parsed : [];
      } catch {
        parts = [];
      }
    } else {
      parts = trimmed.replace(/^\[|\]$/g, '').split(/[\s,]+/);
    }
  }
  const roles = new Set<Role>();
  for (const part of parts) {
    const parsed = RoleSchema.safeParse(part);
    if (parsed.success) roles.add(parsed.data);
  }
  return [...roles];
}

/** Builds the principal from the claims the JWT authorizer verified. No usable identity → 401. */
export function principalFromClaims(
  claims: Record<string, unknown> | undefined,
  names: { tenantClaim: string; rolesClaim: string },
): Principal {
  if (!claims) throw new UnauthorizedError();
  const parsed = PrincipalSchema.safeParse({
    sub: claims['sub'],
    tenantId: claims[names.tenantClaim],
    roles: parseRolesClaim(claims[names.rolesClaim]),
  });
  if (!parsed.success)
    throw new UnauthorizedError('The token does not carry a usable identity (sub, tenant, roles).');
  return parsed.data;
}
