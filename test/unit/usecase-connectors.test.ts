import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/domain/errors.ts';
import type { Principal } from '#shared/domain/principal.ts';
import { STRICT_OUTBOUND_POLICY } from '#shared/outbound/address-policy.ts';
import { getConnector, putConnector, testConnector } from '#shared/usecases/connectors.ts';
import { makeDeps } from '../fakes/deps.ts';

const admin: Principal = { sub: 'admin-ada', tenantId: 'acme', roles: ['admin'] };
const LOCAL = { allowHttp: true, allowLoopback: true } as const;
const TOKEN = 'tok-123';

let server: Server;
let base: string;

beforeAll(async () => {
  // A loopback stand-in for a tenant's API: the right answer, a wrong shape, and an auth check.
  server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.startsWith('/bad/')) res.end(JSON.stringify({ rows: [] }));
    else if (req.url?.startsWith('/other/'))
      // A record whose data names another account than the one asked for.
      res.end(
        JSON.stringify({
          records: [
            {
              recordId: 'acct-two',
              updatedAt: '2026-09-30T00:00:00Z',
              data: { accountId: 'acct-two', activeUsers: 5, licensedSeats: 10 },
            },
          ],
        }),
      );
    else
      res.end(
        JSON.stringify({
          records: [
            {
              recordId: 'acct-one',
              updatedAt: '2026-09-30T00:00:00Z',
              data: { activeUsers: 5, licensedSeats: 10, secretNote: 'x' },
            },
          ],
        }),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
});

function settings(url: string, secret = TOKEN) {
  return { kind: 'http', url, auth: { type: 'bearer', secret } };
}

describe('connectors', () => {
  it('stores the secret only through the secrets port and never shows it', async () => {
    const deps = makeDeps({ settings: { outbound: LOCAL } });
    const shown = await putConnector(deps, admin, 'usage', settings(`${base}/ok/{accountId}`));

    expect(shown).toEqual({
      sourceId: 'usage',
      kind: 'http',
      url: `${base}/ok/{accountId}`,
      auth: { type: 'bearer', secretSetAt: '2026-10-01T09:00:00.000Z' },
      timeoutMs: 3000,
      maxBytes: 262144,
      updatedAt: '2026-10-01T09:00:00.000Z',
    });
    expect(await deps.connectorSecrets.get('acme', 'usage')).toBe(TOKEN);
    expect(JSON.stringify([...deps.connectors.configs.values()])).not.toContain(TOKEN);
    expect(JSON.stringify(await getConnector(deps, admin, 'usage'))).not.toContain(TOKEN);
  });

  it('refuses targets outside the outbound policy and secrets that cannot go in a header', async () => {
    const deps = makeDeps({ settings: { outbound: STRICT_OUTBOUND_POLICY } });
    for (const url of ['http://example.com/{accountId}', 'https://169.254.169.254/x', 'https://[::1]/x']) {
      await expect(putConnector(deps, admin, 'usage', settings(url))).rejects.toThrow(ValidationError);
    }
    await expect(
      putConnector(deps, admin, 'usage', settings('https://example.com/x', 'tök en')),
    ).rejects.toThrow(ValidationError);
    expect(deps.connectors.configs.size).toBe(0);
  });

  it('tests a connector: fields on success, the gap and its reason otherwise, never values', async () => {
    const deps = makeDeps({ settings: { outbound: LOCAL } });
    await putConnector(deps, admin, 'usage', settings(`${base}/ok/{accountId}`));
    const ok = await testConnector(deps, admin, 'usage', { accountId: 'acct-one' });
    await putConnector(deps, admin, 'usage', settings(`${base}/bad/{accountId}`));
    const bad = await testConnector(deps, admin, 'usage', { accountId: 'acct-one' });
    await putConnector(deps, admin, 'usage', settings(`${base}/ok/{accountId}`, 'wrong'));
    const refused = await testConnector(deps, admin, 'usage', { accountId: 'acct-one' });
    await putConnector(deps, admin, 'usage', settings(`${base}/other/{accountId}`));
    const otherAccount = await testConnector(deps, admin, 'usage', { accountId: 'acct-one' });

    expect(ok).toMatchObject({
      ok: true,
      records: 1,
      fields: ['activeUsers', 'licensedSeats', 'secretNote'],
      gap: null,
    });
    expect(bad).toMatchObject({ ok: false, gap: { reason: 'invalid_response' } });
    expect(otherAccount).toMatchObject({
      ok: false,
      gap: { reason: 'invalid_response', detail: 'record acct-two names another account at data.accountId' },
    });
    expect(refused).toMatchObject({
      ok: false,
      gap: { reason: 'http_error', detail: 'the connector answered HTTP 401' },
    });
  });
});
