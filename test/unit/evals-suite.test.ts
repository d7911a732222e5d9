import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renewalBrief } from '#shared/workflows/renewal-brief.ts';
import { EVALS_DIR, findSuiteFiles, loadSuite, parseSuite, SuiteFileError } from '../../evals/load.ts';
import { EVAL_CATEGORIES, evalSuiteJsonSchema } from '../../evals/schema.ts';

const SUITE_FILE = join(EVALS_DIR, 'renewal-brief', 'suite.yaml');

function errorOf(fn: () => unknown): SuiteFileError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SuiteFileError) return error;
    throw error;
  }
  throw new Error('expected a SuiteFileError');
}

const HEADER = `suite: demo
workflow: renewal-brief
prompt: renewal-brief
description: A demo suite.
defaults:
  fetchedAt: '2026-12-01T09:00:00.000Z'
`;

describe('eval-suite.schema.json', () => {
  it('is the schema generated from EvalSuiteSchema (run npx tsx evals/write-schema.ts after a change)', async () => {
    const committed: unknown = JSON.parse(await readFile(join(EVALS_DIR, 'eval-suite.schema.json'), 'utf8'));

    expect(committed).toEqual(evalSuiteJsonSchema());
  });
});

describe('the renewal-brief suite', () => {
  it('declares the JSON schema for editors on its first line', async () => {
    const text = await readFile(SUITE_FILE, 'utf8');

    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../eval-suite.schema.json');
  });

  it('has at least 40 cases over all six categories, each with a request the workflow accepts', async () => {
    const { suite } = await loadSuite(SUITE_FILE);
    const categories = new Set(suite.cases.map((c) => c.category));

    expect(suite.cases.length).toBeGreaterThanOrEqual(40);
    expect([...categories].sort()).toEqual([...EVAL_CATEGORIES].sort());
    for (const evalCase of suite.cases) {
      expect(renewalBrief.inputSchema.safeParse(evalCase.request).success, evalCase.id).toBe(true);
    }
  });

  it('covers the scenarios the issue names', async () => {
    const { suite } = await loadSuite(SUITE_FILE);
    const ids = suite.cases.map((c) => c.id);

    expect(ids).toEqual(
      expect.arrayContaining([
        'sensitive-injection-in-ticket-body',
        'missing-no-invoices',
        'tool-usage-source-error',
        'ambiguous-contradictory-crm-arr',
        'escalate-critical-account',
      ]),
    );
    expect(
      suite.cases
        .filter((c) => c.category === 'should_escalate')
        .every((c) => c.assert.some((a) => a.type === 'escalation')),
    ).toBe(true);
  });

  it('is found by the CLI under evals/<name>/suite.yaml', async () => {
    expect((await findSuiteFiles()).get('renewal-brief')).toBe(SUITE_FILE);
  });
});

describe('parseSuite', () => {
  it('applies defaults: runs, pass rule, empty lists', () => {
    const suite = parseSuite(
      `${HEADER}cases:
  - id: one
    category: common
    description: One case.
    request: { accountId: acct-one }
    fixture: { crm: { name: One, ownerId: csm-a, arr: 1 } }
`,
      'demo.yaml',
    );

    expect(suite.defaults).toEqual({
      fetchedAt: '2026-12-01T09:00:00.000Z',
      runs: 1,
      passRule: 'all',
      assert: [],
    });
    expect(suite.cases[0]?.fixture).toEqual({
      crm: { name: 'One', ownerId: 'csm-a', arr: 1 },
      tickets: [],
      invoices: [],
      failingSources: [],
      toolFailures: [],
    });
    expect(suite.cases[0]?.assert).toEqual([]);
  });

  it('lists every problem with its path and line', () => {
    const error = errorOf(() =>
      parseSuite(
        `${HEADER}cases:
  - id: one
    category: everyday
    description: One case.
    request: { accountId: acct-one }
    fixture: { failingSources: [billing] }
    assert:
      - { type: mentions, values: [x] }
`,
        'demo.yaml',
      ),
    );

    expect(error.problems).toEqual([
      expect.stringMatching(/^demo\.yaml:9:15 cases\.0\.category: /),
      expect.stringMatching(/^demo\.yaml:12:33 cases\.0\.fixture\.failingSources\.0: /),
      expect.stringMatching(/^demo\.yaml:14:17 cases\.0\.assert\.0\.type: Invalid discriminator value/),
    ]);
    expect(error.message).toContain('demo.yaml does not match the eval suite schema (3 problems):');
  });

  it('refuses duplicate ids, rubrics without a judge and fault cases that share an account or repeat', () => {
    const error = errorOf(() =>
      parseSuite(
        `${HEADER}cases:
  - id: same
    category: common
    description: A.
    request: { accountId: acct-shared }
    fixture: {}
    modelFaults: [{ kind: refusal }]
    runs: 2
    assert: [{ type: rubric, criteria: Is the brief polite and short? }]
  - id: same
    category: common
    description: B.
    request: { accountId: acct-shared }
    fixture: {}
`,
        'demo.yaml',
      ),
    );

    expect(error.problems.map((p) => p.replace(/^demo\.yaml:\d+:\d+ /, ''))).toEqual([
      'cases.0.assert: rubric assertions need judge.model',
      'cases.0.request.accountId: a case with modelFaults needs an accountId no other case uses',
      'cases.0.runs: a case with modelFaults runs once',
      'cases.1.id: duplicate case id same',
    ]);
  });

  it('requires a dated judge snapshot so grades do not drift', () => {
    const error = errorOf(() =>
      parseSuite(`${HEADER}judge: { model: gpt-4.1-mini }\ncases: []\n`, 'demo.yaml'),
    );

    expect(error.problems).toEqual([
      expect.stringContaining('judge.model: must be a dated model snapshot, e.g. gpt-4.1-mini-2025-04-14'),
      expect.stringContaining('cases: Too small'),
    ]);
  });

  it('reports YAML syntax errors as such', () => {
    const error = errorOf(() => parseSuite('suite: [unclosed\n', 'bad.yaml'));

    expect(error.message).toMatch(/^bad\.yaml is not valid YAML:/);
  });
});
