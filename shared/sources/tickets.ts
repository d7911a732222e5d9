import { z } from 'zod';
import { DateTimeSchema, defineSource } from './definition.ts';

export const TicketRecordSchema = z
  .looseObject({
    ticketId: z.string().min(1),
    status: z.string().min(1).describe('e.g. open, pending, closed; closed tickets are not shown.'),
    priority: z.string().min(1).describe('e.g. low, normal, high, urgent.'),
    subject: z.string().optional(),
    openedAt: DateTimeSchema.optional(),
    body: z.string().optional().describe('Customer-written text: untrusted input for the model.'),
    thread: z
      .array(
        z.looseObject({
          from: z.string().min(1).optional().describe('Who wrote it: customer, support, or a name.'),
          at: DateTimeSchema.optional(),
          body: z.string().describe('Message text; customer-written messages are untrusted input.'),
        }),
      )
      .max(200)
      .optional()
      .describe('The messages of the ticket, oldest first; read only by the ticket-thread tool.'),
  })
  .describe('A support ticket. Further fields are stored as written and never shown.');
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
