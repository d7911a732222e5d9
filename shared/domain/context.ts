import { z } from 'zod';

/** A scalar value copied from an approved source field. Nested objects never reach the model. */
export const FieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type FieldValue = z.infer<typeof FieldValueSchema>;

export const SourceIdSchema = z.enum(['crm', 'usage', 'tickets', 'invoices', 'contract']);
export type SourceId = z.infer<typeof SourceIdSchema>;

/**
 * One piece of evidence the model may cite. `id` is what a brief's `evidence[]` refers to;
 * `fields` holds only allow-listed fields; `provenance` says where and when it came from.
 */
export const EvidenceItemSchema = z.object({
  id: z.string().regex(/^[a-z]+:[A-Za-z0-9._-]+$/),
  source: SourceIdSchema,
  recordId: z.string(),
  fields: z.record(z.string(), FieldValueSchema),
  provenance: z.object({
    fetchedAt: z.iso.datetime(),
    contentHash: z.string(),
  }),
});
export type EvidenceItem = z.infer<typeof EvidenceItemSchema>;

export const DataGapSchema = z.object({
  source: SourceIdSchema,
  reason: z.enum(['not_found', 'error']),
  detail: z.string(),
});
export type DataGap = z.infer<typeof DataGapSchema>;

/** The scoped context object: everything the model may see for one run, and nothing more. */
export const ContextObjectSchema = z.object({
  workflowId: z.string(),
  accountId: z.string(),
  fetchedAt: z.iso.datetime(),
  notes: z.string().nullable(),
  items: z.array(EvidenceItemSchema),
  dataGaps: z.array(DataGapSchema),
});
export type ContextObject = z.infer<typeof ContextObjectSchema>;
