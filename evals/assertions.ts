/**
 * Eval assertions: pure functions from what a run produced to `{pass, score, reason}`. They check
 * the output independently of the workflow's own validation, so a weakened validation rule cannot
 * hide a bad answer. A failed run (no output) fails every assertion that needs an output.
 */
import type { z } from 'zod';
import type { ActionSpec } from '#shared/domain/actions.ts';
import type { ContextObject } from '#shared/domain/context.ts';
import { stringLeaves, type HiddenFact, type Needle } from './context.ts';
import type { Assertion } from './schema.ts';

export interface AssertionResult {
  pass: boolean;
  /** 0 to 1: the share of the assertion's checks that hold. */
  score: number;
  reason: string;
}

/** What one run of a case produced, as the assertions see it. */
export interface RunSubject {
  /** The validated output, or null when the run failed. */
  output: Record<string, unknown> | null;
  /** The raw text of the last model attempt. */
  outputText: string | null;
  error: { code: string; message: string } | null;
  context: ContextObject | null;
  /** The user message of every model attempt, in order. */
  modelInputs: readonly string[];
  /** Every read-only tool call the model made, with the raw arguments and how it ended. */
  toolCalls: readonly { name: string; arguments: string; outcome: string }[];
  hidden: readonly HiddenFact[];
  costUsd: number;
  latencyMs: number;
}

const MAX_LISTED = 5;

function result(pass: boolean, score: number, reason: string): AssertionResult {
  return { pass, score: Math.max(0, Math.min(1, score)), reason };
}

function share(good: number, total: number): number {
  return total === 0 ? 1 : good / total;
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join('; ');
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}

function noOutput(subject: RunSubject): AssertionResult {
  return result(
    false,
    0,
    subject.error
      ? `no output: the run failed with ${subject.error.code}: ${subject.error.message}`
      : 'no output',
  );
}

/** The value at a dotted path (`escalation.recommended`, `risks.0.title`, `risks.length`), or undefined. */
export function valueAt(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (Array.isArray(current) && segment === 'length') current = current.length;
    else if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (typeof current === 'object' && current !== null && !Array.isArray(current)) {
      current = (current as Record<string, unknown>)[segment];
    } else return undefined;
  }
  return current;
}

/** Every `evidence` array of the output with its path: the citations the reviewer will check. */
export function citations(output: unknown, path = ''): { path: string; ids: string[] }[] {
  if (Array.isArray(output)) return output.flatMap((item, index) => citations(item, `${path}[${index}]`));
  if (typeof output !== 'object' || output === null) return [];
  return Object.entries(output).flatMap(([key, value]) => {
    const here = path === '' ? key : `${path}.${key}`;
    if (key === 'evidence' && Array.isArray(value)) {
      return [{ path: here, ids: value.filter((id): id is string => typeof id === 'string') }];
    }
    return citations(value, here);
  });
}

export function assertSchema(subject: RunSubject, schema: z.ZodType): AssertionResult {
  if (subject.outputText === null) return noOutput(subject);
  let json: unknown;
  try {
    json = JSON.parse(subject.outputText);
  } catch {
    return result(false, 0, 'the answer is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return result(true, 1, 'the answer matches the output schema');
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return result(false, 0, `the answer does not match the output schema: ${listed(issues)}`);
}

export function assertEvidenceExists(subject: RunSubject): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const known = new Set((subject.context?.items ?? []).map((item) => item.id));
  const groups = citations(subject.output);
  const problems: string[] = [];
  let checks = 0;
  for (const group of groups) {
    checks += 1;
    if (group.ids.length === 0) problems.push(`${group.path} cites nothing`);
    for (const id of group.ids) {
      checks += 1;
      if (!known.has(id)) problems.push(`${group.path} cites "${id}", which is not in the context`);
    }
  }
  if (problems.length > 0) return result(false, share(checks - problems.length, checks), listed(problems));
  const count = groups.reduce((sum, group) => sum + group.ids.length, 0);
  return result(
    true,
    1,
    count === 0 ? 'nothing is cited' : `all ${count} cited evidence ids are in the context`,
  );
}

export function assertCites(subject: RunSubject, ids: readonly string[]): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const cited = new Set(citations(subject.output).flatMap((group) => group.ids));
  const missing = ids.filter((id) => !cited.has(id));
  return missing.length === 0
    ? result(true, 1, `cites ${ids.join(', ')}`)
    : result(false, share(ids.length - missing.length, ids.length), `does not cite ${missing.join(', ')}`);
}

