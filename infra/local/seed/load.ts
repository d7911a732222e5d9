/**
 * Loads seed data (see `schema.ts`) into the records table the context sources read.
 *
 * Layout, one item per source record:
 *   pk = `${tenantId}#ACCOUNT#${accountId}`
 *   sk = `CRM` | `USAGE` | `CONTRACT` | `TICKET#${ticketId}` | `INVOICE#${invoiceId}`
 *   tenantId, accountId, recordId (account id for CRM and usage, else the record's own id),
 *   data (the record's raw fields as a map), updatedAt (ISO timestamp of the load).
 *
 * Loading is idempotent: every item is a put that overwrites the previous one with the same key.
 * Records removed from a seed file are not deleted; start from a fresh `.rein/` to drop them.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { SeedSchema, type Seed, type SeedAccount, type SeedSource } from './schema.ts';

/** DynamoDB's limit of items in one BatchWriteItem call. */
const BATCH_SIZE = 25;

/** Attempts per batch before unprocessed items count as a failure. */
const DEFAULT_MAX_ATTEMPTS = 8;

/** First retry delay in milliseconds; doubles on each attempt (50, 100, 200 … ms). */
const BASE_RETRY_DELAY_MS = 50;

/** Record id used for a malformed ticket or invoice written for an account that has none. */
export const MALFORMED_RECORD_ID = 'corrupt';

/** One item of the records table. `data` is a string only for records seeded as broken. */
export interface RecordItem {
  pk: string;
  sk: string;
  tenantId: string;
  accountId: string;
  recordId: string;
  data: Record<string, unknown> | string;
  updatedAt: string;
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

/** Items DynamoDB still refused to write after every retry. */
export class SeedLoadError extends SeedError {
  override name = 'SeedLoadError';
}

export function recordsPartitionKey(tenantId: string, accountId: string): string {
  return `${tenantId}#ACCOUNT#${accountId}`;
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

/** The items a seed produces, in a stable order. Pure: no I/O. */
export function seedItems(seed: Seed, updatedAt: string): RecordItem[] {
  return seed.tenants.flatMap((tenant) =>
    tenant.accounts.flatMap((account) => accountItems(tenant.tenantId, account, updatedAt)),
  );
}

function accountItems(tenantId: string, account: SeedAccount, updatedAt: string): RecordItem[] {
  const { accountId } = account;
  const broken = new Set<SeedSource>(account.brokenSources ?? []);
  const item = (sk: string, recordId: string, data: object, source: SeedSource): RecordItem => ({
    pk: recordsPartitionKey(tenantId, accountId),
    sk,
    tenantId,
    accountId,
    recordId,
    data: broken.has(source) ? malformedData(source) : plainData(data),
    updatedAt,
  });

  const items: RecordItem[] = [item('CRM', accountId, account.crm, 'crm')];
  if (account.usage !== undefined || broken.has('usage')) {
    items.push(item('USAGE', accountId, account.usage ?? {}, 'usage'));
  }
  if (account.contract !== undefined || broken.has('contract')) {
    items.push(
      item(
        'CONTRACT',
        account.contract?.contractId ?? MALFORMED_RECORD_ID,
        account.contract ?? {},
        'contract',
      ),
    );
  }
  for (const ticket of account.tickets) {
    items.push(item(`TICKET#${ticket.ticketId}`, ticket.ticketId, ticket, 'tickets'));
  }
  if (account.tickets.length === 0 && broken.has('tickets')) {
    items.push(item(`TICKET#${MALFORMED_RECORD_ID}`, MALFORMED_RECORD_ID, {}, 'tickets'));
  }
  for (const invoice of account.invoices) {
    items.push(item(`INVOICE#${invoice.invoiceId}`, invoice.invoiceId, invoice, 'invoices'));
  }
  if (account.invoices.length === 0 && broken.has('invoices')) {
    items.push(item(`INVOICE#${MALFORMED_RECORD_ID}`, MALFORMED_RECORD_ID, {}, 'invoices'));
  }
  return items;
}

/**
 * What a broken source stores instead of a map: the kind of garbage a failed upstream export
 * leaves behind. Any reader that validates `data` as a map rejects it.
 */
function malformedData(source: SeedSource): string {
  return `#ERROR! ${source} export truncated at byte 4096`;
}

/** A JSON copy: drops `undefined` values, which the DynamoDB marshaller would otherwise reject. */
function plainData(data: object): Record<string, unknown> {
  const copy: unknown = JSON.parse(JSON.stringify(data));
  return copy as Record<string, unknown>;
}

export interface LoadSeedOptions {
  /** `updatedAt` of every item. Default: the time of the load. */
  updatedAt?: string;
  /** Attempts per batch while DynamoDB returns unprocessed items. Default 8. */
  maxAttempts?: number;
}

/**
 * Writes every record of the seed into `recordsTable` with batch writes of at most 25 items,
 * retrying unprocessed items with exponential backoff. Idempotent: puts overwrite.
 */
export async function loadSeed(
  doc: DynamoDBDocumentClient,
  recordsTable: string,
  seed: Seed,
  options: LoadSeedOptions = {},
): Promise<{ accounts: number; items: number }> {
  const items = seedItems(seed, options.updatedAt ?? new Date().toISOString());
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let start = 0; start < items.length; start += BATCH_SIZE) {
    await writeBatch(doc, recordsTable, items.slice(start, start + BATCH_SIZE), maxAttempts);
  }
  const accounts = seed.tenants.reduce((count, tenant) => count + tenant.accounts.length, 0);
  return { accounts, items: items.length };
}

type WriteRequests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string];

async function writeBatch(
  doc: DynamoDBDocumentClient,
  table: string,
  batch: readonly RecordItem[],
  maxAttempts: number,
): Promise<void> {
  let pending: WriteRequests = batch.map((Item) => ({ PutRequest: { Item: { ...Item } } }));
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    if (attempt > 1) await sleep(BASE_RETRY_DELAY_MS * 2 ** (attempt - 2));
    const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = result.UnprocessedItems?.[table] ?? [];
    if (pending.length > 0 && attempt >= maxAttempts) {
      throw new SeedLoadError(
        `DynamoDB left ${pending.length} seed item(s) unprocessed in table ${table} after ${attempt} attempts.`,
      );
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
