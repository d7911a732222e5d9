import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, ValidationError } from '#shared/domain/errors.ts';
import {
  assertCanChangeDraft,
  assertCanSeeDraft,
  assertCanSeeRun,
  effectiveTenant,
  requireRole,
} from '#shared/domain/permissions.ts';
import type { Draft } from '#shared/domain/draft.ts';
import type { Principal } from '#shared/domain/principal.ts';
import type { Run } from '#shared/domain/run.ts';
import { ada, alice, bob, fiona, maria, olga, TENANT, validBrief } from '../fakes/fixtures.ts';

const AT = '2026-10-01T09:00:00.000Z';

function draftOwnedBy(ownerId: string, status: Draft['status'] = 'awaiting_review'): Draft {
  return {
    draftId: 'drf_01jd0000000000000000000000',
    runId: 'run_01jd0000000000000000000000',
    tenantId: TENANT,
    workflowId: 'renewal-brief',
    ownerId,
    accountId: 'acct-northwind',
    status,
    version: 1,
    content: validBrief(),
    original: validBrief(),
    evidence: [],
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    model: 'gpt-4.1-mini',
    escalation: null,
    outcome: null,
    actions: [],
    edits: [],
    createdAt: AT,
    updatedAt: AT,
  };
}

function runRequestedBy(sub: string): Run {
  return {
    runId: 'run_01jd0000000000000000000000',
    tenantId: TENANT,
    workflowId: 'renewal-brief',
    requestedBy: sub,
    accountId: 'acct-northwind',
    input: { accountId: 'acct-northwind' },
    status: 'running',
    draftId: null,
    error: null,
    costUsd: 0,
    promptId: 'renewal-brief',
    promptVersion: 'v1',
    model: null,
    createdAt: AT,
    updatedAt: AT,
  };
}

const ESCALATED_ROLES = ['manager', 'admin'] as const;

describe('draft visibility', () => {
  it('lets a CSM see their own draft and hides every other CSM draft as not found', () => {
    expect(() => {
      assertCanSeeDraft(alice, draftOwnedBy(alice.sub));
    }).not.toThrow();
    expect(() => {
      assertCanSeeDraft(bob, draftOwnedBy(alice.sub));
    }).toThrow(new NotFoundError('Draft'));
  });

  it('lets managers and admins see any draft of their tenant', () => {
    for (const principal of [maria, ada]) {
      expect(() => {
        assertCanSeeDraft(principal, draftOwnedBy(alice.sub));
      }).not.toThrow();
    }
  });

  it('does not let a platform user see a draft even when their sub matches the owner', () => {
    const financeNamedAlice: Principal = { ...fiona, sub: alice.sub };
    expect(() => {
      assertCanSeeDraft(financeNamedAlice, draftOwnedBy(alice.sub));
    }).toThrow(NotFoundError);
  });
});

describe('changing an escalated draft', () => {
  it('refuses the owning CSM with 403 once the draft is escalated', () => {
    expect(() => {
      assertCanChangeDraft(alice, draftOwnedBy(alice.sub, 'escalated'), ESCALATED_ROLES);
    }).toThrow(new ForbiddenError('An escalated draft can only be changed by a manager or an admin.'));
  });

  it('lets a manager or an admin change an escalated draft', () => {
    for (const principal of [maria, ada]) {
      expect(() => {
        assertCanChangeDraft(principal, draftOwnedBy(alice.sub, 'escalated'), ESCALATED_ROLES);
      }).not.toThrow();
    }
  });

  it('lets the owning CSM change a draft awaiting review', () => {
    expect(() => {
      assertCanChangeDraft(alice, draftOwnedBy(alice.sub), ESCALATED_ROLES);
    }).not.toThrow();
  });
});

describe('run visibility', () => {
  it('shows a run to its requester, managers, admins and operators, and hides it from other CSMs', () => {
    const run = runRequestedBy(alice.sub);
    for (const principal of [alice, maria, ada, olga]) {
      expect(() => {
        assertCanSeeRun(principal, run);
      }).not.toThrow();
    }
    expect(() => {
      assertCanSeeRun(bob, run);
    }).toThrow(new NotFoundError('Run'));
  });
});

describe('effectiveTenant', () => {
  it("acts on the caller's own tenant when none is named", () => {
    expect(effectiveTenant(alice, undefined)).toBe(TENANT);
  });

  it('lets a tenant user name their own tenant but not another one', () => {
    expect(effectiveTenant(ada, TENANT)).toBe(TENANT);
    expect(() => effectiveTenant(ada, 'globex')).toThrow(
      new ForbiddenError('Only platform roles may act on another tenant.'),
    );
  });

  it('lets platform roles override the tenant, with a valid tenant id', () => {
    expect([effectiveTenant(olga, 'globex'), effectiveTenant(fiona, TENANT)]).toEqual(['globex', TENANT]);
    expect(() => effectiveTenant(olga, '../acme')).toThrow(new ValidationError('tenantId is invalid.'));
  });
});

describe('requireRole', () => {
  it('passes when any role matches and answers 403 otherwise', () => {
    expect(() => {
      requireRole(alice, ['csm', 'manager']);
    }).not.toThrow();
    expect(() => {
      requireRole(fiona, ['csm', 'manager']);
    }).toThrow(ForbiddenError);
    expect(() => {
      requireRole(alice, ['admin', 'operator']);
    }).toThrow(ForbiddenError);
  });
});
