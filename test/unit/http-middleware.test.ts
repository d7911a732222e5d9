import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  InternalError,
  PayloadTooLargeError,
  RateLimitedError,
  UnsupportedMediaTypeError,
  ValidationError,
  WorkflowStepError,
} from '#shared/domain/errors.ts';
import {
  errorResponse,
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  parseRequestBody,
  SECURITY_HEADERS,
} from '#shared/http/middleware.ts';
import { apiEvent } from '../fakes/api-events.ts';

function withBody(body: string, headers: Record<string, string>, isBase64Encoded = false) {
  return {
    ...apiEvent({ routeKey: 'POST /v1/workflows/{workflowId}/runs', headers }),
    body,
    isBase64Encoded,
  };
}

const JSON_TYPE = { 'content-type': 'application/json' };

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe('parseRequestBody', () => {
  it('parses a JSON body', () => {
    expect(parseRequestBody(withBody('{"accountId":"acct-1"}', JSON_TYPE))).toEqual({ accountId: 'acct-1' });
  });

  it('reads an empty or missing body as undefined', () => {
    expect(parseRequestBody(withBody('', JSON_TYPE))).toBeUndefined();
    expect(parseRequestBody(apiEvent({ routeKey: 'GET /v1/workflows' }))).toBeUndefined();
  });

  it('accepts JSON media types with parameters or a +json suffix, in any case', () => {
    for (const type of [
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/merge-patch+json',
    ]) {
      expect(parseRequestBody(withBody('{}', { 'Content-Type': type }))).toEqual({});
    }
  });

  it('answers 413 for a body over the limit before looking at its type or syntax', () => {
    const huge = 'x'.repeat(MAX_BODY_BYTES + 1);
    expect(() => parseRequestBody(withBody(huge, { 'content-type': 'text/plain' }))).toThrow(
      new PayloadTooLargeError(MAX_BODY_BYTES),
    );
  });

  it('counts the decoded bytes of a base64 body against the limit', () => {
    const body = Buffer.from(`"${'x'.repeat(MAX_BODY_BYTES)}"`).toString('base64');
    expect(() => parseRequestBody(withBody(body, JSON_TYPE, true))).toThrow(PayloadTooLargeError);
  });

  it('answers 415 when the content type is missing or not JSON', () => {
    const cases: Record<string, string>[] = [
      {},
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/jsonp' },
    ];
    for (const headers of cases) {
      expect(() => parseRequestBody(withBody('{}', headers))).toThrow(new UnsupportedMediaTypeError());
    }
  });

  it('answers 400 for malformed JSON', () => {
    expect(() => parseRequestBody(withBody('{"accountId":', JSON_TYPE))).toThrow(
      new ValidationError('The request body is not valid JSON.'),
    );
  });

  it('answers 400 for a base64 body that is not valid UTF-8', () => {
    const body = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64');
    expect(() => parseRequestBody(withBody(body, JSON_TYPE, true))).toThrow(
      new ValidationError('The request body is not valid UTF-8.'),
    );
  });

  it('decodes a valid base64 body', () => {
    const body = Buffer.from('{"notes":"Zoë"}').toString('base64');
    expect(parseRequestBody(withBody(body, JSON_TYPE, true))).toEqual({ notes: 'Zoë' });
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and answers 400 beyond`, () => {
    expect(parseRequestBody(withBody(nested(MAX_JSON_DEPTH), JSON_TYPE))).toBeInstanceOf(Array);
    expect(() => parseRequestBody(withBody(nested(MAX_JSON_DEPTH + 1), JSON_TYPE))).toThrow(
      new ValidationError('The request body is nested too deeply.'),
    );
  });

  it('answers 400 for deep nesting inside objects too', () => {
    const deep = '{"a":'.repeat(MAX_JSON_DEPTH + 1) + '1' + '}'.repeat(MAX_JSON_DEPTH + 1);
    expect(() => parseRequestBody(withBody(deep, JSON_TYPE))).toThrow(ValidationError);
  });
});

describe('errorResponse', () => {
  const logger = new Logger({ serviceName: 'rein-test', logLevel: 'SILENT' });

  it('keeps the code, message, details and request id of a caller error', () => {
    const response = errorResponse(
      new ConflictError('The draft is already approved.', [{ path: 'status', message: 'is approved' }]),
      'req-1',
      logger,
    );
    expect(response).toEqual({
      statusCode: 409,
      headers: SECURITY_HEADERS,
      body: JSON.stringify({
        error: {
          code: 'conflict',
          message: 'The draft is already approved.',
          details: [{ path: 'status', message: 'is approved' }],
          requestId: 'req-1',
        },
      }),
    });
  });

  it('passes the error headers through, such as Retry-After on 429', () => {
    const response = errorResponse(new RateLimitedError(3), 'req-2', logger);
    expect({ status: response.statusCode, headers: response.headers }).toEqual({
      status: 429,
      headers: { ...SECURITY_HEADERS, 'Retry-After': '3' },
    });
  });

  it('hides the message of every 5xx and unknown error behind a generic 500 with the request id', () => {
    const errors: unknown[] = [
      new InternalError('DynamoDB said: table rein-prod-workflow is throttled'),
      new WorkflowStepError('model_unavailable', 'provider said: key sk-live-123 invalid'),
      new TypeError('Cannot read properties of undefined'),
      'a thrown string',
    ];
    for (const error of errors) {
      expect(errorResponse(error, 'req-3', logger)).toEqual({
        statusCode: 500,
        headers: SECURITY_HEADERS,
        body: JSON.stringify({
          error: { code: 'internal_error', message: 'An internal error occurred.', requestId: 'req-3' },
        }),
      });
    }
  });

  it('logs a 5xx with the request id and the error name', () => {
    const spy = vi.spyOn(logger, 'error');
    errorResponse(new TypeError('boom'), 'req-4', logger);
    expect(spy.mock.calls).toEqual([
      ['Unhandled error', { requestId: 'req-4', errorName: 'TypeError', errorMessage: 'boom' }],
    ]);
  });
});
