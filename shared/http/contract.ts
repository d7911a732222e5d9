import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { ForbiddenError, NotFoundError, ValidationError, type ErrorDetail } from '../domain/errors.ts';
import { hasAnyRole, type Principal, type Role } from '../domain/principal.ts';
import type { Deps } from '../usecases/deps.ts';
import type { MachineClientBindings } from './principal.ts';
import { getHeader, jsonResponse, parseRequestBody, SECURITY_HEADERS } from './middleware.ts';

/**
 * The shape of one route record and the machinery that serves it. The records themselves are in
 * `routes.ts`; this module knows nothing about any particular operation.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Tags group operations in the document (and in generated clients). */
export const TAGS = {
  system: 'Health, discovery and the API document.',
  runs: 'Start workflow runs and follow them.',
  review: 'Drafts awaiting a person: read, edit, approve, reject, escalate.',
  finance: 'Cost reports, budgets and prices.',
  metrics: 'Review outcomes and cost per approved draft.',
  actions: 'Action targets: where a tenant’s approved actions are sent, signed.',
  events: 'Webhooks: signed event deliveries to a tenant’s endpoints, their log and redelivery.',
  sources: 'The source catalogue and the records a tenant’s integration pushes.',
  connectors: 'Pull connectors: a tenant’s own HTTP endpoint per source, with its secret.',
} as const;
export type Tag = keyof typeof TAGS;

