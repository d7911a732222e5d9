import { z } from 'zod';
import { RenewalBriefSchema, type RenewalBrief } from '../domain/brief.ts';
import { proposedActionSchema, type ActionSpec, type ProposedActionOutput } from '../domain/actions.ts';
import type { ContextObject } from '../domain/context.ts';
import { renewalBriefPrompts } from '../../prompts/renewal-brief/manifest.ts';
import { selectSource, type WorkflowDefinition } from './definition.ts';
import { contractSource } from '../sources/contract.ts';
import { crmSource } from '../sources/crm.ts';
import { invoicesSource } from '../sources/invoices.ts';
import { ticketsSource } from '../sources/tickets.ts';
import { usageSource } from '../sources/usage.ts';
import { safeText } from '../domain/text.ts';

export const RenewalBriefInputSchema = z
  .object({
    accountId: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be a lower-case account id'),
    notes: safeText(4000).nullable().optional(),
  })
  .strict();
export type RenewalBriefInput = z.infer<typeof RenewalBriefInputSchema>;

/** The action target every renewal-brief action goes to: the tenant's CRM. */
export const CRM_TARGET_ID = 'crm';

/**
 * The actions a renewal brief may propose. Argument schemas are strict (no extra fields) and every
 * field is required, as structured output demands; the e-mail reaches a customer, so only a
 * manager or an admin may approve it.
 */
export const RENEWAL_ACTIONS: readonly ActionSpec[] = [
  {
    type: 'crm.create_task',
    description: 'Create a follow-up task in the CRM for the account.',
    argsSchema: z.strictObject({
      title: z.string().min(1).max(200).describe('What has to be done, in one line.'),
      owner: z.string().min(1).max(100).describe('Who should do it: a name or role from the context.'),
      dueDate: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
        .describe('Due date, YYYY-MM-DD.'),
    }),
    approverRoles: ['csm', 'manager', 'admin'],
    targetId: CRM_TARGET_ID,
  },
  {
    type: 'crm.update_renewal_risk',
    description: "Set the account's renewal risk level in the CRM.",
    argsSchema: z.strictObject({
      level: z.enum(['low', 'medium', 'high']),
      reason: z.string().min(1).max(500).describe('Why, citing the facts from the context.'),
    }),
    approverRoles: ['csm', 'manager', 'admin'],
    targetId: CRM_TARGET_ID,
  },
  {
    type: 'email.customer_followup',
    description: 'Send a follow-up e-mail to the customer (customer-facing).',
    argsSchema: z.strictObject({
      subject: z.string().min(1).max(200),
      body: z.string().min(1).max(5000),
    }),
    approverRoles: ['manager', 'admin'],
    targetId: CRM_TARGET_ID,
  },
];

/** What the model answers: the brief plus the actions it proposes (never executes). */
export const RenewalBriefOutputSchema = RenewalBriefSchema.extend({
  proposedActions: z
    .array(proposedActionSchema(RENEWAL_ACTIONS))
    .describe('Actions for a person to approve; empty when none is warranted.'),
});
export type RenewalBriefOutput = z.infer<typeof RenewalBriefOutputSchema>;

/** Business rules beyond the schema: evidence must exist, dates must be dates, gaps must be declared. */
export function validateRenewalBrief(
  brief: RenewalBrief & { proposedActions?: readonly ProposedActionOutput[] },
  context: ContextObject,
): string[] {
  const problems: string[] = [];
  const ids = new Set(context.items.map((item) => item.id));
  if (brief.summary.trim().length === 0) problems.push('summary must not be empty');
  brief.risks.forEach((risk, index) => {
    if (risk.evidence.length === 0) problems.push(`risks[${index}] must cite at least one evidence id`);
    for (const id of risk.evidence) {
      if (!ids.has(id)) problems.push(`risks[${index}].evidence cites "${id}", which is not in the context`);
    }
  });
  brief.nextSteps.forEach((step, index) => {
    if (step.dueBy !== null && !/^\d{4}-\d{2}-\d{2}$/.test(step.dueBy)) {
      problems.push(`nextSteps[${index}].dueBy must be YYYY-MM-DD or null`);
    }
  });
  const declared = new Set(brief.dataGaps.map((gap) => gap.source));
  for (const gap of context.dataGaps) {
    if (!declared.has(gap.source)) problems.push(`dataGaps must list the missing source "${gap.source}"`);
  }
  if (brief.escalation.recommended && (brief.escalation.reason ?? '').trim().length === 0) {
    problems.push('escalation.reason is required when escalation is recommended');
  }
  (brief.proposedActions ?? []).forEach((action, index) => {
    if (action.evidence.length === 0) {
      problems.push(`proposedActions[${index}] must cite at least one evidence id`);
    }
    for (const id of action.evidence) {
      if (!ids.has(id)) {
        problems.push(`proposedActions[${index}].evidence cites "${id}", which is not in the context`);
      }
    }
  });
  return problems;
}

export const renewalBrief: WorkflowDefinition<
  RenewalBriefInput,
  RenewalBrief & { proposedActions?: readonly ProposedActionOutput[] }
> = {
  id: 'renewal-brief',
  title: 'Renewal brief',
  description:
    'A structured brief on one account ahead of renewal: summary, health, risks with evidence, open questions, next steps and data gaps.',
  inputSchema: RenewalBriefInputSchema,
  accountIdOf: (input) => input.accountId,
  notesOf: (input) => input.notes ?? null,
  requesterRoles: ['csm', 'manager', 'admin'],
  sources: [
    selectSource(crmSource, { maxStringLength: 200 }),
    selectSource(usageSource, { maxStringLength: 100 }),
    selectSource(ticketsSource, {
      include: (record) => record['status'] !== 'closed',
      maxStringLength: 1500,
    }),
    selectSource(invoicesSource, { maxStringLength: 100 }),
    selectSource(contractSource, { maxStringLength: 100 }),
  ],
  tools: [],
  actions: RENEWAL_ACTIONS,
  prompts: renewalBriefPrompts,
  outputSchema: RenewalBriefOutputSchema,
  contentSchema: RenewalBriefSchema,
  outputName: 'renewal_brief',
  validate: validateRenewalBrief,
  modelPolicy: {
    models: ['gpt-4.1-mini', 'gpt-4o-mini'],
    maxOutputTokens: 2000,
    attemptTimeoutMs: 30_000,
    totalDeadlineMs: 100_000,
    triesPerModel: 3,
  },
  approvalPolicy: {
    approverRoles: ['csm', 'manager', 'admin'],
    escalatedApproverRoles: ['manager', 'admin'],
  },
  costLimitUsdPerRun: 0.5,
};
