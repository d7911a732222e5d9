import { z } from 'zod';
import { SourceIdSchema } from '../sources/definition.ts';

/**
 * How a read-only tool call ended. `ok`: rows came back (possibly none). The model's own mistakes
 * (`invalid_arguments`, `not_found`, an unknown tool) and the loop's `limit` are answered as errors
 * but are no failure of the source; `error`, `timeout` and `blocked` are, and leave a data gap.
 */
export const ToolOutcomeSchema = z.enum([
  'ok',
  'invalid_arguments',
  'not_found',
  'unknown_tool',
  'limit',
  'error',
  'timeout',
  'blocked',
]);
export type ToolOutcome = z.infer<typeof ToolOutcomeSchema>;

/** Outcomes that mean the source could not be read: the call becomes a data gap of its source. */
export const FAILED_TOOL_OUTCOMES: readonly ToolOutcome[] = ['error', 'timeout', 'blocked'];

/**
 * One tool call of a run as the gateway executed it, kept in the run's context object: the loop
 * resumes from these after a retry (a call already executed is never executed again) and the
 * output is exactly what the model was given.
 */
export const ToolCallRecordSchema = z.object({
  callId: z.string(),
  /** The model step's attempt (1, or 2 for the repair) and the turn within it that asked for the call. */
  attempt: z.int().positive(),
  turn: z.int().positive(),
  tool: z.string(),
  /** The tool's source, when the tool is known. */
  source: SourceIdSchema.nullable(),
  /** sha256 of the raw arguments the model wrote (the arguments themselves are not kept). */
  argsHash: z.string(),
  outcome: ToolOutcomeSchema,
  /** The JSON text returned to the model as the function call's output. */
  output: z.string(),
  /** Evidence ids of the items this call added to the context. */
  evidenceIds: z.array(z.string()),
});
export type ToolCallRecord = z.infer<typeof ToolCallRecordSchema>;

/** Turns per model-step attempt are numbered below this. */
export const TURN_SLOTS = 100;

/**
 * The attempt number of a tool-loop turn's hold and ledger entry: the step's own attempt (1, or 2
 * for the repair) for the first turn, so a model that answers at once is charged exactly as without
 * tools, and `attempt × TURN_SLOTS + turn` for later turns.
 */
export function turnSlot(attempt: number, turn: number): number {
  if (!Number.isInteger(turn) || turn < 1 || turn >= TURN_SLOTS)
    throw new RangeError(`Invalid turn ${turn}.`);
  return turn === 1 ? attempt : attempt * TURN_SLOTS + turn;
}

/**
 * Where the attempt record of a turn that asked for tools is kept (its calls, to replay the turn
 * after a retry): `attempt × TURN_SLOTS + turn`, never the step's own attempt number, whose record
 * is the answer validation reads.
 */
export function toolTurnRecord(attempt: number, turn: number): number {
  if (!Number.isInteger(turn) || turn < 1 || turn >= TURN_SLOTS)
    throw new RangeError(`Invalid turn ${turn}.`);
  return attempt * TURN_SLOTS + turn;
}