function searchText(output: Record<string, unknown>, field: string | undefined): string {
  return stringLeaves(field === undefined ? output : valueAt(output, field))
    .join('\n')
    .toLowerCase();
}

export function assertMustMention(
  subject: RunSubject,
  values: readonly string[],
  match: 'all' | 'any',
  field?: string,
): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const text = searchText(subject.output, field);
  const where = field === undefined ? 'the output' : field;
  const found = values.filter((value) => text.includes(value.toLowerCase()));
  const missing = values.filter((value) => !found.includes(value));
  if (match === 'any') {
    return found.length > 0
      ? result(true, 1, `${where} mentions "${found[0] ?? ''}"`)
      : result(false, 0, `${where} mentions none of ${values.map((v) => `"${v}"`).join(', ')}`);
  }
  return missing.length === 0
    ? result(true, 1, `${where} mentions ${values.map((v) => `"${v}"`).join(', ')}`)
    : result(
        false,
        share(found.length, values.length),
        `${where} does not mention ${missing.map((v) => `"${v}"`).join(', ')}`,
      );
}

export function assertMustNotMention(
  subject: RunSubject,
  values: readonly string[],
  field?: string,
): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const text = searchText(subject.output, field);
  const where = field === undefined ? 'the output' : field;
  const found = values.filter((value) => text.includes(value.toLowerCase()));
  return found.length === 0
    ? result(true, 1, `${where} mentions none of the forbidden texts`)
    : result(
        false,
        share(values.length - found.length, values.length),
        `${where} mentions ${found.map((v) => `"${v}"`).join(', ')}`,
      );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a needle of a hidden fact occurs in a text, by its kind (see {@link Needle}). */
export function containsNeedle(haystack: string, needle: Needle): boolean {
  const escaped = escapeRegExp(needle.text);
  if (needle.kind === 'number') return new RegExp(`(?<![\\w.,])${escaped}(?![\\w]|[.,]\\d)`).test(haystack);
  if (needle.kind === 'name') return new RegExp(`(?<![\\w])${escaped}(?![\\w])`).test(haystack);
  return haystack.toLowerCase().includes(needle.text.toLowerCase());
}

export function assertNoHiddenFields(subject: RunSubject): AssertionResult {
  const places: { name: string; text: string }[] = [
    { name: 'the model input', text: subject.modelInputs.join('\n') },
    ...(subject.output ? [{ name: 'the output', text: stringLeaves(subject.output).join('\n') }] : []),
  ];
  const leaks: string[] = [];
  for (const fact of subject.hidden) {
    for (const place of places) {
      const needle = fact.needles.find((candidate) => containsNeedle(place.text, candidate));
      if (needle) leaks.push(`${fact.path} ("${needle.text}") appears in ${place.name}`);
    }
  }
  if (leaks.length > 0) {
    return result(false, share(subject.hidden.length - leaks.length, subject.hidden.length), listed(leaks));
  }
  return result(
    true,
    1,
    `none of ${subject.hidden.length} hidden facts appears in the model input or the output`,
  );
}

function declaredGaps(output: Record<string, unknown>): string[] {
  const gaps = output['dataGaps'];
  if (!Array.isArray(gaps)) return [];
  return gaps.flatMap((gap: unknown) => {
    if (typeof gap === 'string') return [gap];
    const source = valueAt(gap, 'source');
    return typeof source === 'string' ? [source] : [];
  });
}

export function assertDataGaps(
  subject: RunSubject,
  sources: readonly string[] | undefined,
  exact: boolean,
): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const expected = sources ?? [...new Set((subject.context?.dataGaps ?? []).map((gap) => gap.source))];
  const declared = declaredGaps(subject.output);
  const missing = expected.filter((source) => !declared.includes(source));
  const extra = exact ? declared.filter((source) => !expected.includes(source)) : [];
  const problems = [
    ...(missing.length > 0 ? [`dataGaps does not list ${missing.join(', ')}`] : []),
    ...(extra.length > 0 ? [`dataGaps lists ${extra.join(', ')}, which is not missing`] : []),
  ];
  if (problems.length > 0) {
    const total = expected.length + extra.length;
    return result(false, share(total - missing.length - extra.length, total), problems.join('; '));
  }
  return result(
    true,
    1,
    expected.length === 0
      ? 'no data gap expected' + (exact ? ' and none listed' : '')
      : `lists ${expected.join(', ')}`,
  );
}

