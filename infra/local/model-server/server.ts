/**
 * A local OpenAI-compatible model server (Responses API, non-streaming) for the local stack, evals
 * and tests. It answers `POST /v1/responses` with deterministic, context-grounded structured output
 * and can inject the faults Rein's gateway must survive (429 with `retry-after`, insufficient quota,
 * 5xx, slow answers, dropped connections, refusals, truncated, invalid or ungrounded output).
 *
 * Routes: `POST /v1/responses`; admin routes (not part of the OpenAI API) `GET /__admin/stats`,
 * `POST /__admin/faults` (a {@link FaultRule}), `DELETE /__admin/faults`, `POST /__admin/reset`,
 * `GET /__admin/health`.
 *
 * Token counts are ceil(characters / 4). Input tokens count the instructions and every message's
 * text (not the schema). Prompt caching is simulated: when a request's system part (instructions
 * plus system/developer messages) was already served for the same model since the last reset,
 * those tokens are reported as cached.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Response as OpenAIResponse,
  ResponseOutputMessage,
  ResponseTextConfig,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import { z } from 'zod';
import type { RenewalBrief } from '#shared/domain/brief.ts';
import { composeRenewalBrief, composeRenewalBriefWithActions, type ProposedAction } from './brief.ts';
import { extractContext } from './context.ts';
import { FaultQueue, FaultRuleSchema, type FaultKind, type FaultRule, type ResolvedFault } from './faults.ts';
import { sampleFromJsonSchema } from './json-schema.ts';
import { planToolCalls, toolFindings, type PlannedCall, type ToolRequest } from './tools.ts';

export interface ModelServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1 (loopback only). */
  host?: string;
}

export interface ModelUsageStats {
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

export interface ModelServerStats {
  /** Every `POST /v1/responses`, including rejected and faulted ones. */
  requests: number;
  /** Per requested model: requests (including faulted ones) and the usage reported to clients. */
  byModel: Record<string, ModelUsageStats>;
  /** Faults consumed, by kind. */
  faultsServed: Record<string, number>;
}

export interface ModelServer {
  /** Base URL including `/v1`, for `OPENAI_BASE_URL` or the SDK's `baseURL`. */
  url: string;
  close(): Promise<void>;
  stats(): ModelServerStats;
  /** Clears the stats, the queued faults and the simulated prompt cache. */
  reset(): void;
  /** Queues a fault rule; throws a `ZodError` when it is malformed. */
  addFaults(rule: FaultRule): void;
}

/** The largest request body accepted, in bytes. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";
const RENEWAL_BRIEF_FORMAT = 'renewal_brief';

const InputPartSchema = z.looseObject({ type: z.string().optional(), text: z.string().optional() });
const InputItemSchema = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.union([z.string(), z.array(InputPartSchema)]).optional(),
});
const TextFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullable().optional(),
    description: z.string().optional(),
  }),
]);
const ResponsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(InputItemSchema)]),
  instructions: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  max_output_tokens: z.int().min(1).nullable().optional(),
  text: z.looseObject({ format: TextFormatSchema.optional() }).nullable().optional(),
  tools: z
    .array(z.looseObject({ type: z.string(), name: z.string().optional() }))
    .nullable()
    .optional(),
  tool_choice: z
    .union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })])
    .nullable()
    .optional(),
});
type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
type TextFormat = z.infer<typeof TextFormatSchema>;

/** OpenAI's error body. */
interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error.message);
  }
}

function invalidRequest(message: string, param: string | null, code: string | null, status = 400): HttpError {
  return new HttpError(status, { error: { message, type: 'invalid_request_error', param, code } });
}

function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}

