/**
 * A small demo "CRM" HTTP service on loopback, started by the local stack, that one demo tenant
 * (globex) reads through a pull connector for its `crm` source, so pull runs for real in the
 * walkthrough and the tests. It answers what a connector expects (`{"records":[…]}`) and, for the
 * tests, misbehaves on purpose under other paths:
 *
 *   GET /crm/accounts/{accountId}       the account's CRM record (bearer token required), 404 if unknown
 *   GET /slow/accounts/{accountId}      answers only after `slowMs` (a connector timeout)
 *   GET /invalid/accounts/{accountId}   answers 200 with something that is not a connector answer
 *   GET /redirect/accounts/{accountId}  redirects to the instance metadata address (must not be followed)
 *
 * `updatedAt: "LIVE"` in accounts.json means "now": the demo CRM's records are always current.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoCrm {
  url: string;
  /** The bearer token the demo CRM accepts (a connector's secret). */
  token: string;
  /** Requests served, by path, so tests can tell whether a connection was made. */
  requests: string[];
  close(): Promise<void>;
}

interface DemoRecord {
  recordId: string;
  updatedAt: string;
  data: Record<string, unknown>;
}

const ACCOUNTS = JSON.parse(readFileSync(new URL('./accounts.json', import.meta.url), 'utf8')) as Record<
  string,
  DemoRecord
>;

export async function startDemoCrm(options: { token: string; slowMs?: number }): Promise<DemoCrm> {
  const requests: string[] = [];
  const pending = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo-crm').pathname;
    requests.push(path);
    const match = /^\/(crm|slow|invalid|redirect)\/accounts\/([^/]+)$/.exec(path);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!match || req.method !== 'GET') {
      json(404, { message: 'not found' });
      return;
    }
    const [, mode, accountId = ''] = match;
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      json(401, { message: 'unauthorized' });
      return;
    }
    if (mode === 'redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' });
      res.end();
      return;
    }
    if (mode === 'invalid') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Maintenance</body></html>');
      return;
    }
    const record = ACCOUNTS[decodeURIComponent(accountId)];
    const answer = () => {
      if (!record) {
        json(404, { message: 'no such account' });
        return;
      }
      const updatedAt = record.updatedAt === 'LIVE' ? new Date().toISOString() : record.updatedAt;
      json(200, { records: [{ ...record, updatedAt }] });
    };
    if (mode === 'slow') {
      const timer = setTimeout(() => {
        pending.delete(timer);
        answer();
      }, options.slowMs ?? 5000);
      pending.add(timer);
      return;
    }
    answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pending) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
