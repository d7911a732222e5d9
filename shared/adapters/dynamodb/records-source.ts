import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SourceId } from '../../domain/context.ts';
import type { AccountDirectory, ContextSource, SourceRecord } from '../../ports/index.ts';

/**
 * The approved sources, read from the records table (`<tenant>#ACCOUNT#<accountId>` partitions,
 * sort keys `CRM`, `USAGE`, `CONTRACT`, `TICKET#…`, `INVOICE#…`). Each source is its own query,
 * so one failing source does not hide the others.
 */
const SORT_KEYS: Record<SourceId, { exact?: string; prefix?: string }> = {
  crm: { exact: 'CRM' },
  usage: { exact: 'USAGE' },
  contract: { exact: 'CONTRACT' },
  tickets: { prefix: 'TICKET#' },
  invoices: { prefix: 'INVOICE#' },
};

export class DynamoRecordsSource implements ContextSource {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    readonly source: SourceId,
  ) {}

  async fetch(tenantId: string, accountId: string): Promise<SourceRecord[]> {
    const pk = `${tenantId}#ACCOUNT#${accountId}`;
    const keys = SORT_KEYS[this.source];
    if (keys.exact !== undefined) {
      const result = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk, sk: keys.exact } }),
      );
      return result.Item ? [toRecord(result.Item)] : [];
    }
    const records: SourceRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.prefix },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) records.push(toRecord(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey && records.length < 200);
    return records;
  }
}

function toRecord(item: Record<string, unknown>): SourceRecord {
  const recordId = item['recordId'];
  return { recordId: typeof recordId === 'string' ? recordId : String(item['sk']), data: item['data'] };
}

export class DynamoAccountDirectory implements AccountDirectory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getAccount(
    tenantId: string,
    accountId: string,
  ): Promise<{ accountId: string; ownerId: string } | null> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `${tenantId}#ACCOUNT#${accountId}`, sk: 'CRM' } }),
    );
    const data: unknown = result.Item?.['data'];
    if (data === null || typeof data !== 'object') return result.Item ? { accountId, ownerId: '' } : null;
    const ownerId = (data as Record<string, unknown>)['ownerId'];
    return { accountId, ownerId: typeof ownerId === 'string' ? ownerId : '' };
  }
}

export function createRecordSources(
  doc: DynamoDBDocumentClient,
  table: string,
): Map<SourceId, ContextSource> {
  const ids: SourceId[] = ['crm', 'usage', 'tickets', 'invoices', 'contract'];
  return new Map(ids.map((id) => [id, new DynamoRecordsSource(doc, table, id)]));
}
