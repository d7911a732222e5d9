import { createHash } from 'node:crypto';
import { NotFoundError, WorkflowStepError } from '../domain/errors.ts';
import {
  SourceUnavailableError,
  type ContextObject,
  type DataGap,
  type EvidenceItem,
  type FieldValue,
} from '../domain/context.ts';
import { canonicalJson } from '../domain/edit-distance.ts';
import { getWorkflow } from '../workflows/registry.ts';
import type { SourceSpec } from '../workflows/definition.ts';
import type { ConnectorConfig, ContextSource, RunStore } from '../ports/index.ts';
import type { SourceDefinition } from '../sources/definition.ts';
import { ConnectorSource, type PullDeps } from './connectors.ts';
import type { Deps } from './deps.ts';
import { estimateInputTokens } from './prompt.ts';
import { recordSpan, sha256 } from './tracing.ts';

/** Copies only allow-listed scalar fields, truncating long strings. Everything else is dropped. */
export function applyAllowList(
  spec: Pick<SourceSpec, 'allowFields' | 'maxStringLength'>,
  record: Record<string, unknown>,
): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  for (const name of spec.allowFields) {
    const value = record[name];
    if (typeof value === 'string') fields[name] = value.slice(0, spec.maxStringLength);
    else if (typeof value === 'number' && Number.isFinite(value)) fields[name] = value;
    else if (typeof value === 'boolean' || value === null) fields[name] = value;
  }
  return fields;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether a record's source `updatedAt` is older than the source's maximum age at `now`. */
export function isStale(spec: SourceSpec, updatedAt: string | null | undefined, now: Date): boolean {
  const maxAgeDays = spec.source.maxAgeDays;
  if (maxAgeDays === null || !updatedAt) return false;
  const time = Date.parse(updatedAt);
  return Number.isFinite(time) && now.getTime() - time > maxAgeDays * DAY_MS;
}

/** The evidence id of a record: `<prefix>:<record id>`, sanitised (a tool's rows use the tool's prefix). */
export function evidenceIdOf(prefix: string, recordId: string): string {
  let safe = recordId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  // When sanitising changed the id, a short hash of the original keeps distinct records distinct.
  if (safe !== recordId) safe = `${safe}-${createHash('sha256').update(recordId).digest('hex').slice(0, 8)}`;
  return `${prefix}:${safe}`;
}

function evidenceId(spec: SourceSpec, recordId: string): string {
  return evidenceIdOf(spec.source.evidencePrefix, recordId);
}

/**
 * The reader of one source for a tenant: its pull connector when the tenant configured one (read
 * live, under the outbound policy and the connector's timeout and size cap), else the stored records.
 * The context layer and the tool loop read sources only through this.
 */
export function sourceReader(
  deps: Pick<Deps, 'sources'> & PullDeps,
  connector: ConnectorConfig | null | undefined,
  source: SourceDefinition,
): { reader: ContextSource; origin: 'connector' | 'stored' } {
  if (connector) return { reader: new ConnectorSource(deps, connector, source), origin: 'connector' };
  const stored = deps.sources.get(source.id);
  if (!stored) throw new Error(`No adapter is configured for source ${source.id}.`);
  return { reader: stored, origin: 'stored' };
}

/**
 * Layer 2: gathers the scoped context object from the workflow's approved sources. Each source is
 * read independently; a missing or failing source becomes a data gap, never an invented value.
 */