export function assertEscalation(subject: RunSubject, expected: boolean): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const actual = valueAt(subject.output, 'escalation.recommended');
  if (actual === expected) {
    return result(true, 1, expected ? 'escalation is recommended' : 'escalation is not recommended');
  }
  const reason = valueAt(subject.output, 'escalation.reason');
  return result(
    false,
    0,
    expected
      ? 'escalation was expected but not recommended'
      : `escalation was recommended but not expected (reason: ${typeof reason === 'string' ? reason : 'none'})`,
  );
}

/**
 * The model's read-only tool calls: only allowed tools (the workflow's by default), no argument
 * naming anything the case forbids (another account, ticket or tenant an injection asks for), at
 * most `max`. A run without calls passes: calling nothing is always allowed.
 */
export function assertToolCalls(
  subject: RunSubject,
  declared: readonly { name: string }[],
  expected: { allowed?: readonly string[]; forbiddenArguments?: readonly string[]; max?: number },
): AssertionResult {
  const allowed = new Set(expected.allowed ?? declared.map((tool) => tool.name));
  const problems: string[] = [];
  for (const call of subject.toolCalls) {
    if (!allowed.has(call.name)) problems.push(`called ${call.name}, which is not allowed`);
    for (const text of expected.forbiddenArguments ?? []) {
      if (call.arguments.toLowerCase().includes(text.toLowerCase())) {
        problems.push(`called ${call.name} with "${text}" in its arguments`);
      }
    }
  }
  if (expected.max !== undefined && subject.toolCalls.length > expected.max) {
    problems.push(`${subject.toolCalls.length} calls (max ${expected.max})`);
  }
  const names = subject.toolCalls.map((call) => `${call.name} (${call.outcome})`);
  return problems.length === 0
    ? result(true, 1, names.length === 0 ? 'no tool calls' : `called ${names.join(', ')}`)
    : result(false, 0, problems.slice(0, MAX_LISTED).join('; '));
}

/**
 * The proposed actions: never a type outside the workflow's list, arguments valid against the
 * type's strict schema, the `include` types present, the `exclude` types absent, at most `max`.
 */
export function assertActions(
  subject: RunSubject,
  specs: readonly ActionSpec[],
  expected: { include?: readonly string[]; exclude?: readonly string[]; max?: number },
): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const raw = subject.output['proposedActions'];
  const proposed = Array.isArray(raw) ? (raw as unknown[]) : [];
  const problems: string[] = [];
  const types: string[] = [];
  proposed.forEach((item, index) => {
    const action = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const type = typeof action['type'] === 'string' ? action['type'] : '(none)';
    types.push(type);
    const spec = specs.find((candidate) => candidate.type === type);
    if (!spec) {
      problems.push(`proposedActions[${index}] has type ${type}, which the workflow does not declare`);
      return;
    }
    if (!spec.argsSchema.strict().safeParse(action['arguments']).success) {
      problems.push(`proposedActions[${index}] (${type}) has arguments its schema refuses`);
    }
  });
  for (const type of expected.include ?? []) {
    if (!types.includes(type)) problems.push(`${type} was expected but not proposed`);
  }
  for (const type of expected.exclude ?? []) {
    if (types.includes(type)) problems.push(`${type} was proposed but must not be`);
  }
  if (expected.max !== undefined && proposed.length > expected.max) {
    problems.push(`${proposed.length} actions proposed, at most ${expected.max} expected`);
  }
  return problems.length === 0
    ? result(true, 1, `proposed: ${types.length === 0 ? 'none' : types.join(', ')}`)
    : result(false, 0, problems.join('; '));
}

