import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleFiles } from '../../infra/local/console-files.ts';

let server: Server;
let base = '';
const dir = mkdtempSync(join(tmpdir(), 'rein-console-'));

beforeAll(async () => {
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(tmpdir(), 'outside-console.txt'), 'secret');
  const serve = createConsoleFiles({
    dir,
    config: {
      stage: 'local',
      apiBaseUrl: '',
      reviewTimeoutSeconds: 60,
      auth: { mode: 'local', tenantClaim: 'tenant_id', rolesClaim: 'roles' },
    },
    users: [{ sub: 'csm-alice', name: 'Alice', tenantId: 'acme', roles: ['csm'] }],
  });
  server = createServer((req, res) => {
    void serve(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x').pathname, res).then((served) => {
      if (!served) {
        res.writeHead(404, { 'x-passed-on': 'yes' });
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('local console files', () => {
  it('serves index.html at / with the console CSP, and hashed assets as immutable', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const asset = await fetch(`${base}/assets/index-abc.js`);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('serves config.json for the dev issuer and the demo users for "Sign in as"', async () => {
    expect(await (await fetch(`${base}/config.json`)).json()).toMatchObject({ auth: { mode: 'local' } });
    expect(await (await fetch(`${base}/local/users`)).json()).toEqual({
      users: [{ sub: 'csm-alice', name: 'Alice', tenantId: 'acme', roles: ['csm'] }],
    });
  });

  it('passes the API, the dev issuer, unknown files, writes and paths outside the build on', async () => {
    for (const path of [
      '/v1/health',
      '/local/tokens',
      '/nope.js',
      '/..%2foutside-console.txt',
      '/%2e%2e/outside-console.txt',
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.headers.get('x-passed-on'), path).toBe('yes');
    }
    const post = await fetch(`${base}/`, { method: 'POST' });
    expect(post.headers.get('x-passed-on')).toBe('yes');
  });
});
