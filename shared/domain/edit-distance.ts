import { distance as levenshtein } from 'fastest-levenshtein';

/**
 * The most characters of each side the exact distance is computed over, after the common prefix
 * and suffix are set aside. Drafts are at most a few KiB and edits at most 64 KiB (the body
 * limit), so this bounds the work of one approval to milliseconds.
 */
export const MAX_COMPARED_CHARS = 16_384;

/**
 * Normalized Levenshtein distance between two strings: edits divided by the longer length, 0..1,
 * rounded to 4 decimals. The common prefix and suffix cost nothing; the middle is compared with
 * `fastest-levenshtein` (bit-parallel, linear memory). A middle longer than
 * {@link MAX_COMPARED_CHARS} is compared on its first that-many characters and the rest counts as
 * inserted or deleted: an upper bound that is exact whenever the excess is pure insertion.
 */
export function normalizedEditDistance(a: string, b: string): number {
  if (a === b) return 0;
  const longer = Math.max(a.length, b.length);
  let start = 0;
  while (start < a.length && start < b.length && a.charCodeAt(start) === b.charCodeAt(start)) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA -= 1;
    endB -= 1;
  }
  const middleA = a.slice(start, endA);
  const middleB = b.slice(start, endB);
  const comparedA = middleA.slice(0, MAX_COMPARED_CHARS);
  const comparedB = middleB.slice(0, MAX_COMPARED_CHARS);
  const excess = Math.max(middleA.length - comparedA.length, middleB.length - comparedB.length);
  const edits = Math.min(longer, levenshtein(comparedA, comparedB) + excess);
  // Any difference counts: a single edit in a long text never rounds down to "unchanged".
  return Math.max(0.0001, Math.round((edits / longer) * 10_000) / 10_000);
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
