/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes a key, anything else
 * (arrays included) replaces the target value.
 */
export function mergePatch(target: unknown, patch: unknown): Record<string, unknown> {
  const merged = applyPatch(target, patch);
  return merged !== null && typeof merged === 'object' && !Array.isArray(merged)
    ? (merged as Record<string, unknown>)
    : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function applyPatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result = new Map(Object.entries(isObject(target) ? target : {}));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) result.delete(key);
    else result.set(key, applyPatch(result.get(key), value));
  }
  return Object.fromEntries(result);
}
