import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import {
  ModelQuotaExceededError,
  ModelRateLimitedError,
  ModelRequestRejectedError,
  ModelTimeoutError,
  ModelUnavailableError,
  type ModelRequest,
} from '#shared/domain/model.ts';
import { OpenAiModelClient, retryAfterMs, toModelError } from '#shared/adapters/openai/model-client.ts';
import { validBrief } from '../fakes/fixtures.ts';

interface SentRequest {
  url: string;
  authorization: string | null;
  body: unknown;
}

/** A fetch that answers from a script and records what the SDK sent. */
function scriptedFetch(answers: (() => Response)[]) {
  const sent: SentRequest[] = [];
  const fetchImpl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    sent.push({
      url: input instanceof Request ? input.url : String(input),
      authorization: headers.get('authorization'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : null,
    });
    const next = answers.shift();
    return next ? Promise.resolve(next()) : Promise.reject(new TypeError('no scripted answer'));
  };
  return { fetch: fetchImpl, sent };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): () => Response {
  return () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_abc123', ...headers },
    });
}

function responsesBody(overrides: Record<string, unknown> = {}) {
  return {
    id: 'resp_123',
    object: 'response',
    created_at: 1_790_000_000,
    status: 'completed',
    model: 'gpt-4.1-mini-2025-04-14',
    incomplete_details: null,
    output: [
      {
        type: 'message',
        id: 'msg_1',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: JSON.stringify(validBrief()), annotations: [] }],
      },
    ],
    usage: {
      input_tokens: 1500,
      input_tokens_details: { cached_tokens: 1024 },
      output_tokens: 420,
      output_tokens_details: { reasoning_tokens: 64 },
      total_tokens: 1920,
    },
    ...overrides,
  };
}

const REQUEST: ModelRequest = {
  model: 'gpt-4.1-mini',
  instructions: 'Write the brief.',
  input: '<context>{}</context>',
  outputSchema: RenewalBriefSchema,
  outputName: 'renewal_brief',
  maxOutputTokens: 2000,
  timeoutMs: 30_000,
};

