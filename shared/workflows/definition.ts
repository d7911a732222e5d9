import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { ActionSpec } from '../domain/actions.ts';
import type { ContextObject } from '../domain/context.ts';
import type { SourceDefinition } from '../sources/definition.ts';
import type { Role } from '../domain/principal.ts';
import type { PromptManifest } from '../../prompts/renewal-brief/manifest.ts';

/**
 * A workflow's use of one catalogue source: which of the source's display fields this workflow's
 * model may see, and which records. The record schema and maximum age come from the catalogue.
 */
export interface SourceSpec {
  source: SourceDefinition;
  /** Fields copied to the model's context (a subset of the source's display fields); all else is dropped. */
  allowFields: readonly string[];
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

/**
 * Selects a catalogue source for a workflow, narrowing its display fields. A field the source does
 * not declare as displayable fails at module load, so a workflow can never widen the allow-list.
 */
export function selectSource(
  source: SourceDefinition,
  options: Omit<SourceSpec, 'source' | 'allowFields'> & { allowFields?: readonly string[] },
): SourceSpec {
  const allowFields = options.allowFields ?? source.displayFields;
  const extra = allowFields.filter((field) => !source.displayFields.includes(field));
  if (extra.length > 0) {
    throw new Error(`Fields ${extra.join(', ')} are not display fields of source ${source.id}.`);
  }
  return { ...options, source, allowFields };
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
