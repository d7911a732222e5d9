/**
 * The review console's runtime config (`/config.json`) and its response headers, shared by the
 * local stack and the CloudFront distribution so both serve the console the same way.
 */
export interface ConsoleRuntimeConfig {
  stage: string;
  apiBaseUrl: string;
  reviewTimeoutSeconds: number;
  auth:
    | { mode: 'local'; tenantClaim: string; rolesClaim: string }
    | {
        mode: 'cognito';
        tenantClaim: string;
        rolesClaim: string;
        authority: string;
        clientId: string;
        domain: string;
        scope: string;
      };
}

/** Scripts and styles only from the console's origin; API calls to `connectSources` (and itself). */
export function consoleContentSecurityPolicy(connectSources: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${connectSources.map((source) => ` ${source}`).join('')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
