import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadSeed, readSeedFile } from '#infra/local/seed/load.ts';
import type { Seed } from '#infra/local/seed/schema.ts';

const DEMO = fileURLToPath(new URL('../../infra/local/seed/demo.json', import.meta.url));
const TABLE = `records-${randomBytes(4).toString('hex')}`;
const LOADED_AT = '2026-12-01T08:00:00.000Z';

let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let seed: Seed;

async function itemsOf(tenantId: string, accountId: string): Promise<Record<string, unknown>[]> {
  const result = await doc.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${tenantId}#ACCOUNT#${accountId}` },
    }),
  );
  return result.Items ?? [];
}

beforeAll(async () => {
  // The run's shared DynamoDB Local (test/integration/global-setup.ts), with a table of this file's own.
  client = new DynamoDBClient({
    endpoint: inject('reinDynamoEndpoint'),
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(client);
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  seed = await readSeedFile(DEMO);
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: TABLE }));
  client.destroy();
});

describe('loadSeed against DynamoDB Local', () => {
  it('loads the demo data and loading again changes nothing', async () => {
    const first = await loadSeed(doc, TABLE, seed, { updatedAt: LOADED_AT });
    const second = await loadSeed(doc, TABLE, seed, { updatedAt: LOADED_AT });

    // 7 accounts: a CRM, usage and contract record each, plus 12 tickets and 10 invoices.
    expect(first).toEqual({ accounts: 7, items: 43 });
    expect(second).toEqual(first);
    let stored = 0;
    for (const tenant of seed.tenants) {
      for (const account of tenant.accounts)
        stored += (await itemsOf(tenant.tenantId, account.accountId)).length;
    }
    expect(stored).toBe(43);
  });

  it('stores the CRM record with its owner and the hidden fields as raw data', async () => {
    const crm = await doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'acme#ACCOUNT#acct-initech', sk: 'CRM' } }),
    );

    expect(crm.Item).toMatchObject({
      pk: 'acme#ACCOUNT#acct-initech',
      sk: 'CRM',
      tenantId: 'acme',
      accountId: 'acct-initech',
      recordId: 'acct-initech',
      updatedAt: LOADED_AT,
      data: {
        name: 'Initech',
        ownerId: 'csm-bob',
        creditScore: 548,
        discountFloorPct: 5,
        billingAddress: { city: 'Austin', country: 'US' },
      },
    });
  });

  it('stores every ticket and invoice of an account, and nothing for an account without invoices', async () => {
    const initech = await itemsOf('acme', 'acct-initech');
    const vandelay = await itemsOf('acme', 'acct-vandelay');

    expect(initech.map((item) => item['sk'])).toEqual([
      'CONTRACT',
      'CRM',
      'INVOICE#INV-IN-2026-05',
      'INVOICE#INV-IN-2026-08',
      'INVOICE#INV-IN-2026-11',
      'TICKET#IN-3290',
      'TICKET#IN-3307',
      'USAGE',
    ]);
    expect(initech.find((item) => item['sk'] === 'TICKET#IN-3307')).toMatchObject({
      recordId: 'IN-3307',
      data: { priority: 'urgent', status: 'open' },
    });
    expect(initech.find((item) => item['sk'] === 'INVOICE#INV-IN-2026-08')).toMatchObject({
      recordId: 'INV-IN-2026-08',
      data: { status: 'overdue', amount: 18000, currency: 'USD' },
    });
    expect(vandelay.map((item) => item['sk'])).toEqual(['CONTRACT', 'CRM', 'TICKET#VA-0012', 'USAGE']);
  });

  it('writes the broken usage source as a malformed record', async () => {
    const usage = await doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'acme#ACCOUNT#acct-hooli', sk: 'USAGE' } }),
    );

    expect(usage.Item).toMatchObject({ tenantId: 'acme', accountId: 'acct-hooli', recordId: 'acct-hooli' });
    expect(typeof usage.Item?.['data']).toBe('string');
  });

  it('keeps tenants apart in the partition key', async () => {
    expect(await itemsOf('globex', 'acct-initech')).toEqual([]);
    expect((await itemsOf('globex', 'acct-cyberdyne')).length).toBeGreaterThan(0);
  });
});
