import { canonicalJson } from '../domain/edit-distance.ts';
import {
  SourceUnavailableError,
  type DataGap,
  type DataGapReason,
  type EvidenceItem,
} from '../domain/context.ts';
import type { ModelToolCall } from '../domain/model.ts';
import { FAILED_TOOL_OUTCOMES, type ToolCallRecord, type ToolOutcome } from '../domain/tools.ts';
import type { SourceSpec, ToolPolicy, ToolSpec } from '../workflows/definition.ts';
import type { PullDeps } from './connectors.ts';
import { applyAllowList, evidenceIdOf, isStale, sourceReader } from './context.ts';
import type { Deps } from './deps.ts';
import { recordSpan, sha256 } from './tracing.ts';

/** What executing a tool needs: the context layer's readers, the clock and the trace sink. */
export type ToolDeps = Pick<Deps, 'clock' | 'sources' | 'connectors' | 'traces'> & PullDeps;

/** The run a call is scoped to: never taken from the model's arguments. */
export interface ToolScope {
  tenantId: string;
  runId: string;
  accountId: string;
  attempt: number;
  turn: number;
}

/** One executed call: its record for the context's log and the evidence it adds. */
export interface ToolCallResult {
  record: ToolCallRecord;
  items: EvidenceItem[];
}

class ToolCallError extends Error {
  constructor(
    readonly outcome: Exclude<ToolOutcome, 'ok'>,
    message: string,
  ) {
    super(message);
    this.name = 'ToolCallError';
  }
}

const SOURCE_REASONS: Record<
  Exclude<DataGapReason, 'not_found' | 'stale'>,
  'error' | 'timeout' | 'blocked'
> = {
  error: 'error',
  timeout: 'timeout',
  http_error: 'error',
  invalid_response: 'error',
  blocked: 'blocked',
};

