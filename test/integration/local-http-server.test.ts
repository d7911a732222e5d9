import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorsConfiguration } from '../../infra/local/cors.ts';
import { loadOrCreateDevIssuer } from '../../infra/local/dev-issuer.ts';
import { createLocalHttpServer, type RequestLogEntry } from '../../infra/local/http-server.ts';
import { localEnv } from '../../infra/local/local-env.ts';

// The dev stage's CORS configuration as CDK writes it into the template.
const CORS: CorsConfiguration = {
  AllowOrigins: ['http://localhost:3000', 'http://localhost:5173'],
  AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'OPTIONS'],
  AllowHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'accept'],
  ExposeHeaders: ['etag', 'retry-after', 'location', 'x-request-id'],
  MaxAge: 3600,
};

const keyDir = mkdtempSync(join(tmpdir(), 'rein-http-test-'));
const logged: RequestLogEntry[] = [];
let apiCalls = 0;
let server: Server;
let base: string;

beforeAll(async () => {
  const issuer = await loadOrCreateDevIssuer({
    dir: keyDir,
    issuer: 'https://test/issuer',
    audience: 'test',
  });
  server = createLocalHttpServer({
    issuer,
    cors: CORS,
    log: (entry) => logged.push(entry),
    api: () => {
      apiCalls += 1;
      return Promise.resolve({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(keyDir, { recursive: true, force: true });
});

describe('the local HTTP API', () => {
  it('answers a CORS preflight from an allowed origin itself, as the HTTP API does', async () => {
    const calls = apiCalls;
    const response = await fetch(`${base}/v1/workflows/renewal-brief/runs`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-methods': 'GET,POST,PUT,PATCH,OPTIONS',
      'access-control-allow-headers': 'authorization,content-type,idempotency-key,if-match,accept',
      'access-control-max-age': '3600',
    });
    expect(apiCalls).toBe(calls);
  });

  it('gives no CORS headers to an origin the stage does not allow', async () => {
    const preflight = await fetch(`${base}/v1/health`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${base}/v1/health`, { headers: { origin: 'https://evil.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds the CORS headers to the responses of an allowed origin', async () => {
    const response = await fetch(`${base}/v1/health`, { headers: { origin: 'http://localhost:5173' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-expose-headers')).toBe(
      'etag,retry-after,location,x-request-id',
    );
  });

  it('logs one line per request with its method, route, status, duration and request id', async () => {
    logged.length = 0;
    const ok = await fetch(`${base}/v1/health`);
    const missing = await fetch(`${base}/nowhere?x=1`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logged).toEqual([
      {
        method: 'GET',
        route: 'GET /v1/health',
        status: 200,
        ms: expect.any(Number) as number,
        requestId: ok.headers.get('x-request-id'),
      },
      {
        method: 'GET',
        route: '/nowhere',
        status: 404,
        ms: expect.any(Number) as number,
        requestId: expect.any(String) as string,
      },
    ]);
    expect(missing.status).toBe(404);
  });
});

describe('local settings', () => {
  it('treats OPENAI_API_KEY and OPENAI_BASE_URL set but empty as unset', () => {
    const env = localEnv({ OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.OPENAI_BASE_URL).toBeUndefined();
  });
});
