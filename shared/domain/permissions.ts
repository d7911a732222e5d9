import { ForbiddenError, NotFoundError, ValidationError } from './errors.ts';
import type { Draft } from './draft.ts';
import type { Run } from './run.ts';
import { hasAnyRole, type Principal, type Role } from './principal.ts';

/**
 * Record-level permissions: ownership and tenant. Which roles may call an operation at all is in
 * its route record (`shared/http/routes.ts`); nothing about permissions is left to prompt text.
 */
export function requireRole(principal: Principal, allowed: readonly Role[]): void {
  if (!hasAnyRole(principal, allowed)) throw new ForbiddenError();
}

const PLATFORM: readonly Role[] = ['operator', 'finance'];

/**
 * The tenant a request acts on. Tenant users always act on their own tenant; platform roles may
 * name another tenant with `?tenantId=`.
 */
export function effectiveTenant(principal: Principal, requestedTenantId: string | undefined): string {
  if (requestedTenantId === undefined) return principal.tenantId;
  if (!hasAnyRole(principal, PLATFORM)) {
    if (requestedTenantId === principal.tenantId) return requestedTenantId;
    throw new ForbiddenError('Only platform roles may act on another tenant.');
  }
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(requestedTenantId)) throw new ValidationError('tenantId is invalid.');
  return requestedTenantId;
}

/** A run is visible to its requester, to managers and admins of its tenant, and to operators. */
export function assertCanSeeRun(principal: Principal, run: Run): void {
  if (hasAnyRole(principal, ['manager', 'admin', 'operator'])) return;
  if (run.requestedBy === principal.sub) return;
  // Not visible reads exactly like missing.
  throw new NotFoundError('Run');
}

/** A draft is visible to its owner and to managers and admins of its tenant. */
export function assertCanSeeDraft(principal: Principal, draft: Draft): void {
  if (hasAnyRole(principal, ['manager', 'admin'])) return;
  if (draft.ownerId === principal.sub && hasAnyRole(principal, ['csm'])) return;
  throw new NotFoundError('Draft');
}

/** Deciding or editing an escalated draft takes a manager or an admin. */
export function assertCanChangeDraft(
  principal: Principal,
  draft: Draft,
  escalatedRoles: readonly Role[],
): void {
  assertCanSeeDraft(principal, draft);
  if (draft.status === 'escalated' && !hasAnyRole(principal, escalatedRoles)) {
    throw new ForbiddenError('An escalated draft can only be changed by a manager or an admin.');
  }
}
