/**
 * Reading the context object out of a model request. The local model server must stay useful when
 * the context differs from today's `ContextObjectSchema` (renamed fields, extra sources, a partial
 * object), so everything here is lenient: it keeps what it can read and drops the rest.
 */

/** One evidence item as the generator sees it. */
export interface GroundingItem {
  id: string;
  source: string | null;
  fields: Record<string, unknown>;
}

export interface GroundingGap {
  source: string;
  reason: string | null;
}

/** The parts of a context object the brief generator relies on. */
export interface GroundingContext {
  accountId: string | null;
  fetchedAt: string | null;
  notes: string | null;
  items: GroundingItem[];
  dataGaps: GroundingGap[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** Normalises anything shaped like a context object; `null` when it is not an object at all. */
export function readGroundingContext(value: unknown): GroundingContext | null {
  if (!isRecord(value)) return null;
  const items: GroundingItem[] = [];
  if (Array.isArray(value['items'])) {
    for (const raw of value['items']) {
      if (!isRecord(raw) || typeof raw['id'] !== 'string' || raw['id'].length === 0) continue;
      items.push({
        id: raw['id'],
        source: stringOrNull(raw['source']),
        fields: isRecord(raw['fields']) ? raw['fields'] : {},
      });
    }
  }
  const dataGaps: GroundingGap[] = [];
  if (Array.isArray(value['dataGaps'])) {
    for (const raw of value['dataGaps']) {
      if (typeof raw === 'string' && raw.length > 0) dataGaps.push({ source: raw, reason: null });
      else if (isRecord(raw) && typeof raw['source'] === 'string' && raw['source'].length > 0) {
        dataGaps.push({ source: raw['source'], reason: stringOrNull(raw['reason']) });
      }
    }
  }
  return {
    accountId: stringOrNull(value['accountId']),
    fetchedAt: stringOrNull(value['fetchedAt']),
    notes: stringOrNull(value['notes']),
    items,
    dataGaps,
  };
}

/**
 * Finds the context JSON in a request's text: the line after a line reading `<context>`, up to a line
 * reading `</context>`. `JSON.stringify` never emits a raw newline, so a `</context>` written inside
 * customer text cannot end the block early.
 */
export function extractContext(text: string): GroundingContext | null {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => line.trim() === '<context>');
  if (start < 0) return null;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.trim() === '</context>');
  const body = (end < 0 ? rest : rest.slice(0, end)).join('\n');
  try {
    return readGroundingContext(JSON.parse(body));
  } catch {
    return null;
  }
}
