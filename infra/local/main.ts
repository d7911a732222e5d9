import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEMO_SEED_PATH } from './seed-path.ts';
import { readSeedFile } from './seed/load.ts';
import { startLocalStack } from './stack.ts';
import { localEnv } from './local-env.ts';
import { startActionReceiver } from './demo-crm/action-receiver.ts';
import { connectDemoActionTargets } from './demo-crm/connect-actions.ts';

/**
 * `npm start`: the local stack with demo data. Ctrl-C stops it; data stays in `.rein/` for the next start.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  const env = localEnv();
  const seedPath = env.REIN_SEED ?? DEMO_SEED_PATH;
  const seed = await readSeedFile(seedPath);
  // `npm start` builds the console first (npm run web:build); without a build the stack serves the API only.
  const consoleDir = fileURLToPath(new URL('../../web/dist', import.meta.url));
  const withConsole = existsSync(join(consoleDir, 'index.html'));
  const stack = await startLocalStack({
    port: Number(values.port ?? env.PORT),
    dataDir: env.REIN_DATA_DIR,
    seed,
    openAiApiKey: env.OPENAI_API_KEY,
    openAiBaseUrl: env.OPENAI_BASE_URL,
    ...(env.REIN_REVIEW_TIMEOUT_SECONDS === undefined
      ? {}
      : { reviewTimeoutSeconds: env.REIN_REVIEW_TIMEOUT_SECONDS }),
    logLevel: 'WARN',
    ...(withConsole ? { consoleDir } : {}),
    logRequests: true,
  });
  const receiver = await startActionReceiver({ port: env.REIN_ACTION_RECEIVER_PORT });
  await connectDemoActionTargets(stack.apiDeps, receiver, seed.tenants);
  const lines = [
    `Rein local stack is running at ${stack.url}`,
    withConsole
      ? `  review console: ${stack.url}/ (sign in as a demo user)`
      : '  review console: not built (run `npm run web:build`)',
    `  demo CRM action receiver: ${receiver.actionsUrl} (GET lists what it received)`,
    `  model: ${stack.modelServer ? `local model server ${stack.modelServer.url}` : `OpenAI (${env.OPENAI_BASE_URL ?? 'api.openai.com'})`}`,
    `  data: ${env.REIN_DATA_DIR}  seed: ${seedPath}`,
    '',
    'Demo users and ready tokens (valid 12 h; more with `npm run token -- <sub>`):',
  ];
  for (const tenant of seed.tenants) {
    for (const user of tenant.users) {
      const token = await stack.token({ sub: user.sub, tenantId: tenant.tenantId, roles: user.roles });
      lines.push(`  ${tenant.tenantId}/${user.sub} [${user.roles.join(',')}]`, `    export TOKEN=${token}`);
    }
  }
  const machineClients = seed.tenants.flatMap((tenant) =>
    (tenant.machineClients ?? []).map((client) => `${client.clientId} (${tenant.tenantId})`),
  );
  if (machineClients.length > 0) {
    lines.push(
      '',
      `Machine clients (client credentials at ${stack.url}/local/oauth2/token): ${machineClients.join(', ')}`,
      '  export ETL=$(npm run -s client-token -- <clientId>)',
    );
  }
  lines.push('', `Try: curl -s ${stack.url}/v1/health`);
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('Stopping…\n');
    void receiver
      .close()
      .then(() => stack.stop())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Rein local stack failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
