import type { z } from 'zod';
import { ReinError } from './errors.ts';

/** A function the model may call (a workflow's read-only tool), its arguments as a strict zod object. */
export interface ModelTool {
  name: string;
  description: string;
  argsSchema: z.ZodObject;
}

/** A function call the model asked for; `arguments` is the raw JSON text it wrote. */
export interface ModelToolCall {
  callId: string;
  name: string;
  arguments: string;
}

/**
 * One item of a multi-turn input: the user message, a function call the model made in an earlier
 * turn, or the gateway's output for it.
 */
export type ModelInputItem =
  | { type: 'message'; role: 'user'; content: string }
  | ({ type: 'function_call' } & ModelToolCall)
  | { type: 'function_call_output'; callId: string; output: string };

/** One request to a model: provider-neutral, with the output schema as a zod object. */
export interface ModelRequest {
  model: string;
  instructions: string;
  /** The user message alone, or the turns so far (the tool loop). */
  input: string | readonly ModelInputItem[];
  /** Functions offered; absent or empty: none. */
  tools?: readonly ModelTool[];
  /** `none`: the tools are listed (earlier turns used them) but the model must answer now. */
  toolChoice?: 'auto' | 'none';
  outputSchema: z.ZodObject;
  outputName: string;
  maxOutputTokens: number;
  timeoutMs: number;
}

export interface ModelUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/** What a model answered. `outputText` is the raw JSON text; parsing and validation happen in layer 4. */
export interface ModelResponse {
  model: string;
  outputText: string | null;
  refusal: string | null;
  /** `completed`, or `incomplete:<reason>` when the provider cut the output short. */
  finishReason: string;
  usage: ModelUsage;
  providerRequestId: string | null;
  latencyMs: number;
  /** Function calls the model asked for instead of (or before) an answer; absent means none. */
  toolCalls?: ModelToolCall[];
}

/** Base class of failures talking to a model provider. `retryable` tells the gateway whether to try again. */
export class ModelError extends ReinError {
  readonly retryable: boolean;
  readonly providerRequestId: string | null;
  /**
   * The request may have reached the provider and been billed, but no usage came back (a timeout, a
   * connection cut): the gateway charges such an attempt at its reservation, flagged estimated.
   */
  readonly usageUnknown: boolean;
  constructor(
    code: string,
    message: string,
    retryable: boolean,
    providerRequestId: string | null,
    cause?: unknown,
    usageUnknown = false,
  ) {
    super(code, 502, message, { cause });
    this.retryable = retryable;
    this.providerRequestId = providerRequestId;
    this.usageUnknown = usageUnknown;
  }
}
export class ModelRateLimitedError extends ModelError {
  readonly retryAfterMs: number | null;
  constructor(retryAfterMs: number | null, providerRequestId: string | null, cause?: unknown) {
    super(
      'model_rate_limited',
      'The model provider rate-limited the request.',
      true,
      providerRequestId,
      cause,
    );
    this.retryAfterMs = retryAfterMs;
  }
}
export class ModelQuotaExceededError extends ModelError {
  constructor(providerRequestId: string | null, cause?: unknown) {
    super(
      'model_quota_exceeded',
      'The model provider account has no quota left.',
      false,
      providerRequestId,
      cause,
    );
  }
}
export class ModelTimeoutError extends ModelError {
  constructor(cause?: unknown) {
    super('model_timeout', 'The model did not answer within the attempt timeout.', true, null, cause, true);
  }
}
export class ModelUnavailableError extends ModelError {
  constructor(message: string, providerRequestId: string | null, cause?: unknown, usageUnknown = false) {
    super('model_unavailable', message, true, providerRequestId, cause, usageUnknown);
  }
}
export class ModelRequestRejectedError extends ModelError {
  constructor(message: string, providerRequestId: string | null, cause?: unknown) {
    super('model_request_rejected', message, false, providerRequestId, cause);
  }
}

/** The user message of a request's input (the first message of a multi-turn input). */
export function userMessageOf(input: ModelRequest['input']): string {
  if (typeof input === 'string') return input;
  const message = input.find((item) => item.type === 'message');
  return message?.type === 'message' ? message.content : '';
}
