import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { formatLikeRepo } from './format.ts';
import { EVALS_DIR, parseSuite, SUITE_FILE } from './load.ts';
import { anonymizeCase } from './anonymize.ts';
import { EvalCaseSchema, EvalCategorySchema, type EvalCase } from './schema.ts';

/**
 * Appends a case to a suite file, keeping its comments and layout, and checks the result against
 * the suite schema before writing (a duplicate id or an invalid case changes nothing).
 */
export async function appendCaseToSuite(file: string, candidate: unknown): Promise<EvalCase> {
  const evalCase = EvalCaseSchema.parse(candidate);
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text);
  doc.addIn(['cases'], doc.createNode(candidate));
  const next = await formatLikeRepo(file, doc.toString({ lineWidth: 0 }));
  parseSuite(next, file);
  await writeFile(file, next);
  return evalCase;
}

/**
 * `npm run promote -- <draftId> [--url http://127.0.0.1:3000] [--token <admin JWT>]
 * [--category <category>] [--keep-customer-data]`: asks the API to turn a reviewed draft into an
 * eval case and appends it to its workflow's suite. By default, personal and customer-identifying
 * values are replaced with stable placeholders first (see `anonymizeCase`) and listed;
 * `--keep-customer-data` keeps them. `--category` files the case under another category than the
 * one derived from the draft. Then record it (`npm run eval -- --suite <workflow> --record`) and
 * update the baseline.
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      token: { type: 'string' },
      category: { type: 'string' },
      'keep-customer-data': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const draftId = positionals[0];
  const token = values.token ?? process.env['REIN_TOKEN'];
  if (!draftId || !token) {
    throw new Error(
      'Usage: npm run promote -- <draftId> --token <admin token> [--url <api base url>] [--category <category>] [--keep-customer-data] (or REIN_TOKEN)',
    );
  }
  const response = await fetch(`${values.url}/v1/drafts/${encodeURIComponent(draftId)}/promote`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as {
    workflowId?: string;
    case?: unknown;
    error?: { message?: string };
  };
  if (!response.ok || typeof body.workflowId !== 'string') {
    throw new Error(`The API answered ${response.status}: ${body.error?.message ?? 'no case'}`);
  }
  const category = values.category === undefined ? undefined : EvalCategorySchema.parse(values.category);
  let candidate: unknown = body.case;
  const lines: string[] = [];
  if (values['keep-customer-data']) {
    lines.push('Kept customer data as it is (--keep-customer-data).');
  } else {
    const { evalCase, replaced } = anonymizeCase(candidate);
    candidate = evalCase;
    lines.push(
      replaced.length === 0
        ? 'Replaced no values: none was personal or customer-identifying.'
        : `Replaced ${replaced.length} personal or customer-identifying values (--keep-customer-data keeps them):`,
      ...replaced.map((r) => `  ${r.what} → ${r.placeholder}`),
    );
  }
  if (category !== undefined && typeof candidate === 'object' && candidate !== null)
    candidate = { ...candidate, category };
  const file = join(EVALS_DIR, body.workflowId, SUITE_FILE);
  const added = await appendCaseToSuite(file, candidate);
  process.stdout.write(
    `${lines.join('\n')}\nAdded case ${added.id} (${added.category}) to ${file}.\nNext: npm run eval -- --suite ${body.workflowId} --record, review reports/evals/${body.workflowId}/report.html, then npm run eval -- --suite ${body.workflowId} --update-baseline\n`,
  );
}

if (process.argv[1]?.endsWith('promote.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
