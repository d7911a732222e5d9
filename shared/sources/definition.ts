import { z } from 'zod';

/** A source id: lower-case letters, digits and dashes. Any declared source, not a closed list. */
export const SourceIdSchema = z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, 'must be a lower-case source id');
export type SourceId = z.infer<typeof SourceIdSchema>;

/**
 * One source, declared once: how its records look, which field names the account, which fields
 * may ever be shown, and how old a record may be before the context layer calls it stale.
 * Workflows select sources from the catalogue and narrow `displayFields` per workflow.
 */
export interface SourceDefinition {
  id: SourceId;
  title: string;
  description: string;
  /** The shape every record must have, checked on push, on pull and again at context time. */
  recordSchema: z.ZodType<Record<string, unknown>>;
  /**
   * The field of a record's data that names the account it belongs to, when records carry one.
   * Where a record has it, it must equal the record's `accountId` (see {@link accountFieldIssue});
   * null: the source's records never name their account in their data.
   */
  accountField: string | null;
  /** Fields that may ever reach a model; each workflow narrows this further. */
  displayFields: readonly string[];
  /** A record whose `updatedAt` is older than this, in days, is a `stale` data gap (null: never stale). */
  maxAgeDays: number | null;
  /** Prefix of the evidence ids built from this source's records, e.g. `ticket` → `ticket:T-1`. */
  evidencePrefix: string;
  /** Whether an account without any record of this source is a `not_found` data gap. */
  requiredPerAccount: boolean;
}

/** Declares a source; checks that the display fields exist, so a typo fails at module load. */
export function defineSource(definition: SourceDefinition): SourceDefinition {
  if (!SourceIdSchema.safeParse(definition.id).success)
    throw new Error(`Invalid source id ${definition.id}.`);
  if (!/^[a-z]+$/.test(definition.evidencePrefix)) {
    throw new Error(`Source ${definition.id}: evidencePrefix must be lower-case letters.`);
  }
  return Object.freeze({ ...definition, displayFields: Object.freeze([...definition.displayFields]) });
}

/**
 * A record whose data names another account than the one it is stored (or fetched) under: the
 * problem with its path (`data.<accountField>`), or null when the record agrees or does not say.
 */
export function accountFieldIssue(
  source: Pick<SourceDefinition, 'accountField'>,
  accountId: string,
  data: Readonly<Record<string, unknown>>,
): { path: string; message: string } | null {
  const field = source.accountField;
  if (field === null || !Object.hasOwn(data, field)) return null;
  const named = data[field];
  if (named === accountId) return null;
  return {
    path: `data.${field}`,
    message: `must equal the record's accountId "${accountId}"${typeof named === 'string' ? `, not "${named}"` : ''}`,
  };
}

/** Record ids end up in sort keys and evidence ids: no `#`, `:`, `/`, spaces or control characters. */
export const RecordIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ -');
/** Account ids, as the workflows' inputs take them. */
export const AccountIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a lower-case account id (a-z, 0-9, -)');

export const MoneySchema = z.number().nonnegative();
export const DateSchema = z.iso.date().describe('Calendar date, YYYY-MM-DD.');
export const DateTimeSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .describe('Timestamp, e.g. 2026-11-28T09:30:00Z (a calendar date alone is accepted).');
