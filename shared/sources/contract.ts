import { z } from 'zod';
import { DateSchema, defineSource, MoneySchema } from './definition.ts';

export const ContractRecordSchema = z
  .looseObject({
    contractId: z.string().min(1),
    endDate: DateSchema,
    startDate: DateSchema.optional(),
    autoRenew: z.boolean().optional(),
    termMonths: z.int().positive().optional(),
    renewalAmount: MoneySchema.optional().describe('Amount of the next term in USD.'),
  })
  .describe('The current contract. Further fields are stored as written and never shown.');
export type ContractRecord = z.infer<typeof ContractRecordSchema>;

export const contractSource = defineSource({
  id: 'contract',
  title: 'Contract',
  description: 'The current contract: dates, term, auto-renewal and renewal amount.',
  recordSchema: ContractRecordSchema,
  accountField: 'accountId',
  displayFields: ['contractId', 'startDate', 'endDate', 'autoRenew', 'termMonths', 'renewalAmount'],
  maxAgeDays: null,
  evidencePrefix: 'contract',
  requiredPerAccount: true,
});
