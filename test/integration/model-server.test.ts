import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import type { ContextObject, EvidenceItem } from '#shared/domain/context.ts';
import { buildModelInput } from '#shared/usecases/prompt.ts';
import { validateRenewalBrief } from '#shared/workflows/renewal-brief.ts';
import { startModelServer, type ModelServer } from '#infra/local/model-server/index.ts';

const MODEL = 'gpt-4.1-mini';
const FETCHED_AT = '2026-10-01T09:00:00.000Z';
const SYSTEM_PROMPT = 'You are a renewal-brief assistant. Use only the evidence inside <context>.';

function item(id: string, source: EvidenceItem['source'], fields: EvidenceItem['fields']): EvidenceItem {
  return {
    id,
    source,
    recordId: id.split(':')[1] ?? id,
    fields,
    provenance: { fetchedAt: FETCHED_AT, contentHash: 'h' },
  };
}

function contextFor(accountId: string, name: string): ContextObject {
  return {
    workflowId: 'renewal-brief',
    accountId,
    fetchedAt: FETCHED_AT,
    notes: null,
    items: [
      item(`crm:${accountId}`, 'crm', { name, segment: 'enterprise', arr: 90000, ownerName: 'Alice Chen' }),
      item('ticket:T-101', 'tickets', {
        ticketId: 'T-101',
        subject: 'SSO outage',
        status: 'open',
        priority: 'urgent',
      }),
      item('invoice:INV-9', 'invoices', {
        invoiceId: 'INV-9',
        amount: 4500,
        currency: 'USD',
        status: 'overdue',
        dueDate: '2026-08-31',
      }),
      item('contract:C-1', 'contract', { contractId: 'C-1', endDate: '2026-12-31', autoRenew: false }),
    ],
    dataGaps: [{ source: 'usage', reason: 'not_found', detail: 'No usage record exists for this account.' }],
  };
}

const northwind = contextFor('acct-northwind', 'Northwind Traders');
const globex = contextFor('acct-globex', 'Globex');

let server: ModelServer;
let client: OpenAI;

/** The call the model gateway makes, through the real SDK. */
function requestBrief(context: ContextObject, options: { client?: OpenAI; maxOutputTokens?: number } = {}) {
  return (options.client ?? client).responses.parse({
    model: MODEL,
    input: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: buildModelInput(context, null) },
    ],
    text: { format: zodTextFormat(RenewalBriefSchema, 'renewal_brief') },
    max_output_tokens: options.maxOutputTokens ?? 2000,
    store: false,
  });
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  server = await startModelServer({ port: 0 });
  client = new OpenAI({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.reset();
});

