import { createHash } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { SourceId } from '../../domain/context.ts';
import { canonicalJson } from '../../domain/edit-distance.ts';
import type {
  AccountDirectory,
  ConnectorConfig,
  ConnectorStore,
  ContextSource,
  IncomingRecord,
  RecordStore,
  SourceRecord,
  SourceStats,
  UpsertOutcome,
} from '../../ports/index.ts';
import { isTransactionConditionFailure } from './client.ts';

/**
 * The records table's keys, in one place for the adapters, the seed loader and the tests.
 *
 * - a record: pk `<tenant>#ACCOUNT#<accountId>`, sk `SRC#<sourceId>#<recordId>`; attributes
 *   tenantId, sourceId, accountId, recordId, data (map), updatedAt (at the source), receivedAt
 *   (when Rein stored it), contentHash (sha256 of the canonical data).
 * - a tenant's stats per source: pk `<tenant>#SOURCES`, sk `<sourceId>`; recordCount,
 *   lastUpdatedAt. Written in the same transaction as the record, so counts stay exact and a
 *   listing of the catalogue reads one partition, whatever the number of records.
 */
export const RecordKeys = {
  accountPartition: (tenantId: string, accountId: string) => `${tenantId}#ACCOUNT#${accountId}`,
  sourcePrefix: (sourceId: string) => `SRC#${sourceId}#`,
  record: (tenantId: string, sourceId: string, accountId: string, recordId: string) => ({
    pk: `${tenantId}#ACCOUNT#${accountId}`,
    sk: `SRC#${sourceId}#${recordId}`,
  }),
  statsPartition: (tenantId: string) => `${tenantId}#SOURCES`,
  stats: (tenantId: string, sourceId: string) => ({ pk: `${tenantId}#SOURCES`, sk: sourceId }),
} as const;

/** Most records one source returns for one account; beyond this the context would not fit anyway. */
const MAX_RECORDS_PER_ACCOUNT = 200;
/** Optimistic-write attempts when concurrent pushes of the same record race. */
const MAX_UPSERT_ATTEMPTS = 5;

/** sha256 of the record's canonical JSON: equal content, equal hash, whatever the key order. */
export function recordContentHash(data: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(data)).digest('hex');
}

function toRecord(item: Record<string, unknown>): SourceRecord {
  const text = (name: string) => (typeof item[name] === 'string' ? item[name] : null);
  return {
    recordId: text('recordId') ?? String(item['sk']),
    data: item['data'],
    updatedAt: text('updatedAt'),
    receivedAt: text('receivedAt'),
  };
}

