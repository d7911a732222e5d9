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

/**
 * Machine clients (OAuth 2.0 client credentials) and the tenant each one is bound to. A Cognito
 * client-credentials access token carries `client_id`, `scope` and `token_use: access`, but no tenant
 * or role claim, so Rein keeps the binding itself (stage config in AWS, the seed locally).
 */
export interface MachineClientBindings {
  /** The scope a machine client's token must carry, e.g. `rein-dev/ingest`. */
  scope: string;
  /** `client_id` → tenant id. A client missing here has no access, whatever its token says. */
  tenantByClientId: Readonly<Record<string, string>>;
}

/** The role a bound machine client gets: it may push records and call nothing else. */
const MACHINE_CLIENT_ROLES: Principal['roles'] = ['integration'];

function scopesOf(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/\s+/).filter((part) => part !== '') : [];
}

/**
 * The principal of a client-credentials access token: the tenant comes from Rein's binding of the
 * token's `client_id`, the role is always `integration`, and the token must carry the machine scope.
 * Any tenant or role claim in such a token is ignored; an unbound client or a missing scope is 401.
 */
function machinePrincipal(claims: Record<string, unknown>, bindings: MachineClientBindings | undefined) {
  const clientId = claims['client_id'];
  const tenantId =
    typeof clientId === 'string' && bindings && Object.hasOwn(bindings.tenantByClientId, clientId)
      ? bindings.tenantByClientId[clientId]
      : undefined;
  if (typeof clientId !== 'string' || tenantId === undefined)
    throw new UnauthorizedError('This client is not bound to a tenant.');
  if (!bindings || !scopesOf(claims['scope']).includes(bindings.scope))
    throw new UnauthorizedError(`The token lacks the scope ${bindings?.scope ?? 'of machine clients'}.`);
  const parsed = PrincipalSchema.safeParse({ sub: clientId, tenantId, roles: MACHINE_CLIENT_ROLES });
  if (!parsed.success) throw new UnauthorizedError('This client is not bound to a usable tenant.');
  return parsed.data;
}

/**
 * Builds the principal from the claims the JWT authorizer verified. No usable identity → 401.
 * An access token (`token_use: access`, as Cognito issues for client credentials) is a machine
 * client's: see {@link MachineClientBindings}. Any other token names its tenant and roles in claims.
 */
export function principalFromClaims(
  claims: Record<string, unknown> | undefined,
  names: { tenantClaim: string; rolesClaim: string; machineClients?: MachineClientBindings | undefined },
): Principal {
  if (!claims) throw new UnauthorizedError();
  if (claims['token_use'] === 'access') return machinePrincipal(claims, names.machineClients);
  const parsed = PrincipalSchema.safeParse({
    sub: claims['sub'],
    tenantId: claims[names.tenantClaim],
    roles: parseRolesClaim(claims[names.rolesClaim]),
  });
  if (!parsed.success)
    throw new UnauthorizedError('The token does not carry a usable identity (sub, tenant, roles).');
  return parsed.data;
}
