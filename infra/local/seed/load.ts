/**
 * Loads seed data (see `schema.ts`) through the ingestion use case (`shared/usecases/ingestion.ts`),
 * the same code path the ingestion API's `PUT /v1/sources/{sourceId}/records` takes: every record
 * is checked against its source's schema and upserted by (tenant, source, account, record), with the
 * tenant's per-source stats updated in the same transaction. There is no second writer.
 *
 * Record ids: the account id for CRM and usage, the contract, ticket or invoice id otherwise. Every
 * record's `updatedAt` is the seed's "as of" time in the data directory (see {@link seedAsOf}: when
 * this seed, by content, was first loaded there), except for an account's `brokenSources`, which are
 * loaded as last updated at the source on {@link BROKEN_SOURCE_UPDATED_AT} and so become `stale`
 * data gaps for sources with a maximum age.
 *
 * Loading is idempotent: the same seed loaded again on a restart finds its records `unchanged`, and
 * records pushed through the API since then are newer, so the ingestion's last-writer-wins keeps
 * them (the seed's records come back `stale`). An edited seed gets a new "as of" time and wins over
 * records pushed before the edit. Records removed from a seed file are not deleted; start from a
 * fresh `.rein/` to drop them.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { findSource } from '#shared/sources/catalogue.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { ingestRecords, PUSH_MAX_RECORDS, type RecordResult } from '#shared/usecases/ingestion.ts';
import { SeedSchema, type Seed, type SeedAccount, type SeedSource } from './schema.ts';

/** When a broken source's records were "last updated": long past any source's maximum age. */
export const BROKEN_SOURCE_UPDATED_AT = '2020-01-01T00:00:00.000Z';

/** One record of the seed, as a machine client would push it. */
export interface SeedRecord {
  accountId: string;
  recordId: string;
  updatedAt: string;
  data: Record<string, unknown>;
}

/** The records of one tenant and source, in the order of the seed file. */
export interface SeedBatch {
  tenantId: string;
  sourceId: SeedSource;
  records: SeedRecord[];
}

/** Base class of this module's errors. */
export class SeedError extends Error {
  override name = 'SeedError';
}

/** One schema violation in a seed file, with its location, e.g. `tenants[0].accounts[2].crm.ownerId`. */
export interface SeedIssue {
  path: string;
  message: string;
}

/** A seed file that cannot be read, is not JSON or does not match the schema. */
export class SeedFileError extends SeedError {
  override name = 'SeedFileError';
  readonly file: string;
  readonly issues: readonly SeedIssue[];

  constructor(file: string, message: string, issues: readonly SeedIssue[] = [], options?: ErrorOptions) {
    super(message, options);
    this.file = file;
    this.issues = issues;
  }
}

/** Records the ingestion use case refused (its source's schema rejected them). */
export class SeedLoadError extends SeedError {
  override name = 'SeedLoadError';
}

/**
 * Reads and validates a seed file (the demo data or `REIN_SEED`). Throws a {@link SeedFileError}
 * whose message lists every problem with its location in the file.
 */
