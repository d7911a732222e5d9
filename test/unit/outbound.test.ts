import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { ConfigError, outboundPolicy } from '#shared/config.ts';
import { refusalFor, STRICT_OUTBOUND_POLICY } from '#shared/outbound/address-policy.ts';
import { checkOutboundUrl, OutboundError, sendOutbound } from '#shared/outbound/http.ts';
import { newSigningSecret, signatureHeaders } from '#shared/outbound/signing.ts';

const LOCAL = { allowHttp: true, allowLoopback: true } as const;
const HTTP_ONLY = { allowHttp: true, allowLoopback: false } as const;

describe('outbound address policy', () => {
  it.each([
    ['169.254.169.254', 'linkLocal'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['64:ff9b::a00:1', 'rfc6052'],
  ])('refuses %s (%s)', (address, range) => {
    expect(refusalFor(address, STRICT_OUTBOUND_POLICY)).toBe(`${range} address`);
  });

  it.each(['8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(refusalFor(address, STRICT_OUTBOUND_POLICY)).toBeNull();
    },
  );

  it('allows loopback, and nothing else private, when the local policy says so', () => {
    expect(refusalFor('127.0.0.1', LOCAL)).toBeNull();
    expect(refusalFor('::1', LOCAL)).toBeNull();
    expect(refusalFor('10.0.0.1', LOCAL)).toBe('private address');
    expect(refusalFor('169.254.169.254', LOCAL)).toBe('linkLocal address');
  });

  it('allows loopback only in the local stage, and only when configured', () => {
    expect(outboundPolicy({ REIN_ENV: 'local' })).toEqual(STRICT_OUTBOUND_POLICY);
    expect(outboundPolicy({ REIN_ENV: 'local', OUTBOUND_ALLOW_LOOPBACK: 'true' })).toEqual(LOCAL);
    expect(() => outboundPolicy({ REIN_ENV: 'prod', OUTBOUND_ALLOW_LOOPBACK: 'true' })).toThrow(ConfigError);
  });
});

describe('checkOutboundUrl', () => {
  it.each([
    ['http://example.com/x', STRICT_OUTBOUND_POLICY, 'blocked'],
    ['ftp://example.com/x', LOCAL, 'blocked'],
    ['https://user:pw@example.com/', STRICT_OUTBOUND_POLICY, 'invalid_url'],
    ['not a url', STRICT_OUTBOUND_POLICY, 'invalid_url'],
    ['https://169.254.169.254/latest/meta-data', STRICT_OUTBOUND_POLICY, 'blocked'],
    ['https://10.0.0.1/', STRICT_OUTBOUND_POLICY, 'blocked'],
    ['https://[::1]/', STRICT_OUTBOUND_POLICY, 'blocked'],
    ['https://[::ffff:a9fe:a9fe]/', STRICT_OUTBOUND_POLICY, 'blocked'],
  ] as const)('refuses %s', (url, policy, reason) => {
    expect(() => checkOutboundUrl(url, policy)).toThrow(expect.objectContaining({ reason }));
  });

  it('accepts an https URL with a public host name', () => {
    expect(
      checkOutboundUrl('https://crm.example.com/accounts/{accountId}', STRICT_OUTBOUND_POLICY).hostname,
    ).toBe('crm.example.com');
  });
});

describe('sendOutbound against a loopback server', () => {
  let server: Server;
  let base: string;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      } else if (req.url === '/big') {
        res.writeHead(200).end('x'.repeat(10_000));
      } else if (req.url === '/echo') {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => res.writeHead(201).end(body));
      } else {
        // /slow: never answers within the test's timeout.
        setTimeout(() => res.writeHead(200).end('late'), 2_000).unref();
      }
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (url: string) => ({ url, method: 'GET' as const, timeoutMs: 500, maxBytes: 1_000 });

  it('reaches loopback when the local policy allows it', async () => {
    const response = await sendOutbound(get(`${base}/ok`), LOCAL);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ ok: true });
  });

  it('sends the body and headers of a POST', async () => {
    const response = await sendOutbound(
      {
        url: `${base}/echo`,
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
        timeoutMs: 500,
        maxBytes: 1_000,
      },
      LOCAL,
    );
    expect(response.status).toBe(201);
    expect(response.body.toString()).toBe('{"a":1}');
  });

  it.each([
    ['an IP-literal loopback URL', (port: string) => `http://127.0.0.1:${port}/ok`],
    ['a host name that resolves to loopback', (port: string) => `http://localhost:${port}/ok`],
    ['an IPv6 loopback literal', (port: string) => `http://[::1]:${port}/ok`],
  ])('refuses %s without connecting when loopback is not allowed', async (_label, urlFor) => {
    const before = connections;
    const port = new URL(base).port;
    await expect(sendOutbound(get(urlFor(port)), HTTP_ONLY)).rejects.toMatchObject({ reason: 'blocked' });
    expect(connections).toBe(before);
  });

  it('refuses the metadata and private addresses without connecting', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/']) {
      await expect(sendOutbound(get(url), LOCAL)).rejects.toMatchObject({ reason: 'blocked' });
    }
  });

  it('does not follow a redirect (its target is never contacted)', async () => {
    await expect(sendOutbound(get(`${base}/redirect`), LOCAL)).rejects.toMatchObject({ reason: 'redirect' });
  });

  it('cuts an answer larger than maxBytes', async () => {
    await expect(sendOutbound(get(`${base}/big`), LOCAL)).rejects.toMatchObject({ reason: 'too_large' });
  });

  it('gives up after timeoutMs', async () => {
    const error = await sendOutbound({ ...get(`${base}/slow`), timeoutMs: 100 }, LOCAL).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutboundError);
    expect(error).toMatchObject({ reason: 'timeout' });
  });
});

describe('Standard Webhooks signatures', () => {
  it('produces headers a Standard Webhooks receiver verifies, and a tampered body fails', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ type: 'draft.decided', data: { draftId: 'drf_1' } });
    const headers = signatureHeaders(secret, 'evt_1', new Date(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const receiver = new Webhook(secret);
    expect(receiver.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => receiver.verify(body.replace('decided', 'escalated'), headers)).toThrow();
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
  });
});
