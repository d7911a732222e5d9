/**
 * Function calling for the local model server: which read-only tools a careful model would call for
 * the context it sees, and what it makes of their results.
 *
 * - First turn with tools offered (`tool_choice` not `none`): it asks for the thread of the most
 *   pressing open ticket in the context (`get_ticket_thread`) and the usage trend of the last six
 *   months when the context has usage (`get_usage_trend`), whichever of them is offered.
 * - Once results are back (or tools are refused with `tool_choice: none`): it answers. A ticket's
 *   thread and a declining usage trend are cited as risks; a failed call (`error`, `timeout`, `blocked`) becomes a
 *   data gap of the tool's source; calls refused for the model's own mistakes are ignored.
 *
 * Markers in the request's input (a run's notes reach it) change the behaviour, like faults do:
 * - `[local-model:tools-forever]`: every turn that may call tools calls one more (the loop's limit
 *   must stop it);
 * - `[local-model:bad-tool-calls]`: the first turn asks for a ticket that does not exist and a trend
 *   with invalid arguments, so the error results are visible;
 * - `[local-model:no-tools]`: it answers at once, as a model that needs no lookup would (tests of the
 *   gateway's provider faults use it to keep to one turn).
 */
import { randomBytes } from 'node:crypto';
import type { GroundingContext, GroundingItem } from './context.ts';

export const TOOLS_FOREVER_MARKER = '[local-model:tools-forever]';
export const BAD_TOOL_CALLS_MARKER = '[local-model:bad-tool-calls]';
export const NO_TOOLS_MARKER = '[local-model:no-tools]';

/** The request's tool parts the server reads. */
export interface ToolRequest {
  offered: readonly string[];
  choice: 'auto' | 'none' | 'required';
  /** Outputs of earlier calls, in order. */
  outputs: readonly { callId: string; output: string }[];
  /** Earlier calls, in order. */
  calls: readonly { callId: string; name: string; arguments: string }[];
}

export interface PlannedCall {
  callId: string;
  name: string;
  arguments: string;
}

/** One result as the gateway returns it (see shared/usecases/tools.ts). */
interface ToolResult {
  ok: boolean;
  tool: string;
  source: string | null;
  items: { id: string; fields: Record<string, unknown> }[];
  errorCode: string | null;
}

const FAILED = new Set(['error', 'timeout', 'blocked']);
const PRIORITY: Record<string, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

function callId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

function readResult(output: string): ToolResult | null {
  try {
    const value = JSON.parse(output) as Record<string, unknown>;
    const error = value['error'] as { code?: unknown } | undefined;
    return {
      ok: value['ok'] === true,
      tool: typeof value['tool'] === 'string' ? value['tool'] : '',
      source: typeof value['source'] === 'string' ? value['source'] : null,
      items: Array.isArray(value['items']) ? (value['items'] as ToolResult['items']) : [],
      errorCode: typeof error?.code === 'string' ? error.code : null,
    };
  } catch {
    return null;
  }
}

function openTicketOf(context: GroundingContext | null): GroundingItem | null {
  const tickets = (context?.items ?? []).filter(
    (item) => item.source === 'tickets' && typeof item.fields['ticketId'] === 'string',
  );
  tickets.sort(
    (a, b) =>
      (PRIORITY[String(a.fields['priority'])] ?? 9) - (PRIORITY[String(b.fields['priority'])] ?? 9) ||
      a.id.localeCompare(b.id),
  );
  return tickets[0] ?? null;
}

