import type { SourceId } from '#shared/domain/context.ts';
import type { ContextSource, SourceRecord } from '#shared/ports/index.ts';

/** A source that answers with fixed records (per tenant and account) and counts its reads. */
export class ScriptedContextSource implements ContextSource {
  readonly fetches: { tenantId: string; accountId: string }[] = [];

  constructor(
    readonly source: SourceId,
    private readonly records: readonly SourceRecord[],
    private readonly scope: { tenantId: string; accountId: string } | null = null,
  ) {}

  fetch(tenantId: string, accountId: string): Promise<SourceRecord[]> {
    this.fetches.push({ tenantId, accountId });
    if (this.scope && (this.scope.tenantId !== tenantId || this.scope.accountId !== accountId)) {
      return Promise.resolve([]);
    }
    return Promise.resolve(structuredClone([...this.records]));
  }
}

/** A source whose every read fails, as a timed-out or broken upstream would. */
export class ThrowingContextSource implements ContextSource {
  fetchCount = 0;

  constructor(
    readonly source: SourceId,
    private readonly error: Error = new Error('upstream timed out'),
  ) {}

  fetch(): Promise<SourceRecord[]> {
    this.fetchCount += 1;
    return Promise.reject(this.error);
  }
}

/** Builds the `sources` map of `Deps`. */
export function sourceMap(...sources: ContextSource[]): ReadonlyMap<SourceId, ContextSource> {
  return new Map(sources.map((source) => [source.source, source]));
}
