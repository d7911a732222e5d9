import type { ModelClient } from '#shared/ports/index.ts';
import type { ModelRequest, ModelResponse } from '#shared/domain/model.ts';

/** One scripted answer: a response, an error to throw, or a function of the request. */
export type ScriptedAnswer = ModelResponse | Error | ((request: ModelRequest) => ModelResponse);

/**
 * A model that answers from a queue, in order, and records every request it receives.
 * Running out of answers throws, so an unexpected extra provider call fails the test loudly.
 */
export class ScriptedModelClient implements ModelClient {
  readonly requests: ModelRequest[] = [];
  private readonly queue: ScriptedAnswer[];

  constructor(answers: readonly ScriptedAnswer[] = []) {
    this.queue = [...answers];
  }

  enqueue(...answers: ScriptedAnswer[]): void {
    this.queue.push(...answers);
  }

  get remaining(): number {
    return this.queue.length;
  }

  /** The models asked, in order. */
  get modelsCalled(): string[] {
    return this.requests.map((request) => request.model);
  }

  generate(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const next = this.queue.shift();
    if (next === undefined) {
      return Promise.reject(
        new Error(`ScriptedModelClient: no answer scripted for call ${this.requests.length}`),
      );
    }
    if (next instanceof Error) return Promise.reject(next);
    if (typeof next === 'function') return Promise.resolve(next(request));
    return Promise.resolve(structuredClone(next));
  }
}

/** A completed answer with the given output text and usage. */
export function completedResponse(
  outputText: string | null,
  overrides: Partial<ModelResponse> = {},
): ModelResponse {
  return {
    model: 'gpt-4.1-mini-2025-04-14',
    outputText,
    refusal: null,
    finishReason: 'completed',
    usage: { inputTokens: 1200, cachedInputTokens: 200, outputTokens: 400, reasoningTokens: 0 },
    providerRequestId: 'resp_test_1',
    latencyMs: 850,
    ...overrides,
  };
}