/** The calls to make in this turn, or none (answer now). */
export function planToolCalls(
  context: GroundingContext | null,
  request: ToolRequest,
  inputText: string,
): PlannedCall[] {
  if (request.choice === 'none' || request.offered.length === 0) return [];
  if (inputText.includes(NO_TOOLS_MARKER)) return [];
  const offered = (name: string) => request.offered.includes(name);
  if (inputText.includes(TOOLS_FOREVER_MARKER)) {
    const name = offered('get_usage_trend') ? 'get_usage_trend' : (request.offered[0] ?? '');
    const args = name === 'get_usage_trend' ? { months: 1 + (request.calls.length % 12) } : {};
    return [{ callId: callId(), name, arguments: JSON.stringify(args) }];
  }
  // One round is enough for a careful model: it asked, it has the answers.
  if (request.calls.length > 0) return [];
  const calls: PlannedCall[] = [];
  if (inputText.includes(BAD_TOOL_CALLS_MARKER)) {
    if (offered('get_ticket_thread')) {
      calls.push({ callId: callId(), name: 'get_ticket_thread', arguments: '{"ticketId":"NO-SUCH-TICKET"}' });
    }
    if (offered('get_usage_trend')) {
      calls.push({ callId: callId(), name: 'get_usage_trend', arguments: '{"months":0}' });
    }
    return calls;
  }
  const ticket = openTicketOf(context);
  if (ticket && offered('get_ticket_thread')) {
    calls.push({
      callId: callId(),
      name: 'get_ticket_thread',
      arguments: JSON.stringify({ ticketId: ticket.fields['ticketId'] }),
    });
  }
  if ((context?.items ?? []).some((item) => item.source === 'usage') && offered('get_usage_trend')) {
    calls.push({ callId: callId(), name: 'get_usage_trend', arguments: JSON.stringify({ months: 6 }) });
  }
  return calls;
}

/** What the tool results add to the brief: risks citing the new evidence, and failed sources. */
export function toolFindings(request: ToolRequest): {
  risks: { title: string; severity: 'low' | 'medium' | 'high'; evidence: string[] }[];
  failedSources: string[];
} {
  const risks: { title: string; severity: 'low' | 'medium' | 'high'; evidence: string[] }[] = [];
  const failedSources: string[] = [];
  const succeeded = new Set<string>();
  const results = request.outputs.flatMap((entry) => {
    const result = readResult(entry.output);
    return result ? [result] : [];
  });
  for (const result of results) {
    if (result.ok) succeeded.add(result.tool);
  }
  for (const result of results) {
    if (!result.ok) {
      if (result.errorCode !== null && FAILED.has(result.errorCode) && result.source !== null) {
        if (!succeeded.has(result.tool) && !failedSources.includes(result.source)) {
          failedSources.push(result.source);
        }
      }
      continue;
    }
    if (result.items.length === 0) continue;
    const ids = result.items.map((item) => item.id);
    if (result.tool === 'get_usage_trend') {
      // Rows come newest first.
      const newest = result.items[0]?.fields;
      const oldest = result.items[result.items.length - 1]?.fields;
      const from = Number(oldest?.['activeUsers']);
      const to = Number(newest?.['activeUsers']);
      // A flat or rising trend is no risk; a short history says nothing.
      if (ids.length < 2 || !Number.isFinite(from) || !Number.isFinite(to) || from <= 0 || to >= from)
        continue;
      const change = Math.round(((to - from) / from) * 1000) / 10;
      risks.push({
        title: `Active users fell from ${from} (${String(oldest?.['period'])}) to ${to} (${String(newest?.['period'])}), ${change} %`,
        severity: change <= -15 ? 'high' : 'medium',
        evidence: ids,
      });
    } else if (result.tool === 'get_ticket_thread') {
      const last = result.items[result.items.length - 1]?.fields;
      const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
      const ticketId = text(last?.['ticketId'], 'the ticket');
      // Customer-written text is never quoted: only who wrote last, and when.
      risks.push({
        title: `Ticket ${ticketId} has ${ids.length} message(s); the latest is from ${text(last?.['from'], 'unknown')}`,
        severity: last?.['from'] === 'customer' ? 'medium' : 'low',
        evidence: ids,
      });
    } else {
      risks.push({ title: `Result of ${result.tool}`, severity: 'low', evidence: ids });
    }
  }
  return { risks, failedSources };
}
