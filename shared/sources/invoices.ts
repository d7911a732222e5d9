import { z } from 'zod';
import { DateSchema, defineSource, MoneySchema } from './definition.ts';

export const InvoiceRecordSchema = z
  .looseObject({
    invoiceId: z.string().min(1),
    amount: MoneySchema,
    status: z.string().min(1).describe('e.g. paid, open, overdue.'),
    dueDate: DateSchema,
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional()
      .describe('ISO 4217 code, e.g. USD.'),
    paidAt: DateSchema.optional(),
  })
  .describe('An invoice. Further fields are stored as written and never shown.');
export type InvoiceRecord = z.infer<typeof InvoiceRecordSchema>;

export const invoicesSource = defineSource({
  id: 'invoices',
  title: 'Invoices',
  description: 'Invoices of the account with their status and due dates.',
  recordSchema: InvoiceRecordSchema,
  accountField: 'accountId',
  displayFields: ['invoiceId', 'amount', 'currency', 'status', 'dueDate', 'paidAt'],
  maxAgeDays: null,
  evidencePrefix: 'invoice',
  requiredPerAccount: true,
});