export async function readSeedFile(path: string): Promise<Seed> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason =
      error instanceof Error && 'code' in error && error.code === 'ENOENT'
        ? 'does not exist'
        : 'cannot be read';
    throw new SeedFileError(file, `Seed file ${file} ${reason}.`, [], { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SeedFileError(file, `Seed file ${file} is not valid JSON: ${detail}`, [], { cause: error });
  }
  const result = SeedSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
    }));
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`);
    throw new SeedFileError(
      file,
      [`Seed file ${file} does not match the seed schema (${count}):`, ...lines].join('\n'),
      issues,
      { cause: result.error },
    );
  }
  return result.data;
}

function formatPath(path: z.core.$ZodIssue['path']): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text === '' ? '(root)' : text;
}

/** The records a seed produces, grouped by tenant and source, in a stable order. Pure: no I/O. */
export function seedBatches(seed: Seed, updatedAt: string): SeedBatch[] {
  const batches: SeedBatch[] = [];
  for (const tenant of seed.tenants) {
    const bySource = new Map<SeedSource, SeedRecord[]>();
    for (const account of tenant.accounts) {
      for (const [sourceId, record] of accountRecords(account, updatedAt)) {
        const list = bySource.get(sourceId) ?? [];
        list.push(record);
        bySource.set(sourceId, list);
      }
    }
    for (const [sourceId, records] of bySource)
      batches.push({ tenantId: tenant.tenantId, sourceId, records });
  }
  return batches;
}

function accountRecords(account: SeedAccount, loadedAt: string): [SeedSource, SeedRecord][] {
  const { accountId } = account;
  const broken = new Set<SeedSource>(account.brokenSources ?? []);
  const record = (source: SeedSource, recordId: string, data: object): [SeedSource, SeedRecord] => [
    source,
    {
      accountId,
      recordId,
      updatedAt: broken.has(source) ? BROKEN_SOURCE_UPDATED_AT : loadedAt,
      data: plainData(data),
    },
  ];
  const records = [record('crm', accountId, account.crm)];
  if (account.usage) records.push(record('usage', accountId, account.usage));
  if (account.contract) records.push(record('contract', account.contract.contractId, account.contract));
  for (const ticket of account.tickets) records.push(record('tickets', ticket.ticketId, ticket));
  for (const invoice of account.invoices) records.push(record('invoices', invoice.invoiceId, invoice));
  return records;
}

/** A JSON copy: drops `undefined` values, which the DynamoDB marshaller would otherwise reject. */
function plainData(data: object): Record<string, unknown> {
  const copy: unknown = JSON.parse(JSON.stringify(data));
  return copy as Record<string, unknown>;
}

/** File in the data directory that keeps when the current seed was first loaded there. */
export const SEED_AS_OF_FILE = 'seed-as-of.json';

const SeedAsOfSchema = z.object({ contentHash: z.string(), asOf: z.iso.datetime() });

/**
 * The `updatedAt` a seed's records carry in a data directory: the time this seed (by the hash of its
 * content) was first loaded there, kept in `<dataDir>/seed-as-of.json`, so a restart re-seeds with the
 * same time and never overwrites newer pushed records. A changed seed, or no data directory (an
 * in-memory stack), takes `now`.
 */
export async function seedAsOf(dataDir: string | null, seed: Seed, now: Date): Promise<string> {
  const contentHash = createHash('sha256').update(JSON.stringify(seed)).digest('hex');
  if (dataDir === null) return now.toISOString();
  const file = join(dataDir, SEED_AS_OF_FILE);
  try {
    const stored = SeedAsOfSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (stored.success && stored.data.contentHash === contentHash) return stored.data.asOf;
  } catch (error) {
    // A missing or unreadable file means this seed was never loaded here: start from now.
    if (!(error instanceof SyntaxError) && !(error instanceof Error && 'code' in error)) throw error;
  }
  const asOf = now.toISOString();
  await mkdir(dataDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ contentHash, asOf })}\n`);
  await rename(temporary, file);
  return asOf;
}

export interface LoadSeedOptions {
  /** `updatedAt` of every record (except broken sources'): {@link seedAsOf}. Default: the time of the load. */
  updatedAt?: string;
}

/**
 * Loads every record of the seed through the ingestion use case, in pushes of at most 100 records
 * per tenant and source, as a machine client would. Throws a {@link SeedLoadError} naming every
 * record its source's schema refused.
 */
export async function loadSeed(
  deps: Pick<Deps, 'records' | 'clock'>,
  seed: Seed,
  options: LoadSeedOptions = {},
): Promise<{ accounts: number; records: number; outcomes: Record<RecordResult['outcome'], number> }> {
  const updatedAt = options.updatedAt ?? deps.clock.now().toISOString();
  const outcomes = { created: 0, updated: 0, unchanged: 0, stale: 0, invalid: 0 };
  const problems: string[] = [];
  let records = 0;
  for (const batch of seedBatches(seed, updatedAt)) {
    const source = findSource(batch.sourceId);
    if (!source) throw new SeedLoadError(`The source catalogue has no source ${batch.sourceId}.`);
    for (let start = 0; start < batch.records.length; start += PUSH_MAX_RECORDS) {
      const chunk = batch.records.slice(start, start + PUSH_MAX_RECORDS);
      const result = await ingestRecords(deps, batch.tenantId, source, chunk);
      records += chunk.length;
      for (const [outcome, count] of Object.entries(result.summary)) {
        outcomes[outcome as keyof typeof outcomes] += count;
      }
      for (const refused of result.results.filter((r) => r.outcome === 'invalid')) {
        const where = `${batch.tenantId}/${batch.sourceId}/${refused.accountId ?? '?'}/${refused.recordId ?? '?'}`;
        const why = (refused.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
        problems.push(`  - ${where}: ${why}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new SeedLoadError(
      [`The source schemas refused ${problems.length} seed record(s):`, ...problems].join('\n'),
    );
  }
  const accounts = seed.tenants.reduce((count, tenant) => count + tenant.accounts.length, 0);
  return { accounts, records, outcomes };
}
