/**
 * Record and replay of model responses. A recording is keyed by sha256(model, prompt content hash,
 * request hash): the request hash covers the input (the user message with context and repair
 * errors, and the tool loop's earlier calls and results), the tools offered and the tool choice,
 * the output schema, its name and the output token limit. Changing the prompt text, the model, a fixture or the
 * schema therefore changes the key, and replay reports the missing recording instead of silently
 * reusing an answer to another question.
 *
 * Files: `evals/<workflow>/recordings/<key>.json`, one per distinct request, holding every response
 * recorded for it (a case that runs three times records three).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalJson } from '#shared/domain/edit-distance.ts';
import type { ModelRequest, ModelResponse } from '#shared/domain/model.ts';
import type { ModelClient } from '#shared/ports/index.ts';

const ModelResponseSchema = z.object({
  model: z.string(),
  outputText: z.string().nullable(),
  refusal: z.string().nullable(),
  finishReason: z.string(),
  usage: z.object({
    inputTokens: z.number(),
    cachedInputTokens: z.number(),
    outputTokens: z.number(),
    reasoningTokens: z.number(),
  }),
  providerRequestId: z.string().nullable(),
  latencyMs: z.number(),
  toolCalls: z.array(z.object({ callId: z.string(), name: z.string(), arguments: z.string() })).optional(),
});

export const RecordingSchema = z.object({
  key: z.string(),
  suite: z.string(),
  /** Where the responses came from: `local-model-server` or `openai`. */
  backend: z.string(),
  model: z.string(),
  promptHash: z.string(),
  requestHash: z.string(),
  responses: z.array(ModelResponseSchema).min(1),
});
export type Recording = z.infer<typeof RecordingSchema>;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The prompt content hash, in the format of `livePrompt().contentHash`. */
export function promptHashOf(instructions: string): string {
  return `sha256:${sha256Hex(instructions)}`;
}

const schemaCache = new WeakMap<object, unknown>();

/** Hash of everything in a request but the model and the instructions (which have their own parts of the key). */
export function requestHashOf(request: ModelRequest): string {
  let schema = schemaCache.get(request.outputSchema);
  if (schema === undefined) {
    schema = z.toJSONSchema(request.outputSchema);
    schemaCache.set(request.outputSchema, schema);
  }
  return `sha256:${sha256Hex(
    canonicalJson({
      // Call ids are the model's own random names: a replay must match without them.
      input:
        typeof request.input === 'string'
          ? request.input
          : request.input.map((item) => (item.type === 'message' ? item : { ...item, callId: '' })),
      outputName: request.outputName,
      outputSchema: schema,
      maxOutputTokens: request.maxOutputTokens,
      ...(request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map((tool) => ({
              name: tool.name,
              description: tool.description,
              parameters: z.toJSONSchema(tool.argsSchema),
            })),
            toolChoice: request.toolChoice ?? 'auto',
          }
        : {}),
    }),
  )}`;
}

export interface RecordingKey {
  key: string;
  model: string;
  promptHash: string;
  requestHash: string;
}

export function recordingKeyOf(request: ModelRequest): RecordingKey {
  const promptHash = promptHashOf(request.instructions);
  const requestHash = requestHashOf(request);
  return {
    key: sha256Hex(`${request.model}\n${promptHash}\n${requestHash}`),
    model: request.model,
    promptHash,
    requestHash,
  };
}

/**
 * The exact command that re-records what a run asked for against the local model server: the
 * suite, and the prompt version and model when they are not the suite's defaults (the live
 * version, the workflow policy's first model).
 */
export function reRecordCommand(
  suiteId: string,
  options: { promptVersion?: string | null; model?: string | null } = {},
): string {
  return [
    `npm run eval -- --suite ${suiteId} --record`,
    ...(options.promptVersion ? [`--prompt-version ${options.promptVersion}`] : []),
    ...(options.model ? [`--model ${options.model}`] : []),
  ].join(' ');
}

/** Replay found no recording for a request: the prompt, model or request changed since recording. */
export class MissingRecordingError extends Error {
  readonly suiteId: string;
  readonly key: string;
  constructor(suiteId: string, key: RecordingKey) {
    // The runner, which knows the prompt version and model asked for, adds the exact re-record command.
    super(
      `No recording in suite ${suiteId} for this request (model ${key.model}, prompt ${key.promptHash.slice(0, 19)}…, key ${key.key.slice(0, 12)}…). ` +
        `The prompt, the model or the request changed since the recordings were made.`,
    );
    this.name = 'MissingRecordingError';
    this.suiteId = suiteId;
    this.key = key.key;
  }
}

