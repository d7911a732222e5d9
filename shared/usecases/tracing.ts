import { createHash, randomBytes } from 'node:crypto';
import type { Span, SpanAttributes } from '../domain/trace.ts';
import type { TraceSink } from '../ports/index.ts';

/** The OpenTelemetry trace id of a run: 32 hex characters derived from the run id, so every layer agrees. */
export function traceIdOf(runId: string): string {
  return createHash('sha256').update(runId).digest('hex').slice(0, 32);
}

export interface SpanParts {
  name: string;
  kind: Span['kind'];
  start: Date;
  end: Date;
  status: Span['status'];
  attributes: SpanAttributes;
}

/** Records one finished span of a run's trace. */
export async function recordSpan(
  traces: TraceSink,
  tenantId: string,
  runId: string,
  span: SpanParts,
): Promise<void> {
  await traces.record(tenantId, runId, buildSpan(tenantId, runId, span));
}

/** A finished span of a run's trace, ready to store (the gateway writes it inside its transactions). */
export function buildSpan(tenantId: string, runId: string, span: SpanParts): Span {
  return {
    traceId: traceIdOf(runId),
    spanId: randomBytes(8).toString('hex'),
    name: span.name,
    kind: span.kind,
    startTime: span.start.toISOString(),
    endTime: span.end.toISOString(),
    durationMs: Math.max(0, span.end.getTime() - span.start.getTime()),
    status: span.status,
    attributes: { 'rein.run.id': runId, 'rein.tenant.id': tenantId, ...span.attributes },
  };
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