/** The records tenants pushed, in the records table. */
export class DynamoRecordStore implements RecordStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async upsert(
    tenantId: string,
    sourceId: string,
    record: IncomingRecord,
    now: Date,
  ): Promise<UpsertOutcome> {
    const key = RecordKeys.record(tenantId, sourceId, record.accountId, record.recordId);
    const contentHash = recordContentHash(record.data);
    const receivedAt = now.toISOString();
    const item = {
      ...key,
      tenantId,
      sourceId,
      accountId: record.accountId,
      recordId: record.recordId,
      data: record.data,
      updatedAt: record.updatedAt,
      receivedAt,
      contentHash,
    };
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: key,
          ConsistentRead: true,
          ProjectionExpression: 'updatedAt, contentHash',
        }),
      );
      const stored = current.Item as { updatedAt?: string; contentHash?: string } | undefined;
      if (stored?.updatedAt !== undefined) {
        if (stored.updatedAt > record.updatedAt) return 'stale';
        if (stored.updatedAt === record.updatedAt && stored.contentHash === contentHash) return 'unchanged';
      }
      const created = stored === undefined;
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: item,
                  // Written only over the version read above: a concurrent writer makes this retry.
                  ...(created
                    ? { ConditionExpression: 'attribute_not_exists(pk)' }
                    : {
                        ConditionExpression: 'updatedAt = :previousUpdatedAt AND contentHash = :previousHash',
                        ExpressionAttributeValues: {
                          ':previousUpdatedAt': stored.updatedAt,
                          ':previousHash': stored.contentHash,
                        },
                      }),
                },
              },
              this.statsUpdate(tenantId, sourceId, created ? 1 : 0, receivedAt),
            ],
          }),
        );
        return created ? 'created' : 'updated';
      } catch (error) {
        if (!isTransactionConditionFailure(error) || attempt >= MAX_UPSERT_ATTEMPTS) throw error;
      }
    }
  }

  async delete(
    tenantId: string,
    sourceId: string,
    accountId: string,
    recordId: string,
    now: Date,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: RecordKeys.record(tenantId, sourceId, accountId, recordId),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            this.statsUpdate(tenantId, sourceId, -1, now.toISOString()),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isTransactionConditionFailure(error)) return false;
      throw error;
    }
  }

  async list(tenantId: string, sourceId: string, accountId: string): Promise<SourceRecord[]> {
    const records: SourceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': RecordKeys.accountPartition(tenantId, accountId),
            ':prefix': RecordKeys.sourcePrefix(sourceId),
          },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) records.push(toRecord(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey && records.length < MAX_RECORDS_PER_ACCOUNT);
    return records.slice(0, MAX_RECORDS_PER_ACCOUNT);
  }

  async stats(tenantId: string): Promise<SourceStats[]> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': RecordKeys.statsPartition(tenantId) },
      }),
    );
    return (result.Items ?? []).map((item) => ({
      sourceId: String(item['sk']),
      recordCount: typeof item['recordCount'] === 'number' ? item['recordCount'] : 0,
      lastUpdatedAt: typeof item['lastUpdatedAt'] === 'string' ? item['lastUpdatedAt'] : null,
    }));
  }

  private statsUpdate(tenantId: string, sourceId: string, countDelta: number, at: string) {
    return {
      Update: {
        TableName: this.table,
        Key: RecordKeys.stats(tenantId, sourceId),
        UpdateExpression: 'ADD recordCount :delta SET lastUpdatedAt = :at, tenantId = :tenant',
        ExpressionAttributeValues: { ':delta': countDelta, ':at': at, ':tenant': tenantId },
      },
    };
  }
}

/** A catalogue source read from the records tenants pushed. */
export class StoredRecordsSource implements ContextSource {
  constructor(
    private readonly store: Pick<RecordStore, 'list'>,
    readonly source: SourceId,
  ) {}

  fetch(tenantId: string, accountId: string): Promise<SourceRecord[]> {
    return this.store.list(tenantId, this.source, accountId);
  }
}

/** Accounts are defined by their CRM record: an account exists once its CRM record does. */
export class DynamoAccountDirectory implements AccountDirectory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getAccount(
    tenantId: string,
    accountId: string,
  ): Promise<{ accountId: string; ownerId: string; name: string | null } | null> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': RecordKeys.accountPartition(tenantId, accountId),
          ':prefix': RecordKeys.sourcePrefix('crm'),
        },
        Limit: 1,
      }),
    );
    const item = result.Items?.[0];
    if (!item) return null;
    const data: unknown = item['data'];
    const fields = data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
    const ownerId = fields['ownerId'];
    const name = fields['name'];
    return {
      accountId,
      ownerId: typeof ownerId === 'string' ? ownerId : '',
      name: typeof name === 'string' ? name : null,
    };
  }
}

/** One stored-records source per catalogue source. */
export function createRecordSources(
  store: Pick<RecordStore, 'list'>,
  sourceIds: Iterable<SourceId>,
): Map<SourceId, ContextSource> {
  return new Map([...sourceIds].map((id) => [id, new StoredRecordsSource(store, id)]));
}

/** Tenants' connectors in the records table: pk `<tenant>#CONNECTORS`, sk `<sourceId>`; never a secret. */
export class DynamoConnectorStore implements ConnectorStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(config: ConnectorConfig): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `${config.tenantId}#CONNECTORS`, sk: config.sourceId, ...config },
      }),
    );
  }

  async get(tenantId: string, sourceId: string): Promise<ConnectorConfig | null> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `${tenantId}#CONNECTORS`, sk: sourceId } }),
    );
    if (!result.Item) return null;
    const { pk: _pk, sk: _sk, ...config } = result.Item;
    return config as ConnectorConfig;
  }

  async list(tenantId: string): Promise<ConnectorConfig[]> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantId}#CONNECTORS` },
      }),
    );
    return (result.Items ?? []).map((item) => {
      const { pk: _pk, sk: _sk, ...config } = item;
      return config as ConnectorConfig;
    });
  }
}
