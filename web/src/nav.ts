import { OPERATION_ACCESS, ROLES, type Operation } from './api/access.gen.ts';

/**
 * Role-aware navigation: a view is shown to the roles the API lets call every operation it needs,
 * read from the route records' `access` (generated into api/access.gen.ts).
 */
export type Role = (typeof ROLES)[number];

export interface ViewDef {
  id: 'inbox' | 'escalations' | 'finance' | 'ops';
  label: string;
  /** The API operations the view calls; its roles are those allowed on all of them. */
  operations: readonly Operation[];
  /** A record-level rule the route table cannot express, narrowing the roles further. */
  onlyFor?: readonly Role[];
  roles: readonly Role[];
}

/** The roles allowed on every one of `operations` (and in `onlyFor`, when given). */
export function rolesFor(operations: readonly Operation[], onlyFor?: readonly Role[]): Role[] {
  return ROLES.filter(
    (role) =>
      (onlyFor === undefined || onlyFor.includes(role)) &&
      operations.every((operation) => {
        const access: 'public' | readonly string[] = OPERATION_ACCESS[operation];
        return access === 'public' || access.includes(role);
      }),
  );
}

function view(def: Omit<ViewDef, 'roles'>): ViewDef {
  return { ...def, roles: rolesFor(def.operations, def.onlyFor) };
}

export const VIEWS: readonly ViewDef[] = [
  view({
    id: 'inbox',
    label: 'Inbox',
    operations: [
      'listDrafts',
      'getDraft',
      'editDraft',
      'approveDraft',
      'rejectDraft',
      'escalateDraft',
      'startRun',
      'listRuns',
      'getRun',
    ],
  }),
  // Deciding an escalated draft takes a manager or an admin (checked on the draft, not at the door).
  view({
    id: 'escalations',
    label: 'Escalations',
    operations: ['listDrafts', 'getDraft', 'approveDraft', 'rejectDraft'],
    onlyFor: ['manager', 'admin'],
  }),
  view({ id: 'finance', label: 'Finance', operations: ['getLedger', 'getBudget'] }),
  view({ id: 'ops', label: 'Ops', operations: ['listRuns', 'getRun', 'getRunTrace'] }),
];

export function viewsFor(roles: readonly string[]): ViewDef[] {
  return VIEWS.filter((item) => item.roles.some((role) => roles.includes(role)));
}
