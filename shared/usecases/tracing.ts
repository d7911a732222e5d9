import { createHash, randomBytes } from 'node:crypto';
import type { Span, SpanAttributes } from '../domain/trace.ts';
import type { SweepResult, TraceSink } from '../ports/index.ts';

/** The OpenTelemetry trace id of a run: 32 hex characters derived from the run id, so every layer agrees. */
export function traceIdOf(runId: string): string {
  return createHash('sha256').update(runId).digest('hex').slice(0, 32);
}

/** Records one finished span of a run's trace. */
export async function recordSpan(
  traces: TraceSink,
  tenantId: string,
  runId: string,
  span: {
    name: string;
    kind: Span['kind'];
    start: Date;
    end: Date;
    status: Span['status'];
    attributes: SpanAttributes;
  },
): Promise<void> {
  await traces.record(tenantId, runId, {
    traceId: traceIdOf(runId),
    spanId: randomBytes(8).toString('hex'),
    name: span.name,
    kind: span.kind,
    startTime: span.start.toISOString(),
    endTime: span.end.toISOString(),
    durationMs: Math.max(0, span.end.getTime() - span.start.getTime()),
    status: span.status,
    attributes: { 'rein.run.id': runId, 'rein.tenant.id': tenantId, ...span.attributes },
  });
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Span attributes naming what a sweep of stranded reservations ended, if anything. */
export function sweptAttributes(swept: SweepResult): SpanAttributes {
  return {
    ...(swept.released.length > 0 ? { 'rein.stranded_released': swept.released.join(' ') } : {}),
    ...(swept.settled.length > 0 ? { 'rein.stranded_settled': swept.settled.join(' ') } : {}),
    ...(swept.failed.length > 0 ? { 'rein.stranded_failed': swept.failed.join(' ') } : {}),
  };
}
