import { z } from 'zod';
import { safeText } from './text.ts';

/** A target id names a tenant's endpoint, e.g. `crm`: lower case, digits and dashes. */
export const TARGET_ID_PATTERN = /^[a-z][a-z0-9-]{1,31}$/;

/** `PUT /v1/action-targets/{targetId}`: where approved actions of this target go. */
export const PutActionTargetBodySchema = z
  .object({
    url: z.string().min(1).max(2000).describe('The https URL approved actions are POSTed to.'),
    description: safeText(500).optional(),
  })
  .strict();
export type PutActionTargetBody = z.infer<typeof PutActionTargetBodySchema>;

/** An action target as stored and returned. The signing secret is never part of it. */
export const ActionTargetSchema = z.object({
  tenantId: z.string(),
  targetId: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type ActionTarget = z.infer<typeof ActionTargetSchema>;

/** The answer to a PUT: the target, and its signing secret only in the answer that created it. */
export const PutActionTargetResultSchema = ActionTargetSchema.extend({
  signingSecret: z
    .string()
    .optional()
    .describe('Shown once, when the secret is created: verify the webhook-signature header with it.'),
});
export type PutActionTargetResult = z.infer<typeof PutActionTargetResultSchema>;
