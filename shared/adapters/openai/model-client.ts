import OpenAI from 'openai';
import { zodResponsesFunction, zodTextFormat } from 'openai/helpers/zod';
import type { FunctionTool, ResponseInputItem } from 'openai/resources/responses/responses';
import {
  ModelQuotaExceededError,
  ModelRateLimitedError,
  ModelRequestRejectedError,
  ModelTimeoutError,
  ModelUnavailableError,
  type ModelRequest,
  type ModelResponse,
  type ModelTool,
  type ModelToolCall,
} from '../../domain/model.ts';
import type { ModelClient } from '../../ports/index.ts';

export interface OpenAiModelClientOptions {
  /**
   * Resolves the API key on each request (cached by the SecretSource), so rotation needs no redeploy;
   * `fresh` bypasses the cache after a 401.
   */
  apiKey: (options?: { fresh?: boolean }) => Promise<string>;
  /** OpenAI-compatible base URL; unset means the SDK's default. */
  baseURL?: string | undefined;
  /** Injected fetch for tests; unset means the global fetch. */
  fetch?: typeof fetch;
}

const formats = new WeakMap<object, Map<string, { name: string; schema: Record<string, unknown> }>>();

/** The JSON schema of an output schema, converted once per schema: conversion is the adapter's costliest step. */
function textFormatOf(
  schema: ModelRequest['outputSchema'],
  name: string,
): { name: string; schema: Record<string, unknown> } {
  let byName = formats.get(schema);
  if (!byName) {
    byName = new Map();
    formats.set(schema, byName);
  }
  let format = byName.get(name);
  if (!format) {
    const converted = zodTextFormat(schema, name);
    format = { name: converted.name, schema: converted.schema };
    byName.set(name, format);
  }
  return format;
}

const functionTools = new WeakMap<ModelTool, FunctionTool>();

/** A workflow tool as a strict Responses API function tool (its JSON schema from the zod schema, once). */
function functionToolOf(tool: ModelTool): FunctionTool {
  let converted = functionTools.get(tool);
  if (!converted) {
    const made = zodResponsesFunction({
      name: tool.name,
      description: tool.description,
      parameters: tool.argsSchema,
    });
    converted = {
      type: 'function',
      name: made.name,
      description: made.description ?? tool.description,
      parameters: made.parameters,
      strict: true,
    };
    functionTools.set(tool, converted);
  }
  return converted;
}

