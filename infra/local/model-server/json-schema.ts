/**
 * A minimal value for an arbitrary JSON schema, so the local model server can answer structured
 * output requests other than the renewal brief. Covers what strict structured output allows (object,
 * array, string, number, integer, boolean, null, enum, const, anyOf/oneOf/allOf, `$ref`, nullable
 * type lists) and honours the usual bounds; `pattern` is not solved.
 */
type JsonObject = Record<string, unknown>;

const MAX_DEPTH = 32;

/** `Array.isArray` narrows to `any[]`; this keeps the elements `unknown`. */
function asArray(value: unknown): readonly unknown[] | null {
  return Array.isArray(value) ? (value as unknown[]) : null;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves a local `$ref` such as `#/$defs/Risk` or `#/definitions/Risk` against the root schema. */
function resolveRef(ref: string, root: unknown): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return {};
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return {};
  }
  return node ?? {};
}

function isNullSchema(schema: unknown): boolean {
  return isObject(schema) && (schema['type'] === 'null' || schema['const'] === null);
}

/** Merges `allOf` members shallowly: properties and required lists are combined. */
function mergeAll(schemas: readonly unknown[], root: unknown): JsonObject {
  const merged: JsonObject = {};
  const properties: JsonObject = {};
  const required = new Set<string>();
  for (const member of schemas) {
    const schema =
      isObject(member) && typeof member['$ref'] === 'string' ? resolveRef(member['$ref'], root) : member;
    if (!isObject(schema)) continue;
    Object.assign(merged, schema);
    if (isObject(schema['properties'])) Object.assign(properties, schema['properties']);
    if (Array.isArray(schema['required'])) {
      for (const name of schema['required']) if (typeof name === 'string') required.add(name);
    }
  }
  delete merged['allOf'];
  if (Object.keys(properties).length > 0) merged['properties'] = properties;
  if (required.size > 0) merged['required'] = [...required];
  return merged;
}

function sampleString(schema: JsonObject): string {
  const format = schema['format'];
  let value =
    format === 'date'
      ? '2000-01-01'
      : format === 'date-time'
        ? '2000-01-01T00:00:00Z'
        : format === 'time'
          ? '00:00:00'
          : format === 'email'
            ? 'user@example.com'
            : format === 'uuid'
              ? '00000000-0000-4000-8000-000000000000'
              : format === 'uri'
                ? 'https://example.com'
                : '';
  const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const maxLength = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Number.POSITIVE_INFINITY;
  if (value.length > maxLength) value = '';
  return value.padEnd(minLength, 'x');
}

function sampleNumber(schema: JsonObject, integer: boolean): number {
  const num = (key: string): number | null => (typeof schema[key] === 'number' ? schema[key] : null);
  const exclusiveMin = num('exclusiveMinimum');
  const exclusiveMax = num('exclusiveMaximum');
  // Exclusive bounds become inclusive ones strictly inside the range.
  const min = num('minimum') ?? (exclusiveMin === null ? null : exclusiveMin + (integer ? 1 : 0.5));
  const max = num('maximum') ?? (exclusiveMax === null ? null : exclusiveMax - (integer ? 1 : 0.5));
  let value = 0;
  if (min !== null && value < min) value = integer ? Math.ceil(min) : min;
  if (max !== null && value > max) value = integer ? Math.floor(max) : max;
  const multipleOf = num('multipleOf');
  if (multipleOf !== null && multipleOf > 0) value = Math.ceil(value / multipleOf) * multipleOf;
  return value;
}

function sampleNode(input: unknown, root: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || input === true || !isObject(input)) return null;
  let schema: JsonObject = input;
  if (typeof schema['$ref'] === 'string')
    return sampleNode(resolveRef(schema['$ref'], root), root, depth + 1);
  const allOf = asArray(schema['allOf']);
  if (allOf) schema = mergeAll([schema, ...allOf], root);

  if ('const' in schema) return schema['const'];
  const enumValues = asArray(schema['enum']);
  if (enumValues) return enumValues[0] ?? null;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = asArray(schema[key]);
    if (options && options.length > 0) {
      // Prefer a non-null branch: a value is more useful to a caller than `null`.
      const chosen = options.find((option) => !isNullSchema(option)) ?? options[0];
      return sampleNode(chosen, root, depth + 1);
    }
  }

  const declared = schema['type'];
  const types = Array.isArray(declared)
    ? declared.filter((t): t is string => typeof t === 'string')
    : [declared];
  const type =
    types.find((t) => t !== 'null') ??
    types[0] ??
    (isObject(schema['properties']) ? 'object' : 'items' in schema ? 'array' : undefined);

  switch (type) {
    case 'object': {
      const value: JsonObject = {};
      const properties = isObject(schema['properties']) ? schema['properties'] : {};
      for (const [name, property] of Object.entries(properties))
        value[name] = sampleNode(property, root, depth + 1);
      if (Array.isArray(schema['required'])) {
        for (const name of schema['required']) {
          if (typeof name === 'string' && !(name in value)) value[name] = null;
        }
      }
      return value;
    }
    case 'array': {
      const prefix = Array.isArray(schema['prefixItems']) ? schema['prefixItems'] : [];
      const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      const items: unknown[] = prefix.map((item) => sampleNode(item, root, depth + 1));
      while (items.length < minItems) items.push(sampleNode(schema['items'] ?? {}, root, depth + 1));
      return items;
    }
    case 'string':
      return sampleString(schema);
    case 'number':
      return sampleNumber(schema, false);
    case 'integer':
      return sampleNumber(schema, true);
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** A small value that satisfies `schema` (within the keywords listed above). */
export function sampleFromJsonSchema(schema: unknown): unknown {
  return sampleNode(schema, schema, 0);
}
