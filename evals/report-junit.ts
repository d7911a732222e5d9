/**
 * JUnit XML for CI test views: one `<testsuite>` per category, one `<testcase>` per eval case
 * (`classname` = `<suite>.<category>`), failures with every failed assertion's reason, and the
 * baseline regressions as a failing `baseline` test case of their own.
 */
import type { Comparison } from './baseline.ts';
import type { CaseResult, SuiteResult } from './runner.ts';

/** Escapes text for XML and drops the control characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Every reason a case failed, run by run. */
export function failureReasons(result: CaseResult): string[] {
  const multiple = result.runs.length > 1;
  return result.runs.flatMap((run) => {
    if (run.pass) return [];
    const prefix = multiple ? `run ${run.run}: ` : '';
    const reasons = run.assertions
      .filter((a) => !a.pass && !a.skipped)
      .map((a) => `${prefix}${a.type}: ${a.reason}`);
    if (run.error && !run.assertions.some((a) => a.type === 'run-fails')) {
      reasons.unshift(`${prefix}run error ${run.error.code}: ${run.error.message}`);
    }
    return reasons;
  });
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function testcase(suite: string, result: CaseResult): string {
  const attrs = `classname="${escapeXml(`${suite}.${result.category}`)}" name="${escapeXml(result.id)}" time="${seconds(result.latencyMs)}"`;
  if (result.status === 'skipped') {
    return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(result.skipReason ?? 'skipped')}"/>\n    </testcase>`;
  }
  const notes = result.runs
    .flatMap((run) => run.assertions.filter((a) => a.skipped).map((a) => `${a.type}: ${a.reason}`))
    .filter((note, index, all) => all.indexOf(note) === index);
  const out = notes.length > 0 ? `\n      <system-out>${escapeXml(notes.join('\n'))}</system-out>` : '';
  if (result.status === 'passed') return `    <testcase ${attrs}>${out}${out ? '\n    ' : ''}</testcase>`;
  const reasons = failureReasons(result);
  const message = `${result.passedRuns}/${result.runs.length} runs passed (rule: ${result.passRule}): ${reasons[0] ?? 'failed'}`;
  return `    <testcase ${attrs}>\n      <failure message="${escapeXml(message)}" type="assertion">${escapeXml(`${result.description}\n\n${reasons.join('\n')}`)}</failure>${out}\n    </testcase>`;
}

export function renderJunit(result: SuiteResult, comparison: Comparison): string {
  const suites = result.summary.categories.map((category) => {
    const cases = result.cases.filter((c) => c.category === category.category);
    const time = cases.reduce((sum, c) => sum + c.latencyMs, 0);
    return [
      `  <testsuite name="${escapeXml(`${result.suite}.${category.category}`)}" tests="${category.cases}" failures="${category.failed}" errors="0" skipped="${category.skipped}" time="${seconds(time)}" timestamp="${escapeXml(result.startedAt.slice(0, 19))}">`,
      ...cases.map((c) => testcase(result.suite, c)),
      '  </testsuite>',
    ].join('\n');
  });
  const regressed = comparison.status === 'regression';
  suites.push(
    [
      `  <testsuite name="${escapeXml(`${result.suite}.baseline`)}" tests="1" failures="${regressed ? 1 : 0}" errors="0" skipped="0" time="0.000">`,
      regressed
        ? `    <testcase classname="${escapeXml(`${result.suite}.baseline`)}" name="no regression against baseline" time="0.000">\n      <failure message="${escapeXml(comparison.regressions[0] ?? 'regression')}" type="regression">${escapeXml(comparison.regressions.join('\n'))}</failure>\n    </testcase>`
        : `    <testcase classname="${escapeXml(`${result.suite}.baseline`)}" name="no regression against baseline" time="0.000"/>`,
      '  </testsuite>',
    ].join('\n'),
  );
  const failures = result.summary.failed + (regressed ? 1 : 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(`rein-evals ${result.suite}`)}" tests="${result.summary.cases + 1}" failures="${failures}" errors="0" skipped="${result.summary.skipped}" time="${seconds(result.durationMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
