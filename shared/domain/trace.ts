import { z } from 'zod';

/**
 * One span of a run's trace. Attribute names follow the OpenTelemetry semantic conventions,
 * the GenAI ones for model calls (`gen_ai.request.model`, `gen_ai.usage.input_tokens`, …).
 */
export const SpanSchema = z.object({
  traceId: z.string(),
  spanId: z.string(),
  name: z.string(),
  kind: z.enum([
    'request',
    'context_source',
    'model_attempt',
    'tool_call',
    'validation',
    'draft',
    'review',
    'action',
    'run',
  ]),
  startTime: z.iso.datetime(),
  endTime: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  status: z.enum(['ok', 'error']),
  attributes: z.record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]),
  ),
});
export type Span = z.infer<typeof SpanSchema>;
export type SpanAttributes = Span['attributes'];
