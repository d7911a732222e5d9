/**
 * Where an eval run gets its model answers: the local model server, recorded responses, real
 * OpenAI, or any `ModelClient` (tests use a scripted one). The local and OpenAI targets use the
 * production `OpenAiModelClient`, so requests go through the same SDK call as in a real run.
 */
import { OpenAiModelClient } from '#shared/adapters/openai/model-client.ts';
import type { ModelClient } from '#shared/ports/index.ts';
import { startModelServer, type FaultRule } from '#infra/local/model-server/index.ts';
import { RecordingModelClient, ReplayModelClient, type Recording, type SaveSummary } from './recordings.ts';

/** Where the answers came from; baselines are kept per backend (latency and cost differ). */
export const LOCAL_BACKEND = 'local-model-server';
export const OPENAI_BACKEND = 'openai';

export interface EvalTarget {
  /** Shown in reports: `local`, `replay`, `openai`, `record:local`, … */
  readonly name: string;
  readonly client: ModelClient;
  /**
   * How a case's `modelFaults` are handled: injected into the local model server, already part of
   * the recorded responses, or impossible (such cases are skipped).
   */
  readonly faults: 'inject' | 'recorded' | 'unsupported';
  injectFaults(rule: FaultRule): void;
  /** The backend the answers came from, for picking the baseline. */
  backend(): string;
  close(): Promise<void>;
}

/** Starts a local model server for this run and talks to it through the real OpenAI SDK. */
export async function startLocalTarget(): Promise<EvalTarget> {
  const server = await startModelServer();
  return {
    name: 'local',
    client: new OpenAiModelClient({ apiKey: () => Promise.resolve('sk-local-eval'), baseURL: server.url }),
    faults: 'inject',
    injectFaults: (rule) => {
      server.addFaults(rule);
    },
    backend: () => LOCAL_BACKEND,
    close: () => server.close(),
  };
}

/** Real OpenAI (or the endpoint of `OPENAI_BASE_URL`). */
export function openAiTarget(options: { apiKey: string; baseURL?: string | undefined }): EvalTarget {
  return {
    name: 'openai',
    client: new OpenAiModelClient({
      apiKey: () => Promise.resolve(options.apiKey),
      baseURL: options.baseURL,
    }),
    faults: 'unsupported',
    injectFaults: () => {
      throw new Error('Model faults cannot be injected into OpenAI.');
    },
    backend: () => OPENAI_BACKEND,
    close: () => Promise.resolve(),
  };
}

/** Recorded responses of a suite; a request with no recording fails with the re-record command. */
export function replayTarget(options: { recordingsDir: string; suiteId: string }): EvalTarget {
  const client = new ReplayModelClient(options.recordingsDir, options.suiteId);
  return {
    name: 'replay',
    client,
    faults: 'recorded',
    injectFaults: () => undefined,
    backend: () => {
      const backends = [...client.backends];
      if (backends.length === 0) return LOCAL_BACKEND;
      return backends.length === 1 ? (backends[0] ?? LOCAL_BACKEND) : 'mixed';
    },
    close: () => Promise.resolve(),
  };
}

export interface RecordingTarget extends EvalTarget {
  /** Writes the recordings; `prune` deletes the ones this run did not use (only after a full-suite run). */
  save(options: { prune: boolean | ((unused: Recording) => boolean) }): Promise<SaveSummary>;
}

/** Wraps a live target and records every answer it gives into the suite's recordings directory. */
export function recordingTarget(
  inner: EvalTarget,
  options: { recordingsDir: string; suiteId: string },
): RecordingTarget {
  const client = new RecordingModelClient(inner.client, options.suiteId, inner.backend());
  return {
    name: `record:${inner.name}`,
    client,
    faults: inner.faults,
    injectFaults: (rule) => {
      inner.injectFaults(rule);
    },
    backend: () => inner.backend(),
    close: () => inner.close(),
    save: (saveOptions) => client.save(options.recordingsDir, saveOptions),
  };
}

/** Any ModelClient as a target, e.g. a scripted model in tests. */
export function clientTarget(client: ModelClient, options: { name: string; backend: string }): EvalTarget {
  return {
    name: options.name,
    client,
    faults: 'unsupported',
    injectFaults: () => undefined,
    backend: () => options.backend,
    close: () => Promise.resolve(),
  };
}
