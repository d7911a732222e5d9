/**
 * The local stand-in for two AWS pieces: the JWT issuer (Cognito or an external OIDC provider) and
 * the HTTP API JWT authorizer that checks its tokens before a request reaches a Lambda.
 *
 * The signing key is an RS256 key pair kept as a private JWK in `<dir>/jwt-signing-key.json`
 * (mode 0600), created on first use and reused across restarts so tokens printed by one run of
 * `npm start` keep working in the next. The key id is the RFC 7638 thumbprint of the public key.
 *
 * `verify` follows the authorizer's documented checks: a token in the Authorization header, an
 * RSA signature from a key in the issuer's JWKS matched by `kid`, `iss` equal to the configured
 * issuer, `aud` (or `client_id` when `aud` is absent) equal to the configured audience, `exp` in the
 * future, `nbf` and `iat` in the past. Two deliberate differences, both stricter than AWS:
 * only `RS256` is accepted (AWS takes any RSA algorithm), and the `Bearer ` prefix is required
 * (AWS also takes a bare token), so a client that works locally also works in AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import { z } from 'zod';

/** File name of the private signing key inside the issuer's directory. */
export const SIGNING_KEY_FILE = 'jwt-signing-key.json';

/** The only accepted signature algorithm; `alg: none`, HS256 and others are rejected. */
const ALGORITHM = 'RS256';

/** Default token lifetime: 12 hours, long enough for a working day with the local stack. */
const DEFAULT_EXPIRES_IN_SECONDS = 12 * 60 * 60;

/** Lifetime of a client-credentials access token: 1 hour, Cognito's default. */
const ACCESS_TOKEN_EXPIRES_IN_SECONDS = 60 * 60;

/** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;

const PrivateRsaJwkSchema = z.object({
  kty: z.literal('RSA'),
  n: z.string().min(1),
  e: z.string().min(1),
  d: z.string().min(1),
  p: z.string().min(1),
  q: z.string().min(1),
  dp: z.string().min(1),
  dq: z.string().min(1),
  qi: z.string().min(1),
  kid: z.string().min(1),
  alg: z.literal(ALGORITHM),
  use: z.literal('sig'),
});
type PrivateRsaJwk = z.infer<typeof PrivateRsaJwkSchema>;

/** The claims a dev token carries besides the registered ones (`iss`, `aud`, `iat`, `exp`). */
export interface DevTokenClaims {
  sub: string;
  tenantId: string;
  roles: string[];
}

/**
 * What the HTTP API JWT authorizer hands the Lambda in `event.requestContext.authorizer.jwt`:
 * every claim flattened to a string (see {@link flattenClaimsLikeApiGateway}) and `scopes`, which is
 * null because no route requires authorization scopes.
 */
export interface VerifiedClaims {
  claims: Record<string, string>;
  scopes: null;
}

/** What a client-credentials access token carries, as Cognito issues it (no `aud`, no tenant). */
export interface DevAccessTokenClaims {
  clientId: string;
  /** Space-separated granted scopes, e.g. `rein-local/ingest`. */
  scope: string;
}

export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  /**
   * Signs an access token like Cognito's for the client-credentials grant: `sub` and `client_id`
   * are the client id, `token_use` is `access`, `scope` the granted scopes; no `aud` (the
   * authorizer then checks `client_id` against its audience list). Default lifetime 1 hour.
   */
  signAccessToken(claims: DevAccessTokenClaims, options?: { expiresInSeconds?: number }): Promise<string>;
  /** The public key set, as the issuer's `jwks_uri` would serve it. */
  jwks(): { keys: JWK[] };
  /** Signs a token with `sub`, `tenant_id`, `roles`, `iss`, `aud`, `iat` and `exp` (default 12 h). */
  sign(claims: DevTokenClaims, options?: { expiresInSeconds?: number }): Promise<string>;
  /** Checks an Authorization header like the API Gateway JWT authorizer; throws {@link JwtVerificationError}. */
  verify(authorizationHeader: string | undefined): Promise<VerifiedClaims>;
}

