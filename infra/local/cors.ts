import { z } from 'zod';
import type { TemplateSet } from './template.ts';

/** The HTTP API's CORS configuration as CloudFormation states it (`AWS::ApiGatewayV2::Api`). */
export const CorsConfigurationSchema = z.object({
  AllowOrigins: z.array(z.string()).default([]),
  AllowMethods: z.array(z.string()).default([]),
  AllowHeaders: z.array(z.string()).default([]),
  ExposeHeaders: z.array(z.string()).default([]),
  MaxAge: z.number().int().nonnegative().optional(),
  AllowCredentials: z.boolean().optional(),
});
export type CorsConfiguration = z.infer<typeof CorsConfigurationSchema>;

/** The CORS configuration CDK gave the stage's HTTP API, or null when it has none. */
export function corsOfTemplates(templates: TemplateSet): CorsConfiguration | null {
  const apis = templates.ofType('AWS::ApiGatewayV2::Api');
  if (apis.length !== 1) throw new Error(`Expected one HTTP API in the templates, found ${apis.length}.`);
  const raw = templates.resolve(apis[0]?.[1].Properties?.['CorsConfiguration']);
  return raw === undefined || raw === null ? null : CorsConfigurationSchema.parse(raw);
}

function originAllowed(cors: CorsConfiguration, origin: string): boolean {
  return cors.AllowOrigins.includes('*') || cors.AllowOrigins.includes(origin);
}

/**
 * Answers a CORS preflight as API Gateway's HTTP API does: `OPTIONS` with `Origin` and
 * `Access-Control-Request-Method` is answered 204 by the gateway itself (the integration is not
 * called), with the allow headers only when the origin and method are allowed.
 */
export function preflightHeaders(
  cors: CorsConfiguration,
  headers: Record<string, string>,
): Record<string, string> {
  const origin = headers['origin'];
  const method = headers['access-control-request-method']?.toUpperCase();
  if (!origin || !method || !originAllowed(cors, origin)) return {};
  const methods = cors.AllowMethods.map((allowed) => allowed.toUpperCase());
  if (!methods.includes('*') && !methods.includes(method)) return {};
  return {
    'access-control-allow-origin': cors.AllowOrigins.includes('*') ? '*' : origin,
    'access-control-allow-methods': cors.AllowMethods.join(','),
    ...(cors.AllowHeaders.length > 0 ? { 'access-control-allow-headers': cors.AllowHeaders.join(',') } : {}),
    ...(cors.MaxAge === undefined ? {} : { 'access-control-max-age': String(cors.MaxAge) }),
    ...(cors.AllowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    vary: 'origin',
  };
}

/** Whether a request is a CORS preflight the gateway answers itself. */
export function isPreflight(method: string, headers: Record<string, string>): boolean {
  return (
    method === 'OPTIONS' &&
    headers['origin'] !== undefined &&
    headers['access-control-request-method'] !== undefined
  );
}

/** The CORS headers API Gateway adds to an actual response for an allowed origin. */
export function responseCorsHeaders(
  cors: CorsConfiguration,
  headers: Record<string, string>,
): Record<string, string> {
  const origin = headers['origin'];
  if (!origin || !originAllowed(cors, origin)) return {};
  return {
    'access-control-allow-origin': cors.AllowOrigins.includes('*') ? '*' : origin,
    ...(cors.ExposeHeaders.length > 0
      ? { 'access-control-expose-headers': cors.ExposeHeaders.join(',') }
      : {}),
    ...(cors.AllowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    vary: 'origin',
  };
}
