import { z } from 'zod';
import type { ErrorDetail } from './errors.ts';

/**
 * Which budget refused a run or a model attempt, with its figures: the tenant's month (limit,
 * settled spend, other runs' in-flight holds) or the run's own cost cap (the cap and what the run
 * has spent). Every 402 and every `budget_exceeded` run failure carries one, as the error's
 * `details` and in its message.
 */
export const BudgetRefusalSchema = z.discriminatedUnion('budget', [
  z.object({
    budget: z.literal('tenant_month'),
    /** YYYY-MM: what a step error's Cause carries is checked this strictly before a run shows it. */
    month: z.string().regex(/^\d{4}-\d{2}$/),
    limitUsd: z.number(),
    spentUsd: z.number(),
    reservedUsd: z.number(),
    /** The model attempt's hold that did not fit; null when a run is refused at its start. */
    attemptUsd: z.number().nullable(),
  }),
  z.object({
    budget: z.literal('run_cost_cap'),
    limitUsd: z.number(),
    spentUsd: z.number(),
    attemptUsd: z.number(),
  }),
]);
export type BudgetRefusal = z.infer<typeof BudgetRefusalSchema>;

/** The refusal in words, with its figures. */
export function budgetRefusalMessage(refusal: BudgetRefusal): string {
  if (refusal.budget === 'run_cost_cap') {
    return `The run's cost cap cannot cover the next model attempt: cap $${refusal.limitUsd}, spent by the run $${refusal.spentUsd}, attempt $${refusal.attemptUsd}.`;
  }
  const figures = `limit $${refusal.limitUsd}, spent $${refusal.spentUsd}, reserved $${refusal.reservedUsd}`;
  return refusal.attemptUsd === null
    ? `The tenant's monthly budget for ${refusal.month} is spent: ${figures}.`
    : `The tenant's monthly budget for ${refusal.month} cannot cover this model attempt: ${figures}, attempt $${refusal.attemptUsd}.`;
}

/** The refusal as error details: `budget` names it, then one entry per figure. */
export function budgetRefusalDetails(refusal: BudgetRefusal): ErrorDetail[] {
  return Object.entries(refusal)
    .filter(([, value]) => value !== null)
    .map(([path, value]) => ({ path, message: String(value) }));
}

const StepCauseSchema = z.object({ budgetRefusal: BudgetRefusalSchema });

/**
 * The message of the model step's `Rein.budget_exceeded` error: the refusal as JSON. Step
 * Functions hands it to `MarkFailed` as the error's `Cause` (the message itself locally; in AWS
 * inside the Lambda runtime's `{"errorType","errorMessage","trace"}` document), which reads it back
 * with {@link budgetRefusalFromCause} and records it on the run.
 */
export function budgetRefusalCause(refusal: BudgetRefusal): string {
  return JSON.stringify({ budgetRefusal: refusal });
}

/** The refusal a step error's `Cause` carries, or null when it carries none. */
export function budgetRefusalFromCause(cause: string | undefined): BudgetRefusal | null {
  if (cause === undefined) return null;
  let parsed = parseJson(cause);
  const lambdaMessage = z.object({ errorMessage: z.string() }).safeParse(parsed);
  if (lambdaMessage.success) parsed = parseJson(lambdaMessage.data.errorMessage);
  const result = StepCauseSchema.safeParse(parsed);
  return result.success ? result.data.budgetRefusal : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