describe('local model server, called through the openai SDK', () => {
  it('answers responses.parse with a grounded, schema-valid brief and usage', async () => {
    const { data: response, request_id } = await requestBrief(northwind).withResponse();

    expect(response.status).toBe('completed');
    expect(response.model).toBe(MODEL);
    expect(response.id).toMatch(/^resp_/);
    expect(request_id).toMatch(/^req_/);
    const brief = response.output_parsed;
    expect(brief).not.toBeNull();
    if (brief === null) return;
    expect(RenewalBriefSchema.parse(brief)).toEqual(brief);
    expect(validateRenewalBrief(brief, northwind)).toEqual([]);
    expect(brief.summary).toContain('Northwind Traders');
    expect(brief.health).toBe('critical');
    expect(brief.dataGaps.map((gap) => gap.source)).toEqual(['usage']);
    expect(JSON.parse(response.output_text)).toEqual(brief);

    const usage = response.usage;
    expect(usage?.input_tokens).toBe(
      Math.ceil(`${SYSTEM_PROMPT}\n${buildModelInput(northwind, null)}`.length / 4),
    );
    expect(usage?.output_tokens).toBe(Math.ceil(response.output_text.length / 4));
    expect(usage?.total_tokens).toBe((usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0));
    expect(usage?.input_tokens_details.cached_tokens).toBe(0);
    expect(usage?.output_tokens_details.reasoning_tokens).toBe(0);
  });

  it('accepts the gateway form too: instructions plus a string input', async () => {
    const response = await client.responses.parse({
      model: MODEL,
      instructions: SYSTEM_PROMPT,
      input: buildModelInput(globex, ['dataGaps must list the missing source "usage"']),
      text: { format: zodTextFormat(RenewalBriefSchema, 'renewal_brief') },
      max_output_tokens: 2000,
      store: false,
    });

    expect(response.output_parsed?.summary).toContain('Globex');
  });

  it('reads messages whose content is a list of input_text parts', async () => {
    const response = await client.responses.parse({
      model: MODEL,
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: SYSTEM_PROMPT }] },
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: buildModelInput(globex, null) }],
        },
      ],
      text: { format: zodTextFormat(RenewalBriefSchema, 'renewal_brief') },
    });

    expect(response.output_parsed?.summary).toContain('Globex');
    expect(response.usage?.input_tokens).toBe(
      Math.ceil(`${SYSTEM_PROMPT}\n${buildModelInput(globex, null)}`.length / 4),
    );
  });

  it('reports the repeated system prompt as cached input on the next call', async () => {
    const first = await requestBrief(northwind);
    const second = await requestBrief(globex);

    expect(first.usage?.input_tokens_details.cached_tokens).toBe(0);
    expect(second.usage?.input_tokens_details.cached_tokens).toBe(Math.ceil(SYSTEM_PROMPT.length / 4));
  });

  it('answers other structured output formats with a value that fits their schema', async () => {
    const Other = z.object({
      label: z.enum(['spam', 'ham']),
      score: z.number().min(0).max(1),
      reasons: z.array(z.string()),
      note: z.string().nullable(),
    });
    const response = await client.responses.parse({
      model: 'gpt-4o-mini',
      input: 'Classify this message.',
      text: { format: zodTextFormat(Other, 'classification') },
    });

    expect(response.output_parsed).toEqual({ label: 'spam', score: 0, reasons: [], note: '' });
  });

  it('stops at max_output_tokens with status incomplete', async () => {
    const response = await requestBrief(northwind, { maxOutputTokens: 16 });

    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output_parsed).toBeNull();
    expect(response.output_text).toHaveLength(64);
    expect(response.usage?.output_tokens).toBe(16);
  });

  it('rejects stream: true and malformed bodies in OpenAI error shape', async () => {
    const streamed = await failureOf(
      client.responses.create({ model: MODEL, input: 'hi', stream: true }).then(() => undefined),
    );
    expect(streamed).toBeInstanceOf(OpenAI.BadRequestError);
    expect(streamed).toMatchObject({ status: 400, param: 'stream', type: 'invalid_request_error' });

    const missingModel = await fetch(`${server.url}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'hi' }),
    });
    expect(missingModel.status).toBe(400);
    expect(await missingModel.json()).toEqual({
      error: {
        message: "Missing required parameter: 'model'.",
        type: 'invalid_request_error',
        param: 'model',
        code: 'missing_required_parameter',
      },
    });

    const notJson = await fetch(`${server.url}/responses`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { type: 'invalid_request_error' } });

    const unknownRoute = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{}' });
    expect(unknownRoute.status).toBe(404);
    expect(await unknownRoute.json()).toMatchObject({
      error: { message: 'Invalid URL (POST /v1/chat/completions)' },
    });
  });
});

describe('fault injection', () => {
  it('rate_limit: a RateLimitError with retry-after headers and the rate_limit_exceeded code', async () => {
    server.addFaults({ faults: [{ kind: 'rate_limit', retryAfterSeconds: 7, retryAfterMs: 6500 }] });
    const error = await failureOf(requestBrief(northwind));

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(error instanceof OpenAI.RateLimitError)) return;
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('requests');
    expect(error.headers.get('retry-after')).toBe('7');
    expect(error.headers.get('retry-after-ms')).toBe('6500');
    expect(error.requestID).toMatch(/^req_/);
  });

  it('insufficient_quota: a RateLimitError with the insufficient_quota code', async () => {
    server.addFaults({ faults: [{ kind: 'insufficient_quota' }] });
    const error = await failureOf(requestBrief(northwind));

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
  });

  it('server_error: an InternalServerError with the chosen status', async () => {
    server.addFaults({
      faults: [
        { kind: 'server_error', status: 503 },
        { kind: 'server_error', status: 502 },
      ],
    });

    expect(await failureOf(requestBrief(northwind))).toMatchObject({ status: 503, type: 'server_error' });
    const second = await failureOf(requestBrief(northwind));
    expect(second).toBeInstanceOf(OpenAI.InternalServerError);
    expect(second).toMatchObject({ status: 502 });
  });

  it('timeout: the client times out, and nothing is charged for the dropped answer', async () => {
    server.addFaults({ faults: [{ kind: 'timeout', delayMs: 300 }] });
    const impatient = new OpenAI({ apiKey: 'test', baseURL: server.url, maxRetries: 0, timeout: 100 });
    const error = await failureOf(requestBrief(northwind, { client: impatient }));
    // Let the server's delay run out: the answer it would have sent must not be counted.
    await new Promise((resolve) => setTimeout(resolve, 400));

    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(server.stats().faultsServed).toEqual({ timeout: 1 });
    expect(server.stats().byModel[MODEL]).toEqual({
      requests: 1,
      inputTokens: 0,
      cachedInputTokens: 0,
      outputTokens: 0,
    });
  });

  it('timeout: a patient client gets the normal answer after the delay', async () => {
    server.addFaults({ faults: [{ kind: 'timeout', delayMs: 50 }] });
    const response = await requestBrief(northwind);

    expect(response.status).toBe('completed');
    expect(response.output_parsed?.summary).toContain('Northwind Traders');
  });

  it('connection_reset: an APIConnectionError that is not a timeout', async () => {
    server.addFaults({ faults: [{ kind: 'connection_reset' }] });
    const error = await failureOf(requestBrief(northwind));

    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('refusal: a completed response whose content is a refusal, with nothing parsed', async () => {
    server.addFaults({ faults: [{ kind: 'refusal' }] });
    const response = await requestBrief(northwind);

    expect(response.status).toBe('completed');
    expect(response.output_parsed).toBeNull();
    const message = response.output[0];
    expect(message?.type === 'message' ? message.content : null).toEqual([
      { type: 'refusal', refusal: "I'm sorry, but I can't help with that request." },
    ]);
    expect(response.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('truncated: status incomplete with JSON cut in the middle', async () => {
    server.addFaults({ faults: [{ kind: 'truncated' }] });
    const response = await requestBrief(northwind);

    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output_parsed).toBeNull();
    expect(response.output_text.startsWith('{"summary":')).toBe(true);
    expect(() => JSON.parse(response.output_text) as unknown).toThrow(SyntaxError);
    expect(response.usage?.output_tokens).toBe(2000);
  });

  it('invalid_json: parse throws a SyntaxError, create returns the raw text', async () => {
    server.addFaults({ faults: [{ kind: 'invalid_json' }, { kind: 'invalid_json' }] });

    const error = await failureOf(requestBrief(northwind));
    expect(error).toBeInstanceOf(SyntaxError);
    expect(String(error)).toMatch(/invalid structured output JSON/);

    const raw = await client.responses.create({
      model: MODEL,
      input: buildModelInput(northwind, null),
      text: { format: zodTextFormat(RenewalBriefSchema, 'renewal_brief') },
    });
    expect(raw.status).toBe('completed');
    expect(raw.output_text).toMatch(/^Sure! Here is the renewal brief you asked for:/);
  });

  it('schema_invalid: valid JSON that fails the zod schema', async () => {
    server.addFaults({ faults: [{ kind: 'schema_invalid' }] });
    const error = await failureOf(requestBrief(northwind));

    expect(error).toBeInstanceOf(z.ZodError);
    if (!(error instanceof z.ZodError)) return;
    expect(error.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['health', 'risks']);
  });

  it('invented_evidence: a schema-valid brief whose first risk cites an id not in the context', async () => {
    server.addFaults({ faults: [{ kind: 'invented_evidence' }] });
    const response = await requestBrief(northwind);
    const brief = response.output_parsed;

    expect(brief).not.toBeNull();
    if (brief === null) return;
    const known = new Set(northwind.items.map((entry) => entry.id));
    expect(brief.risks[0]?.evidence.some((id) => !known.has(id))).toBe(true);
    expect(validateRenewalBrief(brief, northwind)).toEqual([
      'risks[0].evidence cites "ticket:T-9001", which is not in the context',
    ]);
  });

  it('applies a rule only to requests whose input contains its match, in order', async () => {
    server.addFaults({
      match: 'acct-globex',
      faults: [{ kind: 'server_error', status: 500 }, { kind: 'refusal' }],
    });

    expect((await requestBrief(northwind)).output_parsed?.summary).toContain('Northwind');
    expect(await failureOf(requestBrief(globex))).toBeInstanceOf(OpenAI.InternalServerError);
    expect((await requestBrief(northwind)).output_parsed).not.toBeNull();
    expect((await requestBrief(globex)).output_parsed).toBeNull();
    expect((await requestBrief(globex)).output_parsed?.summary).toContain('Globex');
    expect(server.stats().faultsServed).toEqual({ server_error: 1, refusal: 1 });
  });

  it('takes rules over HTTP and reports stats over HTTP', async () => {
    const base = server.url.replace(/\/v1$/, '');
    const added = await fetch(`${base}/__admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: [{ kind: 'server_error' }, { kind: 'refusal' }] }),
    });
    expect(added.status).toBe(201);
    const rejected = await fetch(`${base}/__admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ faults: [{ kind: 'meteor_strike' }] }),
    });
    expect(rejected.status).toBe(400);

    expect(await failureOf(requestBrief(northwind))).toMatchObject({ status: 500 });
    expect((await fetch(`${base}/__admin/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await requestBrief(northwind)).output_parsed).not.toBeNull();

    const stats: unknown = await (await fetch(`${base}/__admin/stats`)).json();
    expect(stats).toEqual(server.stats());
    expect(stats).toMatchObject({ requests: 2, faultsServed: { server_error: 1 } });
  });
});

