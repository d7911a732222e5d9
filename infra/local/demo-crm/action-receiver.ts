import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';

/**
 * The demo CRM's action receiver, for the local stack and the integration tests: the endpoint a
 * tenant's `crm` action target points at. It verifies each request's Standard Webhooks signature
 * with the tenant's signing secret, treats a repeated `Idempotency-Key` as the same request (same
 * answer, nothing created twice), records every request it got and lists them at `GET /actions`.
 * It listens on loopback only.
 */
export interface ReceivedRequest {
  receivedAt: string;
  idempotencyKey: string | null;
  webhookId: string | null;
  /** Whether the signature verified against the secret of the tenant named in the body. */
  signatureValid: boolean;
  body: unknown;
  /** The status this receiver answered with. */
  status: number;
  /** A repeat of an idempotency key it had already accepted. */
  duplicate: boolean;
  /** The id of the record it created (or had created for this key). */
  recordId: string | null;
}

export interface ActionReceiver {
  /** Base URL, e.g. `http://127.0.0.1:4100`. */
  readonly url: string;
  /** Where actions are POSTed: `${url}/actions`. */
  readonly actionsUrl: string;
  /** Registers the signing secret of a tenant (shown once when its target was created). */
  setSecret(tenantId: string, secret: string): void;
  /** The next requests get these statuses instead of being accepted (e.g. 503, 503). */
  failNext(...statuses: number[]): void;
  /** Every request received, oldest first. */
  received(): ReceivedRequest[];
  /** Only the accepted (created) records, one per idempotency key. */
  accepted(): ReceivedRequest[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startActionReceiver(options: { port?: number } = {}): Promise<ActionReceiver> {
  const secrets = new Map<string, string>();
  const requests: ReceivedRequest[] = [];
  const byKey = new Map<string, string>();
  const failures: number[] = [];
  let created = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/actions') {
      send(res, 200, { items: requests });
      return;
    }
    if (req.method !== 'POST' || path !== '/actions') {
      send(res, 404, { error: { message: 'Not found.' } });
      return;
    }
    const raw = await readBody(req);
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      body = null;
    }
    const tenantId =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['tenantId'] : undefined;
    const secret = typeof tenantId === 'string' ? secrets.get(tenantId) : undefined;
    let signatureValid = false;
    if (secret !== undefined) {
      try {
        new Webhook(secret).verify(raw, {
          'webhook-id': header(req, 'webhook-id') ?? '',
          'webhook-timestamp': header(req, 'webhook-timestamp') ?? '',
          'webhook-signature': header(req, 'webhook-signature') ?? '',
        });
        signatureValid = true;
      } catch {
        signatureValid = false;
      }
    }
    const idempotencyKey = header(req, 'idempotency-key');
    const record = (status: number, duplicate: boolean, recordId: string | null): void => {
      requests.push({
        receivedAt: new Date().toISOString(),
        idempotencyKey,
        webhookId: header(req, 'webhook-id'),
        signatureValid,
        body,
        status,
        duplicate,
        recordId,
      });
    };
    if (!signatureValid) {
      record(401, false, null);
      send(res, 401, { error: { message: 'The signature does not verify.' } });
      return;
    }
    const failure = failures.shift();
    if (failure !== undefined) {
      record(failure, false, null);
      send(res, failure, { error: { message: `Scripted failure ${failure}.` } });
      return;
    }
    const known = idempotencyKey === null ? undefined : byKey.get(idempotencyKey);
    if (known !== undefined) {
      record(200, true, known);
      send(res, 200, { id: known, duplicate: true });
      return;
    }
    created += 1;
    const recordId = `crm-${String(created).padStart(4, '0')}`;
    if (idempotencyKey !== null) byKey.set(idempotencyKey, recordId);
    record(201, false, recordId);
    send(res, 201, { id: recordId });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 400, { error: { message: 'Bad request.' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : (options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    actionsUrl: `${url}/actions`,
    setSecret: (tenantId, secret) => {
      secrets.set(tenantId, secret);
    },
    failNext: (...statuses) => {
      failures.push(...statuses);
    },
    received: () => structuredClone(requests),
    accepted: () => structuredClone(requests.filter((request) => request.status === 201)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
