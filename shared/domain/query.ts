import { z } from 'zod';

/**
 * A query parameter that takes one or several values of an enum, comma-separated
 * (`status=awaiting_review,escalated`), parsed into an array. An unknown value is an issue on the
 * parameter itself, so the 400's `details` name it.
 */
export function commaSeparated<E extends z.ZodEnum>(values: E) {
  const list = z.array(values).min(1);
  return z
    .string()
    .max(300)
    .transform((value, context): z.output<E>[] => {
      const parsed = list.safeParse(value.split(',').map((part) => part.trim()));
      if (!parsed.success) {
        context.addIssue({
          code: 'custom',
          message: `each value must be one of ${values.options.join(', ')}`,
        });
        return z.NEVER;
      }
      return parsed.data;
    });
}
