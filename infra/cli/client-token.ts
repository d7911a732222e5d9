import { parseArgs } from 'node:util';
import { LOCAL_MACHINE_SCOPE } from '../local/client-credentials.ts';
import { localEnv } from '../local/local-env.ts';
import { DEMO_SEED_PATH } from '../local/seed-path.ts';
import { readSeedFile } from '../local/seed/load.ts';
import { requestClientToken } from './client-token-request.ts';

const USAGE = `Usage: npm run -s client-token -- <clientId> [--token-url <url>] [--scope <scope>]

Prints an access token for a machine client (OAuth 2.0 client credentials) on stdout.
  secret       REIN_CLIENT_SECRET (from the environment, so it stays out of shell history and ps);
               on the local stack a seed client's secret is taken from the seed when unset
  --token-url  the token endpoint (default: REIN_TOKEN_URL, else the local stack's
               http://127.0.0.1:<PORT>/local/oauth2/token); in AWS: the stage's TokenEndpoint output
  --scope      the scope to request (default: the local stack's ${LOCAL_MACHINE_SCOPE}; with
               --token-url, every scope the client may have, i.e. rein-<stage>/ingest)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      'token-url': { type: 'string' },
      scope: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const clientId = positionals[0];
  if (values.help || !clientId || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 1;
  }
  const env = localEnv();
  const remote = values['token-url'] ?? env.REIN_TOKEN_URL;
  const tokenUrl = remote ?? `http://127.0.0.1:${env.PORT}/local/oauth2/token`;
  let secret = env.REIN_CLIENT_SECRET;
  if (secret === undefined && remote === undefined) {
    const seed = await readSeedFile(env.REIN_SEED ?? DEMO_SEED_PATH);
    secret = seed.tenants
      .flatMap((tenant) => tenant.machineClients ?? [])
      .find((client) => client.clientId === clientId)?.clientSecret;
  }
  if (secret === undefined) {
    throw new Error(`No secret for ${clientId}: set REIN_CLIENT_SECRET (the local seed has no such client).`);
  }
  const { accessToken } = await requestClientToken({
    tokenUrl,
    clientId,
    clientSecret: secret,
    scope: values.scope ?? (remote === undefined ? LOCAL_MACHINE_SCOPE : undefined),
  });
  process.stdout.write(`${accessToken}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