export interface DevIssuerOptions {
  /** Directory holding the signing key, e.g. `.rein`; created if missing. */
  dir: string;
  issuer: string;
  audience: string;
  /**
   * Further accepted audiences: the machine clients' ids, as a stage's authorizer lists its app
   * clients (an access token without `aud` is checked by its `client_id`).
   */
  clientAudiences?: readonly string[];
  /** Current time; tests pass a fixed clock. Default: the system clock. */
  now?: () => Date;
}

/** Why a token was refused, in the spirit of the `error_description` AWS puts in `WWW-Authenticate`. */
export type JwtRejectionReason =
  | 'missing_token'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'invalid_claims';

/**
 * A request the authorizer refuses (API Gateway answers 401 without calling the Lambda). The
 * message is the same for every reason and never contains the token; `reason` is for logs and
 * tests. The underlying jose error is not kept as `cause` because it carries the decoded claims.
 */
export class JwtVerificationError extends Error {
  override readonly name = 'JwtVerificationError';
  readonly reason: JwtRejectionReason;

  constructor(reason: JwtRejectionReason) {
    super('Unauthorized');
    this.reason = reason;
  }
}

/** Raised when the key file exists but cannot be used; the message names the file, never the key. */
export class DevIssuerKeyError extends Error {
  override readonly name = 'DevIssuerKeyError';
}

/**
 * Flattens a verified JWT payload the way the HTTP API JWT authorizer does before passing it to the
 * Lambda (payload format 2.0): strings stay as they are; numbers and booleans become their string
 * form (`"exp": "1767225600"`); arrays become a bracketed, space-separated string with no quotes
 * (`["csm", "manager"]` → `"[csm manager]"`); nested objects become JSON; null claims are dropped.
 */
export function flattenClaimsLikeApiGateway(
  payload: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    const rendered = renderClaim(value);
    if (rendered !== undefined) claims[name] = rendered;
  }
  return claims;
}

function renderClaim(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return `[${items.map((item) => renderScalar(item)).join(' ')}]`;
  }
  return renderScalar(value);
}

function renderScalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value) ?? '';
}

/**
 * Loads the signing key from `<dir>/jwt-signing-key.json`, creating it if missing, and returns an
 * issuer that signs and verifies tokens for the given issuer and audience.
 */
export async function loadOrCreateDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  const { issuer, audience } = options;
  const audiences = [audience, ...(options.clientAudiences ?? [])];
  const now = options.now ?? (() => new Date());
  const privateJwk = await loadOrCreateSigningKey(options.dir);
  const signingKey = await importJWK(privateJwk, ALGORITHM);
  const publicJwk: JWK = {
    kty: privateJwk.kty,
    n: privateJwk.n,
    e: privateJwk.e,
    kid: privateJwk.kid,
    alg: privateJwk.alg,
    use: privateJwk.use,
  };
  const keySet = createLocalJWKSet({ keys: [publicJwk] });

  return {
    issuer,
    audience,

    jwks() {
      return { keys: [{ ...publicJwk }] };
    },

    async sign(claims, signOptions) {
      const expiresIn = signOptions?.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS;
      const issuedAt = Math.floor(now().getTime() / 1000);
      return new SignJWT({ tenant_id: claims.tenantId, roles: [...claims.roles] })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: privateJwk.kid })
        .setSubject(claims.sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + expiresIn)
        .sign(signingKey);
    },

    async signAccessToken(claims, signOptions) {
      const expiresIn = signOptions?.expiresInSeconds ?? ACCESS_TOKEN_EXPIRES_IN_SECONDS;
      const issuedAt = Math.floor(now().getTime() / 1000);
      return new SignJWT({
        client_id: claims.clientId,
        token_use: 'access',
        scope: claims.scope,
        auth_time: issuedAt,
        jti: randomUUID(),
      })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: privateJwk.kid })
        .setSubject(claims.clientId)
        .setIssuer(issuer)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + expiresIn)
        .sign(signingKey);
    },

    async verify(authorizationHeader) {
      const token = extractBearerToken(authorizationHeader);
      let payload: JWTPayload;
      try {
        // The authorizer finds the key by `kid`; a token without one never matches.
        if (typeof decodeProtectedHeader(token).kid !== 'string')
          throw new JwtVerificationError('unknown_key');
        ({ payload } = await jwtVerify(token, keySet, {
          algorithms: [ALGORITHM],
          issuer,
          requiredClaims: ['exp'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: now(),
        }));
      } catch (error) {
        throw toVerificationError(error);
      }
      checkAudience(payload, audiences);
      checkIssuedAt(payload, now());
      return { claims: flattenClaimsLikeApiGateway(payload), scopes: null };
    },
  };
}

function extractBearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw new JwtVerificationError('missing_token');
  const match = /^Bearer +([^\s]+)\s*$/.exec(header);
  const token = match?.[1];
  if (token === undefined) throw new JwtVerificationError('missing_token');
  return token;
}

/**
 * `aud` must name one of the audiences; a token without `aud` must name one in `client_id` (Cognito
 * access tokens). As at API Gateway, `client_id` is only looked at when `aud` is absent.
 */
function checkAudience(payload: JWTPayload, audiences: readonly string[]): void {
  const { aud } = payload;
  const clientId: unknown = payload['client_id'];
  const matches =
    aud === undefined
      ? typeof clientId === 'string' && audiences.includes(clientId)
      : (Array.isArray(aud) ? aud : [aud]).some((value) => audiences.includes(value));
  if (!matches) throw new JwtVerificationError('wrong_audience');
}

/** `iat`, when present, must not be in the future (jose only checks it when a maximum age is set). */
function checkIssuedAt(payload: JWTPayload, now: Date): void {
  if (payload.iat === undefined) return;
  if (payload.iat > now.getTime() / 1000 + CLOCK_TOLERANCE_SECONDS) {
    throw new JwtVerificationError('not_yet_valid');
  }
}

function toVerificationError(error: unknown): JwtVerificationError {
  if (error instanceof JwtVerificationError) return error;
  if (error instanceof errors.JWTExpired) return new JwtVerificationError('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new JwtVerificationError('wrong_issuer');
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return new JwtVerificationError('not_yet_valid');
    }
    return new JwtVerificationError('invalid_claims');
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new JwtVerificationError('unsupported_algorithm');
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new JwtVerificationError('unknown_key');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new JwtVerificationError('bad_signature');
  return new JwtVerificationError('malformed_token');
}

async function loadOrCreateSigningKey(dir: string): Promise<PrivateRsaJwk> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, SIGNING_KEY_FILE);
  const existing = await readSigningKey(file);
  if (existing !== undefined) return existing;

  const created = await generateSigningKey();
  // Write to a private temporary file, then hard-link it into place: `link` fails if another
  // process created the key first, in which case that key wins and this one is discarded.
  const temporary = join(dir, `.${SIGNING_KEY_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temporary, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
  } catch (error) {
    if (!isErrnoException(error) || error.code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  const stored = await readSigningKey(file);
  if (stored === undefined) throw new DevIssuerKeyError(`Could not create the dev signing key at ${file}.`);
  return stored;
}

async function readSigningKey(file: string): Promise<PrivateRsaJwk | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DevIssuerKeyError(
      `The dev signing key ${file} is not valid JSON; delete it to create a new one.`,
    );
  }
  const result = PrivateRsaJwkSchema.safeParse(parsed);
  if (!result.success) {
    throw new DevIssuerKeyError(
      `The dev signing key ${file} is not a private RS256 JWK; delete it to create a new one.`,
    );
  }
  await restrictPermissions(file);
  return result.data;
}

/** Tightens a key file someone loosened (e.g. copied with a permissive umask) back to owner-only. */
async function restrictPermissions(file: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
}

async function generateSigningKey(): Promise<PrivateRsaJwk> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'sha256');
  return PrivateRsaJwkSchema.parse({ ...jwk, kid, alg: ALGORITHM, use: 'sig' });
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
