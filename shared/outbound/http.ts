import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { refusalFor, type OutboundPolicy } from './address-policy.ts';

/**
 * The one way Rein sends a request out of its own network (connectors, action targets, webhooks).
 *
 * - Only `https:` URLs, unless the policy allows `http:` (local stage).
 * - Every address the host name resolves to is checked before connecting, and the connection goes
 *   to a checked address: the resolver used for the connection is this module's own, so there is no
 *   second lookup that a DNS rebinding could answer differently. IP literals are checked directly.
 * - Redirects are never followed: a 3xx answer is an error, so its target is never contacted.
 * - The whole exchange is bounded in time (`timeoutMs`, connection included) and the response body
 *   in size (`maxBytes`); past either the request is destroyed.
 *
 * No retries here: the caller (connector read, action execution, webhook delivery) owns its retries.
 */
export interface OutboundRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly latencyMs: number;
}

export type OutboundFailure = 'invalid_url' | 'blocked' | 'timeout' | 'too_large' | 'redirect' | 'connection';

/** A request that did not produce a usable answer; `reason` is stable, `message` safe to show. */
export class OutboundError extends Error {
  readonly reason: OutboundFailure;
  constructor(reason: OutboundFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutboundError';
    this.reason = reason;
  }
}

/**
 * Checks a URL against the policy without resolving it: the scheme, credentials in the URL and an
 * IP-literal host. Used to refuse a target when it is configured (host names are checked again, on
 * every address they resolve to, when a request is sent).
 */
export function checkOutboundUrl(rawUrl: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new OutboundError('invalid_url', 'The URL is not valid.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new OutboundError(
      'blocked',
      policy.allowHttp ? 'Only http and https URLs are allowed.' : 'Only https URLs are allowed.',
    );
  }
  if (url.username || url.password) {
    throw new OutboundError('invalid_url', 'Credentials in the URL are not allowed; use the auth settings.');
  }
  const host = literalHost(url);
  if (isIP(host) !== 0) {
    const refusal = refusalFor(host, policy);
    if (refusal) throw new OutboundError('blocked', `The target address is not allowed (${refusal}).`);
  }
  return url;
}

/** Sends one request under the policy (see the module comment). */
export async function sendOutbound(
  request: OutboundRequest,
  policy: OutboundPolicy,
): Promise<OutboundResponse> {
  const url = checkOutboundUrl(request.url, policy);
  const started = performance.now();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const lookup = checkedLookup(policy);

  return new Promise<OutboundResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: OutboundError | null, response?: OutboundResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        req.destroy();
        reject(error);
      } else if (response) {
        resolve(response);
      }
    };
    const req = send(url, {
      method: request.method,
      headers: {
        ...request.headers,
        ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) }),
      },
      lookup,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish(new OutboundError('timeout', `No complete answer within ${request.timeoutMs} ms.`));
    }, request.timeoutMs);
    req.on('error', (error: Error) => {
      finish(
        error instanceof OutboundError
          ? error
          : new OutboundError('connection', 'The connection failed.', { cause: error }),
      );
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        finish(new OutboundError('redirect', `The target answered ${status}; redirects are not followed.`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxBytes) {
          finish(new OutboundError('too_large', `The answer exceeds ${request.maxBytes} bytes.`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => {
        finish(new OutboundError('connection', 'The answer was cut off.', { cause: error }));
      });
      res.on('end', () => {
        finish(null, {
          status,
          headers: res.headers,
          body: Buffer.concat(chunks),
          latencyMs: performance.now() - started,
        });
      });
    });
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

function literalHost(url: URL): string {
  // URL keeps IPv6 literals in brackets.
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * A resolver for `http.request` that resolves every address of the host, refuses the connection
 * when any of them is not allowed, and hands the checked addresses to the socket.
 */
function checkedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(
      hostname,
      { all: true, ...(options.family ? { family: options.family } : {}) },
      (error, addresses: LookupAddress[]) => {
        if (error) {
          callback(
            new OutboundError('connection', 'The host name could not be resolved.', { cause: error }),
            '',
            4,
          );
          return;
        }
        for (const { address } of addresses) {
          const refusal = refusalFor(address, policy);
          if (refusal) {
            callback(
              new OutboundError(
                'blocked',
                `The host resolves to an address that is not allowed (${refusal}).`,
              ),
              '',
              4,
            );
            return;
          }
        }
        const first = addresses[0];
        if (!first) {
          callback(new OutboundError('connection', 'The host name has no address.'), '', 4);
          return;
        }
        if (options.all) {
          (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
    );
  };
}
