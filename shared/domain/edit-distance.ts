/**
 * Normalized Levenshtein distance between two strings: edits divided by the longer length, 0..1.
 * Two rows of the matrix only, so memory stays O(min(a, b)).
 */
export function normalizedEditDistance(a: string, b: string): number {
  if (a === b) return 0;
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return 0;
  const [s, t] = a.length < b.length ? [a, b] : [b, a];
  let previous = new Array<number>(s.length + 1);
  let current = new Array<number>(s.length + 1);
  for (let i = 0; i <= s.length; i += 1) previous[i] = i;
  for (let j = 1; j <= t.length; j += 1) {
    current[0] = j;
    const tc = t.charCodeAt(j - 1);
    for (let i = 1; i <= s.length; i += 1) {
      const cost = s.charCodeAt(i - 1) === tc ? 0 : 1;
      const deletion = (previous[i] ?? 0) + 1;
      const insertion = (current[i - 1] ?? 0) + 1;
      const substitution = (previous[i - 1] ?? 0) + cost;
      current[i] = Math.min(deletion, insertion, substitution);
    }
    [previous, current] = [current, previous];
  }
  return Math.round(((previous[s.length] ?? 0) / longer) * 10_000) / 10_000;
}

/** Canonical JSON (sorted keys) so that key order never counts as an edit. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
