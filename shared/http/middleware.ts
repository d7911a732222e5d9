import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  PayloadTooLargeError,
  ReinError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 32;

/** The one error shape: `details` always `[{path, message}]`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[]; requestId: string };
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** The parsed request the router sees. */
export interface ApiRequest {
  event: APIGatewayProxyEventV2;
  requestId: string;
  body: unknown;
  headers: Record<string, string>;
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_JSON_DEPTH) return depth;
  if (value === null || typeof value !== 'object') return depth;
  let max = depth + 1;
  for (const child of Object.values(value as Record<string, unknown>)) {
    max = Math.max(max, depthOf(child, depth + 1));
    if (max > MAX_JSON_DEPTH) break;
  }
  return max;
}

/**
 * Reads the request body: size limit before parsing (413), JSON content type (415), valid UTF-8,
 * well-formed and not too deeply nested JSON (400). An empty body parses as `undefined`.
 */
export function parseRequestBody(event: APIGatewayProxyEventV2, maxBytes: number = MAX_BODY_BYTES): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const contentType = header(event, 'content-type');
  if (!contentType || !/^application\/(?:[a-z.+-]*\+)?json\s*(?:;.*)?$/i.test(contentType.trim())) {
    throw new UnsupportedMediaTypeError();
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError('The request body is not valid UTF-8.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
  if (depthOf(parsed) > MAX_JSON_DEPTH) throw new ValidationError('The request body is nested too deeply.');
  return parsed;
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...SECURITY_HEADERS, ...extraHeaders }, body: JSON.stringify(body) };
}

/** The one place errors become HTTP responses. 4xx keep their message; anything else is a generic 500. */
export function errorResponse(
  error: unknown,
  requestId: string,
  logger: Logger,
): APIGatewayProxyStructuredResultV2 {
  if (error instanceof ReinError && error.status < 500) {
    const body: ErrorBody = {
      error: {
        code: error.code,
        message: error.message,
        ...(error.details === undefined ? {} : { details: [...error.details] }),
        requestId,
      },
    };
    return jsonResponse(error.status, body, { ...error.headers });
  }
  logger.error('Unhandled error', {
    requestId,
    errorName: error instanceof Error ? error.name : typeof error,
    errorMessage: error instanceof Error ? error.message : undefined,
  });
  return jsonResponse(500, {
    error: { code: 'internal_error', message: 'An internal error occurred.', requestId },
  } satisfies ErrorBody);
}

/** middy middleware: maps any error to the stable error shape. Must be the first `.use()` so it wraps all others. */
export function httpErrors(
  logger: Logger,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: (request) => {
      const requestId = request.event.requestContext.requestId;
      request.response = errorResponse(request.error, requestId, logger);
    },
  };
}

export { header as getHeader };
