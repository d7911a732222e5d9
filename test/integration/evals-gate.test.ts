/**
 * The release gate of the prompts: the renewal-brief eval suite in replay mode must not regress
 * against its committed baseline. Also proves the gate catches what it is for: a prompt changed
 * without re-recording, and a model that cites invented evidence (with or without the validation
 * rule that should stop it).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenewalBriefSchema } from '#shared/domain/brief.ts';
import { livePrompt } from '#shared/workflows/definition.ts';
import { renewalBrief, validateRenewalBrief } from '#shared/workflows/renewal-brief.ts';
import type { AnyWorkflow } from '#shared/workflows/registry.ts';
import { compareWithBaseline, readBaseline } from '../../evals/baseline.ts';
import { baselineFileOf, EVALS_DIR, loadSuite, recordingsDirOf } from '../../evals/load.ts';
import { runSuite } from '../../evals/runner.ts';
import { replayTarget, startLocalTarget } from '../../evals/targets.ts';

const loaded = await loadSuite(join(EVALS_DIR, 'renewal-brief', 'suite.yaml'));
const baseline = await readBaseline(baselineFileOf(loaded));
const replay = () => replayTarget({ recordingsDir: recordingsDirOf(loaded), suiteId: loaded.suite.suite });
const RE_RECORD = 'Re-record with: npm run eval -- --suite renewal-brief --record';

/** The production rules minus the one that rejects evidence ids missing from the context. */
const weakened: AnyWorkflow = {
  ...(renewalBrief as unknown as AnyWorkflow),
  validate: (output, context) =>
    validateRenewalBrief(RenewalBriefSchema.parse(output), context).filter(
      (problem) => !problem.includes('which is not in the context'),
    ),
};

/** Runs the suite on a fresh local model server whose every answer cites an invented ticket. */
async function runWithInventingModel(workflow?: AnyWorkflow) {
  const target = await startLocalTarget();
  try {
    target.injectFaults({
      faults: Array.from({ length: 500 }, () => ({ kind: 'invented_evidence' as const })),
    });
    return await runSuite({ loaded, target, ...(workflow ? { workflow } : {}) });
  } finally {
    await target.close();
  }
}

describe('renewal-brief eval suite (release gate)', () => {
  it('passes in replay mode against the committed baseline', async () => {
    expect(baseline, 'evals/renewal-brief/baseline.json is missing').not.toBeNull();
    const result = await runSuite({ loaded, target: replay() });
    const comparison = compareWithBaseline(result, baseline);

    expect(comparison.regressions, comparison.regressions.join('\n')).toEqual([]);
    expect(comparison.status).toBe('pass');
    expect(result.summary.missingRecordings).toBe(0);
  });

  it('fails with the suite and the re-record command when the prompt text changed without re-recording', async () => {
    // Any edit will do; the test must not depend on the wording of the live prompt.
    const live = livePrompt(renewalBrief.prompts);
    const changed = `${live.instructions}\n- An instruction the recordings have not seen.`;

    const result = await runSuite({ loaded, target: replay(), prompt: { instructions: changed } });
    const comparison = compareWithBaseline(result, baseline);

    expect(comparison.status).toBe('regression');
    expect(comparison.regressions[0]).toMatch(
      new RegExp(
        `^Suite renewal-brief: \\d+ of \\d+ cases have no recorded response for prompt renewal-brief ${live.version} `,
      ),
    );
    expect(comparison.regressions[0]?.endsWith(RE_RECORD)).toBe(true);
    const failure = result.cases.find(
      (c) => c.status === 'failed' && c.runs[0]?.error?.code === 'missing_recording',
    );
    expect(failure?.runs[0]?.error?.message).toContain(RE_RECORD);
  });

  it('reports a regression when a weakened validation rule lets a model cite invented evidence', async () => {
    const result = await runWithInventingModel(weakened);
    const comparison = compareWithBaseline(result, baseline);
    const reasons = result.cases.flatMap((c) => c.runs.flatMap((r) => r.assertions.filter((a) => !a.pass)));

    expect(comparison.status).toBe('regression');
    expect(comparison.regressions).toContainEqual(
      expect.stringMatching(
        /^Suite renewal-brief, category common: pass rate 0% \(0\/11\) is below the baseline 100% .*Newly failing: common-/,
      ),
    );
    expect(reasons).toContainEqual(
      expect.objectContaining({
        type: 'evidence-exists',
        reason: expect.stringMatching(/cites "ticket:T-9\d{3}", which is not in the context/) as unknown,
      }),
    );
  });

  it('reports a regression when the model cites invented evidence under the production rules too', async () => {
    const result = await runWithInventingModel();
    const comparison = compareWithBaseline(result, baseline);
    const errors = new Set(result.cases.flatMap((c) => c.runs.map((r) => r.error?.code ?? 'none')));

    expect(comparison.status).toBe('regression');
    expect(comparison.categories.filter((c) => c.regressed).map((c) => c.category)).toEqual(
      expect.arrayContaining(['common', 'sensitive', 'missing_data', 'should_escalate']),
    );
    expect(errors).toContain('invalid_model_output');
  });
});
