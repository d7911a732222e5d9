import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Tenant, TenantDirectory } from '../../ports/index.ts';

/**
 * The tenant registry's item in the ledger table, beside the tenants' budgets: one partition
 * `TENANTS`, one item per tenant sorted by id, so a page of tenants is one query.
 */
export function tenantKey(tenantId: string) {
  return { pk: 'TENANTS', sk: `TENANT#${tenantId}` };
}

function toTenant(item: Record<string, unknown>): Tenant {
  return {
    tenantId: String(item['tenantId']),
    name: String(item['name']),
    createdAt: String(item['createdAt']),
    updatedAt: String(item['updatedAt']),
  };
}

export class DynamoTenantDirectory implements TenantDirectory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(tenantId: string): Promise<Tenant | null> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: tenantKey(tenantId), ConsistentRead: true }),
    );
    return Item ? toTenant(Item) : null;
  }

  async put(tenantId: string, name: string, now: Date): Promise<{ tenant: Tenant; created: boolean }> {
    const at = now.toISOString();
    // One write: createdAt only when new; the old item (if any) tells whether it was created.
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: tenantKey(tenantId),
        UpdateExpression:
          'SET tenantId = :id, #name = :name, updatedAt = :at, createdAt = if_not_exists(createdAt, :at)',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':id': tenantId, ':name': name, ':at': at },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const createdAt = typeof Attributes?.['createdAt'] === 'string' ? Attributes['createdAt'] : at;
    return { tenant: { tenantId, name, createdAt, updatedAt: at }, created: Attributes === undefined };
  }

  async list(options: {
    limit: number;
    after?: string;
  }): Promise<{ items: Tenant[]; nextCursor: string | null }> {
    const { Items, LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': 'TENANTS', ':prefix': 'TENANT#' },
        Limit: options.limit,
        ...(options.after === undefined ? {} : { ExclusiveStartKey: tenantKey(options.after) }),
      }),
    );
    const items = (Items ?? []).map(toTenant);
    const last = items.at(-1);
    return { items, nextCursor: LastEvaluatedKey && last ? last.tenantId : null };
  }
}
