import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  JwtVerificationError,
  SIGNING_KEY_FILE,
  flattenClaimsLikeApiGateway,
  loadOrCreateDevIssuer,
  type DevIssuer,
  type JwtRejectionReason,
} from '#infra/local/dev-issuer.ts';

const ISSUER = 'http://localhost:3000/local/issuer';
const AUDIENCE = 'rein-local';
const ALICE = { sub: 'csm-alice', tenantId: 'acme', roles: ['csm', 'manager'] };

let dir: string;
let issuer: DevIssuer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rein-dev-issuer-'));
  issuer = await loadOrCreateDevIssuer({ dir, issuer: ISSUER, audience: AUDIENCE });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectRejected(
  header: string | undefined,
  reason: JwtRejectionReason,
  verifier: DevIssuer = issuer,
): Promise<void> {
  const error: unknown = await verifier.verify(header).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(JwtVerificationError);
  expect(error).toMatchObject({ name: 'JwtVerificationError', message: 'Unauthorized', reason });
}

/** Re-encodes a token's header and payload without a valid signature for them. */
function forge(
  token: string,
  edit: { header?: Record<string, unknown>; payload?: Record<string, unknown>; signature?: string },
): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const encode = (value: Record<string, unknown>) => base64url.encode(JSON.stringify(value));
  return [
    edit.header ? encode(edit.header) : header,
    edit.payload ? encode(edit.payload) : payload,
    edit.signature ?? signature,
  ].join('.');
}