/** The request's text, split into the system part (cacheable prefix) and the rest. */
function readInputText(request: ResponsesRequest): { system: string; user: string; all: string } {
  const system: string[] = [];
  const user: string[] = [];
  if (request.instructions) system.push(request.instructions);
  if (typeof request.input === 'string') {
    user.push(request.input);
  } else {
    for (const item of request.input) {
      if (item.type !== undefined && item.type !== 'message') continue;
      const text =
        typeof item.content === 'string'
          ? item.content
          : (item.content ?? [])
              .flatMap((part) => (typeof part.text === 'string' ? [part.text] : []))
              .join('\n');
      (item.role === 'system' || item.role === 'developer' ? system : user).push(text);
    }
  }
  const systemText = system.join('\n');
  const userText = user.join('\n');
  return {
    system: systemText,
    user: userText,
    all: [systemText, userText].filter((t) => t.length > 0).join('\n'),
  };
}

/** The function tools offered, the tool choice, and the calls and outputs of earlier turns. */
function readToolRequest(request: ResponsesRequest): ToolRequest {
  const offered = (request.tools ?? []).flatMap((tool) =>
    tool.type === 'function' && typeof tool.name === 'string' ? [tool.name] : [],
  );
  const choice = typeof request.tool_choice === 'string' ? request.tool_choice : 'auto';
  const calls: ToolRequest['calls'][number][] = [];
  const outputs: ToolRequest['outputs'][number][] = [];
  if (Array.isArray(request.input)) {
    for (const item of request.input as Record<string, unknown>[]) {
      const id = typeof item['call_id'] === 'string' ? item['call_id'] : '';
      if (item['type'] === 'function_call') {
        calls.push({
          callId: id,
          name: typeof item['name'] === 'string' ? item['name'] : '',
          arguments: typeof item['arguments'] === 'string' ? item['arguments'] : '',
        });
      } else if (item['type'] === 'function_call_output') {
        outputs.push({ callId: id, output: typeof item['output'] === 'string' ? item['output'] : '' });
      }
    }
  }
  return { offered, choice, calls, outputs };
}

function parseRequest(raw: string): ResponsesRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw invalidRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
      null,
      null,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.', null, 'invalid_type');
  }
  const result = ResponsesRequestSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue ? issue.path.map(String).join('.') : null;
    const missing = issue?.code === 'invalid_type' && issue.input === undefined;
    throw invalidRequest(
      missing
        ? `Missing required parameter: '${param ?? ''}'.`
        : `Invalid value for '${param ?? ''}': ${issue?.message ?? 'invalid'}.`,
      param,
      missing ? 'missing_required_parameter' : 'invalid_value',
    );
  }
  if (result.data.stream === true) {
    throw invalidRequest(
      'Streaming is not supported by the local model server.',
      'stream',
      'unsupported_value',
    );
  }
  return result.data;
}

/** The brief, with the proposed actions when the requested format has room for them. */
type BriefAnswer = RenewalBrief & { proposedActions?: ProposedAction[] };

/** What the "model" means to answer, before faults and truncation. */
type Composed =
  | { kind: 'brief'; brief: BriefAnswer; evidenceIds: ReadonlySet<string> }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string };

function compose(format: TextFormat | undefined, userText: string, tools: ToolRequest): Composed {
  const context = extractContext(userText);
  if (format?.type === 'json_schema') {
    if (format.name !== RENEWAL_BRIEF_FORMAT)
      return { kind: 'json', value: sampleFromJsonSchema(format.schema) };
    // What earlier tool calls returned: new evidence to cite, failed sources to declare as gaps.
    const findings = toolFindings(tools);
    const grounded = context
      ? {
          ...context,
          dataGaps: [
            ...context.dataGaps,
            ...findings.failedSources
              .filter((source) => !context.dataGaps.some((gap) => gap.source === source))
              .map((source) => ({ source, reason: 'error' })),
          ],
        }
      : null;
    // Actions are proposed only when the requested format has room for them (prompt v2 and later).
    const properties = (format.schema as { properties?: Record<string, unknown> }).properties;
    const composed = composeRenewalBriefWithActions(grounded);
    const brief = { ...composed.brief, risks: [...composed.brief.risks, ...findings.risks] };
    return {
      kind: 'brief',
      brief:
        properties && 'proposedActions' in properties
          ? { ...brief, proposedActions: composed.proposedActions }
          : brief,
      evidenceIds: new Set([
        ...(context?.items ?? []).map((item) => item.id),
        ...findings.risks.flatMap((risk) => risk.evidence),
      ]),
    };
  }
  if (format?.type === 'json_object') return { kind: 'json', value: {} };
  return {
    kind: 'text',
    text: context
      ? composeRenewalBrief(context).summary
      : 'This is the local model server. Ask for structured output to get a generated value.',
  };
}

