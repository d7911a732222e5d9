/**
 * Fault injection for the local model server. A rule queues faults for the requests whose input text
 * contains `match` (every request when it is absent); each matching request consumes the next fault
 * of the first rule that still has one, so a test can script "429, then 503, then a good answer".
 */
import { z } from 'zod';

export const FaultSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('rate_limit'),
      /** Sent as `retry-after` (seconds). */
      retryAfterSeconds: z.number().nonnegative().optional(),
      /** Sent as `retry-after-ms`. */
      retryAfterMs: z.number().int().nonnegative().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('insufficient_quota') }).strict(),
  z
    .object({
      kind: z.literal('server_error'),
      status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(500),
    })
    .strict(),
  z
    .object({
      kind: z.literal('timeout'),
      /** How long to wait before answering normally; nothing is sent if the client gives up first. */
      delayMs: z.number().int().nonnegative(),
    })
    .strict(),
  z.object({ kind: z.literal('connection_reset') }).strict(),
  z.object({ kind: z.literal('refusal') }).strict(),
  z.object({ kind: z.literal('truncated') }).strict(),
  z.object({ kind: z.literal('invalid_json') }).strict(),
  z.object({ kind: z.literal('schema_invalid') }).strict(),
  z.object({ kind: z.literal('invented_evidence') }).strict(),
]);
/** A fault as written by a test (`server_error.status` defaults to 500). */
export type Fault = z.input<typeof FaultSchema>;
export type ResolvedFault = z.output<typeof FaultSchema>;
export type FaultKind = ResolvedFault['kind'];

export const FaultRuleSchema = z
  .object({
    /** Substring that must appear in the request's input text (e.g. an account id). */
    match: z.string().min(1).optional(),
    faults: z.array(FaultSchema).min(1),
  })
  .strict();
export type FaultRule = z.input<typeof FaultRuleSchema>;

interface QueuedRule {
  match: string | undefined;
  faults: ResolvedFault[];
}

/** The queued rules of one server. */
export class FaultQueue {
  private rules: QueuedRule[] = [];

  /** Validates and queues a rule; throws a `ZodError` for a malformed one. */
  add(rule: FaultRule): void {
    const parsed = FaultRuleSchema.parse(rule);
    this.rules.push({ match: parsed.match, faults: [...parsed.faults] });
  }

  /** Removes and returns the next fault for a request with this input text, if any. */
  take(inputText: string): ResolvedFault | null {
    const index = this.rules.findIndex((rule) => rule.match === undefined || inputText.includes(rule.match));
    const rule = this.rules[index];
    if (!rule) return null;
    const fault = rule.faults.shift() ?? null;
    if (rule.faults.length === 0) this.rules.splice(index, 1);
    return fault;
  }

  /** Faults still queued, for diagnostics. */
  pending(): number {
    return this.rules.reduce((sum, rule) => sum + rule.faults.length, 0);
  }

  clear(): void {
    this.rules = [];
  }
}
