import { z } from 'zod';
import { RUN_FAILURE_CODES } from './errors.ts';

export const RunStatusSchema = z.enum([
  'running',
  'awaiting_review',
  'escalated',
  'approved',
  'rejected',
  'expired',
  'failed',
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const RunErrorSchema = z.object({
  code: z.enum(RUN_FAILURE_CODES),
  message: z.string(),
  /**
   * As in the API's error shape. A `budget_exceeded` failure names the budget that blocked
   * (`budget`: `tenant_month` or `run_cost_cap`) and its figures, as the 402 does.
   */
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type RunError = z.infer<typeof RunErrorSchema>;

/** A run as stored and as returned by `GET /v1/runs/{runId}`. */
export const RunSchema = z.object({
  runId: z.string(),
  tenantId: z.string(),
  workflowId: z.string(),
  requestedBy: z.string(),
  accountId: z.string(),
  input: z.record(z.string(), z.unknown()),
  status: RunStatusSchema,
  draftId: z.string().nullable(),
  error: RunErrorSchema.nullable(),
  costUsd: z.number(),
  promptId: z.string(),
  promptVersion: z.string(),
  model: z.string().nullable(),
  /** When the review of the run's draft times out (the draft's `expiresAt`); absent before review. */
  expiresAt: z.iso.datetime().nullable().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Run = z.infer<typeof RunSchema>;

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['approved', 'rejected', 'expired', 'failed'];
