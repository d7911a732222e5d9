/**
 * The HTML report: one self-contained file (inline CSS, no script, no external resource) that opens
 * from disk. It shows the verdict against the baseline, the per-category table, every failure with
 * its reasons, and each case's assertions, attempts and output. Every piece of suite or model text
 * is escaped: briefs quote customer text, which may contain markup.
 */
import type { Comparison } from './baseline.ts';
import { failureReasons } from './report-junit.ts';
import type { CaseResult, RunResult, SuiteResult } from './runner.ts';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;

function pct(value: number): string {
  return `${(value * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

function usd(value: number): string {
  return `$${value.toFixed(value < 0.01 ? 5 : 4)}`;
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

const CSS = `
:root { --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --warn:#9a6700; --warn-bg:#fff8c5;
  --muted:#57606a; --line:#d0d7de; --bg:#f6f8fa; --ink:#1f2328; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; display: flex; align-items: center; gap: 12px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 12px; }
.badge { font-size: 12px; font-weight: 600; padding: 3px 10px; border-radius: 999px; letter-spacing: .03em; }
.badge.pass { background: var(--ok-bg); color: var(--ok); }
.badge.regression { background: var(--bad-bg); color: var(--bad); }
.badge.no-baseline { background: var(--warn-bg); color: var(--warn); }
.meta { display: flex; flex-wrap: wrap; gap: 6px 22px; color: var(--muted); font-size: 13px; margin: 0; }
.meta b { color: var(--ink); font-weight: 600; }
code, pre { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.tiles { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin-top: 20px; }
.tile { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--bg); }
.tile .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .v { font-size: 24px; font-weight: 600; }
.tile .s { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; width: 90px; height: 8px; border-radius: 4px; background: var(--bad-bg); vertical-align: middle; margin-right: 8px; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--ok); }
.up { color: var(--ok); } .down { color: var(--bad); font-weight: 600; }
.regressed td { background: var(--bad-bg); }
ul.reasons { margin: 6px 0 0; padding-left: 20px; }
ul.reasons li { margin: 2px 0; }
.box { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 10px 0; }
.box.bad { border-color: #ffcecb; background: var(--bad-bg); }
.box.ok { border-color: #aceebb; background: var(--ok-bg); }
.box.warn { border-color: #eed888; background: var(--warn-bg); }
.failure { border: 1px solid #ffcecb; border-left: 4px solid var(--bad); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.failure h3 { margin: 0; font-size: 15px; }
.failure .desc { color: var(--muted); margin: 2px 0 0; }
.tag.new { background: var(--bad-bg); border-color: #ffcecb; color: var(--bad); font-weight: 600; }
.tag { display: inline-block; font-size: 11px; padding: 1px 8px; border-radius: 999px; background: var(--bg); border: 1px solid var(--line); color: var(--muted); font-weight: 500; }
.status { font-weight: 600; }
.status.passed { color: var(--ok); } .status.failed { color: var(--bad); } .status.skipped { color: var(--warn); }
details { margin: 0; }
details summary { cursor: pointer; }
details .inner { padding: 8px 0 4px; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow: auto; max-height: 360px; white-space: pre-wrap; word-break: break-word; }
.a-ok::before { content: "✓ "; color: var(--ok); font-weight: 700; }
.a-bad::before { content: "✗ "; color: var(--bad); font-weight: 700; }
.a-skip::before { content: "– "; color: var(--warn); font-weight: 700; }
.a-skip { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { .tiles { grid-template-columns: repeat(2, 1fr); } }
`;

function header(result: SuiteResult, comparison: Comparison): string {
  const label = { pass: 'PASS', regression: 'REGRESSION', 'no-baseline': 'NO BASELINE' }[comparison.status];
  const prompt = `${result.prompt.id} ${result.prompt.version}${result.prompt.modified ? ' (modified instructions)' : ''}`;
  return `<header>
<h1>Eval report · ${e(result.suite)} <span class="badge ${comparison.status}">${label}</span></h1>
<p class="sub">${e(result.description)}</p>
<div class="meta">
<span>Prompt <b>${e(prompt)}</b> <code>${e(result.prompt.contentHash.slice(0, 19))}…</code></span>
<span>Model <b>${e(result.model)}</b></span>
<span>Target <b>${e(result.target)}</b> (${e(result.backend)})</span>
<span>Judge <b>${e(result.judge.model ?? 'none')}</b>${result.judge.model !== null && !result.judge.enabled ? ' (not available)' : ''}</span>
<span>Started <b>${e(result.startedAt.replace('T', ' ').slice(0, 19))} UTC</b></span>
<span>Duration <b>${e(ms(result.durationMs))}</b></span>
</div>
</header>`;
}

function tiles(result: SuiteResult): string {
  const s = result.summary;
  const tile = (k: string, v: string, sub: string) =>
    `<div class="tile"><div class="k">${e(k)}</div><div class="v">${e(v)}</div><div class="s">${e(sub)}</div></div>`;
  return `<section class="tiles">
${tile('Pass rate', pct(s.passRate), `${s.passed} of ${s.cases - s.skipped} cases${s.skipped > 0 ? `, ${s.skipped} skipped` : ''}`)}
${tile('Failed', String(s.failed), `${s.runs} runs in total`)}
${tile('Mean cost / run', usd(s.meanCostUsd), 'repair attempts included')}
${tile('p95 latency', ms(s.p95LatencyMs), 'model time per run')}
${tile('Total cost', usd(s.totalCostUsd), `${s.runs} runs`)}
</section>`;
}

function baselineSection(comparison: Comparison, result: SuiteResult): string {
  const parts: string[] = ['<h2>Against the baseline</h2>'];
  if (comparison.regressions.length > 0) {
    parts.push(
      `<div class="box bad"><b>${comparison.regressions.length} regression${comparison.regressions.length === 1 ? '' : 's'}</b><ul class="reasons">${comparison.regressions.map((r) => `<li>${e(r)}</li>`).join('')}</ul></div>`,
    );
  } else if (comparison.status === 'pass') {
    parts.push(
      `<div class="box ok">No regression against the <b>${e(comparison.backend)}</b> baseline.</div>`,
    );
  }
  const notes = [...comparison.notes, ...result.notes];
  if (notes.length > 0) {
    parts.push(
      `<div class="box warn"><ul class="reasons">${notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul></div>`,
    );
  }
  const t = comparison.tolerance;
  const cost =
    comparison.cost.baseline === null
      ? '—'
      : `${usd(comparison.cost.current)} vs ${usd(comparison.cost.baseline)}${comparison.cost.regressed ? ' <span class="down">regressed</span>' : ''}`;
  const latency =
    comparison.latency.baseline === null
      ? '—'
      : `${ms(comparison.latency.current)} vs ${ms(comparison.latency.baseline)}${comparison.latency.regressed ? ' <span class="down">regressed</span>' : ''}`;
  parts.push(
    `<p class="sub">Mean cost per run: ${cost} (tolerance +${pct(t.costIncrease)}) · p95 latency: ${latency} (tolerance +${pct(t.latencyIncrease)} and ${t.latencySlackMs} ms) · pass-rate tolerance: ${pct(t.passRateDrop)}</p>`,
  );
  return parts.join('\n');
}

function categoryTable(result: SuiteResult, comparison: Comparison): string {
  const rows = result.summary.categories.map((c) => {
    const compared = comparison.categories.find((x) => x.category === c.category);
    const baseline = compared?.baselinePassRate ?? null;
    const delta = baseline === null ? null : c.passRate - baseline;
    const deltaText =
      delta === null
        ? '—'
        : Math.abs(delta) < 1e-9
          ? '±0'
          : `<span class="${delta > 0 ? 'up' : 'down'}">${delta > 0 ? '+' : '−'}${pct(Math.abs(delta))}</span>`;
    return `<tr${compared?.regressed ? ' class="regressed"' : ''}>
<td><b>${e(c.category)}</b></td>
<td class="num">${c.cases}</td><td class="num">${c.passed}</td><td class="num">${c.failed}</td><td class="num">${c.skipped}</td>
<td><span class="bar"><i style="width:${(c.passRate * 100).toFixed(1)}%"></i></span>${pct(c.passRate)}</td>
<td class="num">${baseline === null ? '—' : pct(baseline)}</td><td class="num">${deltaText}</td>
<td class="num">${usd(c.meanCostUsd)}</td><td class="num">${ms(c.p95LatencyMs)}</td>
</tr>`;
  });
  return `<h2>By category</h2>
<table>
<thead><tr><th>Category</th><th class="num">Cases</th><th class="num">Passed</th><th class="num">Failed</th><th class="num">Skipped</th><th>Pass rate</th><th class="num">Baseline</th><th class="num">Δ</th><th class="num">Mean cost</th><th class="num">p95 latency</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function failures(result: SuiteResult, comparison: Comparison): string {
  const failed = result.cases.filter((c) => c.status === 'failed');
  if (failed.length === 0) return '<h2>Failures</h2>\n<div class="box ok">Every case passed.</div>';
  const newly = new Set(comparison.categories.flatMap((c) => c.newlyFailing));
  const compared =
    comparison.categories.some((c) => c.baselinePassRate !== null) && result.caseFilter === null;
  const origin = (id: string) =>
    !compared
      ? ''
      : newly.has(id)
        ? ' <span class="tag new">new since the baseline</span>'
        : ' <span class="tag">failed in the baseline too</span>';
  const cards = failed.map(
    (c) => `<div class="failure" id="fail-${e(c.id)}">
<h3>${e(c.id)} <span class="tag">${e(c.category)}</span> <span class="tag">${c.passedRuns}/${c.runs.length} runs passed · rule ${e(c.passRule)}</span>${origin(c.id)}</h3>
<p class="desc">${e(c.description)}</p>
<ul class="reasons">${failureReasons(c)
      .map((reason) => `<li>${e(reason)}</li>`)
      .join('')}</ul>
</div>`,
  );
  return `<h2>Failures (${failed.length})</h2>\n${cards.join('\n')}`;
}

function runDetails(run: RunResult, many: boolean): string {
  const assertions = run.assertions
    .map((a) => {
      const cls = a.skipped ? 'a-skip' : a.pass ? 'a-ok' : 'a-bad';
      const origin = a.fromDefaults ? ' <span class="tag">default</span>' : '';
      const noteText = a.note ? ` <i>(${e(a.note)})</i>` : '';
      return `<li class="${cls}"><code>${e(a.type)}</code>${origin} ${e(a.reason)}${noteText}</li>`;
    })
    .join('');
  const attempts = run.attempts
    .map(
      (a) =>
        `<li>attempt ${a.attempt}: ${e(a.finishReason)}${a.refusal !== null ? ', refused' : ''}, ${usd(a.costUsd)}, ${ms(a.latencyMs)}${a.problems.length > 0 ? ` — ${e(a.problems.join('; '))}` : ' — valid'}</li>`,
    )
    .join('');
  const error = run.error
    ? `<p><b>Run error</b> <code>${e(run.error.code)}</code>: ${e(run.error.message)}</p>`
    : '';
  const context = `<p><b>Context</b>: ${run.contextItems.length > 0 ? run.contextItems.map((id) => `<code>${e(id)}</code>`).join(' ') : 'none'}${run.dataGaps.length > 0 ? ` · <b>data gaps</b>: ${e(run.dataGaps.join(', '))}` : ''}</p>`;
  const output = run.output ? `<pre>${e(JSON.stringify(run.output, null, 2))}</pre>` : '';
  return `${many ? `<h4>Run ${run.run}: ${run.pass ? 'passed' : 'failed'}</h4>` : ''}${context}${error}
<ul class="reasons">${assertions}</ul>
${attempts ? `<p><b>Model attempts</b></p><ul class="reasons">${attempts}</ul>` : ''}
${output}`;
}

function caseRow(c: CaseResult): string {
  const runs = c.runs.map((run) => runDetails(run, c.runs.length > 1)).join('\n');
  const body = c.status === 'skipped' ? `<p>Skipped: ${e(c.skipReason ?? '')}</p>` : runs;
  return `<tr>
<td><details><summary><code>${e(c.id)}</code></summary><div class="inner"><p class="sub">${e(c.description)}</p>${body}</div></details></td>
<td>${e(c.category)}</td>
<td class="status ${c.status}">${c.status}</td>
<td class="num">${c.runs.length > 0 ? `${c.passedRuns}/${c.runs.length}` : '—'}</td>
<td class="num">${c.status === 'skipped' ? '—' : c.score.toFixed(2)}</td>
<td class="num">${usd(c.costUsd)}</td>
<td class="num">${ms(c.latencyMs)}</td>
</tr>`;
}

function allCases(result: SuiteResult): string {
  return `<h2>All cases (${result.cases.length})</h2>
<table>
<thead><tr><th>Case (click for assertions, attempts and output)</th><th>Category</th><th>Status</th><th class="num">Runs</th><th class="num">Score</th><th class="num">Cost</th><th class="num">Latency</th></tr></thead>
<tbody>
${result.cases.map(caseRow).join('\n')}
</tbody>
</table>`;
}

export function renderHtml(result: SuiteResult, comparison: Comparison): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Eval report · ${e(result.suite)} · ${comparison.status}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(result, comparison)}
${tiles(result)}
${baselineSection(comparison, result)}
${categoryTable(result, comparison)}
${failures(result, comparison)}
${allCases(result)}
<footer>Generated by <code>npm run eval</code> (Rein evals). Cost uses the price table of <code>shared/domain/pricing.ts</code>; latency is model time, repair attempts included.</footer>
</main>
</body>
</html>
`;
}