/** The error statuses an operation may declare, each with the one meaning it has across the API. */
export const ERROR_STATUSES = {
  400: 'The request is invalid (malformed JSON, schema or business-rule violation); `details` lists each problem.',
  401: 'No valid bearer token.',
  402: 'The tenant’s budget is spent (`budget_exceeded`).',
  403: 'The caller’s roles do not allow this operation.',
  404: 'The resource does not exist or belongs to another tenant.',
  406: 'The requested media type is not served.',
  409: 'The resource is not in a state that allows this (illegal transition, idempotency key reuse).',
  412: 'The `If-Match` version is stale.',
  413: 'The request body is too large.',
  415: 'The request body is not JSON.',
  428: 'The operation requires `If-Match`.',
  429: 'Too many requests (`rate_limited`); retry after `Retry-After` seconds.',
  500: 'An internal error; the body carries only the request id.',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUSES;

/** Settings the router needs from config (parsed once in the composition root). */
export interface ApiSettings {
  environment: string;
  tenantClaim: string;
  rolesClaim: string;
  /** Machine clients (client credentials) bound to tenants; unset: no machine client is accepted. */
  machineClients?: MachineClientBindings | undefined;
}

/** What a handler gets: everything already parsed against the record's own schemas. */
export interface HandlerContext<P, Q, H, B> {
  deps: Deps;
  settings: ApiSettings;
  path: P;
  query: Q;
  headers: H;
  body: B;
  /** The request's media type (without parameters), e.g. `application/merge-patch+json`. */
  contentType: string | undefined;
}

/** A JSON answer; `headers` are the response headers the record documents. */
export interface JsonReply<T> {
  body: T;
  headers?: Record<string, string>;
  /** The answer created the resource: 201 instead of the record's status (records with `created`). */
  created?: boolean;
}
/** A non-JSON answer, for records that declare an extra media type (e.g. the ledger's CSV). */
export interface TextReply {
  text: string;
  contentType: string;
  headers?: Record<string, string>;
}

type ZodObjectOrUndefined = z.ZodObject | undefined;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** Who may call: nobody needs a token (`public`), or the listed roles (checked at the door). */
export type Access = 'public' | readonly Role[];

interface RecordFields<P, Q, H, B, R> {
  /** The operationId; stable, camelCase, used by generated clients. */
  operation: string;
  method: HttpMethod;
  /** An API Gateway path template: `/v1/drafts/{draftId}`. */
  path: string;
  summary: string;
  description?: string;
  tag: Tag;
  access: Access;
  params?: { path?: P; query?: Q; header?: H };
  body?: {
    schema: B;
    /** Media types the body may come in; the first is the default. */
    mediaTypes?: readonly string[];
    required: boolean;
    /** A larger body limit than the default, for operations that take batches. */
    maxBytes?: number;
    example?: unknown;
  };
  response: {
    /** 204: no content; the handler answers `{ body: undefined }` and `schema` is not documented. */
    status: 200 | 201 | 202 | 204;
    description: string;
    schema: R;
    headers?: z.ZodObject;
    /** An upsert: the description of its 201 answer (same schema) when the call created the resource. */
    created?: string;
    /** Another media type the same operation can answer with (`text/csv`), with its schema. */
    alternative?: { mediaType: string; schema: z.ZodType; example?: string };
    example?: unknown;
  };
  /** The error statuses this operation really returns (500 is added to every operation). */
  errors: readonly ErrorStatus[];
}

/** A route that needs a token: the handler gets the caller, already checked against `access`. */
export type RouteSpec<
  P extends ZodObjectOrUndefined,
  Q extends ZodObjectOrUndefined,
  H extends ZodObjectOrUndefined,
  B extends z.ZodType | undefined,
  R extends z.ZodType,
> = RecordFields<P, Q, H, B, R> & {
  access: readonly Role[];
  handler: (
    context: HandlerContext<Out<P>, Out<Q>, Out<H>, Out<B>> & { principal: Principal },
  ) => Promise<JsonReply<z.input<R>> | TextReply>;
};

/** A route served without a token (health, the document): no caller, no input. */
export type PublicRouteSpec<R extends z.ZodType> = Omit<
  RecordFields<undefined, undefined, undefined, undefined, R>,
  'access' | 'params' | 'body'
> & {
  handler: (
    context: HandlerContext<undefined, undefined, undefined, undefined>,
  ) => Promise<JsonReply<z.input<R>>>;
};

/** What a request brings to a route once the principal is known (null on public routes). */
export interface RouteInput {
  event: APIGatewayProxyEventV2;
  principal: Principal | null;
  deps: Deps;
  settings: ApiSettings;
}

/** A route record with its types erased, as the router, the local server, CDK and the document read it. */
export interface Route extends RecordFields<
  z.ZodObject | undefined,
  z.ZodObject | undefined,
  z.ZodObject | undefined,
  z.ZodType | undefined,
  z.ZodType
> {
  /** Derived from `access`: whether the JWT authorizer guards the route. */
  auth: boolean;
  /** Parses the request against the record's schemas, checks roles and calls the handler. */
  invoke(input: RouteInput): Promise<APIGatewayProxyStructuredResultV2>;
}

function issuesOf(error: z.ZodError, prefix = ''): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}

/** `draftId` → `Draft`: the resource a bad path parameter names, answered like a missing one. */
function resourceOf(parameter: string): string {
  const base = parameter.replace(/Id$/, '');
  return `${base.charAt(0).toUpperCase()}${base.slice(1)}`;
}

function parsePath(schema: z.ZodObject | undefined, event: APIGatewayProxyEventV2): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(event.pathParameters ?? {});
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]?.path[0];
  // Ids that are not ours cannot exist: answer exactly like a missing resource.
  throw new NotFoundError(resourceOf(typeof first === 'string' ? first : 'resource'));
}

function parseQuery(schema: z.ZodObject | undefined, event: APIGatewayProxyEventV2): unknown {
  const raw = event.queryStringParameters ?? {};
  if (!schema) {
    if (Object.keys(raw).length > 0)
      throw new ValidationError(
        'This operation takes no query parameters.',
        Object.keys(raw).map((name) => ({ path: name, message: 'unknown query parameter' })),
      );
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('The query string is invalid.', issuesOf(parsed.error));
  return parsed.data;
}

function parseHeaders(schema: z.ZodObject | undefined, event: APIGatewayProxyEventV2): unknown {
  if (!schema) return undefined;
  const values: Record<string, string> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = getHeader(event, name);
    if (value !== undefined) values[name] = value;
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? '')))].map(
      headerName,
    );
    throw new ValidationError(`The ${names.join(', ')} header is invalid.`, issuesOf(parsed.error));
  }
  return parsed.data;
}

