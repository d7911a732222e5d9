import { z } from 'zod';

/**
 * The contract between the state machine (defined once, in CDK: `infra/constructs/workflow-state-machine.ts`)
 * and the task Lambdas. Payloads stay small: ids only; documents live in DynamoDB.
 *
 * State machine input: `{ tenantId, runId, attempt: 1 }`.
 *
 * | state          | Lambda        | payload (`action` first)                          | result → path                    |
 * |----------------|---------------|---------------------------------------------------|----------------------------------|
 * | FetchContext   | context       | fetchContext {tenantId, runId}                    | {items, dataGaps, workflowId, inputTokens} → $.context |
 * | CallModel      | model-call    | callModel {tenantId, runId, attempt, workflowId, inputTokens} | {attempt, model} → $.model |
 * | ValidateOutput | validate      | validateOutput {tenantId, runId, attempt}         | {valid, canRepair, nextAttempt} → $.validation |
 * | CanRepair?     | Choice        | valid → StoreDraft; canRepair → PrepareRepair; else → InvalidOutput (Pass → MarkFailed) |
 * | PrepareRepair  | Pass          | $.validation.nextAttempt → $.attempt, then CallModel                                 |
 * | StoreDraft     | validate      | storeDraft {tenantId, runId, attempt}             | {draftId} → $.draft              |
 * | AwaitReview    | review (.waitForTaskToken) | awaitReview {tenantId, runId, draftId, taskToken} | {decision} → $.review  |
 * | ExpireReview   | review        | expireReview {tenantId, runId, draftId}  (Catch States.Timeout on AwaitReview) | → Done |
 * | RecordOutcome  | review        | recordOutcome {tenantId, runId, draftId}          | → ExecuteActions                 |
 * | ExecuteActions | actions       | executeActions {tenantId, runId, draftId}         | action counts → $.actions, → Done |
 * | MarkFailed     | review        | markFailed {tenantId, runId, error: {Error, Cause}} | → Failed (Fail)                |
 */
const Ids = { tenantId: z.string().min(1), runId: z.string().min(1) };

export const FetchContextTaskSchema = z.object({ action: z.literal('fetchContext'), ...Ids });
export const CallModelTaskSchema = z.object({
  action: z.literal('callModel'),
  ...Ids,
  attempt: z.number().int().positive(),
  /** From FetchContext's result: what the reservation needs, so nothing is read before it. */
  workflowId: z.string().min(1).optional(),
  inputTokens: z.number().int().positive().optional(),
});
export const ValidateOutputTaskSchema = z.object({
  action: z.literal('validateOutput'),
  ...Ids,
  attempt: z.number().int().positive(),
});
export const StoreDraftTaskSchema = z.object({
  action: z.literal('storeDraft'),
  ...Ids,
  attempt: z.number().int().positive(),
});
export const AwaitReviewTaskSchema = z.object({
  action: z.literal('awaitReview'),
  ...Ids,
  draftId: z.string().min(1),
  taskToken: z.string().min(1),
});
export const ExpireReviewTaskSchema = z.object({
  action: z.literal('expireReview'),
  ...Ids,
  draftId: z.string().min(1),
});
export const RecordOutcomeTaskSchema = z.object({
  action: z.literal('recordOutcome'),
  ...Ids,
  draftId: z.string().min(1),
});
export const ExecuteActionsTaskSchema = z.object({
  action: z.literal('executeActions'),
  ...Ids,
  draftId: z.string().min(1),
});
export const MarkFailedTaskSchema = z.object({
  action: z.literal('markFailed'),
  ...Ids,
  error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }),
});

export const ValidateFunctionTaskSchema = z.discriminatedUnion('action', [
  ValidateOutputTaskSchema,
  StoreDraftTaskSchema,
]);
export const ReviewFunctionTaskSchema = z.discriminatedUnion('action', [
  AwaitReviewTaskSchema,
  ExpireReviewTaskSchema,
  RecordOutcomeTaskSchema,
  MarkFailedTaskSchema,
]);

/** The output the review API sends with SendTaskSuccess. */
export const ReviewTaskOutputSchema = z.object({ decision: z.enum(['approved', 'rejected']) });
export type ReviewTaskOutput = z.infer<typeof ReviewTaskOutputSchema>;
