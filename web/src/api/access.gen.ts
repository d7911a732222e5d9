/**
 * Generated from the route records' `access` (shared/http/routes.ts) by `npm run web:api`. Do not edit.
 */
export const ROLES = ['csm', 'manager', 'admin', 'integration', 'finance', 'operator'] as const;

/** The roles the API lets call each operation (`'public'`: no token needed). */
export const OPERATION_ACCESS = {
  getHealth: 'public',
  getOpenApi: 'public',
  listWorkflows: ['csm', 'manager', 'admin', 'finance', 'operator'],
  startRun: ['csm', 'manager', 'admin'],
  listRuns: ['csm', 'manager', 'admin', 'operator', 'finance'],
  getRun: ['csm', 'manager', 'admin', 'operator'],
  getRunTrace: ['admin', 'operator'],
  listDrafts: ['csm', 'manager', 'admin'],
  getDraft: ['csm', 'manager', 'admin'],
  editDraft: ['csm', 'manager', 'admin'],
  approveDraft: ['csm', 'manager', 'admin'],
  rejectDraft: ['csm', 'manager', 'admin'],
  escalateDraft: ['csm', 'manager', 'admin'],
  promoteDraft: ['admin'],
  getLedger: ['finance', 'operator', 'admin'],
  getTopRuns: ['finance', 'operator', 'admin'],
  getPrices: ['csm', 'manager', 'admin', 'finance', 'operator'],
  getMetrics: ['manager', 'admin', 'operator'],
  getBudget: ['finance', 'operator', 'admin'],
  putBudget: ['operator'],
  listSources: ['integration', 'admin'],
  pushRecords: ['integration', 'admin'],
  deleteRecord: ['integration', 'admin'],
  putConnector: ['admin'],
  getConnector: ['admin'],
  testConnector: ['admin'],
  putActionTarget: ['admin'],
  createWebhook: ['admin'],
  listWebhooks: ['admin'],
  deleteWebhook: ['admin'],
  listWebhookDeliveries: ['admin'],
  redeliverWebhook: ['admin'],
} as const;

export type Operation = keyof typeof OPERATION_ACCESS;
