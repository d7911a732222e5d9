/**
 * Builds an eval case's context object with the production context layer: the case fixture's raw
 * records are served by in-memory `ContextSource`s, and `fetchContext` (`shared/usecases/context.ts`)
 * applies the workflow's schemas, filters and allow-lists and forms the evidence ids exactly as it
 * does for a real run. Nothing here re-implements those rules.
 */
import { SourceUnavailableError, type ContextObject, type SourceId } from '#shared/domain/context.ts';
import type { ToolDeps } from '#shared/usecases/tools.ts';
import { STRICT_OUTBOUND_POLICY } from '#shared/outbound/address-policy.ts';
import { ReinError } from '#shared/domain/errors.ts';
import type { Run } from '#shared/domain/run.ts';
import type { Span } from '#shared/domain/trace.ts';
import type { ContextSource, RunStore, SourceRecord, TraceSink } from '#shared/ports/index.ts';
import { fetchContext } from '#shared/usecases/context.ts';
import type { SourceSpec } from '#shared/workflows/definition.ts';
import type { Fixture } from './schema.ts';

const EVAL_TENANT = 'eval';

/** The records each source returns for the fixture, with the record ids the seed loader uses. */
export function fixtureRecords(fixture: Fixture, accountId: string): Map<SourceId, SourceRecord[]> {
  const single = (record: Record<string, unknown> | undefined, recordId: string): SourceRecord[] =>
    record === undefined ? [] : [{ recordId, data: record }];
  const idOf = (record: Record<string, unknown>, field: string, fallback: string): string => {
    const value = record[field];
    return typeof value === 'string' && value.length > 0 ? value : fallback;
  };
  return new Map<SourceId, SourceRecord[]>([
    ['crm', single(fixture.crm, accountId)],
    ['usage', single(fixture.usage, accountId)],
    [
      'contract',
      fixture.contract ? single(fixture.contract, idOf(fixture.contract, 'contractId', 'contract')) : [],
    ],
    [
      'tickets',
      fixture.tickets.map((data, i) => ({ recordId: idOf(data, 'ticketId', `ticket-${i + 1}`), data })),
    ],
    [
      'invoices',
      fixture.invoices.map((data, i) => ({ recordId: idOf(data, 'invoiceId', `invoice-${i + 1}`), data })),
    ],
  ]);
}

class FixtureSource implements ContextSource {
  constructor(
    readonly source: SourceId,
    private readonly records: SourceRecord[],
    private readonly failing: boolean | 'error' | 'timeout' | 'blocked',
  ) {}

  fetch(): Promise<SourceRecord[]> {
    if (this.failing === 'timeout' || this.failing === 'blocked' || this.failing === 'error') {
      return Promise.reject(
        new SourceUnavailableError(
          this.failing,
          `the ${this.source} source failed (${this.failing}, eval fixture)`,
        ),
      );
    }
    if (this.failing) {
      return Promise.reject(new Error(`upstream ${this.source} service answered 503 (eval fixture outage)`));
    }
    return Promise.resolve(structuredClone(this.records));
  }
}

/**
 * Just enough of a RunStore for `fetchContext`: one run and its saved context.
 */
class SingleRunStore implements Pick<RunStore, 'getRun' | 'getContext' | 'saveContext'> {
  saved: ContextObject | null = null;
  constructor(private readonly run: Run) {}

  getRun(_tenantId: string, runId: string): Promise<Run | null> {
    return Promise.resolve(runId === this.run.runId ? this.run : null);
  }
  saveContext(_tenantId: string, _runId: string, context: ContextObject): Promise<void> {
    this.saved = context;
    return Promise.resolve();
  }
  getContext(): Promise<ContextObject | null> {
    return Promise.resolve(this.saved);
  }
}

const discardTraces: TraceSink = {
  record: (_tenantId: string, _runId: string, _span: Span) => Promise.resolve(),
  list: () => Promise.resolve([]),
};

export type CaseContext =
  | { ok: true; context: ContextObject; tools: ToolDeps }
  | { ok: false; error: { code: string; message: string } };

/**
 * The context object a run of this case would get, or the step error the context layer raises
 * (e.g. `context_unavailable` when every source failed). The clock is the fixture's `fetchedAt`, so
 * the context (and the model request built from it) is identical on every run.
 */
