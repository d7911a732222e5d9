import { z } from 'zod';
import { DateTimeSchema, defineSource } from './definition.ts';

export const UsageRecordSchema = z
  .looseObject({
    activeUsers: z.number().nonnegative(),
    licensedSeats: z.number().nonnegative(),
    period: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
      .optional()
      .describe('Month the figures cover, YYYY-MM.'),
    weeklyActiveTrend: z
      .number()
      .optional()
      .describe('Change of weekly active users over the period, in percent (−18.5 = down 18.5 %).'),
    featureAdoption: z
      .record(z.string().min(1), z.number().min(0).max(100))
      .optional()
      .describe('Per feature, the percentage of active users who used it in the period.'),
    lastLoginAt: DateTimeSchema.optional(),
    history: z
      .array(
        z.looseObject({
          period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
          activeUsers: z.number().nonnegative(),
          licensedSeats: z.number().nonnegative().optional(),
        }),
      )
      .max(36)
      .optional()
      .describe('Earlier months, for the usage-trend tool: period (YYYY-MM), active users, licensed seats.'),
  })
  .describe('Product usage for the latest period. Further fields are stored as written and never shown.');
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

export const usageSource = defineSource({
  id: 'usage',
  title: 'Product usage',
  description: 'Active users, licensed seats and trends for the latest period.',
  recordSchema: UsageRecordSchema,
  accountField: null,
  displayFields: ['period', 'activeUsers', 'licensedSeats', 'weeklyActiveTrend', 'lastLoginAt'],
  // Monthly figures: older than two months no longer describe the account.
  maxAgeDays: 62,
  evidencePrefix: 'usage',
  requiredPerAccount: true,
});
