import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BROKEN_SOURCE_UPDATED_AT,
  SeedFileError,
  loadSeed,
  readSeedFile,
  seedBatches,
  type SeedBatch,
} from '#infra/local/seed/load.ts';
import { FakeClock } from '../fakes/clock.ts';
import { InMemoryRecordStore } from '../fakes/record-store.ts';
import { seedJsonSchema, type Seed } from '#infra/local/seed/schema.ts';

const SEED_DIR = fileURLToPath(new URL('../../infra/local/seed/', import.meta.url));
const DEMO = join(SEED_DIR, 'demo.json');
const LOADED_AT = '2026-12-01T08:00:00.000Z';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rein-seed-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeJson(name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

async function readError(path: string): Promise<SeedFileError> {
  const error: unknown = await readSeedFile(path).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(SeedFileError);
  return error as SeedFileError;
}

function minimalSeed(): Seed {
  return {
    tenants: [
      {
        tenantId: 'acme',
        name: 'Acme',
        monthlyBudgetUsd: 10,
        users: [{ sub: 'csm-alice', name: 'Alice', roles: ['csm'] }],
        accounts: [
          {
            accountId: 'acct-one',
            crm: {
              name: 'One',
              ownerId: 'csm-alice',
              ownerName: 'Alice',
              segment: 'smb',
              arr: 1000,
              industry: 'Retail',
              region: 'EMEA',
            },
            tickets: [],
            invoices: [],
          },
        ],
      },
    ],
  };
}

describe('demo seed', () => {
  it('is valid and has the documented tenants, users and owners', async () => {
    const seed = await readSeedFile(DEMO);

    const summary = seed.tenants.map((tenant) => ({
      tenantId: tenant.tenantId,
      users: tenant.users.map((user) => `${user.sub}:${user.roles.join('+')}`),
      accounts: tenant.accounts.map((account) => `${account.accountId}:${account.crm.ownerId}`),
    }));
    expect(summary).toEqual([
      {
        tenantId: 'acme',
        users: ['csm-alice:csm', 'csm-bob:csm', 'mgr-carol:manager', 'admin-dave:admin'],
        accounts: [
          'acct-northwind:csm-alice',
          'acct-contoso:csm-alice',
          'acct-initech:csm-bob',
          'acct-vandelay:csm-bob',
          'acct-hooli:csm-alice',
        ],
      },
      {
        tenantId: 'globex',
        users: ['csm-gina:csm', 'mgr-hank:manager'],
        accounts: ['acct-cyberdyne:csm-gina', 'acct-massive-dynamic:csm-gina'],
      },
      { tenantId: 'rein-platform', users: ['fin-erin:finance', 'ops-frank:operator'], accounts: [] },
    ]);
  });

  it('covers the scenarios the local stack demonstrates', async () => {
    const seed = await readSeedFile(DEMO);
    const accounts = seed.tenants.flatMap((tenant) => tenant.accounts);
    const byId = new Map(accounts.map((account) => [account.accountId, account]));
    const daysFromDemoDate = (date: string) => (Date.parse(date) - Date.parse('2026-12-01')) / 86_400_000;

    const critical = byId.get('acct-initech');
    expect(critical?.invoices.filter((invoice) => invoice.status === 'overdue')).toHaveLength(2);
    expect(critical?.tickets.some((ticket) => ticket.priority === 'urgent' && ticket.status === 'open')).toBe(
      true,
    );
    expect(daysFromDemoDate(critical?.contract?.endDate ?? '')).toBeLessThanOrEqual(45);
    expect(byId.get('acct-contoso')?.usage?.weeklyActiveTrend).toBeLessThan(0);
    expect(byId.get('acct-vandelay')?.invoices).toEqual([]);
    expect(byId.get('acct-hooli')?.brokenSources).toEqual(['usage']);
    const injected = accounts
      .flatMap((account) => account.tickets)
      .filter((ticket) => (ticket.body ?? '').includes('Ignore previous instructions'));
    expect(injected.map((ticket) => ticket.ticketId)).toEqual(['CT-2245']);
    for (const account of accounts) {
      expect(Object.keys(account.crm)).toEqual(
        expect.arrayContaining(['internalNotes', 'creditScore', 'contactPhone', 'discountFloorPct']),
      );
    }
  });
});

describe('readSeedFile', () => {
  it('lists every schema violation with its path and names the file', async () => {
    const seed = minimalSeed() as unknown as { tenants: Record<string, unknown>[] };
    const bad = structuredClone(seed);
    const tenant = bad.tenants[0] as { accounts: Record<string, unknown>[]; users: unknown[] };
    tenant.users.push({ sub: 'csm-alice', name: 'Alice again', roles: ['superuser'] });
    const account = tenant.accounts[0] as { crm: Record<string, unknown>; tickets: unknown[] };
    account.crm['arr'] = 'a lot';
    account.crm['ownerId'] = 'csm-alcie';
    account.tickets.push({
      ticketId: 'T-1',
      subject: 'Hi',
      priority: 'low',
      openedAt: 'last Tuesday',
      body: 'x',
    });
    const file = await writeJson('bad.json', bad);

    const error = await readError(file);

    expect(error.file).toBe(file);
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'tenants[0].users[1].roles[0]',
      'tenants[0].accounts[0].crm.arr',
      'tenants[0].accounts[0].tickets[0].status',
      'tenants[0].accounts[0].tickets[0].openedAt',
    ]);
    expect(error.message).toContain(`Seed file ${file} does not match the seed schema (4 problems):`);
    expect(error.message).toContain(
      '  - tenants[0].accounts[0].crm.arr: Invalid input: expected number, received string',
    );
    expect(error.message).toContain(
      '  - tenants[0].accounts[0].tickets[0].status: Invalid input: expected string, received undefined',
    );
  });

  it('reports duplicate ids and owners who are not users of the tenant', async () => {
    const seed = minimalSeed();
    const tenant = seed.tenants[0];
    const account = tenant?.accounts[0];
    if (tenant === undefined || account === undefined) throw new Error('fixture');
    account.crm.ownerId = 'csm-zed';
    const invoice = {
      invoiceId: 'INV-1',
      amount: 1,
      currency: 'USD',
      status: 'open',
      dueDate: '2026-12-01',
    } as const;
    account.invoices.push(invoice, invoice);
    tenant.accounts.push({ ...account, invoices: [] });
    const file = await writeJson('duplicates.json', seed);

    const error = await readError(file);

    expect(error.issues).toEqual([
      { path: 'tenants[0].accounts[1].accountId', message: 'duplicate accountId "acct-one"' },
      {
        path: 'tenants[0].accounts[0].crm.ownerId',
        message: 'owner "csm-zed" is not a user of tenant "acme"',
      },
      { path: 'tenants[0].accounts[0].invoices[1].invoiceId', message: 'duplicate invoiceId "INV-1"' },
      {
        path: 'tenants[0].accounts[1].crm.ownerId',
        message: 'owner "csm-zed" is not a user of tenant "acme"',
      },
    ]);
  });

  it('says when the file is not JSON', async () => {
    const file = await writeJson('broken.json', '{ "tenants": [');

    const error = await readError(file);

    expect(error.message).toMatch(new RegExp(`^Seed file ${file} is not valid JSON: `));
  });

  it('says when the file does not exist', async () => {
    const file = join(dir, 'missing.json');

    const error = await readError(file);

    expect(error.message).toBe(`Seed file ${file} does not exist.`);
  });
});

