import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { consoleContentSecurityPolicy, type ConsoleRuntimeConfig } from '../config/console.ts';

export interface LocalConsoleOptions {
  /** The built console (`web/dist`). */
  dir: string;
  config: ConsoleRuntimeConfig;
  /** The demo users the local "Sign in as" page lists. */
  users: { sub: string; name: string; tenantId: string; roles: string[] }[];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The same headers CloudFront's response headers policy adds in AWS. */
const HEADERS = {
  'content-security-policy': consoleContentSecurityPolicy([]),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
};

/**
 * Serves the review console beside the API: GET/HEAD of `/`, `/config.json`, the built files, and
 * `/local/users`. Returns false for anything else (the API's and the dev issuer's routes).
 */
export function createConsoleFiles(options: LocalConsoleOptions) {
  const root = resolve(options.dir);
  const send = (
    res: ServerResponse,
    method: string,
    status: number,
    type: string,
    body: Buffer | string,
    cache: string,
  ) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, {
      ...HEADERS,
      'content-type': type,
      'cache-control': cache,
      'content-length': bytes.byteLength,
    });
    res.end(method === 'HEAD' ? undefined : bytes);
  };

  return async function serve(method: string, pathname: string, res: ServerResponse): Promise<boolean> {
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (pathname === '/local/users') {
      send(res, method, 200, TYPES['.json'] ?? '', JSON.stringify({ users: options.users }), 'no-store');
      return true;
    }
    if (pathname.startsWith('/v1/') || pathname.startsWith('/local/') || pathname === '/v1') return false;
    if (pathname === '/config.json') {
      send(res, method, 200, TYPES['.json'] ?? '', JSON.stringify(options.config), 'no-store');
      return true;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      return false;
    }
    const file = resolve(root, `.${relative}`);
    if (!file.startsWith(root + sep)) return false;
    const found = await stat(file).catch(() => null);
    if (!found?.isFile()) return false;
    const hashed = relative.startsWith('/assets/');
    send(
      res,
      method,
      200,
      TYPES[extname(file)] ?? 'application/octet-stream',
      await readFile(file),
      hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    return true;
  };
}
