import { recordContentHash } from '#shared/adapters/dynamodb/records-source.ts';
import type {
  ConnectorConfig,
  ConnectorStore,
  IncomingRecord,
  RecordStore,
  SourceRecord,
  SourceStats,
  UpsertOutcome,
} from '#shared/ports/index.ts';

interface Stored extends IncomingRecord {
  receivedAt: string;
  contentHash: string;
}

/** An in-memory RecordStore with the DynamoDB adapter's outcome rules (newest `updatedAt` wins). */
export class InMemoryRecordStore implements RecordStore {
  readonly items = new Map<string, Stored>();
  readonly statsBySource = new Map<string, SourceStats>();

  private key(tenantId: string, sourceId: string, accountId: string, recordId: string): string {
    return JSON.stringify([tenantId, sourceId, accountId, recordId]);
  }

  private touch(tenantId: string, sourceId: string, delta: number, at: string): void {
    const key = JSON.stringify([tenantId, sourceId]);
    const current = this.statsBySource.get(key) ?? { sourceId, recordCount: 0, lastUpdatedAt: null };
    this.statsBySource.set(key, { sourceId, recordCount: current.recordCount + delta, lastUpdatedAt: at });
  }

  upsert(tenantId: string, sourceId: string, record: IncomingRecord, now: Date): Promise<UpsertOutcome> {
    const key = this.key(tenantId, sourceId, record.accountId, record.recordId);
    const stored = this.items.get(key);
    const contentHash = recordContentHash(record.data);
    if (stored && stored.updatedAt > record.updatedAt) return Promise.resolve('stale');
    if (stored?.updatedAt === record.updatedAt && stored.contentHash === contentHash) {
      return Promise.resolve('unchanged');
    }
    const receivedAt = now.toISOString();
    this.items.set(key, { ...structuredClone(record), receivedAt, contentHash });
    this.touch(tenantId, sourceId, stored ? 0 : 1, receivedAt);
    return Promise.resolve(stored ? 'updated' : 'created');
  }

  delete(
    tenantId: string,
    sourceId: string,
    accountId: string,
    recordId: string,
    now: Date,
  ): Promise<boolean> {
    const deleted = this.items.delete(this.key(tenantId, sourceId, accountId, recordId));
    if (deleted) this.touch(tenantId, sourceId, -1, now.toISOString());
    return Promise.resolve(deleted);
  }

  list(tenantId: string, sourceId: string, accountId: string): Promise<SourceRecord[]> {
    const records: SourceRecord[] = [];
    for (const [key, item] of this.items) {
      const [t, s, a] = JSON.parse(key) as string[];
      if (t === tenantId && s === sourceId && a === accountId) {
        records.push({
          recordId: item.recordId,
          data: structuredClone(item.data),
          updatedAt: item.updatedAt,
          receivedAt: item.receivedAt,
        });
      }
    }
    return Promise.resolve(records);
  }

  stats(tenantId: string): Promise<SourceStats[]> {
    const stats: SourceStats[] = [];
    for (const [key, value] of this.statsBySource) {
      const [t] = JSON.parse(key) as string[];
      if (t === tenantId) stats.push({ ...value });
    }
    return Promise.resolve(stats);
  }
}

/** Tenants' connectors in memory. */
export class InMemoryConnectorStore implements ConnectorStore {
  readonly configs = new Map<string, ConnectorConfig>();

  put(config: ConnectorConfig): Promise<void> {
    this.configs.set(`${config.tenantId}/${config.sourceId}`, structuredClone(config));
    return Promise.resolve();
  }

  get(tenantId: string, sourceId: string): Promise<ConnectorConfig | null> {
    const config = this.configs.get(`${tenantId}/${sourceId}`);
    return Promise.resolve(config ? structuredClone(config) : null);
  }

  list(tenantId: string): Promise<ConnectorConfig[]> {
    return Promise.resolve(
      [...this.configs.values()].filter((c) => c.tenantId === tenantId).map((c) => structuredClone(c)),
    );
  }
}
