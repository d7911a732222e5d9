import { z } from 'zod';
import { DateSchema, defineSource, MoneySchema, RecordIdSchema } from './definition.ts';

export const InvoiceRecordSchema = z
  .strictObject({
    invoiceId: RecordIdSchema,
    amount: MoneySchema,
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .describe('ISO 4217 code, e.g. USD.'),
    status: z.enum(['paid', 'open', 'overdue']),
    dueDate: DateSchema,
    paidAt: DateSchema.optional(),
  })
  .describe('An invoice.');
export type InvoiceRecord = z.infer<typeof InvoiceRecordSchema>;

export const invoicesSource = defineSource({
  id: 'invoices',
  title: 'Invoices',
  description: 'Invoices of the account with their status and due dates.',
  recordSchema: InvoiceRecordSchema,
  accountField: null,
  displayFields: ['invoiceId', 'amount', 'currency', 'status', 'dueDate', 'paidAt'],
  maxAgeDays: null,
  evidencePrefix: 'invoice',
  requiredPerAccount: true,
});