async function readRecording(dir: string, key: string): Promise<Recording | null> {
  let text: string;
  try {
    text = await readFile(join(dir, `${key}.json`), 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
  return RecordingSchema.parse(JSON.parse(text));
}

/** Serves recorded responses; the n-th identical request gets the n-th recorded response (cycling). */
export class ReplayModelClient implements ModelClient {
  private readonly loaded = new Map<string, Promise<Recording | null>>();
  private readonly served = new Map<string, number>();
  /** Backends of the recordings served so far. */
  readonly backends = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly suiteId: string,
  ) {}

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const key = recordingKeyOf(request);
    let pending = this.loaded.get(key.key);
    if (!pending) {
      pending = readRecording(this.dir, key.key);
      this.loaded.set(key.key, pending);
    }
    const recording = await pending;
    if (
      recording === null ||
      recording.model !== key.model ||
      recording.promptHash !== key.promptHash ||
      recording.requestHash !== key.requestHash
    ) {
      throw new MissingRecordingError(this.suiteId, key);
    }
    const index = this.served.get(key.key) ?? 0;
    this.served.set(key.key, index + 1);
    this.backends.add(recording.backend);
    const response = recording.responses[index % recording.responses.length];
    if (!response) throw new MissingRecordingError(this.suiteId, key);
    return structuredClone(response);
  }
}

/**
 * Which unused recordings a full re-record may delete: those of the prompt version and model it
 * recorded that no case asked for any more, and those of prompt texts no version of the manifest
 * has (a removed version, or an edited one). Other versions' and other models' recordings stay
 * until their version leaves the manifest, so the live version still replays while another one
 * is being recorded.
 */
export function staleRecordings(options: {
  manifestPromptHashes: ReadonlySet<string>;
  recorded: { promptHash: string; model: string };
}): (unused: Recording) => boolean {
  const { manifestPromptHashes, recorded } = options;
  return (unused) =>
    !manifestPromptHashes.has(unused.promptHash) ||
    (unused.promptHash === recorded.promptHash && unused.model === recorded.model);
}

export interface SaveSummary {
  written: number;
  unchanged: number;
  pruned: number;
}

/** Passes requests to a real client and keeps every response, to be saved with {@link save}. */
export class RecordingModelClient implements ModelClient {
  private readonly recorded = new Map<string, Recording>();

  constructor(
    private readonly inner: ModelClient,
    private readonly suiteId: string,
    private readonly backend: string,
  ) {}

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const response = await this.inner.generate(request);
    const key = recordingKeyOf(request);
    const existing = this.recorded.get(key.key);
    if (existing) existing.responses.push(response);
    else {
      this.recorded.set(key.key, {
        key: key.key,
        suite: this.suiteId,
        backend: this.backend,
        model: key.model,
        promptHash: key.promptHash,
        requestHash: key.requestHash,
        responses: [response],
      });
    }
    return response;
  }

  /**
   * Writes the recordings. A file whose answers did not change is left as it is (provider ids and
   * latencies differ on every call), so re-recording a deterministic backend changes no file. With
   * `prune`, recordings no request of this run used are deleted: all of them (`true`), or those the
   * given predicate calls stale (the CLI keeps other prompt versions' and other models' recordings).
   */
  async save(
    dir: string,
    options: { prune: boolean | ((unused: Recording) => boolean) },
  ): Promise<SaveSummary> {
    await mkdir(dir, { recursive: true });
    const summary: SaveSummary = { written: 0, unchanged: 0, pruned: 0 };
    const same = (a: ModelResponse, b: ModelResponse) =>
      a.outputText === b.outputText && a.refusal === b.refusal && a.finishReason === b.finishReason;
    for (const recording of [...this.recorded.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const previous = await readRecording(dir, recording.key).catch(() => null);
      if (
        previous !== null &&
        previous.backend === recording.backend &&
        previous.responses.length === recording.responses.length &&
        previous.responses.every((response, i) => {
          const current = recording.responses[i];
          return current !== undefined && same(response, current);
        })
      ) {
        summary.unchanged += 1;
        continue;
      }
      await writeFile(join(dir, `${recording.key}.json`), `${JSON.stringify(recording, null, 2)}\n`);
      summary.written += 1;
    }
    const { prune } = options;
    if (prune !== false) {
      for (const file of await readdir(dir)) {
        const key = file.slice(0, -'.json'.length);
        if (!file.endsWith('.json') || this.recorded.has(key)) continue;
        if (prune !== true) {
          const unused = await readRecording(dir, key).catch(() => null);
          if (unused !== null && !prune(unused)) continue;
        }
        await rm(join(dir, file));
        summary.pruned += 1;
      }
    }
    return summary;
  }
}