function inventEvidenceId(known: ReadonlySet<string>): string {
  for (let n = 9001; ; n += 1) {
    const id = `ticket:T-${n}`;
    if (!known.has(id)) return id;
  }
}

/** The brief with an evidence id that is not in the context added to its first risk. */
function withInventedEvidence(brief: BriefAnswer, known: ReadonlySet<string>): BriefAnswer {
  const invented = inventEvidenceId(known);
  const [first, ...rest] = brief.risks;
  return {
    ...brief,
    risks: first
      ? [{ ...first, evidence: [...first.evidence, invented] }, ...rest]
      : [{ title: 'Customer reported an unresolved outage', severity: 'medium', evidence: [invented] }],
  };
}

/** Valid JSON that misses required fields: the brief without `health` and `risks`, else the first property. */
function withoutRequiredFields(composed: Composed): unknown {
  if (composed.kind === 'brief') {
    const { health: _health, risks: _risks, ...rest } = composed.brief;
    return rest;
  }
  const value = composed.kind === 'json' ? composed.value : null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  return entries.length === 0 ? null : Object.fromEntries(entries.slice(1));
}

interface Generated {
  content: ResponseOutputMessage['content'];
  status: 'completed' | 'incomplete';
  outputTokens: number;
}

function generate(
  request: ResponsesRequest,
  userText: string,
  fault: ResolvedFault | null,
  tools: ToolRequest,
): Generated {
  if (fault?.kind === 'refusal') {
    return {
      content: [{ type: 'refusal', refusal: REFUSAL_TEXT }],
      status: 'completed',
      outputTokens: countTokens(REFUSAL_TEXT),
    };
  }
  const format = request.text?.format;
  const composed = compose(format, userText, tools);
  let text: string;
  if (fault?.kind === 'schema_invalid' && composed.kind !== 'text') {
    text = JSON.stringify(withoutRequiredFields(composed));
  } else if (composed.kind === 'brief') {
    text = JSON.stringify(
      fault?.kind === 'invented_evidence'
        ? withInventedEvidence(composed.brief, composed.evidenceIds)
        : composed.brief,
    );
  } else if (composed.kind === 'json') {
    text = JSON.stringify(composed.value);
  } else {
    text = composed.text;
  }
  if (fault?.kind === 'invalid_json') {
    const what = format?.type === 'json_schema' ? format.name.replace(/_/g, ' ') : 'answer';
    text = `Sure! Here is the ${what} you asked for:\n\n${text}`;
  }

  const limit = request.max_output_tokens ?? null;
  if (fault?.kind === 'truncated' || (limit !== null && countTokens(text) > limit)) {
    const cut =
      fault?.kind === 'truncated'
        ? text.slice(0, Math.max(1, Math.floor(text.length / 2)))
        : text.slice(0, (limit ?? 0) * 4);
    return {
      content: [{ type: 'output_text', text: cut, annotations: [] }],
      status: 'incomplete',
      // The model stopped because it hit the limit: the limit is what was generated (and billed).
      outputTokens: limit ?? countTokens(cut),
    };
  }
  return {
    content: [{ type: 'output_text', text, annotations: [] }],
    status: 'completed',
    outputTokens: countTokens(text),
  };
}