/** Rejects after `ms` unless `work` settles first (the timer never outlives the call). */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ToolCallError('timeout', `The source did not answer within ${ms} ms.`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The output returned to the model for a failed or refused call. */
export function toolErrorOutput(
  tool: string,
  source: string | null,
  outcome: Exclude<ToolOutcome, 'ok'>,
  message: string,
): string {
  return JSON.stringify({ ok: false, tool, source, error: { code: outcome, message } });
}

/**
 * Executes one read-only tool call for the run's tenant and account: validates the arguments with
 * the tool's strict schema, reads the tool's source through the context layer's reader (connector
 * or stored records) within the policy's timeout, keeps only the records the workflow's allow-list
 * of that source admits (its filter, its maximum age), turns the tool's rows into evidence items
 * with only the tool's return fields, and caps the result's size. Never throws for a failing
 * source: every failure is an error result the model sees, recorded with its outcome and traced.
 */
export async function executeToolCall(
  deps: ToolDeps,
  scope: ToolScope,
  workflow: { tools: readonly ToolSpec[]; sources: readonly SourceSpec[]; toolPolicy: ToolPolicy },
  call: ModelToolCall,
): Promise<ToolCallResult> {
  const start = deps.clock.now();
  const tool = workflow.tools.find((candidate) => candidate.name === call.name) ?? null;
  const source = tool?.source.id ?? null;
  const argsHash = sha256(call.arguments);
  let outcome: ToolOutcome = 'ok';
  let output: string;
  let items: EvidenceItem[] = [];
  let truncated = false;
  try {
    if (!tool) throw new ToolCallError('unknown_tool', `There is no tool named ${call.name}.`);
    const spec = workflow.sources.find((candidate) => candidate.source.id === tool.source.id);
    // checkTools refuses such a definition at load; kept as a guard, never reached by the model.
    if (!spec) throw new ToolCallError('blocked', `The workflow does not allow source ${tool.source.id}.`);
    let json: unknown;
    try {
      json = JSON.parse(call.arguments);
    } catch {
      throw new ToolCallError('invalid_arguments', 'The arguments are not valid JSON.');
    }
    const args = tool.argsSchema.safeParse(json);
    if (!args.success) {
      const issues = args.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new ToolCallError('invalid_arguments', `Invalid arguments: ${issues.join('; ')}`.slice(0, 500));
    }
    const read = async () => {
      const connector = await deps.connectors.get(scope.tenantId, tool.source.id);
      const { reader } = sourceReader(deps, connector, tool.source);
      return reader.fetch(scope.tenantId, scope.accountId);
    };
    let records;
    try {
      records = await within(read(), workflow.toolPolicy.callTimeoutMs);
    } catch (error) {
      if (error instanceof ToolCallError) throw error;
      if (error instanceof SourceUnavailableError) {
        throw new ToolCallError(
          SOURCE_REASONS[error.reason],
          `The ${tool.source.id} source failed (${error.reason}).`,
        );
      }
      throw new ToolCallError('error', `The ${tool.source.id} source failed.`);
    }
    const admitted = [];
    for (const record of records) {
      const parsed = tool.source.recordSchema.safeParse(record.data);
      if (!parsed.success)
        throw new ToolCallError('error', `A ${tool.source.id} record does not match its schema.`);
      if (spec.include && !spec.include(parsed.data)) continue;
      if (isStale(spec, record.updatedAt, start)) continue;
      admitted.push({ recordId: record.recordId, data: parsed.data, updatedAt: record.updatedAt ?? null });
    }
    const found = tool.rows(admitted, args.data);
    if ('notFound' in found) throw new ToolCallError('not_found', found.notFound);
    const fetchedAt = start.toISOString();
    const allowList = { allowFields: tool.returnFields, maxStringLength: tool.maxStringLength };
    items = found.rows.slice(0, tool.maxRows).map((row) => {
      const fields = applyAllowList(allowList, row.fields);
      return {
        id: evidenceIdOf(tool.evidencePrefix, row.recordId),
        source: tool.source.id,
        recordId: row.recordId,
        fields,
        provenance: {
          fetchedAt,
          ...(row.updatedAt ? { updatedAt: row.updatedAt } : {}),
          contentHash: sha256(canonicalJson(fields)),
        },
      };
    });
    truncated = found.rows.length > items.length;
    const render = () =>
      JSON.stringify({
        ok: true,
        tool: tool.name,
        source: tool.source.id,
        items: items.map((item) => ({ id: item.id, fields: item.fields })),
        truncated,
      });
    output = render();
    // The size cap: the newest rows stay, the rest are dropped and the result says so.
    while (Buffer.byteLength(output) > workflow.toolPolicy.maxResultBytes && items.length > 0) {
      items = items.slice(0, -1);
      truncated = true;
      output = render();
    }
  } catch (error) {
    const failure =
      error instanceof ToolCallError ? error : new ToolCallError('error', 'The tool failed unexpectedly.');
    outcome = failure.outcome;
    items = [];
    output = toolErrorOutput(call.name, source, failure.outcome, failure.message);
  }
  const record: ToolCallRecord = {
    callId: call.callId,
    attempt: scope.attempt,
    turn: scope.turn,
    tool: call.name,
    source,
    argsHash,
    outcome,
    output,
    evidenceIds: items.map((item) => item.id),
  };
  await recordToolSpan(deps, scope, record, start, truncated);
  return { record, items };
}

/** The trace span of one tool call: tool, argument hash, latency, result size and outcome. */
export async function recordToolSpan(
  deps: Pick<Deps, 'clock' | 'traces'>,
  scope: ToolScope,
  record: ToolCallRecord,
  start: Date,
  truncated = false,
): Promise<void> {
  const end = deps.clock.now();
  await recordSpan(deps.traces, scope.tenantId, scope.runId, {
    name: `execute_tool ${record.tool}`,
    kind: 'tool_call',
    start,
    end,
    status: record.outcome === 'ok' ? 'ok' : 'error',
    attributes: {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': record.tool,
      'gen_ai.tool.call.id': record.callId,
      'rein.tool.args_hash': record.argsHash,
      'rein.tool.source': record.source,
      'rein.tool.outcome': record.outcome,
      'rein.tool.result_bytes': Buffer.byteLength(record.output),
      'rein.tool.evidence_ids': record.evidenceIds,
      'rein.tool.truncated': truncated,
      'rein.latency_ms': end.getTime() - start.getTime(),
      'rein.attempt': scope.attempt,
      'rein.turn': scope.turn,
      ...(record.outcome === 'ok' ? {} : { 'error.type': record.outcome }),
    },
  });
}

/**
 * The data gaps a run's tool calls leave: a tool whose every call failed (error, timeout, blocked)
 * leaves its source as a gap, unless the context already names that source as one.
 */
export function toolDataGaps(records: readonly ToolCallRecord[], existing: readonly DataGap[]): DataGap[] {
  const gaps: DataGap[] = [];
  const succeeded = new Set(records.filter((r) => r.outcome === 'ok').map((r) => r.tool));
  const named = new Set(existing.map((gap) => gap.source));
  for (const record of records) {
    if (!FAILED_TOOL_OUTCOMES.includes(record.outcome) || record.source === null) continue;
    if (succeeded.has(record.tool) || named.has(record.source)) continue;
    named.add(record.source);
    gaps.push({
      source: record.source,
      reason: record.outcome === 'timeout' ? 'timeout' : record.outcome === 'blocked' ? 'blocked' : 'error',
      detail: `The ${record.tool} tool failed (${record.outcome}); its ${record.source} data is missing.`,
    });
  }
  return gaps;
}
