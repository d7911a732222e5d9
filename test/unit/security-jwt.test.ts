import { createPrivateKey, createSign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, base64url, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnauthorizedError } from '#shared/domain/errors.ts';
import { principalFromClaims } from '#shared/http/principal.ts';
import {
  JwtVerificationError,
  SIGNING_KEY_FILE,
  loadOrCreateDevIssuer,
  type DevIssuer,
  type JwtRejectionReason,
} from '#infra/local/dev-issuer.ts';

/**
 * JWT checks beyond `dev-issuer.test.ts`: tokens signed with the issuer's own private key but
 * carrying what the HTTP API authorizer must still refuse (no expiry, not yet valid, another
 * algorithm, keys or key URLs of their own, unknown critical headers, other audiences), and
 * verified claims that must not become an identity.
 */

const ISSUER = 'https://rein.local/issuer';
const AUDIENCE = 'rein-local';
const CLAIM_NAMES = { tenantClaim: 'tenant_id', rolesClaim: 'roles' };

let dir: string;
let issuer: DevIssuer;
let privateJwk: JWK;
let kid: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rein-security-jwt-'));
  issuer = await loadOrCreateDevIssuer({ dir, issuer: ISSUER, audience: AUDIENCE });
  privateJwk = JSON.parse(await readFile(join(dir, SIGNING_KEY_FILE), 'utf8')) as JWK;
  kid = String(privateJwk.kid);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function validPayload(overrides: JWTPayload = {}): JWTPayload {
  return {
    sub: 'csm-alice',
    tenant_id: 'acme',
    roles: ['csm'],
    iss: ISSUER,
    aud: AUDIENCE,
    iat: nowSeconds(),
    exp: nowSeconds() + 3_600,
    ...overrides,
  };
}

/** Signs with the issuer's own private key, under any algorithm and protected header. */
async function signWithIssuerKey(
  payload: JWTPayload,
  header: Record<string, unknown> = {},
  alg = 'RS256',
): Promise<string> {
  const { alg: _alg, ...material } = privateJwk;
  const key = await importJWK(material, alg);
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', kid, ...header }).sign(key);
}

/** Signs any header by hand (RS256 with the issuer's key): jose itself refuses unknown `crit` values. */
function signRaw(header: Record<string, unknown>, payload: JWTPayload): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  const input = `${encode(header)}.${encode(payload)}`;
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  return `${input}.${base64url.encode(createSign('RSA-SHA256').update(input).sign(key))}`;
}

async function rejection(token: string): Promise<unknown> {
  return issuer.verify(`Bearer ${token}`).then(
    () => undefined,
    (error: unknown) => error,
  );
}

async function expectRejected(token: string, reason?: JwtRejectionReason): Promise<void> {
  const error = await rejection(token);
  expect(error).toBeInstanceOf(JwtVerificationError);
  if (reason) expect(error).toMatchObject({ reason });
}

describe('JWT verification refuses tokens signed with the right key but wrong in another way', () => {
  it('accepts the baseline token these cases alter', async () => {
    await expect(issuer.verify(`Bearer ${await signWithIssuerKey(validPayload())}`)).resolves.toMatchObject({
      claims: { sub: 'csm-alice', tenant_id: 'acme', roles: '[csm]' },
    });
  });

  it('refuses a token without an expiry', async () => {
    const { exp: _exp, ...payload } = validPayload();
    await expectRejected(await signWithIssuerKey(payload), 'invalid_claims');
  });

  it('refuses a token that is not valid yet (nbf a minute ahead)', async () => {
    await expectRejected(await signWithIssuerKey(validPayload({ nbf: nowSeconds() + 60 })), 'not_yet_valid');
  });

  it.each(['RS384', 'RS512', 'PS256'])(
    'refuses the issuer key used with %s: only RS256 is accepted',
    async (alg) => {
      await expectRejected(await signWithIssuerKey(validPayload(), {}, alg), 'unsupported_algorithm');
    },
  );

  it('ignores a key or key URL the token brings along and checks the signature with its own key', async () => {
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    for (const header of [
      { jwk: attackerJwk },
      { jku: 'https://evil.example/.well-known/jwks.json' },
      { x5u: 'https://evil.example/cert.pem' },
    ]) {
      const forged = await new SignJWT(validPayload({ roles: ['admin'] }))
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, ...header })
        .sign(attacker.privateKey);
      await expectRejected(forged, 'bad_signature');
    }
  });

  it('refuses a critical header extension it does not understand', async () => {
    const header = { alg: 'RS256', typ: 'JWT', kid };
    // The same hand-made signature verifies without the extension, so only `crit` is refused.
    await expect(issuer.verify(`Bearer ${signRaw(header, validPayload())}`)).resolves.toBeDefined();
    await expectRejected(signRaw({ ...header, crit: ['rein-bypass'], 'rein-bypass': true }, validPayload()));
  });

  it('accepts its audience in an aud array, or in client_id without aud, and no other audience form', async () => {
    const { aud: _aud, ...withoutAud } = validPayload();
    await expect(
      issuer.verify(`Bearer ${await signWithIssuerKey(validPayload({ aud: ['another-api', AUDIENCE] }))}`),
    ).resolves.toBeDefined();
    await expect(
      issuer.verify(`Bearer ${await signWithIssuerKey({ ...withoutAud, client_id: AUDIENCE })}`),
    ).resolves.toBeDefined();

    await expectRejected(await signWithIssuerKey(withoutAud), 'wrong_audience');
    await expectRejected(
      await signWithIssuerKey({ ...withoutAud, client_id: 'another-api' }),
      'wrong_audience',
    );
    await expectRejected(await signWithIssuerKey(validPayload({ aud: ['another-api'] })), 'wrong_audience');
    // With an aud claim present, a matching client_id does not stand in for it.
    await expectRejected(
      await signWithIssuerKey(validPayload({ aud: 'another-api', client_id: AUDIENCE })),
      'wrong_audience',
    );
    await expectRejected(
      await signWithIssuerKey(validPayload({ aud: `${AUDIENCE}-staging` })),
      'wrong_audience',
    );
  });
});

describe('verified claims become an identity only when they are safe to use as key prefixes', () => {
  async function principalOf(payload: JWTPayload) {
    const { claims } = await issuer.verify(`Bearer ${await signWithIssuerKey(payload)}`);
    return principalFromClaims(claims, CLAIM_NAMES);
  }

  it('reads sub, tenant and roles from a verified token as API Gateway flattens them', async () => {
    await expect(principalOf(validPayload({ roles: ['csm', 'manager', 'superuser'] }))).resolves.toEqual({
      sub: 'csm-alice',
      tenantId: 'acme',
      roles: ['csm', 'manager'],
    });
  });

  it.each([
    ['a tenant that reaches into key space', { tenant_id: 'acme#DRAFT#drf_x' }],
    ['a tenant that traverses', { tenant_id: '../globex' }],
    ['a tenant with a trailing space', { tenant_id: 'acme ' }],
    ['two tenants', { tenant_id: ['acme', 'globex'] }],
    ['a tenant object', { tenant_id: { $ne: '' } }],
    ['an empty tenant', { tenant_id: '' }],
    ['no known role', { roles: ['root', 'superuser'] }],
    ['no roles', { roles: [] }],
    ['an over-long subject', { sub: 's'.repeat(257) }],
  ])('answers 401 for a verified token with %s', async (_name, overrides) => {
    await expect(principalOf(validPayload(overrides as JWTPayload))).rejects.toThrow(UnauthorizedError);
  });
});
