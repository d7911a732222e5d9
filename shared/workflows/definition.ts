import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { ActionSpec } from '../domain/actions.ts';
import type { ContextObject, SourceId } from '../domain/context.ts';
import type { Role } from '../domain/principal.ts';
import type { PromptManifest } from '../../prompts/renewal-brief/manifest.ts';

/** How the context layer reads one approved source: which records, which fields, how to check them. */
export interface SourceSpec {
  source: SourceId;
  /** Fields copied to the model's context; every other field of the record is dropped. */
  allowFields: readonly string[];
  /** The shape a record must have; a record that fails it makes the source a data gap. */
  recordSchema: z.ZodType<Record<string, unknown>>;
  /** Keeps only the records the model should see (e.g. open tickets). */
  include?: (record: Record<string, unknown>) => boolean;
  /** Longest string value copied, in characters. */
  maxStringLength: number;
}

export interface ModelPolicy {
  /** The primary model first, then fallbacks, in order. Filtered by the environment's allow-list. */
  models: readonly string[];
  maxOutputTokens: number;
  attemptTimeoutMs: number;
  /** The whole model-call step must finish within this; it fits inside the Lambda timeout. */
  totalDeadlineMs: number;
  /** Provider tries per model before falling back to the next one. */
  triesPerModel: number;
}

export interface ApprovalPolicy {
  approverRoles: readonly Role[];
  escalatedApproverRoles: readonly Role[];
}

/** A workflow as data: the engine runs any definition without changes. */
export interface WorkflowDefinition<
  Input extends Record<string, unknown>,
  Output extends Record<string, unknown>,
> {
  id: string;
  title: string;
  description: string;
  inputSchema: z.ZodType<Input>;
  accountIdOf(input: Input): string;
  notesOf(input: Input): string | null;
  requesterRoles: readonly Role[];
  sources: readonly SourceSpec[];
  /** Tools the model may call. The renewal brief uses none: all context is fetched before the call. */
  tools: readonly string[];
  /**
   * Actions the model may propose (never execute) in `proposedActions[]` of its output; each is
   * approved or rejected at review and only then sent to the tenant's action target.
   */
  actions: readonly ActionSpec[];
  prompts: PromptManifest;
  /** What the model must answer (structured output): the content plus `proposedActions` when the workflow has actions. */
  outputSchema: z.ZodObject;
  /** What a draft's content holds and a reviewer's edit must match: the output without `proposedActions`. */
  contentSchema: z.ZodObject;
  outputName: string;
  /** Business rules beyond the schema. Returns the problems found; empty means valid. */
  validate(output: Output, context: ContextObject): string[];
  modelPolicy: ModelPolicy;
  approvalPolicy: ApprovalPolicy;
  costLimitUsdPerRun: number;
}

export interface ResolvedPrompt {
  id: string;
  version: string;
  instructions: string;
  contentHash: string;
}

/** The live prompt of a workflow with its content hash (sha256 of the instructions). */
export function livePrompt(prompts: PromptManifest): ResolvedPrompt {
  const entry = prompts.versions.find((v) => v.version === prompts.live);
  if (!entry) throw new Error(`Prompt ${prompts.id} has no version ${prompts.live}.`);
  return {
    id: prompts.id,
    version: entry.version,
    instructions: entry.instructions,
    contentHash: `sha256:${createHash('sha256').update(entry.instructions).digest('hex')}`,
  };
}
