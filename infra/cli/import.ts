import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadOrCreateDevIssuer } from '../local/dev-issuer.ts';
import { localEnv } from '../local/local-env.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../local/stack.ts';
import { formatSummary, importRecords, type Outcome } from './import-records.ts';

const BAR_WIDTH = 30;

const USAGE = `Usage: npm run import -- --source <sourceId> <file.jsonl> [--url <base URL>] [--token <bearer> | --tenant <id>]

Pushes JSON Lines records through PUT /v1/sources/{sourceId}/records (100 records or 256 KiB per push).
  --url     Rein's base URL (default: REIN_API_URL, else http://127.0.0.1:<PORT>)
  --token   a bearer token of an integration client (default: REIN_TOKEN); in AWS: npm run client-token
  --tenant  local stack only: sign an integration token for this tenant with the dev issuer's key
Exit status: 0 when every record was stored or already current, 2 when some were invalid, 1 on error.`;

/** `npm run import -- --source usage file.jsonl`: progress on stderr, the outcome summary on stdout. */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      source: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const file = positionals[0];
  if (values.help || !values.source || !file || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 1;
  }
  const env = localEnv();
  const baseUrl = values.url ?? env.REIN_API_URL ?? `http://127.0.0.1:${env.PORT}`;
  let token = values.token ?? env.REIN_TOKEN;
  if (!token && values.tenant) {
    const issuer = await loadOrCreateDevIssuer({
      dir: env.REIN_DATA_DIR,
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
    });
    token = await issuer.sign({
      sub: `import-cli-${values.tenant}`,
      tenantId: values.tenant,
      roles: ['integration'],
    });
  }
  if (!token) throw new Error('No token: pass --token (or REIN_TOKEN), or --tenant on the local stack.');

  const total = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '').length;
  const stream = process.stderr;
  const progress = (done: number, outcomes: Readonly<Record<Outcome, number>>) => {
    const line = `${values.source ?? ''} ${done}/${total} · ${outcomes.created} created · ${outcomes.updated} updated · ${outcomes.invalid} invalid`;
    if (stream.isTTY) {
      const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
      stream.write(`\r${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${line}`);
    } else {
      stream.write(`${line}\n`);
    }
  };
  const summary = await importRecords({
    baseUrl,
    token,
    sourceId: values.source,
    file,
    onProgress: progress,
  });
  if (stream.isTTY) stream.write('\n');
  process.stdout.write(formatSummary(values.source, summary));
  return summary.outcomes.invalid > 0 ? 2 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