export async function buildCaseContext(input: {
  workflowId: string;
  request: Record<string, unknown>;
  accountId: string;
  fixture: Fixture;
  fetchedAt: string;
  promptId: string;
  promptVersion: string;
}): Promise<CaseContext> {
  const records = fixtureRecords(input.fixture, input.accountId);
  const failing = new Set(input.fixture.failingSources);
  const sources = new Map<SourceId, ContextSource>(
    [...records].map(([source, list]) => [source, new FixtureSource(source, list, failing.has(source))]),
  );
  const runId = 'run_eval';
  const store = new SingleRunStore({
    runId,
    tenantId: EVAL_TENANT,
    workflowId: input.workflowId,
    requestedBy: 'eval',
    accountId: input.accountId,
    input: input.request,
    status: 'running',
    draftId: null,
    error: null,
    costUsd: 0,
    promptId: input.promptId,
    promptVersion: input.promptVersion,
    model: null,
    createdAt: input.fetchedAt,
    updatedAt: input.fetchedAt,
  });
  const now = new Date(input.fetchedAt);
  const deps = {
    clock: { now: () => now },
    sources,
    traces: discardTraces,
    // Eval fixtures are stored records: no tenant connector replaces them.
    connectors: {
      get: () => Promise.resolve(null),
      list: () => Promise.resolve([]),
      put: () => Promise.resolve(),
    },
    connectorSecrets: { get: () => Promise.resolve(null), put: () => Promise.resolve() },
    settings: { outbound: STRICT_OUTBOUND_POLICY },
  };
  // The tools read the same records, except where the fixture makes a tool's read fail.
  const toolFailures = new Map(input.fixture.toolFailures.map((failure) => [failure.source, failure.reason]));
  const toolSources = new Map<SourceId, ContextSource>(
    [...records].map(([source, list]) => [
      source,
      new FixtureSource(source, list, toolFailures.get(source) ?? failing.has(source)),
    ]),
  );
  try {
    await fetchContext({ ...deps, runs: store }, { tenantId: EVAL_TENANT, runId });
  } catch (error) {
    if (error instanceof ReinError) return { ok: false, error: { code: error.code, message: error.message } };
    throw error;
  }
  if (!store.saved) return { ok: false, error: { code: 'internal_error', message: 'No context was saved.' } };
  return { ok: true, context: store.saved, tools: { ...deps, sources: toolSources } };
}

/** A piece of raw data the model must never see: a field outside the allow-list, or a record of a failing source. */
export interface HiddenFact {
  /** `crm.creditScore`, `crm.billingAddress.city`, `usage.activeUsers` (failing source) … */
  path: string;
  /** Texts whose presence would show the fact leaked: the value (as written and formatted) or a camelCase field name. */
  needles: Needle[];
}

/** `number` matches as a whole number, `name` as a case-sensitive word, `text` case-insensitively anywhere. */
export interface Needle {
  text: string;
  kind: 'number' | 'name' | 'text';
}

const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const MIN_STRING_NEEDLE = 6;
const MAX_WHOLE_STRING = 60;
const MIN_FRAGMENT = 16;

function valueNeedles(value: unknown): Needle[] {
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (Number.isInteger(value) && Math.abs(value) < 100) return [];
    return [...new Set([String(value), NUMBER_FORMAT.format(value)])].map((text) => ({
      text,
      kind: 'number',
    }));
  }
  if (typeof value !== 'string') return [];
  const text = value.trim();
  // A lone lower-case word (a status such as "overdue" or a segment such as "enterprise") says
  // nothing distinctive: the brief may use it in its own words. Names, notes, ids and numbers do.
  if (text.length < MIN_STRING_NEEDLE || /^[a-z]+$/.test(text)) return [];
  if (text.length <= MAX_WHOLE_STRING) return [{ text, kind: 'text' }];
  // A long text leaks in pieces: each clause long enough to be distinctive counts.
  return text
    .split(/[.;!?\n]+/)
    .map((part) => part.trim())
    .filter((part) => part.length >= MIN_FRAGMENT)
    .map((part) => ({ text: part, kind: 'text' }));
}

function leaves(value: unknown, path: string, out: { path: string; value: unknown }[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      leaves(item, `${path}[${index}]`, out);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, `${path}.${key}`, out);
  } else out.push({ path, value });
}

/** Every string leaf of a value, for text searches that must not match JSON keys. */
export function stringLeaves(value: unknown): string[] {
  const out: { path: string; value: unknown }[] = [];
  leaves(value, '', out);
  return out.flatMap((leaf) =>
    typeof leaf.value === 'string'
      ? [leaf.value]
      : typeof leaf.value === 'number'
        ? [String(leaf.value)]
        : [],
  );
}

/**
 * The hidden facts of a fixture: every field outside the source's allow-list, and every field of a
 * failing source's records. Needles that also occur in what the model legitimately saw (the
 * context's values and notes) are dropped, so a hit always means a leak.
 */
export function hiddenFacts(
  specs: readonly SourceSpec[],
  fixture: Fixture,
  accountId: string,
  context: ContextObject | null,
): HiddenFact[] {
  const visible = context
    ? [
        ...context.items.flatMap((item) => [...Object.keys(item.fields), ...stringLeaves(item.fields)]),
        context.notes ?? '',
      ]
        .join('\n')
        .toLowerCase()
    : '';
  const records = fixtureRecords(fixture, accountId);
  const failing = new Set(fixture.failingSources);
  const facts: HiddenFact[] = [];
  for (const spec of specs) {
    const allowed = new Set(failing.has(spec.source.id) ? [] : spec.allowFields);
    for (const record of records.get(spec.source.id) ?? []) {
      if (typeof record.data !== 'object' || record.data === null) continue;
      for (const [field, value] of Object.entries(record.data)) {
        if (allowed.has(field)) continue;
        const found: { path: string; value: unknown }[] = [];
        leaves(value, `${spec.source.id}.${field}`, found);
        for (const leaf of found) {
          const needles = valueNeedles(leaf.value).filter(
            (needle) => !visible.includes(needle.text.toLowerCase()),
          );
          if (needles.length > 0) facts.push({ path: leaf.path, needles });
        }
        if (/[a-z][A-Z]/.test(field) && !visible.includes(field.toLowerCase())) {
          facts.push({
            path: `${spec.source.id}.${field} (field name)`,
            needles: [{ text: field, kind: 'name' }],
          });
        }
      }
    }
  }
  return facts;
}
