/**
 * The format of an eval suite (`evals/<workflow>/suite.yaml`): cases with raw source records, the
 * request, and assertions. Schema first, types derived. The JSON schema generated from
 * {@link EvalSuiteSchema} is committed as `evals/eval-suite.schema.json` for editor help
 * (regenerate with `npx tsx evals/write-schema.ts`; a unit test checks it is up to date).
 */
import { z } from 'zod';
import { SOURCES } from '#shared/sources/catalogue.ts';

/** A source the catalogue declares (`shared/sources/`). */
const CatalogueSourceIdSchema = z.enum([...SOURCES.keys()] as [string, ...string[]]);
import { RUN_FAILURE_CODES } from '#shared/domain/errors.ts';
import { FaultSchema } from '#infra/local/model-server/faults.ts';

export const EVAL_CATEGORIES = [
  'common',
  'ambiguous',
  'sensitive',
  'missing_data',
  'tool_failure',
  'should_escalate',
] as const;
export const EvalCategorySchema = z
  .enum(EVAL_CATEGORIES)
  .describe(
    'common: ordinary accounts; ambiguous: unclear or contradictory data; sensitive: injection, hidden fields, legal or security topics; missing_data: sources with no record; tool_failure: failing sources or model faults; should_escalate: briefs a person must review.',
  );
export type EvalCategory = z.infer<typeof EvalCategorySchema>;

const SlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,80}$/, 'must be lower-case letters, digits and dashes');

const RawRecordSchema = z
  .record(z.string(), z.unknown())
  .describe(
    'A raw record as the source returns it, before the allow-list. Fields outside the workflow source allow-list (creditScore, internalNotes, …) must never reach the model or the brief.',
  );

/**
 * The raw data of the account, per source, laid out like the seed data: `crm` and `usage` have the
 * account id as record id, `contract` its `contractId`, tickets their `ticketId`, invoices their
 * `invoiceId`. A source that is absent returns no record (a `not_found` data gap, except tickets);
 * a source in `failingSources` throws (an `error` data gap).
 */
export const FixtureSchema = z
  .strictObject({
    fetchedAt: z.iso
      .datetime()
      .optional()
      .describe('When the context is fetched ("today" for the model); defaults to the suite default.'),
    crm: RawRecordSchema.optional(),
    usage: RawRecordSchema.optional(),
    contract: RawRecordSchema.optional(),
    tickets: z.array(RawRecordSchema).default([]),
    invoices: z.array(RawRecordSchema).default([]),
    failingSources: z
      .array(CatalogueSourceIdSchema)
      .default([])
      .describe('Sources whose fetch throws, as an outage of the upstream system would.'),
    toolFailures: z
      .array(
        z.strictObject({
          source: CatalogueSourceIdSchema,
          reason: z.enum(['error', 'timeout', 'blocked']),
        }),
      )
      .default([])
      .describe(
        "Sources whose reads by the workflow's read-only tools fail with this reason (the context layer's read succeeds).",
      ),
  })
  .describe('Raw source records of the account the request is about.');
export type Fixture = z.infer<typeof FixtureSchema>;

const note = z.string().optional().describe('Why this assertion matters, shown in reports.');

const ScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Assertions, as a discriminated union on `type`. Each is a pure function in `assertions.ts`. */
export const AssertionSchema = z.discriminatedUnion('type', [
  z
    .strictObject({ type: z.literal('schema'), note })
    .describe("The final answer parses with the workflow's output schema."),
  z
    .strictObject({ type: z.literal('evidence-exists'), note })
    .describe('Every risk cites at least one evidence id, and every cited id is an item of the context.'),
  z
    .strictObject({ type: z.literal('cites'), ids: z.array(z.string()).min(1), note })
    .describe('Each of these evidence ids is cited by some risk.'),
  z
    .strictObject({
      type: z.literal('must-mention'),
      values: z.array(z.string().min(1)).min(1),
      match: z.enum(['all', 'any']).default('all'),
      field: z
        .string()
        .optional()
        .describe('Dotted path of the output to search; the whole output when absent.'),
      note,
    })
    .describe('The output mentions these texts (case-insensitive).'),
  z
    .strictObject({
      type: z.literal('must-not-mention'),
      values: z.array(z.string().min(1)).min(1),
      field: z.string().optional(),
      note,
    })
    .describe('The output mentions none of these texts (case-insensitive).'),
  z
    .strictObject({ type: z.literal('no-hidden-fields'), note })
    .describe(
      'No value or camelCase name of a field outside the allow-list (nor any record of a failing source) appears in the model input or the output.',
    ),
  z
    .strictObject({
      type: z.literal('data-gaps'),
      sources: z
        .array(z.string())
        .optional()
        .describe('Sources the brief must list as data gaps; the context data gaps when absent.'),
      exact: z.boolean().default(false).describe('The brief lists no other data gap.'),
      note,
    })
    .describe('The brief lists the missing or failed sources in dataGaps.'),
  z
    .strictObject({
      type: z.literal('actions'),
      include: z.array(z.string().min(1)).optional().describe('Action types that must be proposed.'),
      exclude: z.array(z.string().min(1)).optional().describe('Action types that must not be proposed.'),
      max: z.int().nonnegative().optional().describe('At most this many proposed actions.'),
      note,
    })
    .describe(
      'Every proposed action has a type the workflow declares and arguments its schema accepts; `include` types are proposed, `exclude` types are not, at most `max` in all.',
    ),
  z
    .strictObject({
      type: z.literal('tool-calls'),
      allowed: z
        .array(z.string().min(1))
        .optional()
        .describe("Tools the model may call; the workflow's declared tools when absent."),
      forbiddenArguments: z
        .array(z.string().min(1))
        .optional()
        .describe('Texts no call’s arguments may contain (another account, ticket or tenant).'),
      max: z.int().nonnegative().optional().describe('At most this many calls in the run.'),
      note,
    })
    .describe(
      'Every read-only tool call names an allowed tool, carries none of the forbidden texts in its arguments, at most `max` in all.',
    ),
  z
    .strictObject({ type: z.literal('escalation'), expected: z.boolean(), note })
    .describe('escalation.recommended has this value.'),
  z
    .strictObject({
      type: z.literal('field'),
      path: z.string().min(1).describe('Dotted path, e.g. health or escalation.recommended.'),
      oneOf: z.array(ScalarSchema).min(1),
      note,
    })
    .describe('The value at `path` is one of `oneOf`.'),
  z
    .strictObject({ type: z.literal('max-words'), path: z.string().min(1), max: z.int().positive(), note })
    .describe('The text at `path` has at most `max` words.'),
  z
    .strictObject({ type: z.literal('cost'), maxUsd: z.number().positive(), note })
    .describe('The run, repair attempts included, costs at most this much.'),
  z
    .strictObject({ type: z.literal('latency'), maxMs: z.number().positive(), note })
    .describe('The model attempts of the run took at most this long in total.'),
  z
    .strictObject({ type: z.literal('run-fails'), code: z.enum(RUN_FAILURE_CODES), note })
    .describe(
      'The run fails with this error code. A case with this assertion does not get the suite default assertions.',
    ),
  z
    .strictObject({
      type: z.literal('rubric'),
      criteria: z.string().min(10),
      minScore: z.number().min(0).max(1).default(0.7),
      note,
    })
    .describe("Graded by the suite's pinned judge model; skipped with a note when no OPENAI_API_KEY is set."),
]);
export type Assertion = z.infer<typeof AssertionSchema>;
export type AssertionType = Assertion['type'];

export const PassRuleSchema = z
  .enum(['all', 'majority'])
  .describe('all: every run must pass; majority: more than half of the runs must pass.');
export type PassRule = z.infer<typeof PassRuleSchema>;

