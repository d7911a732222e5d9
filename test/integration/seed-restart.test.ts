/**
 * `npm start` loads the seed on every start. A real stop and start on one data directory shows that
 * re-seeding never overwrites a record a machine client pushed since: the seed's records keep the
 * time the seed was first loaded there, and the ingestion's newest-wins keeps the pushed record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ApiClient, startTestStack } from './local-stack.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'rein-seed-restart-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function acmeClient(url: string): Promise<ApiClient> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const answer = await fetch(`${url}/local/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('acme_crm_sync:acme_local_demo_secret_0001').toString('base64')}`,
    },
    body: form.toString(),
  });
  const body = (await answer.json()) as { access_token: string };
  return new ApiClient(url, body.access_token);
}

it('keeps a pushed CRM record over the seed across a restart, and leaves untouched seed records unchanged', async () => {
  let seededAt: string;
  const first = await startTestStack({ dataDir });
  try {
    const seeded = await first.apiDeps.records.list('acme', 'crm', 'acct-northwind');
    seededAt = seeded[0]?.updatedAt ?? '';
    expect(seededAt).not.toBe('');
    const client = await acmeClient(first.url);
    const pushed = await client.request('PUT', '/v1/sources/crm/records', {
      body: {
        records: [
          {
            accountId: 'acct-northwind',
            recordId: 'acct-northwind',
            updatedAt: new Date().toISOString(),
            data: { name: 'Northwind Traders (from the CRM sync)', ownerId: 'csm-alice', arr: 120000 },
          },
        ],
      },
    });
    expect(pushed.status, pushed.text).toBe(200);
    expect(pushed.body['summary']).toMatchObject({ updated: 1 });
  } finally {
    await first.stop();
  }

  const second = await startTestStack({ dataDir });
  try {
    const [northwind] = await second.apiDeps.records.list('acme', 'crm', 'acct-northwind');
    expect(northwind?.data).toMatchObject({ name: 'Northwind Traders (from the CRM sync)', arr: 120000 });
    // Another seed account: re-seeded with the same time, so the same record as before the restart.
    const [contoso] = await second.apiDeps.records.list('acme', 'crm', 'acct-contoso');
    expect(contoso?.updatedAt).toBe(seededAt);
  } finally {
    await second.stop();
  }
});
