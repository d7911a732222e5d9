import type { Span } from '#shared/domain/trace.ts';
import type { TraceSink } from '#shared/ports/index.ts';

/** Spans kept in memory per tenant and run, in the order they were recorded. */
export class InMemoryTraceSink implements TraceSink {
  private readonly spans = new Map<string, Span[]>();

  record(tenantId: string, runId: string, span: Span): Promise<void> {
    const key = `${tenantId}#${runId}`;
    this.spans.set(key, [...(this.spans.get(key) ?? []), structuredClone(span)]);
    return Promise.resolve();
  }

  list(tenantId: string, runId: string): Promise<Span[]> {
    return Promise.resolve(structuredClone(this.spans.get(`${tenantId}#${runId}`) ?? []));
  }

  /** Synchronous view for assertions. */
  spansOf(tenantId: string, runId: string): Span[] {
    return structuredClone(this.spans.get(`${tenantId}#${runId}`) ?? []);
  }
}