describe('stats', () => {
  it('equal the usage the SDK saw, per model, with errors counted as requests but not usage', async () => {
    server.addFaults({
      faults: [{ kind: 'rate_limit', retryAfterSeconds: 1 }, { kind: 'truncated' }, { kind: 'refusal' }],
    });
    const seen = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
    const record = (response: OpenAI.Responses.Response): void => {
      seen.inputTokens += response.usage?.input_tokens ?? 0;
      seen.cachedInputTokens += response.usage?.input_tokens_details.cached_tokens ?? 0;
      seen.outputTokens += response.usage?.output_tokens ?? 0;
    };

    await failureOf(requestBrief(northwind));
    for (let attempt = 0; attempt < 4; attempt += 1)
      record(await requestBrief(attempt % 2 === 0 ? northwind : globex));
    const other = await client.responses.create({ model: 'gpt-4o-mini', input: 'Say hello.' });

    expect(server.stats()).toEqual({
      requests: 6,
      byModel: {
        [MODEL]: { requests: 5, ...seen },
        'gpt-4o-mini': {
          requests: 1,
          inputTokens: other.usage?.input_tokens,
          cachedInputTokens: 0,
          outputTokens: other.usage?.output_tokens,
        },
      },
      faultsServed: { rate_limit: 1, truncated: 1, refusal: 1 },
    });
    expect(seen.cachedInputTokens).toBeGreaterThan(0);
  });
});