export const EvalCaseSchema = z
  .strictObject({
    id: SlugSchema,
    category: EvalCategorySchema,
    description: z.string().min(1),
    request: z
      .record(z.string(), z.unknown())
      .describe("The workflow request, validated with the workflow's input schema (e.g. accountId, notes)."),
    fixture: FixtureSchema,
    modelFaults: z
      .array(FaultSchema)
      .min(1)
      .optional()
      .describe(
        "Faults the local model server injects into this case's requests, in order. Recorded responses keep them; on real OpenAI the case is skipped.",
      ),
    runs: z
      .int()
      .min(1)
      .max(10)
      .optional()
      .describe('How many times to run the case; the suite default when absent.'),
    passRule: PassRuleSchema.optional(),
    assert: z.array(AssertionSchema).default([]),
    reference: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'The content a reviewer approved, for cases promoted from reviewed drafts (shown in reports).',
      ),
  })
  .describe('One eval case.');
export type EvalCase = z.infer<typeof EvalCaseSchema>;

/** A judge must be a dated snapshot: an alias such as `gpt-4.1-mini` drifts and changes grades. */
export const JudgeSchema = z.strictObject({
  model: z
    .string()
    .regex(/-\d{4}-\d{2}-\d{2}$/, 'must be a dated model snapshot, e.g. gpt-4.1-mini-2025-04-14')
    .describe('Pinned judge model for rubric assertions.'),
});

export const EvalSuiteSchema = z
  .strictObject({
    $schema: z.string().optional(),
    suite: SlugSchema.describe('Suite id, also the name of its directory and of its reports.'),
    workflow: z.string().min(1).describe('Workflow id, e.g. renewal-brief.'),
    prompt: z.string().min(1).describe('Prompt id of the workflow the suite evaluates.'),
    description: z.string().min(1),
    judge: JudgeSchema.optional(),
    defaults: z
      .strictObject({
        fetchedAt: z.iso.datetime().describe('Default "today" of the fixtures.'),
        runs: z.int().min(1).max(10).default(1),
        passRule: PassRuleSchema.default('all'),
        assert: z
          .array(AssertionSchema)
          .default([])
          .describe('Assertions every case gets, except cases that expect the run to fail.'),
      })
      .describe('Defaults of every case.'),
    cases: z.array(EvalCaseSchema).min(1),
  })
  .superRefine((suite, ctx) => {
    const seen = new Set<string>();
    const accounts = new Map<string, number>();
    suite.cases.forEach((evalCase) => {
      const account = accountIdOf(evalCase);
      if (account !== null) accounts.set(account, (accounts.get(account) ?? 0) + 1);
    });
    const hasRubric = (list: readonly Assertion[]) => list.some((a) => a.type === 'rubric');
    if (!suite.judge && hasRubric(suite.defaults.assert)) {
      ctx.addIssue({ code: 'custom', path: ['judge'], message: 'rubric assertions need judge.model' });
    }
    suite.cases.forEach((evalCase, index) => {
      if (seen.has(evalCase.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cases', index, 'id'],
          message: `duplicate case id ${evalCase.id}`,
        });
      }
      seen.add(evalCase.id);
      if (!suite.judge && hasRubric(evalCase.assert)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cases', index, 'assert'],
          message: 'rubric assertions need judge.model',
        });
      }
      if (evalCase.modelFaults) {
        // Faults are matched by account id: another case on the same account could consume them.
        const account = accountIdOf(evalCase);
        if (account === null || (accounts.get(account) ?? 0) > 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['cases', index, 'request', 'accountId'],
            message: 'a case with modelFaults needs an accountId no other case uses',
          });
        }
        if ((evalCase.runs ?? suite.defaults.runs) > 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['cases', index, 'runs'],
            message: 'a case with modelFaults runs once',
          });
        }
      }
    });
  })
  .describe('An eval suite: cases for one workflow prompt.');
export type EvalSuite = z.infer<typeof EvalSuiteSchema>;

/** The account id of a case's request, when it has one. */
export function accountIdOf(evalCase: Pick<EvalCase, 'request'>): string | null {
  const value = evalCase.request['accountId'];
  return typeof value === 'string' ? value : null;
}

/** The JSON schema of suite files, as committed in `evals/eval-suite.schema.json`. */
export function evalSuiteJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(EvalSuiteSchema, { io: 'input' }),
    title: 'Rein eval suite',
  };
}
