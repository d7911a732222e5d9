import { describe, expect, it } from 'vitest';
import { compareWithBaseline, updatedBaseline } from '../../evals/baseline.ts';
import { escapeHtml, renderHtml } from '../../evals/report-html.ts';
import { escapeXml, failureReasons, renderJunit } from '../../evals/report-junit.ts';
import { summarise, type CaseResult, type SuiteResult } from '../../evals/runner.ts';

const HOSTILE = `<script>alert('x')</script> & "quotes"`;

function caseResult(id: string, pass: boolean, category: CaseResult['category']): CaseResult {
  return {
    id,
    category,
    description: `Ticket says ${HOSTILE}`,
    status: pass ? 'passed' : 'failed',
    skipReason: null,
    passRule: 'all',
    passedRuns: pass ? 1 : 0,
    score: pass ? 1 : 0.5,
    costUsd: 0.0006,
    latencyMs: 120,
    runs: [
      {
        run: 1,
        pass,
        score: pass ? 1 : 0.5,
        error: null,
        output: { summary: `Quoted: ${HOSTILE}` },
        assertions: [
          {
            type: 'schema',
            note: null,
            skipped: false,
            fromDefaults: true,
            pass: true,
            score: 1,
            reason: 'ok',
          },
          pass
            ? {
                type: 'escalation',
                note: null,
                skipped: false,
                fromDefaults: false,
                pass: true,
                score: 1,
                reason: 'ok',
              }
            : {
                type: 'must-not-mention',
                note: 'injection',
                skipped: false,
                fromDefaults: false,
                pass: false,
                score: 0,
                reason: `the output mentions "${HOSTILE}"`,
              },
          {
            type: 'rubric',
            note: null,
            skipped: true,
            fromDefaults: false,
            pass: true,
            score: 0,
            reason: 'not graded: no key',
          },
        ],
        attempts: [
          {
            attempt: 1,
            outputText: '{}',
            refusal: null,
            finishReason: 'completed',
            problems: [],
            costUsd: 0.0006,
            latencyMs: 120,
          },
        ],
        costUsd: 0.0006,
        latencyMs: 120,
        contextItems: ['crm:acct-x'],
        dataGaps: [],
      },
    ],
  };
}

const cases = [
  caseResult('sensitive-injection', false, 'sensitive'),
  caseResult('common-healthy', true, 'common'),
  caseResult('common-other', true, 'common'),
];
const result: SuiteResult = {
  reRecordCommand: 'npm run eval -- --suite renewal-brief --record',
  suite: 'renewal-brief',
  description: 'Renewal briefs.',
  workflow: 'renewal-brief',
  prompt: { id: 'renewal-brief', version: 'v1', contentHash: 'sha256:0123456789abcdef0123', modified: false },
  model: 'gpt-4.1-mini',
  target: 'replay',
  backend: 'local-model-server',
  judge: { model: 'gpt-4.1-mini-2025-04-14', enabled: false },
  startedAt: '2026-12-01T09:00:00.000Z',
  durationMs: 1234,
  caseFilter: null,
  cases,
  summary: summarise(cases),
  notes: ['1 rubric assertions were skipped: not graded: no key.'],
};
const passingBaseline = updatedBaseline(null, {
  ...result,
  cases: cases.map((c) => ({ ...c, status: 'passed' as const })),
  summary: summarise(cases.map((c) => ({ ...c, status: 'passed' as const }))),
});
const comparison = compareWithBaseline(result, passingBaseline);

describe('HTML report', () => {
  const html = renderHtml(result, comparison);

  it('is one self-contained page: inline CSS, no script, no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
  });

  it('escapes every piece of suite and model text', () => {
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('shows the verdict, the per-category table with the baseline, and each failure with its reasons', () => {
    expect(html).toContain('<span class="badge regression">REGRESSION</span>');
    expect(html).toMatch(
      /<td><b>sensitive<\/b><\/td>\s*<td class="num">1<\/td><td class="num">0<\/td><td class="num">1<\/td>/,
    );
    expect(html).toContain('<td class="num">100%</td><td class="num"><span class="down">−100%</span></td>');
    expect(html).toContain('<h2>Failures (1)</h2>');
    expect(html).toContain(
      `<li>must-not-mention: the output mentions &quot;${escapeHtml(HOSTILE).replace(/&quot;/g, '&quot;')}&quot;</li>`,
    );
    expect(html).toContain('<span class="tag new">new since the baseline</span>');
    expect(html).toContain(
      'Suite renewal-brief, category sensitive: pass rate 0% (0/1) is below the baseline 100%',
    );
  });
});

describe('JUnit report', () => {
  const xml = renderJunit(result, comparison);

  it('has a suite per category, a case per eval case and the baseline verdict as a test', () => {
    expect(xml).toContain(
      '<testsuites name="rein-evals renewal-brief" tests="4" failures="2" errors="0" skipped="0"',
    );
    expect(xml).toContain('<testsuite name="renewal-brief.common" tests="2" failures="0"');
    expect(xml).toContain(
      '<testcase classname="renewal-brief.sensitive" name="sensitive-injection" time="0.120">',
    );
    expect(xml).toContain(
      '<testcase classname="renewal-brief.baseline" name="no regression against baseline" time="0.000">',
    );
    expect(xml).not.toContain(HOSTILE);
  });

  it('keeps reasons readable and drops characters XML cannot carry', () => {
    expect(failureReasons(cases[0] ?? caseResult('x', false, 'common'))).toEqual([
      `must-not-mention: the output mentions "${HOSTILE}"`,
    ]);
    expect(escapeXml('a\u0000b\u0007c <d> & "e"')).toBe('abc &lt;d&gt; &amp; &quot;e&quot;');
  });
});