describe('seed.schema.json', () => {
  it('is the schema generated from SeedSchema (run infra/local/seed/write-schema.ts after a change)', async () => {
    const committed: unknown = JSON.parse(await readFile(join(SEED_DIR, 'seed.schema.json'), 'utf8'));

    expect(committed).toEqual(seedJsonSchema());
  });
});

describe('seedBatches', () => {
  it('groups records by tenant and source, one record per source record, as a push would carry them', () => {
    const seed = minimalSeed();
    const account = seed.tenants[0]?.accounts[0];
    if (account === undefined) throw new Error('fixture');
    account.crm['internalNotes'] = 'secret';
    account.usage = {
      period: '2026-11',
      activeUsers: 5,
      licensedSeats: 10,
      weeklyActiveTrend: -3,
      featureAdoption: { dashboards: 50 },
      lastLoginAt: '2026-11-30T00:00:00Z',
    };
    account.tickets.push({
      ticketId: 'T-1',
      subject: 'Help',
      status: 'open',
      priority: 'high',
      openedAt: '2026-11-01T00:00:00Z',
      body: 'Please help',
    });
    account.invoices.push({
      invoiceId: 'INV-1',
      amount: 250,
      currency: 'USD',
      status: 'paid',
      dueDate: '2026-11-01',
    });

    const batches = seedBatches(seed, LOADED_AT);

    const common = { accountId: 'acct-one', updatedAt: LOADED_AT };
    expect(batches).toEqual<SeedBatch[]>([
      {
        tenantId: 'acme',
        sourceId: 'crm',
        records: [{ ...common, recordId: 'acct-one', data: { ...account.crm } }],
      },
      {
        tenantId: 'acme',
        sourceId: 'usage',
        records: [{ ...common, recordId: 'acct-one', data: { ...account.usage } }],
      },
      {
        tenantId: 'acme',
        sourceId: 'tickets',
        records: [{ ...common, recordId: 'T-1', data: { ...account.tickets[0] } }],
      },
      {
        tenantId: 'acme',
        sourceId: 'invoices',
        records: [{ ...common, recordId: 'INV-1', data: { ...account.invoices[0] } }],
      },
    ]);
  });

  it('dates broken sources long before any maximum age, so they load valid but stale', () => {
    const seed = minimalSeed();
    const account = seed.tenants[0]?.accounts[0];
    if (account === undefined) throw new Error('fixture');
    account.usage = {
      period: '2026-11',
      activeUsers: 5,
      licensedSeats: 10,
      weeklyActiveTrend: -3,
      featureAdoption: {},
      lastLoginAt: '2026-11-30T00:00:00Z',
    };
    account.brokenSources = ['usage'];

    const batches = seedBatches(seed, LOADED_AT);

    expect(batches.map((batch) => [batch.sourceId, batch.records[0]?.updatedAt])).toEqual([
      ['crm', LOADED_AT],
      ['usage', BROKEN_SOURCE_UPDATED_AT],
    ]);
  });
});

