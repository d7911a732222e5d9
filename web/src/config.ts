/**
 * The stage's runtime settings, read from `/config.json` at start: the local stack serves one for
 * the dev issuer, CDK deploys one per stage next to the static files.
 */
export interface ClaimNames {
  tenantClaim: string;
  rolesClaim: string;
}

export interface LocalAuthConfig extends ClaimNames {
  mode: 'local';
}

export interface CognitoAuthConfig extends ClaimNames {
  mode: 'cognito';
  /** The user pool's OIDC issuer, e.g. https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc. */
  authority: string;
  clientId: string;
  /** The managed login domain, e.g. https://rein-dev-123.auth.eu-west-1.amazoncognito.com. */
  domain: string;
  scope: string;
}

export interface RuntimeConfig {
  stage: string;
  /** The API's base URL; empty means the console's own origin. */
  apiBaseUrl: string;
  /** How long a draft waits for review before it expires, for drafts that carry no `expiresAt`. */
  reviewTimeoutSeconds: number;
  auth: LocalAuthConfig | CognitoAuthConfig;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new Error(`config.json: ${where}${key} must be a string.`);
  return value;
}

/** Checks the shape of config.json and says which field is wrong. */
export function parseRuntimeConfig(raw: unknown): RuntimeConfig {
  if (!isRecord(raw)) throw new Error('config.json must be a JSON object.');
  const auth = raw['auth'];
  if (!isRecord(auth)) throw new Error('config.json: auth must be an object.');
  const claims = {
    tenantClaim: text(auth, 'tenantClaim', 'auth.'),
    rolesClaim: text(auth, 'rolesClaim', 'auth.'),
  };
  const timeout = raw['reviewTimeoutSeconds'];
  if (typeof timeout !== 'number' || timeout <= 0)
    throw new Error('config.json: reviewTimeoutSeconds must be a positive number.');
  const base = {
    stage: text(raw, 'stage', ''),
    apiBaseUrl: text(raw, 'apiBaseUrl', ''),
    reviewTimeoutSeconds: timeout,
  };
  if (auth['mode'] === 'local') return { ...base, auth: { mode: 'local', ...claims } };
  if (auth['mode'] === 'cognito') {
    return {
      ...base,
      auth: {
        mode: 'cognito',
        ...claims,
        authority: text(auth, 'authority', 'auth.'),
        clientId: text(auth, 'clientId', 'auth.'),
        domain: text(auth, 'domain', 'auth.'),
        scope: text(auth, 'scope', 'auth.'),
      },
    };
  }
  throw new Error('config.json: auth.mode must be "local" or "cognito".');
}

export async function loadRuntimeConfig(): Promise<RuntimeConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json could not be loaded (${response.status}).`);
  return parseRuntimeConfig(await response.json());
}
