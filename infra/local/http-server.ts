import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { WWW_AUTHENTICATE } from '#shared/domain/errors.ts';
import { RoleSchema } from '#shared/domain/principal.ts';
import { SECURITY_HEADERS } from '#shared/http/middleware.ts';
import { matchRoute, routeKey } from '#shared/http/routes.ts';
import { isPreflight, preflightHeaders, responseCorsHeaders, type CorsConfiguration } from './cors.ts';
import type { TokenEndpointReply } from './client-credentials.ts';
import type { DevIssuer } from './dev-issuer.ts';

/** One line per API request, as the HTTP API's access log has it. */
export interface RequestLogEntry {
  method: string;
  /** The matched route key (`GET /v1/runs/{runId}`), or the raw path when no route matched. */
  route: string;
  status: number;
  ms: number;
  requestId: string;
}

/** API Gateway's own payload limit is 10 MB; the local server stops reading there too. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;

const TokenRequestSchema = z
  .object({
    sub: z.string().min(1).max(128),
    tenantId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    roles: z.array(RoleSchema).min(1),
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional(),
  })
  .strict();

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function gatewayError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): void {
  send(
    res,
    status,
    { ...SECURITY_HEADERS, 'x-request-id': requestId, ...extraHeaders },
    JSON.stringify({ error: { code, message, requestId } }),
  );
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > GATEWAY_MAX_BODY) return 'too_large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The local stand-in for the HTTP API: matches the route list, checks the JWT as the authorizer
 * does, turns the request into an HTTP API v2 event and calls the real API Lambda handler.
 * `/local/*` routes exist only here: the dev issuer's JWKS, `POST /local/tokens` and the machine
 * clients' token endpoint `POST /local/oauth2/token` (client credentials, as Cognito's `/oauth2/token`).
 */
