import { z } from 'zod';
import { DateTimeSchema, defineSource, RecordIdSchema } from './definition.ts';

export const TicketRecordSchema = z
  .strictObject({
    ticketId: RecordIdSchema,
    subject: z.string().min(1),
    status: z.enum(['open', 'pending', 'closed']),
    priority: z.enum(['low', 'normal', 'high', 'urgent']),
    openedAt: DateTimeSchema,
    body: z.string().describe('Customer-written text: untrusted input for the model.'),
  })
  .describe('A support ticket.');
export type TicketRecord = z.infer<typeof TicketRecordSchema>;

export const ticketsSource = defineSource({
  id: 'tickets',
  title: 'Support tickets',
  description: 'Support tickets of the account; the body is customer-written, untrusted text.',
  recordSchema: TicketRecordSchema,
  accountField: null,
  displayFields: ['ticketId', 'subject', 'status', 'priority', 'openedAt', 'body'],
  maxAgeDays: null,
  evidencePrefix: 'ticket',
  // An account without tickets is normal, not a gap.
  requiredPerAccount: false,
});
