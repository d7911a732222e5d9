import { z } from 'zod';
import { DateSchema, defineSource, MoneySchema, RecordIdSchema } from './definition.ts';

export const ContractRecordSchema = z
  .strictObject({
    contractId: RecordIdSchema,
    startDate: DateSchema,
    endDate: DateSchema,
    autoRenew: z.boolean(),
    termMonths: z.int().positive(),
    renewalAmount: MoneySchema.describe('Amount of the next term in USD.'),
  })
  .describe('The current contract.');
export type ContractRecord = z.infer<typeof ContractRecordSchema>;

export const contractSource = defineSource({
  id: 'contract',
  title: 'Contract',
  description: 'The current contract: dates, term, auto-renewal and renewal amount.',
  recordSchema: ContractRecordSchema,
  accountField: null,
  displayFields: ['contractId', 'startDate', 'endDate', 'autoRenew', 'termMonths', 'renewalAmount'],
  maxAgeDays: null,
  evidencePrefix: 'contract',
  requiredPerAccount: true,
});
