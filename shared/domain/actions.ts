import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './edit-distance.ts';
import type { Role } from './principal.ts';

/**
 * Approval-gated actions. The model never executes anything: it only *proposes* actions in its
 * structured output. A reviewer approves (possibly with edited arguments) or rejects each one; only
 * approved actions are sent, after the review, to the tenant's action target.
 */

/** An action a workflow declares: what it is, its strict argument schema, who may approve it, where it goes. */
export interface ActionSpec {
  /** `area.verb_noun`, e.g. `crm.create_task`. */
  type: string;
  description: string;
  /** Strict: unknown argument fields are refused. Every field is required (structured output). */
  argsSchema: z.ZodObject;
  /** The roles that may approve this action type (customer-facing ones: managers and admins). */
  approverRoles: readonly Role[];
  /** The id of the tenant's action target this action is sent to (`PUT /v1/action-targets/{targetId}`). */
  targetId: string;
}

/**
 * Where an action is in its life. `proposed → approved | rejected | expired` at review;
 * `approved → executing → executed | failed` at execution. `executing` is a lease: it belongs to one
 * execution invocation until `leaseUntil`; a later invocation may take over only an expired lease.
 */
export const ActionStatusSchema = z.enum([
  'proposed',
  'approved',
  'rejected',
  'expired',
  'executing',
  'executed',
  'failed',
]);
export type ActionStatus = z.infer<typeof ActionStatusSchema>;

/** The transitions each status allows. Every write of an action's status is conditional on this table. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  proposed: ['approved', 'rejected', 'expired'],
  approved: ['executing'],
  executing: ['executing', 'executed', 'failed'],
  rejected: [],
  expired: [],
  executed: [],
  failed: [],
};

export const ActionDecisionRecordSchema = z.object({
  decision: z.enum(['approve', 'reject']),
  by: z.string(),
  at: z.iso.datetime(),
  /** sha256 of the canonical JSON of the exact arguments decided on. */
  argsHash: z.string(),
});

export const ActionExecutionSchema = z.object({
  attempts: z.number().int().nonnegative(),
  /** The lease of the invocation sending the action (status `executing`). */
  leaseUntil: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  /** The HTTP status of the last answer, null when there was none (timeout, connection). */
  lastStatus: z.number().int().nullable(),
  /** The id the target returned for the created record, when it sent one. */
  responseId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type ActionExecution = z.infer<typeof ActionExecutionSchema>;

/** A proposed action as the draft stores and shows it. */
export const ActionRecordSchema = z.object({
  actionId: z.string(),
  type: z.string(),
  targetId: z.string(),
  /** The arguments that will be (or were) sent: the model's, or the reviewer's edit. */
  args: z.record(z.string(), z.unknown()),
  /** The arguments the model proposed. */
  proposedArgs: z.record(z.string(), z.unknown()),
  edited: z.boolean(),
  rationale: z.string(),
  evidence: z.array(z.string()),
  status: ActionStatusSchema,
  decision: ActionDecisionRecordSchema.nullable(),
  execution: ActionExecutionSchema.nullable(),
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/** The per-status counts shown on a draft and its run. */
export const ActionCountsSchema = z.object({
  total: z.number().int(),
  proposed: z.number().int(),
  approved: z.number().int(),
  rejected: z.number().int(),
  expired: z.number().int(),
  executing: z.number().int(),
  executed: z.number().int(),
  failed: z.number().int(),
});
export type ActionCounts = z.infer<typeof ActionCountsSchema>;

export function actionCounts(actions: readonly Pick<ActionRecord, 'status'>[]): ActionCounts {
  const counts: ActionCounts = {
    total: actions.length,
    proposed: 0,
    approved: 0,
    rejected: 0,
    expired: 0,
    executing: 0,
    executed: 0,
    failed: 0,
  };
  for (const action of actions) counts[action.status] += 1;
  return counts;
}

/** `sha256:<hex>` of the canonical JSON of an action's arguments: what exactly a reviewer approved. */
export function argsHashOf(args: Record<string, unknown>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(args)).digest('hex')}`;
}

const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * The id of the n-th action of a draft: derived, so a retried StoreDraft writes the same ids, and
 * in Rein's id format (`act_` + 26 base32 characters). It is also the Idempotency-Key sent to the target.
 */
export function actionIdOf(draftId: string, index: number): string {
  const digest = createHash('sha256').update(`${draftId}#action#${index}`).digest();
  let id = '';
  for (let i = 0; i < 26; i += 1) id += BASE32[(digest[i] ?? 0) % 32] ?? '0';
  return `act_${id}`;
}

/** The model's proposal of one action, as the structured output carries it. */
export interface ProposedActionOutput {
  type: string;
  arguments: Record<string, unknown>;
  rationale: string;
  evidence: string[];
}

/**
 * The `proposedActions` item schema for a workflow's actions: one member per declared type, with
 * that type's strict argument schema. A type outside the list or arguments that do not match fail
 * the output schema, which sends the answer to the repair round.
 */
export function proposedActionSchema(specs: readonly ActionSpec[]) {
  const members = specs.map((spec) =>
    z.object({
      type: z.literal(spec.type),
      arguments: spec.argsSchema,
      rationale: z.string().describe('Why this action, in one or two sentences, grounded in the context.'),
      evidence: z.array(z.string()).describe('Evidence ids from the context that support this action.'),
    }),
  );
  const [first, second, ...rest] = members;
  if (!first) throw new Error('A workflow with proposedActions must declare at least one action.');
  // A union (JSON schema anyOf), not a discriminated union (oneOf): OpenAI structured output takes anyOf only.
  return second ? z.union([first, second, ...rest]) : first;
}

/** The action records of a new draft from the model's proposals, all `proposed`. */
export function actionRecordsOf(
  draftId: string,
  proposals: readonly ProposedActionOutput[],
  specs: readonly ActionSpec[],
): ActionRecord[] {
  return proposals.map((proposal, index) => {
    const spec = specs.find((candidate) => candidate.type === proposal.type);
    if (!spec) throw new Error(`Action type ${proposal.type} is not declared by the workflow.`);
    return {
      actionId: actionIdOf(draftId, index),
      type: proposal.type,
      targetId: spec.targetId,
      args: proposal.arguments,
      proposedArgs: proposal.arguments,
      edited: false,
      rationale: proposal.rationale,
      evidence: proposal.evidence,
      status: 'proposed',
      decision: null,
      execution: null,
    };
  });
}
