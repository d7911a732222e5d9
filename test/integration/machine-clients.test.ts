/**
 * Machine clients the OAuth way on the local stack: a tenant's client gets an access token from the
 * client-credentials token endpoint (`POST /local/oauth2/token`, the stand-in for Cognito's
 * `/oauth2/token`), pushes records with it, and can reach nothing else: not another route, not
 * another tenant. The token carries no tenant claim; the API binds the client id to its tenant.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#shared/http/routes.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { ApiClient, clientsFor, startTestStack, type UserName } from './local-stack.ts';

const TSX = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
const ACME = { id: 'acme_crm_sync', secret: 'acme_local_demo_secret_0001' };
const GLOBEX = { id: 'globex_usage_sync', secret: 'globex_local_demo_secret_0001' };

let stack: LocalStack;
let users: Record<UserName, ApiClient>;

beforeAll(async () => {
  stack = await startTestStack();
  users = await clientsFor(stack);
});

afterAll(async () => {
  await stack.stop();
});

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function tokenRequest(
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${stack.url}/local/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

async function clientToken(client: { id: string; secret: string }): Promise<string> {
  const answer = await tokenRequest(
    { grant_type: 'client_credentials', scope: 'rein-local/ingest' },
    { authorization: basic(client.id, client.secret) },
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const token = answer.body['access_token'];
  if (typeof token !== 'string') throw new Error('no access_token');
  return token;
}

function usage(accountId: string, activeUsers: number) {
  return {
    accountId,
    recordId: accountId,
    updatedAt: new Date().toISOString(),
    data: { period: '2026-11', activeUsers, licensedSeats: 50, weeklyActiveTrend: 1 },
  };
}

describe('client-credentials token endpoint', () => {
  it('issues a Cognito-like access token: client_id, scope, token_use access, no aud and no tenant claim', async () => {
    const answer = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic(ACME.id, ACME.secret) },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const claims = decodeJwt(String(answer.body['access_token']));
    expect(claims).toMatchObject({
      sub: ACME.id,
      client_id: ACME.id,
      token_use: 'access',
      scope: 'rein-local/ingest',
    });
    expect(Object.keys(claims)).not.toContain('aud');
    expect(Object.keys(claims)).not.toContain('tenant_id');
    expect(Object.keys(claims)).not.toContain('roles');
  });

  it('takes the credentials as form fields too (client_secret_post)', async () => {
    const answer = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: GLOBEX.id,
      client_secret: GLOBEX.secret,
    });
    expect(answer.status).toBe(200);
    expect(decodeJwt(String(answer.body['access_token']))['client_id']).toBe(GLOBEX.id);
  });

  it('refuses a wrong secret, an unknown client, another grant, another scope and a JSON body', async () => {
    const answers = await Promise.all([
      tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic(ACME.id, GLOBEX.secret) }),
      tokenRequest({ grant_type: 'client_credentials' }, { authorization: basic('nobody', ACME.secret) }),
      tokenRequest({ grant_type: 'client_credentials' }),
      tokenRequest({ grant_type: 'password' }, { authorization: basic(ACME.id, ACME.secret) }),
      tokenRequest(
        { grant_type: 'client_credentials', scope: 'rein-local/admin' },
        { authorization: basic(ACME.id, ACME.secret) },
      ),
      tokenRequest(
        { grant_type: 'client_credentials' },
        { authorization: basic(ACME.id, ACME.secret), 'content-type': 'application/json' },
      ),
    ]);
    expect(answers.map((answer) => [answer.status, answer.body['error']])).toEqual([
      [401, 'invalid_client'],
      [401, 'invalid_client'],
      [401, 'invalid_client'],
      [400, 'unsupported_grant_type'],
      [400, 'invalid_scope'],
      [400, 'invalid_request'],
    ]);
    // The secret is never echoed, whatever went wrong.
    for (const answer of answers) expect(JSON.stringify(answer.body)).not.toContain(ACME.secret);
  });
});

describe('a machine client with its access token', () => {
  it("pushes records into its own tenant only: the records are acme's and globex does not see them", async () => {
    const acme = new ApiClient(stack.url, await clientToken(ACME));
    const pushed = await acme.request('PUT', '/v1/sources/usage/records', {
      body: { records: [usage('acct-m2m-push', 31)] },
    });
    expect(pushed.status, pushed.text).toBe(200);
    expect(pushed.body['summary']).toMatchObject({ created: 1, invalid: 0 });

    const stored = await stack.apiDeps.records.list('acme', 'usage', 'acct-m2m-push');
    expect(stored.map((record) => record.data)).toEqual([expect.objectContaining({ activeUsers: 31 })]);
    expect(await stack.apiDeps.records.list('globex', 'usage', 'acct-m2m-push')).toEqual([]);

    const globex = new ApiClient(stack.url, await clientToken(GLOBEX));
    // Deleting acme's record with globex's client: 404, as for a record that does not exist.
    const deleted = await globex.request('DELETE', '/v1/sources/usage/records/acct-m2m-push/acct-m2m-push');
    expect(deleted.status, deleted.text).toBe(404);
    expect(await stack.apiDeps.records.list('acme', 'usage', 'acct-m2m-push')).toHaveLength(1);
  });

  it('is answered 403 on every route outside the ingestion routes', async () => {
    const acme = new ApiClient(stack.url, await clientToken(ACME));
    const ingestion = new Set(['listSources', 'pushRecords', 'deleteRecord']);
    const others = ROUTES.filter((route) => route.auth && !ingestion.has(route.operation));
    expect(others.length).toBeGreaterThan(10);
    for (const route of others) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x-1');
      const result = await acme.request(route.method, path, route.method === 'GET' ? {} : { body: {} });
      expect(result.status, `${route.method} ${route.path}: ${result.text}`).toBe(403);
    }
  });

  it("sees its own tenant's catalogue counts, the same as the tenant's admin and not another tenant's", async () => {
    const usageCount = async (client: ApiClient) => {
      const sources = await client.get('/v1/sources');
      expect(sources.status, sources.text).toBe(200);
      return (sources.body['items'] as { sourceId: string; recordCount: number }[]).find(
        (item) => item.sourceId === 'usage',
      )?.recordCount;
    };
    const globex = new ApiClient(stack.url, await clientToken(GLOBEX));
    await globex.request('PUT', '/v1/sources/usage/records', {
      body: { records: [usage('acct-m2m-a', 1), usage('acct-m2m-b', 2), usage('acct-m2m-c', 3)] },
    });
    const [machine, admin, other] = await Promise.all([
      usageCount(globex),
      usageCount(
        new ApiClient(stack.url, await stack.token({ sub: 'admin-x', tenantId: 'globex', roles: ['admin'] })),
      ),
      usageCount(users.dave),
    ]);
    expect(machine).toBe(admin);
    expect(machine).not.toBe(other);
  });

  it('is refused (401) without the ingest scope, and for a client id the authorizer does not know', async () => {
    const noScope = new ApiClient(
      stack.url,
      await stack.issuer.signAccessToken({ clientId: ACME.id, scope: 'openid' }),
    );
    const unbound = new ApiClient(
      stack.url,
      await stack.issuer.signAccessToken({ clientId: 'unbound_client', scope: 'rein-local/ingest' }),
    );
    const answers = await Promise.all([noScope.get('/v1/sources'), unbound.get('/v1/sources')]);
    expect(answers.map((answer) => answer.status)).toEqual([401, 401]);
  });
});

describe('npm run client-token', () => {
  const run = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [TSX, 'infra/cli/client-token.ts', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });

  it('prints a token for a seed client of the local stack (secret from the seed) that pushes records', async () => {
    const { stdout } = await run([ACME.id], { PORT: new URL(stack.url).port });
    const client = new ApiClient(stack.url, stdout.trim());
    const pushed = await client.request('PUT', '/v1/sources/usage/records', {
      body: { records: [usage('acct-m2m-cli', 7)] },
    });
    expect(pushed.status, pushed.text).toBe(200);
    expect(pushed.body['summary']).toMatchObject({ created: 1 });
  });

  it('takes the endpoint and secret from the environment, and on a wrong secret exits 1 without printing it', async () => {
    const tokenUrl = `${stack.url}/local/oauth2/token`;
    const good = await run([GLOBEX.id, '--scope', 'rein-local/ingest'], {
      REIN_TOKEN_URL: tokenUrl,
      REIN_CLIENT_SECRET: GLOBEX.secret,
    });
    expect(decodeJwt(good.stdout.trim())['client_id']).toBe(GLOBEX.id);

    const failed = await run([GLOBEX.id], { REIN_TOKEN_URL: tokenUrl, REIN_CLIENT_SECRET: ACME.secret }).then(
      () => null,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe('');
    expect(failed?.stderr).toContain('401 (invalid_client');
    expect(failed?.stderr).not.toContain(ACME.secret);
  });
});
