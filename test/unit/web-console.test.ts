import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import { ROUTES } from '#shared/http/routes.ts';
import {
  ACCESS_PATH,
  API_TYPES_PATH,
  generateAccess,
  generateApiTypes,
} from '../../web/scripts/api-types.ts';
import { asBrief, briefToText } from '../../web/src/brief.ts';
import { parseRuntimeConfig } from '../../web/src/config.ts';
import { VIEWS, viewsFor } from '../../web/src/nav.ts';
import { actionDecisions, initialChoices, type ProposedAction } from '../../web/src/actions.ts';
import { href, parseRoute, type Route } from '../../web/src/routes.ts';

describe('console API types', () => {
  it('web/src/api/schema.gen.ts is what openapi-typescript makes of the API document today', async () => {
    const committed = await readFile(API_TYPES_PATH, 'utf8');
    expect(committed, 'stale: run `npm run web:api`').toBe(await generateApiTypes());
  });

  it("web/src/api/access.gen.ts is the route records' access today", async () => {
    const committed = await readFile(ACCESS_PATH, 'utf8');
    expect(committed, 'stale: run `npm run web:api`').toBe(await generateAccess());
  });
});

describe('role-aware navigation', () => {
  it('shows a view only to roles the API allows on every operation the view calls', () => {
    for (const view of VIEWS) {
      for (const operation of view.operations) {
        const route = ROUTES.find((candidate) => candidate.operation === operation);
        expect(route, `${view.id} calls unknown operation ${operation}`).toBeDefined();
        const allowed = route?.access ?? [];
        if (allowed === 'public') continue;
        for (const role of view.roles) expect(allowed, `${role} on ${view.id}/${operation}`).toContain(role);
      }
    }
  });

  it('gives finance only the finance view and operators finance and ops', () => {
    expect(viewsFor(['finance']).map((view) => view.id)).toEqual(['finance']);
    expect(viewsFor(['operator']).map((view) => view.id)).toEqual(['finance', 'ops']);
    expect(viewsFor(['csm']).map((view) => view.id)).toEqual(['inbox']);
    expect(viewsFor(['manager']).map((view) => view.id)).toEqual(['inbox', 'escalations']);
    expect(viewsFor([])).toEqual([]);
  });
});

describe('runtime config.json', () => {
  const local = {
    stage: 'local',
    apiBaseUrl: '',
    reviewTimeoutSeconds: 60,
    auth: { mode: 'local', tenantClaim: 'tenant_id', rolesClaim: 'roles' },
  };

  it('accepts the local and the Cognito shapes', () => {
    expect(parseRuntimeConfig(local).auth.mode).toBe('local');
    const cognito = parseRuntimeConfig({
      ...local,
      auth: {
        mode: 'cognito',
        tenantClaim: 'custom:tenant_id',
        rolesClaim: 'cognito:groups',
        authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x',
        clientId: 'abc',
        domain: 'https://rein.auth.eu-west-1.amazoncognito.com',
        scope: 'openid email',
      },
    });
    expect(cognito.auth).toMatchObject({ mode: 'cognito', clientId: 'abc' });
  });

  it('names the field that is wrong', () => {
    expect(() => parseRuntimeConfig({ ...local, apiBaseUrl: 3 })).toThrow(/apiBaseUrl/);
    expect(() => parseRuntimeConfig({ ...local, auth: { ...local.auth, mode: 'saml' } })).toThrow(
      /auth\.mode/,
    );
    expect(() =>
      parseRuntimeConfig({ ...local, auth: { mode: 'cognito', tenantClaim: 't', rolesClaim: 'r' } }),
    ).toThrow(/auth\.authority/);
    expect(() => parseRuntimeConfig({ ...local, reviewTimeoutSeconds: 0 })).toThrow(/reviewTimeoutSeconds/);
  });
});