export async function fetchContext(
  deps: Pick<Deps, 'clock' | 'sources' | 'traces' | 'connectors'> &
    PullDeps & {
      runs: Pick<RunStore, 'getRun' | 'getContext' | 'saveContext'>;
    },
  task: { tenantId: string; runId: string },
): Promise<FetchContextResult> {
  const run = await deps.runs.getRun(task.tenantId, task.runId);
  if (!run) throw new NotFoundError('Run');
  const workflow = getWorkflow(run.workflowId);
  const summary = (context: ContextObject): FetchContextResult => ({
    items: context.items.length,
    dataGaps: context.dataGaps.length,
    // Carried to CallModel, so its reservation needs no read before it (see model-call.ts).
    workflowId: workflow.id,
    inputTokens: estimateInputTokens(workflow, context, null),
  });
  const existing = await deps.runs.getContext(task.tenantId, task.runId);
  if (existing) return summary(existing);

  const input = workflow.inputSchema.parse(run.input);
  const fetchedAt = deps.clock.now().toISOString();

  // The tenant's connectors, read once: each replaces the stored records of its source.
  const connectors = new Map((await deps.connectors.list(run.tenantId)).map((c) => [c.sourceId, c]));
  const results = await Promise.all(
    workflow.sources.map(async (spec) => {
      const sourceId = spec.source.id;
      const start = deps.clock.now();
      const items: EvidenceItem[] = [];
      let gap: DataGap | null = null;
      let origin: 'connector' | 'stored' = 'stored';
      try {
        // A tenant's connector for the source replaces its stored records: read live, or a gap.
        const connector = connectors.get(sourceId);
        if (connector) origin = 'connector';
        const { reader } = sourceReader(deps, connector, spec.source);
        const records = await reader.fetch(run.tenantId, run.accountId);
        let staleCount = 0;
        for (const record of records) {
          const parsed = spec.source.recordSchema.safeParse(record.data);
          if (!parsed.success) {
            throw new Error(`record ${record.recordId} does not match the ${sourceId} schema`);
          }
          if (spec.include && !spec.include(parsed.data)) continue;
          // A record older than the source's maximum age is never shown as if it were current.
          if (isStale(spec, record.updatedAt, start)) {
            staleCount += 1;
            continue;
          }
          const fields = applyAllowList(spec, parsed.data);
          items.push({
            id: evidenceId(spec, record.recordId),
            source: sourceId,
            recordId: record.recordId,
            fields,
            // Source time and receipt time only when known, so a record without them reads as before.
            provenance: {
              fetchedAt,
              ...(record.updatedAt ? { updatedAt: record.updatedAt } : {}),
              ...(record.receivedAt ? { receivedAt: record.receivedAt } : {}),
              contentHash: sha256(canonicalJson(fields)),
            },
          });
        }
        if (staleCount > 0) {
          const days = spec.source.maxAgeDays ?? 0;
          gap = {
            source: sourceId,
            reason: 'stale',
            detail: `${staleCount} ${sourceId} record(s) were last updated more than ${days} days ago.`,
          };
        } else if (records.length === 0 && spec.source.requiredPerAccount) {
          gap = {
            source: sourceId,
            reason: 'not_found',
            detail: `No ${sourceId} record exists for this account.`,
          };
        }
      } catch (error) {
        items.length = 0;
        const detail = error instanceof Error ? error.message : 'unknown error';
        gap = {
          source: sourceId,
          reason: error instanceof SourceUnavailableError ? error.reason : 'error',
          detail: `The ${sourceId} source failed: ${detail}`,
        };
      }
      const failed = gap !== null && gap.reason !== 'not_found' && gap.reason !== 'stale';
      await recordSpan(deps.traces, run.tenantId, run.runId, {
        name: `context ${sourceId}`,
        kind: 'context_source',
        start,
        end: deps.clock.now(),
        status: failed ? 'error' : 'ok',
        attributes: {
          'rein.context.source': sourceId,
          'rein.context.origin': origin,
          'rein.context.record_ids': items.map((item) => item.recordId),
          'rein.context.field_names': [...new Set(items.flatMap((item) => Object.keys(item.fields)))],
          'rein.context.content_hashes': items.map((item) => item.provenance.contentHash),
          'rein.context.gap': gap?.reason ?? null,
        },
      });
      return { items, gap };
    }),
  );

  const context: ContextObject = {
    workflowId: workflow.id,
    accountId: run.accountId,
    fetchedAt,
    notes: workflow.notesOf(input),
    items: results.flatMap((result) => result.items),
    dataGaps: results.flatMap((result) => (result.gap ? [result.gap] : [])),
  };
  if (context.items.length === 0) {
    throw new WorkflowStepError(
      'context_unavailable',
      'No context source returned any data for this account.',
    );
  }
  await deps.runs.saveContext(run.tenantId, run.runId, context);
  return summary(context);
}

/** FetchContext's task result (`$.context` in the state machine). */
export interface FetchContextResult {
  items: number;
  dataGaps: number;
  workflowId: string;
  /** The first model attempt's input-token estimate (estimateInputTokens). */
  inputTokens: number;
}
