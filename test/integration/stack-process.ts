/**
 * The local stack in a process of its own, for tests that kill it for real (`kill -9`): see
 * `startStackProcess` in local-stack.ts. Usage: `node --import tsx stack-process.ts DATA_DIR`.
 * Prints one JSON line `{"url","dynamoEndpoint","tables"}` once the stack serves, then runs until
 * it is killed.
 *
 * Its outbox drainer sweeps once at start and then not for an hour, so the events recorded while
 * it runs stay in the outbox: what a kill between recording and delivery leaves behind.
 */
import { DEMO_SEED_PATH } from '../../infra/local/seed-path.ts';
import { readSeedFile } from '../../infra/local/seed/load.ts';
import { startLocalStack } from '../../infra/local/stack.ts';

const [dataDir] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: stack-process.ts DATA_DIR\n');
  process.exit(2);
}
const stack = await startLocalStack({
  port: 0,
  dataDir,
  seed: await readSeedFile(DEMO_SEED_PATH),
  outboxPollMs: 3_600_000,
});
process.stdout.write(
  `${JSON.stringify({ url: stack.url, dynamoEndpoint: stack.dynamo.endpoint, tables: stack.tables })}\n`,
);
