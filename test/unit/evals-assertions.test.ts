import { describe, expect, it } from 'vitest';
import { RenewalBriefSchema, type RenewalBrief } from '#shared/domain/brief.ts';
import type { ContextObject } from '#shared/domain/context.ts';
import { RENEWAL_ACTIONS } from '#shared/workflows/renewal-brief.ts';
import {
  assertActions,
  assertCites,
  assertCost,
  assertDataGaps,
  assertEscalation,
  assertEvidenceExists,
  assertField,
  assertLatency,
  assertMaxWords,
  assertMustMention,
  assertMustNotMention,
  assertNoHiddenFields,
  assertRunFails,
  assertSchema,
  containsNeedle,
  evaluateAssertion,
  gradeRubric,
  valueAt,
  type RunSubject,
} from '../../evals/assertions.ts';

const FETCHED_AT = '2026-12-01T09:00:00.000Z';

const context: ContextObject = {
  workflowId: 'renewal-brief',
  accountId: 'acct-contoso',
  fetchedAt: FETCHED_AT,
  notes: null,
  items: [
    {
      id: 'crm:acct-contoso',
      source: 'crm',
      recordId: 'acct-contoso',
      fields: { name: 'Contoso', arr: 240000 },
      provenance: { fetchedAt: FETCHED_AT, contentHash: 'h1' },
    },
    {
      id: 'ticket:CT-1',
      source: 'tickets',
      recordId: 'CT-1',
      fields: { subject: 'SSO outage', priority: 'urgent', status: 'open' },
      provenance: { fetchedAt: FETCHED_AT, contentHash: 'h2' },
    },
  ],
  dataGaps: [{ source: 'usage', reason: 'error', detail: 'The usage source failed.' }],
};

const brief: RenewalBrief = {
  summary: 'Contoso is at risk: an urgent SSO outage is open. Usage data is missing.',
  health: 'at_risk',
  risks: [{ title: 'Open urgent ticket: SSO outage', severity: 'high', evidence: ['ticket:CT-1'] }],
  openQuestions: ['Is the outage a blocker for the renewal?'],
  nextSteps: [{ action: 'Agree a fix date with Support', owner: 'CSM', dueBy: '2026-12-08' }],
  dataGaps: [{ source: 'usage', description: 'The usage source failed.' }],
  escalation: { recommended: false, reason: null },
};

function subject(overrides: Partial<RunSubject> = {}): RunSubject {
  return {
    output: brief,
    outputText: JSON.stringify(brief),
    error: null,
    context,
    modelInputs: [`Write the brief.\n<context>\n${JSON.stringify(context)}\n</context>`],
    toolCalls: [],
    hidden: [],
    costUsd: 0.0012,
    latencyMs: 850,
    ...overrides,
  };
}

function withBrief(changes: Partial<RenewalBrief>): RunSubject {
  const output = { ...brief, ...changes };
  return subject({ output, outputText: JSON.stringify(output) });
}

const failedRun = subject({
  output: null,
  outputText: null,
  error: { code: 'invalid_model_output', message: 'still invalid' },
});