describe('dev issuer', () => {
  it('signs a token that verifies and yields the claims as API Gateway passes them to the Lambda', async () => {
    const token = await issuer.sign(ALICE);

    const verified = await issuer.verify(`Bearer ${token}`);

    const payload = decodeJwt(token);
    expect(verified).toEqual({
      claims: {
        sub: 'csm-alice',
        tenant_id: 'acme',
        roles: '[csm manager]',
        iss: ISSUER,
        aud: AUDIENCE,
        iat: String(payload.iat),
        exp: String(payload.exp),
      },
      scopes: null,
    });
  });

  it('issues RS256 tokens with the key thumbprint as kid and a 12 hour lifetime by default', async () => {
    const token = await issuer.sign(ALICE);

    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    const [publicKey] = issuer.jwks().keys;
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: publicKey?.kid });
    expect(payload).toEqual({
      sub: 'csm-alice',
      tenant_id: 'acme',
      roles: ['csm', 'manager'],
      iss: ISSUER,
      aud: AUDIENCE,
      iat: expect.any(Number) as unknown,
      exp: (payload.iat ?? 0) + 12 * 60 * 60,
    });
  });

  it('honours a custom lifetime', async () => {
    const token = await issuer.sign(ALICE, { expiresInSeconds: 60 });

    const payload = decodeJwt(token);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
  });

  it('publishes only the public part of the key', () => {
    const { keys } = issuer.jwks();

    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
  });

  it('keeps the private key in a 0600 file and reuses it across restarts', async () => {
    const token = await issuer.sign(ALICE);
    const file = join(dir, SIGNING_KEY_FILE);
    const before = await readFile(file, 'utf8');

    const restarted = await loadOrCreateDevIssuer({ dir, issuer: ISSUER, audience: AUDIENCE });

    expect(await readFile(file, 'utf8')).toBe(before);
    expect(JSON.parse(before)).toMatchObject({ kty: 'RSA', d: expect.any(String) as unknown });
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(restarted.jwks()).toEqual(issuer.jwks());
    await expect(restarted.verify(`Bearer ${token}`)).resolves.toMatchObject({
      claims: { sub: 'csm-alice' },
    });
  });

  it('creates one key when two issuers start at the same time', async () => {
    const fresh = join(dir, 'fresh');

    const [first, second] = await Promise.all([
      loadOrCreateDevIssuer({ dir: fresh, issuer: ISSUER, audience: AUDIENCE }),
      loadOrCreateDevIssuer({ dir: fresh, issuer: ISSUER, audience: AUDIENCE }),
    ]);

    expect(first.jwks()).toEqual(second.jwks());
  });

  describe('rejects like the HTTP API JWT authorizer', () => {
    it('a missing Authorization header', async () => {
      await expectRejected(undefined, 'missing_token');
      await expectRejected('', 'missing_token');
    });

    it('a scheme other than Bearer', async () => {
      const token = await issuer.sign(ALICE);

      await expectRejected(`Basic ${token}`, 'missing_token');
      await expectRejected('Bearer', 'missing_token');
    });

    it('an expired token', async () => {
      const start = new Date('2026-12-01T08:00:00Z');
      const thirteenHoursLater = new Date('2026-12-01T21:00:00Z');
      const signer = await loadOrCreateDevIssuer({
        dir,
        issuer: ISSUER,
        audience: AUDIENCE,
        now: () => start,
      });
      const verifier = await loadOrCreateDevIssuer({
        dir,
        issuer: ISSUER,
        audience: AUDIENCE,
        now: () => thirteenHoursLater,
      });
      const token = await signer.sign(ALICE);

      await expectRejected(`Bearer ${token}`, 'expired', verifier);
    });

    it('an expired token even within a few seconds, but tolerates small clock skew', async () => {
      const signedAt = new Date('2026-12-01T08:00:00Z');
      const signer = await loadOrCreateDevIssuer({
        dir,
        issuer: ISSUER,
        audience: AUDIENCE,
        now: () => signedAt,
      });
      const token = await signer.sign(ALICE, { expiresInSeconds: 60 });
      const at = (iso: string) =>
        loadOrCreateDevIssuer({ dir, issuer: ISSUER, audience: AUDIENCE, now: () => new Date(iso) });

      await expect((await at('2026-12-01T08:01:03Z')).verify(`Bearer ${token}`)).resolves.toBeDefined();
      await expectRejected(`Bearer ${token}`, 'expired', await at('2026-12-01T08:01:06Z'));
    });

    it('a token issued in the future', async () => {
      const future = await loadOrCreateDevIssuer({
        dir,
        issuer: ISSUER,
        audience: AUDIENCE,
        now: () => new Date(Date.now() + 60_000),
      });
      const token = await future.sign(ALICE);

      await expectRejected(`Bearer ${token}`, 'not_yet_valid');
    });

    it('a token from another issuer', async () => {
      const other = await loadOrCreateDevIssuer({ dir, issuer: 'https://evil.example', audience: AUDIENCE });
      const token = await other.sign(ALICE);

      await expectRejected(`Bearer ${token}`, 'wrong_issuer');
    });

    it('a token for another audience', async () => {
      const other = await loadOrCreateDevIssuer({ dir, issuer: ISSUER, audience: 'another-api' });
      const token = await other.sign(ALICE);

      await expectRejected(`Bearer ${token}`, 'wrong_audience');
    });

    it('a token whose payload was tampered with', async () => {
      const token = await issuer.sign(ALICE);
      const payload = decodeJwt(token);

      const tampered = forge(token, { payload: { ...payload, tenant_id: 'globex', roles: ['admin'] } });

      await expectRejected(`Bearer ${tampered}`, 'bad_signature');
    });

    it('an unsigned token (alg none)', async () => {
      const token = await issuer.sign(ALICE);
      const kid = issuer.jwks().keys[0]?.kid;

      const unsigned = forge(token, { header: { alg: 'none', typ: 'JWT', kid }, signature: '' });

      await expectRejected(`Bearer ${unsigned}`, 'unsupported_algorithm');
    });

    it('an HS256 token signed with the public key as the secret', async () => {
      const [publicJwk] = issuer.jwks().keys;
      const publicKey = await importJWK({ ...publicJwk, alg: 'RS256' }, 'RS256');
      if (publicKey instanceof Uint8Array) throw new Error('expected an RSA public key');
      const pem = await exportSPKI(publicKey);
      const forged = await new SignJWT({ tenant_id: 'acme', roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: publicJwk?.kid })
        .setSubject('attacker')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(pem));

      await expectRejected(`Bearer ${forged}`, 'unsupported_algorithm');
    });

    it('a token signed by another key', async () => {
      const otherDir = await mkdtemp(join(tmpdir(), 'rein-dev-issuer-other-'));
      try {
        const other = await loadOrCreateDevIssuer({ dir: otherDir, issuer: ISSUER, audience: AUDIENCE });
        const token = await other.sign(ALICE);
        const kid = issuer.jwks().keys[0]?.kid;

        await expectRejected(`Bearer ${token}`, 'unknown_key');
        // Claiming our key id does not help: the signature does not match our key.
        await expectRejected(
          `Bearer ${forge(token, { header: { alg: 'RS256', typ: 'JWT', kid } })}`,
          'bad_signature',
        );
      } finally {
        await rm(otherDir, { recursive: true, force: true });
      }
    });

    it('a token without a kid', async () => {
      const token = await issuer.sign(ALICE);

      await expectRejected(`Bearer ${forge(token, { header: { alg: 'RS256', typ: 'JWT' } })}`, 'unknown_key');
    });

    it('garbage', async () => {
      await expectRejected('Bearer not-a-jwt', 'malformed_token');
    });

    it('without echoing the token in the error', async () => {
      const other = await loadOrCreateDevIssuer({ dir, issuer: ISSUER, audience: 'another-api' });
      const token = await other.sign(ALICE);

      const error: unknown = await issuer.verify(`Bearer ${token}`).catch((rejection: unknown) => rejection);

      expect(JSON.stringify(error)).not.toContain(token);
      expect(String(error)).toBe('JwtVerificationError: Unauthorized');
    });
  });
});

describe('flattenClaimsLikeApiGateway', () => {
  it('renders every claim as API Gateway does: arrays bracketed and space-separated, scalars as strings', () => {
    expect(
      flattenClaimsLikeApiGateway({
        sub: 'csm-alice',
        roles: ['csm', 'manager'],
        single: ['admin'],
        none: [],
        exp: 1796083200,
        email_verified: true,
        address: { country: 'DE' },
        dropped: null,
      }),
    ).toEqual({
      sub: 'csm-alice',
      roles: '[csm manager]',
      single: '[admin]',
      none: '[]',
      exp: '1796083200',
      email_verified: 'true',
      address: '{"country":"DE"}',
    });
  });
});
