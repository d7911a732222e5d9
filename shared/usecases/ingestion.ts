import { z } from 'zod';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import type { IncomingRecord, UpsertOutcome } from '../ports/index.ts';
import { findSource, SOURCES } from '../sources/catalogue.ts';
import {
  accountFieldIssue,
  AccountIdSchema,
  RecordIdSchema,
  type SourceDefinition,
} from '../sources/definition.ts';
import type { Deps } from './deps.ts';

/** At most this many records per push. */
export const PUSH_MAX_RECORDS = 100;
/** At most this many bytes of request body per push. */
export const PUSH_MAX_BYTES = 256 * 1024;
/** Records of one push written at the same time. */
const PUSH_CONCURRENCY = 8;

export interface Issue {
  path: string;
  message: string;
}

/** What happened to one record of a push, in the order of the request. */
export const RecordResultSchema = z.object({
  index: z.number().int(),
  accountId: z.string().nullable(),
  recordId: z.string().nullable(),
  outcome: z.enum(['created', 'updated', 'unchanged', 'stale', 'invalid']),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type RecordResult = z.infer<typeof RecordResultSchema>;
export type RecordOutcome = RecordResult['outcome'];

export const PushResultSchema = z.object({
  sourceId: z.string(),
  results: z.array(RecordResultSchema),
  summary: z.record(z.enum(['created', 'updated', 'unchanged', 'stale', 'invalid']), z.number().int()),
});
export type PushResult = z.infer<typeof PushResultSchema>;

/** The envelope of a push: ids are checked for the whole batch, the rest per record. */
export const PushRequestSchema = z.strictObject({
  records: z.array(
    z.looseObject({
      accountId: z.unknown(),
      recordId: z.unknown(),
      updatedAt: z.unknown(),
      data: z.unknown(),
    }),
  ),
});

/** Path segments that are ids: after decoding, only the id alphabet; no traversal, no control characters. */
export const PathRecordIdSchema = RecordIdSchema.refine((id) => !id.includes('..'), 'must not contain ".."');

const PerRecordSchema = z.strictObject({
  accountId: AccountIdSchema,
  recordId: PathRecordIdSchema,
  updatedAt: z.iso.datetime({ offset: true }),
  data: z.record(z.string(), z.unknown()),
});

function issuesOf(error: z.ZodError, prefix: string): Issue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}

function sourceOrNotFound(sourceId: string | undefined): SourceDefinition {
  const source = sourceId === undefined ? null : findSource(sourceId);
  if (!source) throw new NotFoundError('Source');
  return source;
}

/** Checks one record against the envelope and the source's schema; returns it normalised or its issues. */
export function checkRecord(
  source: SourceDefinition,
  raw: unknown,
): { ok: true; record: IncomingRecord } | { ok: false; errors: Issue[] } {
  const envelope = PerRecordSchema.safeParse(raw);
  if (!envelope.success) return { ok: false, errors: issuesOf(envelope.error, '') };
  const data = source.recordSchema.safeParse(envelope.data.data);
  if (!data.success) return { ok: false, errors: issuesOf(data.error, 'data') };
  const mismatch = accountFieldIssue(source, envelope.data.accountId, data.data);
  if (mismatch) return { ok: false, errors: [mismatch] };
  return {
    ok: true,
    record: {
      accountId: envelope.data.accountId,
      recordId: envelope.data.recordId,
      // One form for every timestamp, so the newest-wins comparison is a plain string comparison.
      updatedAt: new Date(envelope.data.updatedAt).toISOString(),
      data: data.data,
    },
  };
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Stores a batch of records of one source for a tenant: each record is checked against the source's
 * schema and upserted on its own (newest `updatedAt` wins). The one write path for pushed records:
 * the ingestion API and the local stack's demo data both come through here.
 */
export async function ingestRecords(
  deps: Pick<Deps, 'records' | 'clock'>,
  tenantId: string,
  source: SourceDefinition,
  records: readonly unknown[],
): Promise<PushResult> {
  const results = await mapLimited(
    records.map((raw, index) => ({ raw, index })),
    PUSH_CONCURRENCY,
    async ({ raw, index }): Promise<RecordResult> => {
      const checked = checkRecord(source, raw);
      const ids = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
      if (!checked.ok) {
        return {
          index,
          accountId: typeof ids['accountId'] === 'string' ? ids['accountId'] : null,
          recordId: typeof ids['recordId'] === 'string' ? ids['recordId'] : null,
          outcome: 'invalid',
          errors: checked.errors,
        };
      }
      const outcome: UpsertOutcome = await deps.records.upsert(
        tenantId,
        source.id,
        checked.record,
        deps.clock.now(),
      );
      return { index, accountId: checked.record.accountId, recordId: checked.record.recordId, outcome };
    },
  );
  const summary = { created: 0, updated: 0, unchanged: 0, stale: 0, invalid: 0 };
  for (const result of results) summary[result.outcome] += 1;
  return { sourceId: source.id, results, summary };
}

/**
 * `PUT /v1/sources/{sourceId}/records`: a tenant's machine client (or an admin) pushes up to 100
 * records. A batch that is too large, or names an id that is not an id (traversal, control
 * characters), is refused whole before anything is written; other problems are per record.
 */
export async function pushRecords(
  deps: Pick<Deps, 'records' | 'clock'>,
  principal: Principal,
  sourceId: string | undefined,
  body: unknown,
): Promise<PushResult> {
  const source = sourceOrNotFound(sourceId);
  const parsed = PushRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('The body must be {"records":[…]}.', issuesOf(parsed.error, ''));
  }
  const { records } = parsed.data;
  if (records.length > PUSH_MAX_RECORDS) {
    throw new PayloadTooLargeError(
      PUSH_MAX_BYTES,
      `A push holds at most ${PUSH_MAX_RECORDS} records; this one has ${records.length}.`,
    );
  }
  if (records.length === 0) throw new ValidationError('records must hold at least one record.');
  const hostile: Issue[] = [];
  records.forEach((record, index) => {
    for (const [field, schema] of [
      ['accountId', AccountIdSchema],
      ['recordId', PathRecordIdSchema],
    ] as const) {
      const value = record[field];
      // Only strings can smuggle a path or control characters; a missing id is a per-record problem.
      if (typeof value === 'string' && !schema.safeParse(value).success) {
        hostile.push({ path: `records.${index}.${field}`, message: 'is not a valid id' });
      }
    }
  });
  if (hostile.length > 0) {
    throw new ValidationError('Some record ids are not valid ids; nothing was written.', hostile);
  }
  return ingestRecords(deps, principal.tenantId, source, records);
}

function decodedPathId(value: string | undefined, name: string, schema: z.ZodType<string>): string {
  let decoded: string | null;
  try {
    decoded = value === undefined ? null : decodeURIComponent(value);
  } catch {
    decoded = null;
  }
  if (decoded === null || !schema.safeParse(decoded).success) {
    throw new ValidationError(`${name} is not a valid id.`, [{ path: name, message: 'is not a valid id' }]);
  }
  return decoded;
}

/** `DELETE /v1/sources/{sourceId}/records/{accountId}/{recordId}`: 204 when deleted, 404 when absent. */
export async function deleteRecord(
  deps: Pick<Deps, 'records' | 'clock'>,
  principal: Principal,
  params: { sourceId?: string | undefined; accountId?: string | undefined; recordId?: string | undefined },
): Promise<void> {
  const source = sourceOrNotFound(params.sourceId);
  const accountId = decodedPathId(params.accountId, 'accountId', AccountIdSchema);
  const recordId = decodedPathId(params.recordId, 'recordId', PathRecordIdSchema);
  const deleted = await deps.records.delete(
    principal.tenantId,
    source.id,
    accountId,
    recordId,
    deps.clock.now(),
  );
  if (!deleted) throw new NotFoundError('Record');
}

export const SourceSummarySchema = z.object({
  sourceId: z.string(),
  title: z.string(),
  description: z.string(),
  accountField: z.string().nullable(),
  displayFields: z.array(z.string()),
  maxAgeDays: z.number().nullable(),
  recordSchema: z.record(z.string(), z.unknown()),
  recordCount: z.number().int(),
  lastUpdatedAt: z.string().nullable(),
});
export type SourceSummary = z.infer<typeof SourceSummarySchema>;

/** `GET /v1/sources`: the catalogue with each record schema, and the caller's tenant's counts. */
export async function listSources(
  deps: Pick<Deps, 'records'>,
  principal: Principal,
): Promise<{ items: SourceSummary[] }> {
  const stats = new Map((await deps.records.stats(principal.tenantId)).map((s) => [s.sourceId, s]));
  const items = [...SOURCES.values()].map((source) => ({
    sourceId: source.id,
    title: source.title,
    description: source.description,
    accountField: source.accountField,
    displayFields: [...source.displayFields],
    maxAgeDays: source.maxAgeDays,
    recordSchema: z.toJSONSchema(source.recordSchema, { io: 'input' }),
    recordCount: stats.get(source.id)?.recordCount ?? 0,
    lastUpdatedAt: stats.get(source.id)?.lastUpdatedAt ?? null,
  }));
  return { items };
}
