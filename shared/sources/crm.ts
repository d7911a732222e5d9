import { z } from 'zod';
import { defineSource, MoneySchema } from './definition.ts';

/**
 * The CRM account record. It defines the account and its owner: an account exists for Rein once
 * its CRM record does. Further fields (nested values included) are stored as written: raw CRM data
 * that the allow-list keeps from the model.
 */
export const CrmRecordSchema = z
  .looseObject({
    name: z.string().min(1),
    ownerId: z
      .string()
      .min(1)
      .max(256)
      .describe('`sub` of the CSM who owns the account; must be a user of the same tenant.'),
    arr: MoneySchema.describe('Annual recurring revenue in USD.'),
    ownerName: z.string().min(1).optional(),
    segment: z.string().min(1).optional().describe('e.g. enterprise, mid-market, smb.'),
    industry: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
  })
  .describe(
    'The CRM account record. Further fields (nested values included) are stored as written: raw CRM data the allow-list must keep from the model.',
  );
export type CrmRecord = z.infer<typeof CrmRecordSchema>;

export const crmSource = defineSource({
  id: 'crm',
  title: 'CRM account',
  description: 'The account record of the CRM: name, owner, segment, ARR. Defines the account and its owner.',
  recordSchema: CrmRecordSchema,
  accountField: 'accountId',
  displayFields: ['name', 'segment', 'arr', 'industry', 'region', 'ownerName'],
  maxAgeDays: 365,
  evidencePrefix: 'crm',
  requiredPerAccount: true,
});
