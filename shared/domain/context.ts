import { z } from 'zod';
import { SourceIdSchema } from '../sources/definition.ts';
import { ToolCallRecordSchema } from './tools.ts';

/** A scalar value copied from an approved source field. Nested objects never reach the model. */
export const FieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type FieldValue = z.infer<typeof FieldValueSchema>;

/** Source ids are open: any source the catalogue (`shared/sources/`) declares. */
export { SourceIdSchema, type SourceId } from '../sources/definition.ts';

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
    /** When the context layer read the record for this run. */
    fetchedAt: z.iso.datetime(),
    /** When the record last changed at its source, as the source says. */
    updatedAt: z.iso.datetime().nullable().optional(),
    /** When Rein received the record: its push, or the connector's read. */
    receivedAt: z.iso.datetime().nullable().optional(),
    contentHash: z.string(),
  }),
});
export type EvidenceItem = z.infer<typeof EvidenceItemSchema>;

/**
 * Why a source gave nothing usable: no record, a failing or invalid source, a record older than the
 * source's maximum age, or a connector's failure (timeout, HTTP error, invalid response, refused
 * by the outbound policy).
 */
export const DataGapReasonSchema = z.enum([
  'not_found',
  'error',
  'stale',
  'timeout',
  'http_error',
  'invalid_response',
  'blocked',
]);
export type DataGapReason = z.infer<typeof DataGapReasonSchema>;

export const DataGapSchema = z.object({
  source: SourceIdSchema,
  reason: DataGapReasonSchema,
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
  /**
   * The read-only tool calls of the model step, in order (absent until the first). Their evidence
   * is in `items` and their failures in `dataGaps`; this log is what the tool loop resumes from.
   */
  toolCalls: z.array(ToolCallRecordSchema).optional(),
});
export type ContextObject = z.infer<typeof ContextObjectSchema>;

/**
 * Thrown by a context source that failed in a known way (a connector's timeout, HTTP error, invalid
 * answer or an address the outbound policy refused); the context layer records its reason as the
 * source's data gap. Any other error becomes a gap with reason `error`.
 */
export class SourceUnavailableError extends Error {
  constructor(
    readonly reason: Exclude<DataGapReason, 'not_found' | 'stale'>,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SourceUnavailableError';
  }
}
