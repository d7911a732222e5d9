/**
 * Runs the local model server on its own: `npx tsx infra/local/model-server/main.ts [port]`.
 * The port comes from the first argument, else `MODEL_SERVER_PORT`, else 4010 (0 picks a free one);
 * the host from `MODEL_SERVER_HOST` (default 127.0.0.1). Prints the base URL for `OPENAI_BASE_URL`.
 */
import { startModelServer } from './server.ts';

const DEFAULT_PORT = 4010;

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`MODEL_SERVER_PORT must be an integer between 0 and 65535, got "${raw}".`);
  }
  return port;
}

const port = parsePort(process.argv[2] ?? process.env['MODEL_SERVER_PORT']);
const host = process.env['MODEL_SERVER_HOST'] ?? '127.0.0.1';
const server = await startModelServer({ port, host });
process.stdout.write(`Local model server listening on ${server.url}\n`);
process.stdout.write(`  export OPENAI_BASE_URL=${server.url} OPENAI_API_KEY=local\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
