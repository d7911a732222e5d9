/**
 * Pushes a JSON Lines file of source records through Rein's ingestion API
 * (`PUT /v1/sources/{sourceId}/records`), in pushes of at most 100 records and 256 KiB, and adds up
 * the outcomes the API reports. Each line is one record:
 * `{"accountId":"acct-1","recordId":"acct-1","updatedAt":"2026-11-30T00:00:00Z","data":{…}}`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';

/** What the API allows per push; a little is kept free for the envelope `{"records":[…]}`. */
export const MAX_RECORDS_PER_PUSH = 100;
export const MAX_PUSH_BYTES = 256 * 1024 - 1024;
/** Tries per push when the API is briefly unavailable (429, 5xx, connection errors). */
const MAX_TRIES = 3;

const OUTCOMES = ['created', 'updated', 'unchanged', 'stale', 'invalid'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const PushAnswerSchema = z.object({
  results: z.array(
    z.object({
      index: z.number().int(),
      outcome: z.enum(OUTCOMES),
      errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  ),
});

const ErrorAnswerSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** One refused record, named by its line in the file. */
export interface Refusal {
  line: number;
  problems: string[];
}

export interface ImportSummary {
  lines: number;
  outcomes: Record<Outcome, number>;
  refusals: Refusal[];
}

export interface ImportOptions {
  baseUrl: string;
  token: string;
  sourceId: string;
  file: string;
  /** Called after each push with the lines done so far. */
  onProgress?: (done: number, outcomes: Readonly<Record<Outcome, number>>) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** An answer of the API that stops the import (401, 403, 404, 413 …), with the API's own message. */
export class ImportError extends Error {
  override name = 'ImportError';
}

interface Pending {
  line: number;
  record: unknown;
  bytes: number;
}

/** Reads the file line by line, pushes full batches as they fill, and returns the summary. */
export async function importRecords(options: ImportOptions): Promise<ImportSummary> {
  const send = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const summary: ImportSummary = {
    lines: 0,
    outcomes: { created: 0, updated: 0, unchanged: 0, stale: 0, invalid: 0 },
    refusals: [],
  };
  const url = `${options.baseUrl.replace(/\/+$/, '')}/v1/sources/${encodeURIComponent(options.sourceId)}/records`;
  let batch: Pending[] = [];
  let batchBytes = 0;
  let done = 0;

  const refuse = (line: number, problems: string[]) => {
    summary.outcomes.invalid += 1;
    summary.refusals.push({ line, problems });
  };

  const flush = async () => {
    if (batch.length === 0) return;
    const pending = batch;
    batch = [];
    batchBytes = 0;
    const body = JSON.stringify({ records: pending.map((p) => p.record) });
    let response: Response | undefined;
    for (let attempt = 1; ; attempt += 1) {
      try {
        response = await send(url, {
          method: 'PUT',
          headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
          body,
        });
        if ((response.status !== 429 && response.status < 500) || attempt >= MAX_TRIES) break;
      } catch (error) {
        if (attempt >= MAX_TRIES) {
          throw new ImportError(`Rein did not answer at ${url}: ${String(error)}`, { cause: error });
        }
      }
      await sleep(250 * 2 ** (attempt - 1));
    }
    if (!response) throw new ImportError(`Rein did not answer at ${url}.`);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    if (response.status !== 200) {
      const error = ErrorAnswerSchema.safeParse(json);
      const detail = error.success
        ? `${error.data.error.code}: ${error.data.error.message}${
            error.data.error.details === undefined ? '' : ` ${JSON.stringify(error.data.error.details)}`
          }`
        : text.slice(0, 200);
      throw new ImportError(
        `Rein answered ${response.status} to the push of lines ${pending[0]?.line ?? '?'}-${
          pending.at(-1)?.line ?? '?'
        } (${detail}).`,
      );
    }
    const answer = PushAnswerSchema.parse(json);
    for (const result of answer.results) {
      const line = pending[result.index]?.line ?? -1;
      if (result.outcome === 'invalid') {
        refuse(
          line,
          (result.errors ?? []).map((e) => `${e.path || '(record)'}: ${e.message}`),
        );
      } else {
        summary.outcomes[result.outcome] += 1;
      }
    }
    done += pending.length;
    options.onProgress?.(done, summary.outcomes);
  };

  const lines = createInterface({ input: createReadStream(options.file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber += 1;
    const text = raw.trim();
    if (text === '') continue;
    summary.lines += 1;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      refuse(lineNumber, ['(line): not valid JSON']);
      done += 1;
      continue;
    }
    const bytes = Buffer.byteLength(text) + 1;
    if (bytes > MAX_PUSH_BYTES) {
      refuse(lineNumber, [`(line): ${bytes} bytes, more than one push may carry`]);
      done += 1;
      continue;
    }
    if (batch.length >= MAX_RECORDS_PER_PUSH || batchBytes + bytes > MAX_PUSH_BYTES) await flush();
    batch.push({ line: lineNumber, record, bytes });
    batchBytes += bytes;
  }
  await flush();
  return summary;
}

/** The summary as printed: one line of counts, then each refused record with its problems. */
export function formatSummary(sourceId: string, summary: ImportSummary): string {
  const counts = OUTCOMES.map((outcome) => `${outcome} ${summary.outcomes[outcome]}`).join(' · ');
  const lines = [`${sourceId}: ${summary.lines} record(s) — ${counts}`];
  for (const refusal of summary.refusals) {
    lines.push(`  line ${refusal.line}: ${refusal.problems.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