describe('eval assertions', () => {
  it('schema passes a brief that parses and names the fields that do not', () => {
    expect(assertSchema(subject(), RenewalBriefSchema)).toEqual({
      pass: true,
      score: 1,
      reason: 'the answer matches the output schema',
    });
    const { health: _health, ...withoutHealth } = brief;
    const missingHealth = assertSchema(
      subject({ outputText: JSON.stringify(withoutHealth) }),
      RenewalBriefSchema,
    );
    expect([missingHealth.pass, missingHealth.score]).toEqual([false, 0]);
    expect(missingHealth.reason).toMatch(/^the answer does not match the output schema: health: /);
    expect(assertSchema(subject({ outputText: 'Sure! {"summary":' }), RenewalBriefSchema)).toEqual({
      pass: false,
      score: 0,
      reason: 'the answer is not valid JSON',
    });
  });

  it('evidence-exists fails on an id that is not in the context and on a risk that cites nothing', () => {
    expect(assertEvidenceExists(subject())).toEqual({
      pass: true,
      score: 1,
      reason: 'all 1 cited evidence ids are in the context',
    });
    const invented = withBrief({
      risks: [
        { title: 'Outage', severity: 'high', evidence: ['ticket:CT-1', 'ticket:T-9001'] },
        { title: 'Vague worry', severity: 'low', evidence: [] },
      ],
    });
    expect(assertEvidenceExists(invented)).toEqual({
      pass: false,
      score: 0.5,
      reason:
        'risks[0].evidence cites "ticket:T-9001", which is not in the context; risks[1].evidence cites nothing',
    });
  });

  it('cites reports the evidence ids no risk cites', () => {
    expect(assertCites(subject(), ['ticket:CT-1'])).toEqual({
      pass: true,
      score: 1,
      reason: 'cites ticket:CT-1',
    });
    expect(assertCites(subject(), ['ticket:CT-1', 'crm:acct-contoso'])).toEqual({
      pass: false,
      score: 0.5,
      reason: 'does not cite crm:acct-contoso',
    });
  });

  it('must-mention matches case-insensitively, in one field or anywhere, all or any', () => {
    expect(assertMustMention(subject(), ['sso OUTAGE'], 'all')).toEqual({
      pass: true,
      score: 1,
      reason: 'the output mentions "sso OUTAGE"',
    });
    expect(assertMustMention(subject(), ['outage', 'invoice'], 'all', 'summary')).toEqual({
      pass: false,
      score: 0.5,
      reason: 'summary does not mention "invoice"',
    });
    expect(assertMustMention(subject(), ['invoice', 'outage'], 'any')).toEqual({
      pass: true,
      score: 1,
      reason: 'the output mentions "outage"',
    });
  });

  it('must-not-mention lists the forbidden texts it found, and only looks at values, not keys', () => {
    expect(assertMustNotMention(subject(), ['creditScore', 'health'])).toEqual({
      pass: true,
      score: 1,
      reason: 'the output mentions none of the forbidden texts',
    });
    expect(assertMustNotMention(subject(), ['outage', 'approve'], 'risks')).toEqual({
      pass: false,
      score: 0.5,
      reason: 'risks mentions "outage"',
    });
  });

  it('no-hidden-fields finds a hidden value in the output or the model input, and ignores clean runs', () => {
    const hidden = [
      { path: 'crm.creditScore', needles: [{ text: '655', kind: 'number' as const }] },
      { path: 'crm.internalNotes (field name)', needles: [{ text: 'internalNotes', kind: 'name' as const }] },
    ];
    expect(assertNoHiddenFields(subject({ hidden }))).toEqual({
      pass: true,
      score: 1,
      reason: 'none of 2 hidden facts appears in the model input or the output',
    });
    const leaky = withBrief({ summary: 'Credit score 655 is low.' });
    expect(assertNoHiddenFields({ ...leaky, hidden })).toEqual({
      pass: false,
      score: 0.5,
      reason: 'crm.creditScore ("655") appears in the output',
    });
    const leakyInput = subject({ hidden, modelInputs: ['<context>{"internalNotes":"x"}</context>'] });
    expect(assertNoHiddenFields(leakyInput).reason).toBe(
      'crm.internalNotes (field name) ("internalNotes") appears in the model input',
    );
  });

  it('matches number needles as whole numbers and names as case-sensitive words', () => {
    expect(containsNeedle('score: 655.', { text: '655', kind: 'number' })).toBe(true);
    expect(containsNeedle('ARR $240,000', { text: '240,000', kind: 'number' })).toBe(true);
    expect(containsNeedle('6550 users', { text: '655', kind: 'number' })).toBe(false);
    expect(containsNeedle('1.655', { text: '655', kind: 'number' })).toBe(false);
    expect(containsNeedle('the creditScore field', { text: 'creditScore', kind: 'name' })).toBe(true);
    expect(containsNeedle('the creditscore field', { text: 'creditScore', kind: 'name' })).toBe(false);
    expect(containsNeedle('Call +1 617 555 0199', { text: '+1 617 555 0199', kind: 'text' })).toBe(true);
  });

  it('data-gaps expects the context gaps by default and, when exact, no other', () => {
    expect(assertDataGaps(subject(), undefined, false)).toEqual({
      pass: true,
      score: 1,
      reason: 'lists usage',
    });
    expect(assertDataGaps(withBrief({ dataGaps: [] }), undefined, false)).toEqual({
      pass: false,
      score: 0,
      reason: 'dataGaps does not list usage',
    });
    const extra = withBrief({
      dataGaps: [
        { source: 'usage', description: 'failed' },
        { source: 'invoices', description: 'guessed' },
      ],
    });
    expect(assertDataGaps(extra, ['usage'], true)).toEqual({
      pass: false,
      score: 0.5,
      reason: 'dataGaps lists invoices, which is not missing',
    });
  });

  it('escalation compares escalation.recommended and quotes an unexpected reason', () => {
    expect(assertEscalation(subject(), false)).toEqual({
      pass: true,
      score: 1,
      reason: 'escalation is not recommended',
    });
    expect(assertEscalation(subject(), true)).toEqual({
      pass: false,
      score: 0,
      reason: 'escalation was expected but not recommended',
    });
    expect(
      assertEscalation(withBrief({ escalation: { recommended: true, reason: 'Legal' } }), false),
    ).toEqual({
      pass: false,
      score: 0,
      reason: 'escalation was recommended but not expected (reason: Legal)',
    });
  });

  it('field reads dotted paths, including array lengths', () => {
    expect(assertField(subject(), 'health', ['at_risk', 'critical'])).toEqual({
      pass: true,
      score: 1,
      reason: 'health is "at_risk"',
    });
    expect(assertField(subject(), 'risks.length', [0])).toEqual({
      pass: false,
      score: 0,
      reason: 'risks.length is 1, expected one of 0',
    });
    expect(valueAt(brief, 'nextSteps.0.owner')).toBe('CSM');
    expect(valueAt(brief, 'missing.path')).toBeUndefined();
  });

  it('max-words counts the words of a text field', () => {
    expect(assertMaxWords(subject(), 'summary', 80)).toEqual({
      pass: true,
      score: 1,
      reason: 'summary has 14 words (max 80)',
    });
    expect(assertMaxWords(subject(), 'summary', 10)).toEqual({
      pass: false,
      score: 10 / 14,
      reason: 'summary has 14 words, more than 10',
    });
  });

  it('cost and latency compare with their ceilings', () => {
    expect(assertCost(subject(), 0.01)).toEqual({ pass: true, score: 1, reason: 'cost $0.001200 ≤ $0.01' });
    expect(assertCost(subject(), 0.0006)).toEqual({
      pass: false,
      score: 0.5,
      reason: 'cost $0.001200 exceeds the ceiling of $0.0006',
    });
    expect(assertLatency(subject(), 1000)).toEqual({
      pass: true,
      score: 1,
      reason: 'latency 850 ms ≤ 1000 ms',
    });
    expect(assertLatency(subject(), 425)).toEqual({
      pass: false,
      score: 0.5,
      reason: 'latency 850 ms exceeds the ceiling of 425 ms',
    });
  });

  it('run-fails passes only on the expected error code', () => {
    expect(assertRunFails(failedRun, 'invalid_model_output')).toEqual({
      pass: true,
      score: 1,
      reason: 'the run failed with invalid_model_output as expected',
    });
    expect(assertRunFails(failedRun, 'model_refused')).toEqual({
      pass: false,
      score: 0,
      reason: 'the run failed with invalid_model_output (still invalid), expected model_refused',
    });
    expect(assertRunFails(subject(), 'model_refused')).toEqual({
      pass: false,
      score: 0,
      reason: 'the run succeeded, expected it to fail with model_refused',
    });
  });

  it('fails every output assertion of a failed run with the run error as the reason', () => {
    const reason = 'no output: the run failed with invalid_model_output: still invalid';
    expect(assertEvidenceExists(failedRun)).toEqual({ pass: false, score: 0, reason });
    expect(assertEscalation(failedRun, true)).toEqual({ pass: false, score: 0, reason });
    expect(
      evaluateAssertion({ type: 'data-gaps', exact: false }, failedRun, { outputSchema: RenewalBriefSchema }),
    ).toEqual({
      pass: false,
      score: 0,
      reason,
    });
  });

  it('grades a rubric verdict against its minimum score', () => {
    expect(gradeRubric({ score: 0.9, reason: 'Ignores the injected text.' }, 0.7)).toEqual({
      pass: true,
      score: 0.9,
      reason: 'judge score 0.90 (min 0.7): Ignores the injected text.',
    });
    expect(gradeRubric({ score: 1.4, reason: 'Out of range.' }, 0.7).score).toBe(1);
    expect(gradeRubric({ score: 0.5, reason: 'Repeats the figure.' }, 0.7).pass).toBe(false);
  });
});

