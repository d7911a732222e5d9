import { z } from 'zod';

/**
 * The renewal brief the model drafts. This one schema is sent to OpenAI as the strict structured
 * output format, parses the model's answer, validates reviewer edits and documents the API.
 * Structured output requires every field: optional values are `nullable`.
 */
export const RiskSchema = z.object({
  title: z.string().describe('One line naming the risk.'),
  severity: z.enum(['low', 'medium', 'high']),
  evidence: z.array(z.string()).describe('Evidence ids from the context that support this risk.'),
});

export const NextStepSchema = z.object({
  action: z.string(),
  owner: z.string().describe('Who should act: a role or a name from the context.'),
  dueBy: z.string().nullable().describe('ISO date (YYYY-MM-DD) or null.'),
});

export const DataGapNoteSchema = z.object({
  source: z.string().describe('The context source that is missing or failed.'),
  description: z.string(),
});

export const RenewalBriefSchema = z.object({
  summary: z.string(),
  health: z.enum(['healthy', 'at_risk', 'critical']),
  risks: z.array(RiskSchema),
  openQuestions: z.array(z.string()),
  nextSteps: z.array(NextStepSchema),
  dataGaps: z.array(DataGapNoteSchema),
  escalation: z.object({
    recommended: z.boolean(),
    reason: z.string().nullable(),
  }),
});
export type RenewalBrief = z.infer<typeof RenewalBriefSchema>;
