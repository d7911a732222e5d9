/**
 * Role-aware navigation: a view is shown to the roles the API lets call the operations it needs
 * (a unit test checks these against the API's ROUTE_ROLES).
 */
export type Role = 'csm' | 'manager' | 'admin' | 'finance' | 'operator';

export interface ViewDef {
  id: 'inbox' | 'escalations' | 'finance' | 'ops';
  label: string;
  /** The API operations the view calls; its roles must be allowed on all of them. */
  operations: readonly string[];
  roles: readonly Role[];
}

export const VIEWS: readonly ViewDef[] = [
  {
    id: 'inbox',
    label: 'Inbox',
    operations: ['listDrafts', 'getDraft', 'editDraft', 'decideDraft', 'startRun', 'getRun'],
    roles: ['csm', 'manager', 'admin'],
  },
  // Deciding an escalated draft takes a manager or an admin.
  {
    id: 'escalations',
    label: 'Escalations',
    operations: ['listDrafts', 'getDraft', 'decideDraft'],
    roles: ['manager', 'admin'],
  },
  {
    id: 'finance',
    label: 'Finance',
    operations: ['getLedger', 'getBudget'],
    roles: ['finance', 'operator', 'admin'],
  },
  { id: 'ops', label: 'Ops', operations: ['getRun', 'getRunTrace'], roles: ['operator', 'admin'] },
];

export function viewsFor(roles: readonly string[]): ViewDef[] {
  return VIEWS.filter((view) => view.roles.some((role) => roles.includes(role)));
}