describe('loadSeed', () => {
  it('loads every record through the ingestion use case, and a second load changes nothing but dates', async () => {
    const seed = await readSeedFile(DEMO);
    const records = new InMemoryRecordStore();
    const deps = { records, clock: new FakeClock(new Date(LOADED_AT)) };
    const total = seedBatches(seed, LOADED_AT).reduce((sum, batch) => sum + batch.records.length, 0);

    const first = await loadSeed(deps, seed, { updatedAt: LOADED_AT });
    const again = await loadSeed(deps, seed, { updatedAt: LOADED_AT });

    expect(first).toEqual({
      accounts: 7,
      records: total,
      outcomes: { created: total, updated: 0, unchanged: 0, stale: 0, invalid: 0 },
    });
    expect(again.outcomes).toEqual({ created: 0, updated: 0, unchanged: total, stale: 0, invalid: 0 });
    expect(records.items.size).toBe(total);
  });

  it('refuses with a SeedLoadError naming each record the source schema rejects', async () => {
    const seed = minimalSeed();
    const account = seed.tenants[0]?.accounts[0];
    if (account === undefined) throw new Error('fixture');
    // Bypasses the seed schema (as a hand-built Seed could): the ingestion path still checks it.
    (account.crm as Record<string, unknown>)['arr'] = 'a lot';
    const deps = { records: new InMemoryRecordStore(), clock: new FakeClock(new Date(LOADED_AT)) };

    await expect(loadSeed(deps, seed)).rejects.toThrow(/acme\/crm\/acct-one\/acct-one: data\.arr/);
    expect(deps.records.items.size).toBe(0);
  });
});