function echoTextConfig(format: TextFormat | undefined): ResponseTextConfig {
  if (format?.type === 'json_schema') {
    return {
      format: {
        type: 'json_schema',
        name: format.name,
        schema: format.schema,
        strict: format.strict ?? false,
        ...(format.description === undefined ? {} : { description: format.description }),
      },
    };
  }
  return { format: { type: format?.type === 'json_object' ? 'json_object' : 'text' } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw invalidRequest('The request body is too large.', null, 'request_too_large', 413);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': newId('req'),
    'openai-version': '2020-10-01',
    'openai-processing-ms': '1',
    ...headers,
  });
  res.end(payload);
}

/** Resolves `true` after `ms`, or `false` as soon as the client goes away (the answer is then dropped). */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve(false);
      return;
    }
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

function emptyStats(): ModelServerStats {
  return { requests: 0, byModel: {}, faultsServed: {} };
}

/** Starts the model server; resolves once it listens. */
export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const faults = new FaultQueue();
  let stats = emptyStats();
  let promptCache = new Set<string>();

  const modelStats = (model: string): ModelUsageStats => {
    const existing = stats.byModel[model];
    if (existing) return existing;
    const created: ModelUsageStats = { requests: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
    stats.byModel[model] = created;
    return created;
  };

  const countFault = (kind: FaultKind): void => {
    stats.faultsServed[kind] = (stats.faultsServed[kind] ?? 0) + 1;
  };

  async function handleResponses(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests += 1;
    const request = parseRequest(await readBody(req));
    const text = readInputText(request);
    modelStats(request.model).requests += 1;

    const fault = faults.take(text.all);
    if (fault) countFault(fault.kind);
    switch (fault?.kind) {
      case 'rate_limit': {
        const headers: Record<string, string> = {
          'x-ratelimit-limit-requests': '500',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000}ms`,
        };
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
        const wait =
          fault.retryAfterMs !== undefined ? `${fault.retryAfterMs}ms` : `${fault.retryAfterSeconds ?? 1}s`;
        sendJson(
          res,
          429,
          {
            error: {
              message: `Rate limit reached for ${request.model} in organization org-local on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
              type: 'requests',
              param: null,
              code: 'rate_limit_exceeded',
            },
          } satisfies ErrorBody,
          headers,
        );
        return;
      }
      case 'insufficient_quota':
        sendJson(res, 429, {
          error: {
            message:
              'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
            type: 'insufficient_quota',
            param: null,
            code: 'insufficient_quota',
          },
        } satisfies ErrorBody);
        return;
      case 'server_error':
        sendJson(res, fault.status, {
          error: {
            message:
              fault.status === 503
                ? 'The server is overloaded or not ready yet.'
                : fault.status === 502
                  ? 'Bad gateway.'
                  : 'The server had an error while processing your request. Sorry about that!',
            type: 'server_error',
            param: null,
            code: null,
          },
        } satisfies ErrorBody);
        return;
      case 'connection_reset':
        req.socket.destroy();
        return;
      case 'timeout':
        if (!(await waitUnlessClosed(res, fault.delayMs))) return;
        break;
      default:
        break;
    }

    const tools = readToolRequest(request);
    // Function calls come before any answer, grounded in the context (see tools.ts).
    const planned: PlannedCall[] =
      fault === null || fault.kind === 'timeout'
        ? planToolCalls(extractContext(text.user), tools, text.all)
        : [];
    const generated: Generated =
      planned.length > 0
        ? {
            content: [],
            status: 'completed',
            outputTokens: countTokens(planned.map((call) => call.name + call.arguments).join('')),
          }
        : generate(request, text.user, fault, tools);
    const inputTokens = countTokens(text.all);
    const cacheKey = createHash('sha256').update(`${request.model}\n${text.system}`).digest('hex');
    const cachedTokens = text.system.length > 0 && promptCache.has(cacheKey) ? countTokens(text.system) : 0;
    const usage: ResponseUsage = {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: cachedTokens, cache_write_tokens: 0 },
      output_tokens: generated.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + generated.outputTokens,
    };
    const createdAt = Math.floor(Date.now() / 1000);
    const body: Omit<OpenAIResponse, 'output_text'> & { store: boolean } = {
      id: newId('resp'),
      object: 'response',
      created_at: createdAt,
      completed_at: generated.status === 'completed' ? createdAt : null,
      status: generated.status,
      background: false,
      error: null,
      incomplete_details: generated.status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: request.instructions ?? null,
      max_output_tokens: request.max_output_tokens ?? null,
      model: request.model,
      output:
        planned.length > 0
          ? planned.map((call) => ({
              type: 'function_call' as const,
              id: newId('fc'),
              call_id: call.callId,
              name: call.name,
              arguments: call.arguments,
              status: 'completed' as const,
            }))
          : [
              {
                type: 'message',
                id: newId('msg'),
                status: generated.status,
                role: 'assistant',
                content: generated.content,
              },
            ],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      service_tier: 'default',
      store: false,
      temperature: 1,
      text: echoTextConfig(request.text?.format),
      tool_choice: tools.choice,
      tools: [],
      top_p: 1,
      truncation: 'disabled',
      usage,
      metadata: {},
      access_programs: null,
    };
    if (res.destroyed) return;
    sendJson(res, 200, body);
    // Usage counts once it is sent: a client that gave up never saw it.
    promptCache.add(cacheKey);
    const entry = modelStats(request.model);
    entry.inputTokens += usage.input_tokens;
    entry.cachedInputTokens += usage.input_tokens_details.cached_tokens;
    entry.outputTokens += usage.output_tokens;
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (path === '/__admin/stats' && method === 'GET') {
      sendJson(res, 200, snapshot());
    } else if (path === '/__admin/health' && method === 'GET') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/__admin/faults' && method === 'POST') {
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        throw invalidRequest('The fault rule must be JSON.', null, null);
      }
      const rule = FaultRuleSchema.safeParse(body);
      if (!rule.success)
        throw invalidRequest(`Invalid fault rule: ${z.prettifyError(rule.error)}`, null, 'invalid_value');
      faults.add(rule.data);
      sendJson(res, 201, { pending: faults.pending() });
    } else if (path === '/__admin/faults' && method === 'DELETE') {
      faults.clear();
      sendJson(res, 200, { pending: 0 });
    } else if (path === '/__admin/reset' && method === 'POST') {
      reset();
      sendJson(res, 200, { status: 'reset' });
    } else {
      return false;
    }
    return true;
  }

  const snapshot = (): ModelServerStats => structuredClone(stats);
  const reset = (): void => {
    stats = emptyStats();
    faults.clear();
    promptCache = new Set();
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    void (async () => {
      try {
        if (path === '/v1/responses' && method === 'POST') {
          await handleResponses(req, res);
        } else if (!(await handleAdmin(req, res, path))) {
          throw invalidRequest(`Invalid URL (${method} ${path || '/'})`, null, null, 404);
        }
      } catch (error) {
        if (error instanceof HttpError) {
          sendJson(res, error.status, error.body);
        } else {
          sendJson(res, 500, {
            error: {
              message: `The local model server failed: ${error instanceof Error ? error.message : String(error)}`,
              type: 'server_error',
              param: null,
              code: null,
            },
          } satisfies ErrorBody);
        }
      }
    })();
  });
  // Keep-alive sockets would otherwise hold `close()` open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}/v1`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        // Ends idle keep-alive sockets and drops answers still being delayed by a `timeout` fault.
        server.closeAllConnections();
      }),
    stats: snapshot,
    reset,
    addFaults: (rule) => {
      faults.add(rule);
    },
  };
}