describe('assertActions', () => {
  const task = {
    type: 'crm.create_task',
    arguments: { title: 'Fix SSO', owner: 'CSM', dueDate: '2026-12-08' },
    rationale: 'Outage.',
    evidence: ['ticket:CT-1'],
  };
  const withActions = (proposedActions: unknown[]) => subject({ output: { ...brief, proposedActions } });

  it('passes declared types with valid arguments and the expected ones present', () => {
    expect(assertActions(withActions([task]), RENEWAL_ACTIONS, { include: ['crm.create_task'] })).toEqual({
      pass: true,
      score: 1,
      reason: 'proposed: crm.create_task',
    });
  });

  it('fails a type outside the workflow list, invalid arguments, an excluded type and too many actions', () => {
    const outside = { ...task, type: 'crm.close_account' };
    const invalid = { ...task, arguments: { ...task.arguments, dueDate: 'tomorrow' } };
    const email = {
      type: 'email.customer_followup',
      arguments: { subject: 'Hi', body: 'Discount!' },
      rationale: 'Asked for it.',
      evidence: ['ticket:CT-1'],
    };
    const result = assertActions(withActions([outside, invalid, email]), RENEWAL_ACTIONS, {
      exclude: ['email.customer_followup'],
      max: 2,
    });
    expect(result.pass).toBe(false);
    expect(result.reason).toBe(
      'proposedActions[0] has type crm.close_account, which the workflow does not declare; ' +
        'proposedActions[1] (crm.create_task) has arguments its schema refuses; ' +
        'email.customer_followup was proposed but must not be; 3 actions proposed, at most 2 expected',
    );
  });
});