const text = fc.string({ maxLength: 40 });
const briefArbitrary = fc.record({
  summary: text,
  health: fc.constantFrom('healthy', 'at_risk', 'critical'),
  risks: fc.array(
    fc.record({
      title: text,
      severity: fc.constantFrom('low', 'medium', 'high'),
      evidence: fc.array(text, { maxLength: 3 }),
    }),
    { maxLength: 4 },
  ),
  openQuestions: fc.array(text, { maxLength: 3 }),
  nextSteps: fc.array(fc.record({ action: text, owner: text, dueBy: fc.option(text, { nil: null }) }), {
    maxLength: 3,
  }),
  dataGaps: fc.array(fc.record({ source: text, description: text }), { maxLength: 2 }),
  escalation: fc.record({ recommended: fc.boolean(), reason: fc.option(text, { nil: null }) }),
});

describe('brief in the console', () => {
  it('reads every content the brief schema accepts, and its text shows the summary', () => {
    fc.assert(
      fc.property(briefArbitrary, (brief) => {
        expect(RenewalBriefSchema.safeParse(brief).success).toBe(true);
        expect(asBrief(brief)).toEqual(brief);
        expect(briefToText(brief)).toContain(`Summary: ${brief.summary}`);
      }),
    );
  });

  it('refuses content without the brief shape (then the screen shows the raw JSON)', () => {
    fc.assert(
      fc.property(
        briefArbitrary,
        fc.constantFrom('summary', 'health', 'risks', 'escalation'),
        (brief, field) => {
          expect(asBrief({ ...brief, [field]: 42 })).toBeNull();
        },
      ),
    );
    expect(asBrief(null)).toBeNull();
  });
});

describe('console routes', () => {
  it('round-trips every route through its hash', () => {
    const routes: Route[] = [
      { name: 'inbox' },
      { name: 'escalations' },
      { name: 'draft', draftId: 'drf_1', from: 'inbox' },
      { name: 'draft', draftId: 'drf/2', from: 'escalations' },
      { name: 'finance' },
      { name: 'ops', runId: null, tenantId: null },
      { name: 'ops', runId: 'run_1', tenantId: 'acme' },
    ];
    for (const route of routes) expect(parseRoute(href(route))).toEqual(route);
    expect(parseRoute('#/nowhere')).toEqual({ name: 'home' });
  });
});

describe('proposed action decisions sent on Approve', () => {
  const action = (actionId: string, args: Record<string, unknown>, status = 'proposed'): ProposedAction => ({
    actionId,
    type: 'crm.create_task',
    targetId: 'crm',
    args,
    proposedArgs: args,
    rationale: 'Follow up.',
    evidence: ['ev_1'],
    status: status as ProposedAction['status'],
    decision: null,
    edited: false,
    execution: null,
  });

  it('names every proposed action left undecided instead of sending', () => {
    const actions = [action('a1', { title: 'x' }), action('a2', { title: 'y' })];
    const choices = initialChoices(actions);
    choices['a1'] = { decision: 'reject', args: { title: 'x' } };
    expect(actionDecisions(actions, choices)).toEqual({
      problem: 'Approve or reject every proposed action first: 2. crm.create_task.',
    });
  });

  it('sends edited arguments only when they changed, keeping non-text values typed', () => {
    const actions = [
      action('a1', { title: 'x', priority: 2 }),
      action('a2', { title: 'y' }),
      action('a3', { title: 'z' }, 'executed'),
    ];
    const choices = initialChoices(actions);
    choices['a1'] = { decision: 'approve', args: { title: 'edited', priority: '3' } };
    choices['a2'] = { decision: 'approve', args: { title: 'y' } };
    expect(actionDecisions(actions, choices)).toEqual({
      actions: [
        { actionId: 'a1', decision: 'approve', args: { title: 'edited', priority: 3 } },
        { actionId: 'a2', decision: 'approve' },
      ],
    });
  });

  it('refuses an edited non-text argument that is not JSON', () => {
    const actions = [action('a1', { priority: 2 })];
    const choices = { a1: { decision: 'approve' as const, args: { priority: 'high' } } };
    expect(actionDecisions(actions, choices)).toEqual({
      problem: 'Action 1 (crm.create_task): priority is not valid JSON.',
    });
  });
});
