/**
 * The local stand-in for a Cognito user pool's token endpoint (`/oauth2/token`) for the OAuth 2.0
 * client-credentials grant (RFC 6749 §4.4): a tenant's machine client sends its id and secret and
 * gets an access token like Cognito's (`client_id`, `scope`, `token_use: access`, no `aud`, no
 * tenant claim). The API then learns the tenant from Rein's binding of the client id, exactly as in
 * AWS. The clients are the seed's `machineClients`; their secrets exist only on the local stack.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DevIssuer } from './dev-issuer.ts';

/** The one scope of Rein's resource server on the local stack (`<identifier>/<scope>`, as in Cognito). */
export const LOCAL_MACHINE_SCOPE = 'rein-local/ingest';

/** Lifetime of the access tokens the endpoint issues, in seconds (Cognito's default). */
export const LOCAL_ACCESS_TOKEN_SECONDS = 3600;

export interface LocalMachineClient {
  clientId: string;
  clientSecret: string;
  tenantId: string;
}

/** What the endpoint answers: a status, a JSON body and extra headers. */
export interface TokenEndpointReply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): TokenEndpointReply {
  return { status, body: { error, error_description: description }, headers };
}

/** Compares secrets in constant time (over their SHA-256, so lengths need not match). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null | 'malformed' {
  if (header === undefined) return null;
  const match = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return 'malformed';
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and encoded.
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return 'malformed';
  }
}

/**
 * Builds the token endpoint for the given clients. Client authentication as Cognito takes it:
 * HTTP Basic (`client_secret_basic`) or `client_id` + `client_secret` form fields
 * (`client_secret_post`), not both. Errors follow RFC 6749 §5.2; a wrong id and a wrong secret
 * get the same answer, and neither the secret nor the token is ever part of an error.
 */
export function createTokenEndpoint(issuer: DevIssuer, clients: readonly LocalMachineClient[]) {
  const byId = new Map(clients.map((client) => [client.clientId, client]));
  return async function token(request: {
    contentType: string | undefined;
    authorization: string | undefined;
    body: string;
  }): Promise<TokenEndpointReply> {
    const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
      return oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(request.body);
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1) return oauthError(400, 'invalid_request', `${name} is repeated.`);
    }
    const grantType = form.get('grant_type');
    if (grantType === null) return oauthError(400, 'invalid_request', 'grant_type is required.');
    if (grantType !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported here.');
    }

    const basic = basicCredentials(request.authorization);
    const posted = form.has('client_id') || form.has('client_secret');
    if (basic === 'malformed') {
      return oauthError(401, 'invalid_client', 'Client authentication failed.', {
        'www-authenticate': 'Basic realm="rein-local"',
      });
    }
    if (basic !== null && posted) {
      return oauthError(400, 'invalid_request', 'Authenticate the client one way only.');
    }
    const credentials =
      basic ?? (posted ? { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' } : null);
    const client = credentials ? byId.get(credentials.id) : undefined;
    if (!credentials || !client || !sameSecret(credentials.secret, client.clientSecret)) {
      return oauthError(401, 'invalid_client', 'Client authentication failed.', {
        'www-authenticate': 'Basic realm="rein-local"',
      });
    }

    const requested = (form.get('scope') ?? LOCAL_MACHINE_SCOPE).split(' ').filter((s) => s !== '');
    if (requested.length === 0 || requested.some((scope) => scope !== LOCAL_MACHINE_SCOPE)) {
      return oauthError(400, 'invalid_scope', `The client may request only ${LOCAL_MACHINE_SCOPE}.`);
    }
    const accessToken = await issuer.signAccessToken(
      { clientId: client.clientId, scope: LOCAL_MACHINE_SCOPE },
      { expiresInSeconds: LOCAL_ACCESS_TOKEN_SECONDS },
    );
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: LOCAL_ACCESS_TOKEN_SECONDS, token_type: 'Bearer' },
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
    };
  };
}