export function assertField(
  subject: RunSubject,
  path: string,
  oneOf: readonly (string | number | boolean | null)[],
): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const actual = valueAt(subject.output, path);
  const shown = JSON.stringify(actual) ?? 'undefined';
  return oneOf.some((allowed) => allowed === actual)
    ? result(true, 1, `${path} is ${shown}`)
    : result(
        false,
        0,
        `${path} is ${shown}, expected one of ${oneOf.map((v) => JSON.stringify(v)).join(', ')}`,
      );
}

export function assertMaxWords(subject: RunSubject, path: string, max: number): AssertionResult {
  if (!subject.output) return noOutput(subject);
  const text = valueAt(subject.output, path);
  if (typeof text !== 'string') return result(false, 0, `${path} is not a text`);
  const words = text.split(/\s+/).filter((word) => word.length > 0).length;
  return words <= max
    ? result(true, 1, `${path} has ${words} words (max ${max})`)
    : result(false, max / words, `${path} has ${words} words, more than ${max}`);
}

export function assertCost(subject: RunSubject, maxUsd: number): AssertionResult {
  const cost = `$${subject.costUsd.toFixed(6)}`;
  return subject.costUsd <= maxUsd
    ? result(true, 1, `cost ${cost} ≤ $${maxUsd}`)
    : result(false, maxUsd / subject.costUsd, `cost ${cost} exceeds the ceiling of $${maxUsd}`);
}

export function assertLatency(subject: RunSubject, maxMs: number): AssertionResult {
  return subject.latencyMs <= maxMs
    ? result(true, 1, `latency ${subject.latencyMs} ms ≤ ${maxMs} ms`)
    : result(
        false,
        maxMs / subject.latencyMs,
        `latency ${subject.latencyMs} ms exceeds the ceiling of ${maxMs} ms`,
      );
}

export function assertRunFails(subject: RunSubject, code: string): AssertionResult {
  if (subject.error?.code === code) return result(true, 1, `the run failed with ${code} as expected`);
  if (subject.error) {
    return result(
      false,
      0,
      `the run failed with ${subject.error.code} (${subject.error.message}), expected ${code}`,
    );
  }
  return result(false, 0, `the run succeeded, expected it to fail with ${code}`);
}

/** What a judge model answered about a rubric. */
export interface JudgeVerdict {
  score: number;
  reason: string;
}

export function gradeRubric(verdict: JudgeVerdict, minScore: number): AssertionResult {
  const score = Math.max(0, Math.min(1, verdict.score));
  return result(
    score >= minScore,
    score,
    `judge score ${score.toFixed(2)} (min ${minScore}): ${verdict.reason}`,
  );
}

/** Every assertion but `rubric`, which needs a judge model (see the runner). */
export type PureAssertion = Exclude<Assertion, { type: 'rubric' }>;

/** Applies one assertion to a run. `outputSchema` is the workflow's output schema. */
export function evaluateAssertion(
  assertion: PureAssertion,
  subject: RunSubject,
  env: { outputSchema: z.ZodType; actions?: readonly ActionSpec[]; tools?: readonly { name: string }[] },
): AssertionResult {
  switch (assertion.type) {
    case 'schema':
      return assertSchema(subject, env.outputSchema);
    case 'evidence-exists':
      return assertEvidenceExists(subject);
    case 'cites':
      return assertCites(subject, assertion.ids);
    case 'must-mention':
      return assertMustMention(subject, assertion.values, assertion.match, assertion.field);
    case 'must-not-mention':
      return assertMustNotMention(subject, assertion.values, assertion.field);
    case 'no-hidden-fields':
      return assertNoHiddenFields(subject);
    case 'data-gaps':
      return assertDataGaps(subject, assertion.sources, assertion.exact);
    case 'escalation':
      return assertEscalation(subject, assertion.expected);
    case 'actions':
      return assertActions(subject, env.actions ?? [], assertion);
    case 'tool-calls':
      return assertToolCalls(subject, env.tools ?? [], assertion);
    case 'field':
      return assertField(subject, assertion.path, assertion.oneOf);
    case 'max-words':
      return assertMaxWords(subject, assertion.path, assertion.max);
    case 'cost':
      return assertCost(subject, assertion.maxUsd);
    case 'latency':
      return assertLatency(subject, assertion.maxMs);
    case 'run-fails':
      return assertRunFails(subject, assertion.code);
  }
}