/** `idempotency-key` → `Idempotency-Key`, as the header is usually written. */
function headerName(name: string): string {
  return name
    .split('-')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('-');
}

function mediaTypeOf(event: APIGatewayProxyEventV2): string | undefined {
  return getHeader(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
}

function parseBody(
  spec: { schema: z.ZodType | undefined; required: boolean; maxBytes?: number } | undefined,
  event: APIGatewayProxyEventV2,
): unknown {
  const raw = parseRequestBody(event, spec?.maxBytes);
  if (!spec?.schema) {
    // A JSON `{}` is tolerated (clients that always send a body); anything else is refused.
    if (raw !== undefined && (typeof raw !== 'object' || raw === null || Object.keys(raw).length > 0)) {
      throw new ValidationError('This operation takes no request body.', [
        { path: '', message: 'expected no body' },
      ]);
    }
    return undefined;
  }
  if (raw === undefined && !spec.required) return undefined;
  const parsed = spec.schema.safeParse(raw ?? {});
  if (!parsed.success) throw new ValidationError('The request body is invalid.', issuesOf(parsed.error));
  return parsed.data;
}

function requireAccess(access: readonly Role[], principal: Principal | null): Principal {
  if (!principal || !hasAnyRole(principal, access)) throw new ForbiddenError();
  return principal;
}

function toResult(status: number, reply: JsonReply<unknown> | TextReply): APIGatewayProxyStructuredResultV2 {
  if ('text' in reply) {
    return {
      statusCode: status,
      headers: { ...SECURITY_HEADERS, 'content-type': reply.contentType, ...reply.headers },
      body: reply.text,
    };
  }
  if (status === 204) return { statusCode: 204, headers: { ...SECURITY_HEADERS, ...reply.headers } };
  return jsonResponse(reply.created === true ? 201 : status, reply.body, reply.headers);
}

/**
 * Declares one operation that needs a token. The handler's parameter types come from the
 * record's own schemas, so what the document says and what the handler gets cannot differ.
 */
export function defineRoute<
  P extends ZodObjectOrUndefined = undefined,
  Q extends ZodObjectOrUndefined = undefined,
  H extends ZodObjectOrUndefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends z.ZodType = z.ZodType,
>(spec: RouteSpec<P, Q, H, B, R>): Route {
  return {
    ...spec,
    auth: true,
    async invoke({ event, principal, deps, settings }) {
      const caller = requireAccess(spec.access, principal);
      // The parsers return what the record's schemas produced; the casts only restore those types.
      const reply = await spec.handler({
        deps,
        settings,
        principal: caller,
        path: parsePath(spec.params?.path, event) as Out<P>,
        query: parseQuery(spec.params?.query, event) as Out<Q>,
        headers: parseHeaders(spec.params?.header, event) as Out<H>,
        body: parseBody(spec.body, event) as Out<B>,
        contentType: mediaTypeOf(event),
      });
      return toResult(spec.response.status, reply);
    },
  };
}

/** Declares one operation served without a token. */
export function definePublicRoute<R extends z.ZodType>(spec: PublicRouteSpec<R>): Route {
  return {
    ...spec,
    access: 'public',
    auth: false,
    async invoke({ event, deps, settings }) {
      const reply = await spec.handler({
        deps,
        settings,
        path: undefined,
        query: undefined,
        headers: undefined,
        body: undefined,
        contentType: mediaTypeOf(event),
      });
      return toResult(spec.response.status, reply);
    },
  };
}
