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

/** One row a tool returns, before its allow-list: it becomes one evidence item. */
export interface ToolRow {
  /** Unique within the source and account, e.g. `NW-1088.2` (message 2 of ticket NW-1088). */
  recordId: string;
  fields: Record<string, unknown>;
  updatedAt?: string | null;
}

/**
 * A read-only tool the model may call during the model step. The gateway executes it, never the
 * model: it reads `source` through the same reader as the context layer (the tenant's connector or
 * the stored records), for the run's tenant and account only, with the workflow's allow-list of that
 * source (its `include` filter and maximum age), and returns only `returnFields` of each row.
 */
export interface ToolSpec {
  /** The function name the model sees: lower-case letters, digits and underscores. */
  name: string;
  description: string;
  /** Strict, every field required (structured output's rule for function tools too). */
  argsSchema: z.ZodObject;
  /** The catalogue source it reads; the workflow must select it in `sources`. */
  source: SourceDefinition;
  /** Prefix of the evidence ids of its rows (`thread` → `thread:NW-1088.2`). */
  evidencePrefix: string;
  /** The only fields a row may carry to the model (scalars; longer strings cut at `maxStringLength`). */
  returnFields: readonly string[];
  maxStringLength: number;
  maxRows: number;
  /**
   * The rows for these arguments from the account's records (already checked against the source's
   * schema, filtered by the workflow's `include`, not stale), or why there are none.
   */
  rows(
    records: readonly { recordId: string; data: Record<string, unknown>; updatedAt?: string | null }[],
    args: Record<string, unknown>,
  ): { rows: ToolRow[] } | { notFound: string };
}

/**
 * The bounds of a workflow's tool loop. A turn whose calls reach `maxRounds` or `maxCallsPerRun`
 * is followed by one final turn without tools (`tool_choice: none`): the model must answer then.
 */
export interface ToolPolicy {
  /** Turns that may call tools, per run (the repair attempt counts too). */
  maxRounds: number;
  /** Tool calls per run; calls beyond it get a `limit` error result and are not executed. */
  maxCallsPerRun: number;
  /** One call's whole budget, ms (a connector's own timeout may be shorter). */
  callTimeoutMs: number;
  /** Largest result returned to the model, bytes of JSON: rows beyond it are dropped (and the result says so). */
  maxResultBytes: number;
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
  /** Read-only tools the model may call during the model step (function calling); empty: none. */
  tools: readonly ToolSpec[];
  toolPolicy: ToolPolicy;
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

/** Checks a workflow's tools at module load: unique names, selected sources, fields the tool may return. */
export function checkTools(sources: readonly SourceSpec[], tools: readonly ToolSpec[]): readonly ToolSpec[] {
  const names = new Set<string>();
  for (const tool of tools) {
    if (!/^[a-z][a-z0-9_]{1,63}$/.test(tool.name)) throw new Error(`Invalid tool name ${tool.name}.`);
    if (names.has(tool.name)) throw new Error(`Tool ${tool.name} is declared twice.`);
    names.add(tool.name);
    if (!sources.some((spec) => spec.source.id === tool.source.id)) {
      throw new Error(
        `Tool ${tool.name} reads source ${tool.source.id}, which the workflow does not select.`,
      );
    }
    if (!/^[a-z]+$/.test(tool.evidencePrefix)) {
      throw new Error(`Tool ${tool.name}: evidencePrefix must be lower-case letters.`);
    }
  }
  return tools;
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
