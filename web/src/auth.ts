import type { CognitoAuthConfig, RuntimeConfig } from './config.ts';

/** Who is signed in, read from the bearer token's claims with the stage's claim names. */
export interface Session {
  token: string;
  sub: string;
  tenantId: string;
  roles: string[];
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface DemoUser {
  sub: string;
  name: string;
  tenantId: string;
  roles: string[];
}

const TOKEN_KEY = 'rein.token';

function decodePayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('The token is not a JWT.');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(json, (char) => char.charCodeAt(0));
  const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof payload !== 'object' || payload === null) throw new Error('The token has no claims.');
  return payload as Record<string, unknown>;
}

/** The session a token stands for; null when it is malformed or expired. */
export function sessionFromToken(token: string, config: RuntimeConfig): Session | null {
  try {
    const claims = decodePayload(token);
    const sub = claims['sub'];
    const tenantId = claims[config.auth.tenantClaim];
    const rawRoles = claims[config.auth.rolesClaim];
    const exp = claims['exp'];
    const roles = Array.isArray(rawRoles)
      ? rawRoles.filter((role): role is string => typeof role === 'string')
      : typeof rawRoles === 'string'
        ? rawRoles.split(/[ ,]+/).filter(Boolean)
        : [];
    if (typeof sub !== 'string' || typeof tenantId !== 'string' || typeof exp !== 'number') return null;
    if (exp * 1000 <= Date.now()) return null;
    return { token, sub, tenantId, roles, expiresAt: exp };
  } catch {
    return null;
  }
}

/** Local stack only: the demo users of the seed, served by `GET /local/users`. */
export async function listDemoUsers(): Promise<DemoUser[]> {
  const response = await fetch('/local/users');
  if (!response.ok) throw new Error(`The demo users could not be loaded (${response.status}).`);
  const body = (await response.json()) as { users?: DemoUser[] };
  return body.users ?? [];
}

/** Local stack only: a token from the dev issuer (`POST /local/tokens`) for one demo user. */
export async function signInLocal(user: DemoUser, config: RuntimeConfig): Promise<Session> {
  const response = await fetch('/local/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: user.sub, tenantId: user.tenantId, roles: user.roles }),
  });
  if (!response.ok) throw new Error(`Sign-in failed (${response.status}).`);
  const { token } = (await response.json()) as { token: string };
  const session = sessionFromToken(token, config);
  if (!session) throw new Error('The issued token could not be read.');
  sessionStorage.setItem(TOKEN_KEY, token);
  return session;
}

/** oidc-client-ts is loaded only where Cognito signs users in, so the local console does not ship it. */
async function userManager(auth: CognitoAuthConfig) {
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  return new UserManager({
    authority: auth.authority,
    client_id: auth.clientId,
    redirect_uri: `${location.origin}/`,
    post_logout_redirect_uri: `${location.origin}/`,
    response_type: 'code',
    scope: auth.scope,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    // Cognito's discovery document lacks the logout endpoint: name the managed login's.
    metadataSeed: { end_session_endpoint: `${auth.domain}/logout` },
  });
}

/** Cognito: the managed login page, authorization code with PKCE. */
export async function signInCognito(auth: CognitoAuthConfig): Promise<void> {
  await (await userManager(auth)).signinRedirect();
}

/**
 * The session at start: completes a Cognito redirect (`?code=&state=`) when there is one,
 * otherwise reuses a token kept in this tab.
 */
export async function restoreSession(config: RuntimeConfig): Promise<Session | null> {
  if (config.auth.mode === 'cognito') {
    const manager = await userManager(config.auth);
    const params = new URLSearchParams(location.search);
    if (params.has('code') && params.has('state')) {
      const user = await manager.signinRedirectCallback();
      history.replaceState(null, '', `${location.pathname}#/`);
      return user.id_token ? sessionFromToken(user.id_token, config) : null;
    }
    const user = await manager.getUser();
    // The API's authorizer reads tenant and groups from the ID token.
    return user?.id_token ? sessionFromToken(user.id_token, config) : null;
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? sessionFromToken(token, config) : null;
}

export async function signOut(config: RuntimeConfig): Promise<void> {
  sessionStorage.removeItem(TOKEN_KEY);
  if (config.auth.mode === 'cognito') {
    const manager = await userManager(config.auth);
    await manager.removeUser();
    // Cognito's logout takes client_id and logout_uri rather than the OIDC parameters.
    location.assign(
      `${config.auth.domain}/logout?client_id=${encodeURIComponent(config.auth.clientId)}&logout_uri=${encodeURIComponent(`${location.origin}/`)}`,
    );
  }
}
