import { z } from 'zod';
import { actionCounts, ActionCountsSchema, ActionRecordSchema } from './actions.ts';
import { EvidenceItemSchema } from './context.ts';

export const DraftStatusSchema = z.enum(['awaiting_review', 'escalated', 'approved', 'rejected', 'expired']);
export type DraftStatus = z.infer<typeof DraftStatusSchema>;

export const DecisionSchema = z.enum(['approved', 'rejected', 'expired']);
export type Decision = z.infer<typeof DecisionSchema>;

export const OutcomeSchema = z.object({
  decision: DecisionSchema,
  reviewer: z.string().nullable(),
  reason: z.string().nullable(),
  /** Normalized Levenshtein distance between the model's draft and the final content, 0..1. */
  editDistance: z.number().min(0).max(1),
  timeToDecisionMs: z.number().int().nonnegative(),
  decidedAt: z.iso.datetime(),
});
export type Outcome = z.infer<typeof OutcomeSchema>;

export const EscalationSchema = z.object({
  by: z.string(),
  reason: z.string().nullable(),
  at: z.iso.datetime(),
});

/** One edit of a draft by a person: the version it made, who, and when. */
export const DraftEditSchema = z.object({
  version: z.number().int().positive(),
  editor: z.string(),
  at: z.iso.datetime(),
});
export type DraftEdit = z.infer<typeof DraftEditSchema>;

/** A draft as returned by the API. Content is validated against the workflow's output schema. */
export const DraftSchema = z.object({
  draftId: z.string(),
  runId: z.string(),
  tenantId: z.string(),
  workflowId: z.string(),
  ownerId: z.string(),
  accountId: z.string(),
  status: DraftStatusSchema,
  version: z.number().int().positive(),
  content: z.record(z.string(), z.unknown()),
  original: z.record(z.string(), z.unknown()),
  evidence: z.array(EvidenceItemSchema),
  promptId: z.string(),
  promptVersion: z.string(),
  model: z.string(),
  escalation: EscalationSchema.nullable(),
  outcome: OutcomeSchema.nullable(),
  /**
   * When the review times out, fixed when the review starts (StoreDraft): absolute, so a restart of
   * the local engine waits only for what is left. Absent on drafts stored before it existed.
   */
  expiresAt: z.iso.datetime().nullable().optional(),
  /** The actions the model proposed, each with its review decision and execution status. */
  actions: z.array(ActionRecordSchema).default([]),
  /** The reviewers' edits, oldest first (drafts stored before the history existed have none). */
  edits: z.array(DraftEditSchema).default([]),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Draft = z.infer<typeof DraftSchema>;

/** A draft as the API returns it: the stored draft with its action counts. */
export const DraftViewSchema = DraftSchema.extend({ actionCounts: ActionCountsSchema });
export type DraftView = z.infer<typeof DraftViewSchema>;

export function draftView(draft: Draft): DraftView {
  return { ...draft, actionCounts: actionCounts(draft.actions) };
}