export function createLocalHttpServer(options: {
  api: ApiHandler;
  issuer: DevIssuer;
  /** The client-credentials token endpoint (see client-credentials.ts); unset answers 404. */
  tokenEndpoint?: (request: {
    contentType: string | undefined;
    authorization: string | undefined;
    body: string;
  }) => Promise<TokenEndpointReply>;
  /** Serves the review console's static files, `/config.json` and `/local/users` (see console-files.ts). */
  console?: (method: string, pathname: string, res: ServerResponse) => Promise<boolean>;
  /** The stage's CORS configuration from the CDK template; null answers no preflight, as without one. */
  cors?: CorsConfiguration | null;
  /** Called once per request when its response is sent. */
  log?: (entry: RequestLogEntry) => void;
}): Server {
  const { cors, log } = options;
  return createServer((req, res) => {
    const started = performance.now();
    const exchange = { requestId: randomUUID(), route: (req.url ?? '/').split('?')[0] ?? '/' };
    // As API Gateway does: CORS headers on every response to an allowed origin.
    if (cors) {
      const origin = req.headers.origin;
      for (const [name, value] of Object.entries(
        responseCorsHeaders(cors, origin === undefined ? {} : { origin }),
      ))
        res.setHeader(name, value);
    }
    if (log)
      res.once('finish', () => {
        log({
          method: (req.method ?? 'GET').toUpperCase(),
          route: exchange.route,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          requestId: exchange.requestId,
        });
      });
    void handle(req, res, exchange).catch(() => {
      if (!res.headersSent)
        gatewayError(res, 500, 'internal_error', 'An internal error occurred.', exchange.requestId);
      else res.end();
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    exchange: { requestId: string; route: string },
  ): Promise<void> {
    const { requestId } = exchange;
    // Concatenated, not resolved: a request target starting with `//` is a path here, as at API Gateway.
    let url: URL;
    try {
      url = new URL(`http://localhost${(req.url ?? '/').startsWith('/') ? '' : '/'}${req.url ?? '/'}`);
    } catch {
      gatewayError(res, 400, 'invalid_request', 'The request target is not a valid path.', requestId);
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    if (raw === 'too_large') {
      gatewayError(res, 413, 'payload_too_large', 'The request body is too large.', requestId);
      return;
    }

    if (url.pathname === '/local/.well-known/jwks.json' && method === 'GET') {
      send(res, 200, { 'content-type': 'application/json' }, JSON.stringify(options.issuer.jwks()));
      return;
    }
    if (url.pathname === '/local/oauth2/token' && method === 'POST' && options.tokenEndpoint) {
      const reply = await options.tokenEndpoint({
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: raw.toString('utf8'),
      });
      send(
        res,
        reply.status,
        { ...SECURITY_HEADERS, 'content-type': 'application/json', ...reply.headers },
        JSON.stringify(reply.body),
      );
      return;
    }
    if (url.pathname === '/local/tokens' && method === 'POST') {
      let parsed: z.ZodSafeParseResult<z.infer<typeof TokenRequestSchema>>;
      try {
        parsed = TokenRequestSchema.safeParse(JSON.parse(raw.toString('utf8')));
      } catch {
        gatewayError(res, 400, 'invalid_request', 'The request body is not valid JSON.', requestId);
        return;
      }
      if (!parsed.success) {
        gatewayError(res, 400, 'invalid_request', 'Expected {"sub","tenantId","roles":[…]}.', requestId);
        return;
      }
      const { expiresInSeconds, ...claims } = parsed.data;
      const token = await options.issuer.sign(
        claims,
        expiresInSeconds === undefined ? {} : { expiresInSeconds },
      );
      send(res, 200, SECURITY_HEADERS, JSON.stringify({ token }));
      return;
    }

    if (cors) {
      const requestHeaders: Record<string, string> = {};
      for (const name of ['origin', 'access-control-request-method']) {
        const value = req.headers[name];
        if (typeof value === 'string') requestHeaders[name] = value;
      }
      if (isPreflight(method, requestHeaders)) {
        // The gateway answers a preflight itself, for any path, without calling the integration.
        exchange.route = 'OPTIONS (CORS preflight)';
        send(res, 204, preflightHeaders(cors, requestHeaders), '');
        return;
      }
    }

    if (options.console && (await options.console(method, url.pathname, res))) return;

    const match = matchRoute(method, url.pathname);
    if (!match.route) {
      gatewayError(res, 404, 'not_found', 'No such route.', requestId);
      return;
    }
    const route = match.route;
    exchange.route = routeKey(route);

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    let authorizer: { jwt: { claims: Record<string, string>; scopes: null } } | undefined;
    if (route.auth) {
      try {
        authorizer = { jwt: await options.issuer.verify(headers['authorization']) };
      } catch {
        gatewayError(res, 401, 'unauthorized', 'A valid bearer token is required.', requestId, {
          'www-authenticate': WWW_AUTHENTICATE,
        });
        return;
      }
    }

    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams)
      query[name] = name in query ? `${query[name] ?? ''},${value}` : value;
    const now = new Date();
    const text = raw.byteLength > 0 && isUtf8(raw);
    const event = {
      version: '2.0',
      routeKey: routeKey(route),
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers,
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: match.pathParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: routeKey(route),
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(authorizer ? { authorizer } : {}),
      },
      // Like API Gateway: text bodies as they are, anything else base64-encoded.
      ...(raw.byteLength > 0 ? { body: text ? raw.toString('utf8') : raw.toString('base64') } : {}),
      isBase64Encoded: raw.byteLength > 0 && !text,
    } as APIGatewayProxyEventV2;

    const result = await options.api(event, { awsRequestId: requestId, functionName: 'api' });
    const responseHeaders: Record<string, string> = { 'x-request-id': requestId };
    for (const [name, value] of Object.entries(result.headers ?? {})) responseHeaders[name] = String(value);
    send(res, result.statusCode ?? 200, responseHeaders, result.body ?? '');
  }
}