/** The provider-neutral turns as Responses API input items. */
function inputOf(input: ModelRequest['input']): string | ResponseInputItem[] {
  if (typeof input === 'string') return input;
  return input.map((item): ResponseInputItem => {
    if (item.type === 'message') return { type: 'message', role: 'user', content: item.content };
    if (item.type === 'function_call') {
      return { type: 'function_call', call_id: item.callId, name: item.name, arguments: item.arguments };
    }
    return { type: 'function_call_output', call_id: item.callId, output: item.output };
  });
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date) from a provider response. */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | null {
  if (!headers) return null;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * The ModelClient for OpenAI's Responses API with strict structured output from the zod schema.
 * The SDK never retries (`maxRetries: 0`): retries belong to the gateway (`usecases/model-call.ts`).
 * The raw output text is returned unparsed; parsing and business validation are layer 4's job.
 */
export class OpenAiModelClient implements ModelClient {
  private readonly client: OpenAI;
  /** The key the SDK was last given, to tell a rotated key from the one the provider refused. */
  private lastKey: string | null = null;

  constructor(private readonly options: OpenAiModelClientOptions) {
    this.client = new OpenAI({
      apiKey: async () => {
        this.lastKey = await options.apiKey();
        return this.lastKey;
      },
      maxRetries: 0,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /**
   * One provider call. The only second call it ever makes: a 401 for a cached key that has rotated
   * since is sent once more with the fresh key (a credential refresh, not a provider retry; a 401
   * for the current key is final, as the gateway's policy says).
   */
  async generate(request: ModelRequest): Promise<ModelResponse> {
    const started = performance.now();
    try {
      return await this.send(request, started, request.timeoutMs);
    } catch (error) {
      if (!(error instanceof OpenAI.AuthenticationError)) throw toModelError(error);
      const refused = this.lastKey;
      let fresh: string;
      try {
        fresh = await this.options.apiKey({ fresh: true });
      } catch {
        throw toModelError(error);
      }
      const remaining = request.timeoutMs - (performance.now() - started);
      if (fresh === refused || remaining <= 0) throw toModelError(error);
      try {
        return await this.send(request, started, remaining);
      } catch (retryError) {
        throw toModelError(retryError);
      }
    }
  }

  private async send(request: ModelRequest, started: number, timeoutMs: number): Promise<ModelResponse> {
    const format = textFormatOf(request.outputSchema, request.outputName);
    const tools = (request.tools ?? []).map(functionToolOf);
    const response = await this.client.responses.create(
      {
        model: request.model,
        instructions: request.instructions,
        input: inputOf(request.input),
        text: { format: { type: 'json_schema', name: format.name, schema: format.schema, strict: true } },
        max_output_tokens: request.maxOutputTokens,
        store: false,
        // Tools are offered only when the gateway's tool loop runs (shared/usecases/tool-loop.ts).
        ...(tools.length > 0
          ? { tools, tool_choice: request.toolChoice ?? 'auto', parallel_tool_calls: true }
          : {}),
      },
      { timeout: Math.ceil(timeoutMs), maxRetries: 0 },
    );
    let outputText: string | null = null;
    let refusal: string | null = null;
    const toolCalls: ModelToolCall[] = [];
    for (const item of response.output) {
      if (item.type === 'function_call') {
        toolCalls.push({ callId: item.call_id, name: item.name, arguments: item.arguments });
        continue;
      }
      if (item.type !== 'message') continue;
      for (const part of item.content) {
        if (part.type === 'output_text') outputText = (outputText ?? '') + part.text;
        else refusal = part.refusal;
      }
    }
    const usage = response.usage;
    return {
      model: response.model,
      outputText,
      refusal,
      finishReason:
        response.status === 'completed'
          ? 'completed'
          : `${response.status ?? 'unknown'}:${response.incomplete_details?.reason ?? 'unknown'}`,
      usage: {
        inputTokens: usage?.input_tokens ?? 0,
        // Optional chaining: OpenAI-compatible servers may omit the token details.
        cachedInputTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
        outputTokens: usage?.output_tokens ?? 0,
        reasoningTokens: usage?.output_tokens_details?.reasoning_tokens ?? 0,
      },
      providerRequestId: response.id,
      latencyMs: Math.round(performance.now() - started),
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
  }
}

/** Maps SDK errors to the gateway's model errors. Provider messages stay in `cause`, never in ours. */
export function toModelError(error: unknown): Error {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new ModelTimeoutError(error);
  if (error instanceof OpenAI.APIConnectionError) {
    // The connection failed or was cut: the request may have been answered (and billed) all the same.
    return new ModelUnavailableError('The model provider could not be reached.', null, error, true);
  }
  if (error instanceof OpenAI.APIError) {
    const requestId = error.requestID ?? null;
    if (error.status === 429) {
      if (error.code === 'insufficient_quota') return new ModelQuotaExceededError(requestId, error);
      const headers: Headers | undefined = error.headers instanceof Headers ? error.headers : undefined;
      return new ModelRateLimitedError(retryAfterMs(headers), requestId, error);
    }
    if (error.status === 408 || error.status === 409 || (error.status !== undefined && error.status >= 500)) {
      return new ModelUnavailableError(`The model provider answered ${error.status}.`, requestId, error);
    }
    return new ModelRequestRejectedError(
      `The model provider rejected the request (${error.status ?? 'no status'}).`,
      requestId,
      error,
    );
  }
  if (error instanceof Error && error.name === 'AbortError') return new ModelTimeoutError(error);
  return error instanceof Error ? error : new Error('Unknown model client failure');
}
