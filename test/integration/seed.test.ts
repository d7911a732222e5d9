import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RecordKeys, DynamoRecordStore } from '#shared/adapters/dynamodb/records-source.ts';
import { BROKEN_SOURCE_UPDATED_AT, loadSeed, readSeedFile } from '#infra/local/seed/load.ts';
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
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
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

function deps() {
  return { records: new DynamoRecordStore(doc, TABLE), clock: { now: () => new Date(LOADED_AT) } };
}

describe('loadSeed through the ingestion use case, against DynamoDB Local', () => {
  it('loads the demo data, and loading again leaves every record unchanged', async () => {
    const first = await loadSeed(deps(), seed, { updatedAt: LOADED_AT });
    const second = await loadSeed(deps(), seed, { updatedAt: LOADED_AT });

    // 7 accounts: a CRM, usage and contract record each, plus 12 tickets and 10 invoices.
    expect(first).toEqual({
      accounts: 7,
      records: 43,
      outcomes: { created: 43, updated: 0, unchanged: 0, stale: 0, invalid: 0 },
    });
    expect(second.outcomes).toEqual({ created: 0, updated: 0, unchanged: 43, stale: 0, invalid: 0 });
    let stored = 0;
    for (const tenant of seed.tenants) {
      for (const account of tenant.accounts)
        stored += (await itemsOf(tenant.tenantId, account.accountId)).length;
    }
    expect(stored).toBe(43);
  });

  it('stores the CRM record with its owner and the hidden fields as raw data', async () => {
    const crm = await doc.send(
      new GetCommand({
        TableName: TABLE,
        Key: RecordKeys.record('acme', 'crm', 'acct-initech', 'acct-initech'),
      }),
    );

    expect(crm.Item).toMatchObject({
      pk: 'acme#ACCOUNT#acct-initech',
      sk: 'SRC#crm#acct-initech',
      tenantId: 'acme',
      sourceId: 'crm',
      accountId: 'acct-initech',
      recordId: 'acct-initech',
      updatedAt: LOADED_AT,
      receivedAt: LOADED_AT,
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
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
      'SRC#contract#CTR-INITECH-2026',
      'SRC#crm#acct-initech',
      'SRC#invoices#INV-IN-2026-05',
      'SRC#invoices#INV-IN-2026-08',
      'SRC#invoices#INV-IN-2026-11',
      'SRC#tickets#IN-3290',
      'SRC#tickets#IN-3307',
      'SRC#usage#acct-initech',
    ]);
    expect(initech.find((item) => item['sk'] === 'SRC#tickets#IN-3307')).toMatchObject({
      recordId: 'IN-3307',
      data: { priority: 'urgent', status: 'open' },
    });
    expect(vandelay.map((item) => String(item['sk']).split('#')[1])).toEqual([
      'contract',
      'crm',
      'tickets',
      'usage',
    ]);
  });

  it('loads the broken usage source as a valid record last updated long ago', async () => {
    const usage = await doc.send(
      new GetCommand({
        TableName: TABLE,
        Key: RecordKeys.record('acme', 'usage', 'acct-hooli', 'acct-hooli'),
      }),
    );

    expect(usage.Item).toMatchObject({ accountId: 'acct-hooli', updatedAt: BROKEN_SOURCE_UPDATED_AT });
  });

  it('keeps tenants apart in the partition key and counts records per tenant and source', async () => {
    expect(await itemsOf('globex', 'acct-initech')).toEqual([]);
    expect((await itemsOf('globex', 'acct-cyberdyne')).length).toBeGreaterThan(0);
    const acme = await new DynamoRecordStore(doc, TABLE).stats('acme');
    const globex = await new DynamoRecordStore(doc, TABLE).stats('globex');
    expect(acme.find((s) => s.sourceId === 'crm')?.recordCount).toBe(5);
    expect(globex.find((s) => s.sourceId === 'crm')?.recordCount).toBe(2);
  });
});

describe('DynamoRecordStore', () => {
  const store = () => new DynamoRecordStore(doc, TABLE);
  const at = (day: number) => new Date(`2026-12-${String(day).padStart(2, '0')}T00:00:00.000Z`);
  const record = (activeUsers: number, updatedAt: string) => ({
    accountId: 'acct-store',
    recordId: 'r-1',
    updatedAt,
    data: { activeUsers, licensedSeats: 10 },
  });

  it('keeps the newest updatedAt under concurrent writers and counts the record once', async () => {
    const writes = Array.from({ length: 12 }, (_, i) =>
      store().upsert(
        'race',
        'usage',
        record(i, `2026-11-${String(i + 10).padStart(2, '0')}T00:00:00.000Z`),
        at(1),
      ),
    );
    const outcomes = await Promise.all(writes);

    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    const [stored] = await store().list('race', 'usage', 'acct-store');
    expect(stored).toMatchObject({ updatedAt: '2026-11-21T00:00:00.000Z', data: { activeUsers: 11 } });
    expect(await store().stats('race')).toEqual([
      { sourceId: 'usage', recordCount: 1, lastUpdatedAt: '2026-12-01T00:00:00.000Z' },
    ]);
  });

  it('deletes a record and its count together, once', async () => {
    await store().upsert('del', 'usage', record(1, '2026-11-01T00:00:00.000Z'), at(1));

    expect(await store().delete('del', 'usage', 'acct-store', 'r-1', at(2))).toBe(true);
    expect(await store().delete('del', 'usage', 'acct-store', 'r-1', at(3))).toBe(false);
    expect(await store().list('del', 'usage', 'acct-store')).toEqual([]);
    expect(await store().stats('del')).toEqual([
      { sourceId: 'usage', recordCount: 0, lastUpdatedAt: '2026-12-02T00:00:00.000Z' },
    ]);
  });
});