function clientWith(answers: (() => Response)[], keys: string[] = ['sk-test-1']) {
  const scripted = scriptedFetch(answers);
  let calls = 0;
  const client = new OpenAiModelClient({
    apiKey: () => Promise.resolve(keys[Math.min(calls++, keys.length - 1)] ?? ''),
    baseURL: 'https://api.openai.test/v1',
    fetch: scripted.fetch,
  });
  return { client, sent: scripted.sent };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('OpenAiModelClient', () => {
  it('maps a completed response: text, usage with cached and reasoning tokens, and the response id', async () => {
    const { client } = clientWith([json(200, responsesBody())]);

    const response = await client.generate(REQUEST);

    expect(response).toEqual({
      model: 'gpt-4.1-mini-2025-04-14',
      outputText: JSON.stringify(validBrief()),
      refusal: null,
      finishReason: 'completed',
      usage: { inputTokens: 1500, cachedInputTokens: 1024, outputTokens: 420, reasoningTokens: 64 },
      providerRequestId: 'resp_123',
      latencyMs: expect.any(Number) as number,
    });
  });

  it('sends strict json_schema structured output with the schema name, the token limit and no storage', async () => {
    const { client, sent } = clientWith([json(200, responsesBody())]);

    await client.generate(REQUEST);

    expect(sent).toEqual([
      {
        url: 'https://api.openai.test/v1/responses',
        authorization: 'Bearer sk-test-1',
        body: {
          model: 'gpt-4.1-mini',
          instructions: 'Write the brief.',
          input: '<context>{}</context>',
          text: {
            format: {
              type: 'json_schema',
              name: 'renewal_brief',
              schema: expect.objectContaining({
                type: 'object',
                additionalProperties: false,
                required: [
                  'summary',
                  'health',
                  'risks',
                  'openQuestions',
                  'nextSteps',
                  'dataGaps',
                  'escalation',
                ],
              }) as unknown,
              strict: true,
            },
          },
          max_output_tokens: 2000,
          store: false,
        },
      },
    ]);
  });

  it('asks for the key on every request, so a rotated key is used without a restart', async () => {
    const { client, sent } = clientWith(
      [json(200, responsesBody()), json(200, responsesBody())],
      ['sk-old', 'sk-rotated'],
    );

    await client.generate(REQUEST);
    await client.generate(REQUEST);

    expect(sent.map((request) => request.authorization)).toEqual(['Bearer sk-old', 'Bearer sk-rotated']);
  });

  it('sends a request refused with 401 once more when the key has rotated since it was cached', async () => {
    const sent: string[] = [];
    const fetchImpl = (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const authorization = new Headers(init?.headers).get('authorization') ?? '';
      sent.push(authorization);
      return Promise.resolve(
        authorization === 'Bearer sk-rotated'
          ? json(200, responsesBody())()
          : json(401, {
              error: { message: 'Incorrect API key provided: sk-old.', code: 'invalid_api_key' },
            })(),
      );
    };
    let current = 'sk-old';
    const asked: boolean[] = [];
    const client = new OpenAiModelClient({
      apiKey: (options) => {
        asked.push(options?.fresh ?? false);
        const key = current;
        current = 'sk-rotated'; // rotated in Secrets Manager after the first read was cached
        return Promise.resolve(options?.fresh ? 'sk-rotated' : key);
      },
      baseURL: 'https://api.openai.test/v1',
      fetch: fetchImpl,
    });

    const response = await client.generate(REQUEST);

    expect(response.providerRequestId).toBe('resp_123');
    expect(sent).toEqual(['Bearer sk-old', 'Bearer sk-rotated']);
    expect(asked).toEqual([false, true, false]);
  });

  it('does not send again when the fresh key is the one the provider refused', async () => {
    const { client, sent } = clientWith(
      [json(401, { error: { message: 'Incorrect API key provided: sk-bad.', code: 'invalid_api_key' } })],
      ['sk-bad'],
    );

    const error = await failureOf(client.generate(REQUEST));

    expect(error).toBeInstanceOf(ModelRequestRejectedError);
    expect((error as Error).message).not.toContain('sk-bad');
    expect(sent).toHaveLength(1);
  });

  it('reads usage from an OpenAI-compatible server that omits the token details', async () => {
    const { client } = clientWith([
      json(200, responsesBody({ usage: { input_tokens: 900, output_tokens: 300, total_tokens: 1200 } })),
    ]);

    const response = await client.generate(REQUEST);

    expect(response.usage).toEqual({
      inputTokens: 900,
      cachedInputTokens: 0,
      outputTokens: 300,
      reasoningTokens: 0,
    });
  });

  it('reports an incomplete response with its reason', async () => {
    const { client } = clientWith([
      json(200, responsesBody({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } })),
    ]);

    const response = await client.generate(REQUEST);

    expect(response.finishReason).toBe('incomplete:max_output_tokens');
  });

  it('returns a refusal with no output text', async () => {
    const refusal = {
      type: 'message',
      id: 'msg_2',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'refusal', refusal: 'I cannot help with that.' }],
    };
    const { client } = clientWith([json(200, responsesBody({ output: [refusal] }))]);

    const response = await client.generate(REQUEST);

    expect({
      outputText: response.outputText,
      refusal: response.refusal,
      finishReason: response.finishReason,
    }).toEqual({ outputText: null, refusal: 'I cannot help with that.', finishReason: 'completed' });
  });

  it('maps 429 with retry-after-ms to a rate-limit error carrying the wait and the request id, and does not retry', async () => {
    const { client, sent } = clientWith([
      json(
        429,
        { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } },
        {
          'retry-after-ms': '1500',
        },
      ),
    ]);

    const error = await failureOf(client.generate(REQUEST));

    expect(error).toBeInstanceOf(ModelRateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 1500, providerRequestId: 'req_abc123', retryable: true });
    expect(sent).toHaveLength(1);
  });

  it('maps 429 insufficient_quota to a quota error that is not retryable', async () => {
    const { client } = clientWith([
      json(429, {
        error: {
          message: 'You exceeded your current quota',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
      }),
    ]);

    const error = await failureOf(client.generate(REQUEST));

    expect(error).toBeInstanceOf(ModelQuotaExceededError);
    expect(error).toMatchObject({ retryable: false, providerRequestId: 'req_abc123' });
  });

  it('maps 503 to an unavailable error and 400 to a rejected request, without provider text in the message', async () => {
    const { client } = clientWith([
      json(503, { error: { message: 'The engine is overloaded', type: 'server_error' } }),
      json(400, {
        error: {
          message: "Invalid schema for response_format 'renewal_brief'",
          type: 'invalid_request_error',
        },
      }),
    ]);

    const unavailable = await failureOf(client.generate(REQUEST));
    const rejected = await failureOf(client.generate(REQUEST));

    expect(unavailable).toEqual(new ModelUnavailableError('The model provider answered 503.', 'req_abc123'));
    expect(unavailable).toMatchObject({ retryable: true });
    expect(rejected).toEqual(
      new ModelRequestRejectedError('The model provider rejected the request (400).', 'req_abc123'),
    );
    expect(rejected).toMatchObject({ retryable: false });
  });

  it('maps an attempt that outlives its timeout to a timeout error', async () => {
    const hanging = ((_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          reject(new DOMException('The operation was aborted.', 'AbortError'));
        });
      })) as typeof fetch;
    const client = new OpenAiModelClient({ apiKey: () => Promise.resolve('sk-test'), fetch: hanging });

    const error = await failureOf(client.generate({ ...REQUEST, timeoutMs: 5 }));

    expect(error).toBeInstanceOf(ModelTimeoutError);
  });

  it('maps a connection failure to an unavailable error whose usage is unknown (it may have been billed)', async () => {
    const { client } = clientWith([]);

    const error = await failureOf(client.generate(REQUEST));

    expect(error).toEqual(
      new ModelUnavailableError('The model provider could not be reached.', null, undefined, true),
    );
  });
});

