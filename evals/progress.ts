/**
 * Progress of a suite run on stderr: a bar redrawn in place on a terminal, one line per case
 * otherwise (CI logs), so stdout stays free for the summary.
 */
import type { CaseResult, ProgressReporter } from './runner.ts';

const BAR_WIDTH = 30;

export function streamProgress(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  let total = 0;
  let done = 0;
  let failed = 0;
  const tty = stream.isTTY;
  const draw = (last: string) => {
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const line = `${label} ${bar} ${done}/${total}${failed > 0 ? ` · ${failed} failed` : ''} · ${last}`;
    const width = stream.columns > 0 ? stream.columns - 1 : 120;
    stream.write(`\r${line.slice(0, width).padEnd(width)}`);
  };
  return {
    start(count) {
      total = count;
      if (tty) draw('starting');
      else stream.write(`${label}: ${count} cases\n`);
    },
    caseDone(result: CaseResult) {
      done += 1;
      if (result.status === 'failed') failed += 1;
      if (tty) draw(result.id);
      else {
        const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' }[result.status];
        stream.write(`${label}: [${done}/${total}] ${mark} ${result.category} ${result.id}\n`);
      }
    },
    finish() {
      if (tty) stream.write('\n');
    },
  };
}