describe('toModelError', () => {
  it('maps timeouts, aborts and unknown values', () => {
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(toModelError(new OpenAI.APIConnectionTimeoutError())).toBeInstanceOf(ModelTimeoutError);
    expect(toModelError(abort)).toBeInstanceOf(ModelTimeoutError);
    expect(toModelError('boom')).toEqual(new Error('Unknown model client failure'));
    const plain = new RangeError('x');
    expect(toModelError(plain)).toBe(plain);
  });

  it('maps 408 and 409 to retryable unavailability', () => {
    for (const status of [408, 409]) {
      const error = toModelError(OpenAI.APIError.generate(status, undefined, undefined, new Headers()));
      expect(error).toEqual(new ModelUnavailableError(`The model provider answered ${status}.`, null));
    }
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-10-01T09:00:00Z');

  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    expect([
      retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now),
      retryAfterMs(new Headers({ 'retry-after': '2' }), now),
      retryAfterMs(new Headers({ 'retry-after': '1.5' }), now),
      retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Oct 2026 09:00:30 GMT' }), now),
    ]).toEqual([250, 2000, 1500, 30_000]);
  });

  it('falls back to retry-after when retry-after-ms is not a number', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': 'soon', 'retry-after': '3' }), now)).toBe(3000);
  });

  it('never returns a negative wait and returns null when nothing usable is given', () => {
    expect([
      retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Oct 2026 08:59:00 GMT' }), now),
      retryAfterMs(new Headers({ 'retry-after': 'later' }), now),
      retryAfterMs(new Headers(), now),
      retryAfterMs(undefined, now),
    ]).toEqual([0, null, null, null]);
  });
});
