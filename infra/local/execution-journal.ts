import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Where a run's local execution stood: the state it entered last, with that state's input. */
export const JournalEntrySchema = z.object({
  runId: z.string().min(1),
  state: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

/**
 * The local engine's execution history, reduced to what a restart needs: for every execution in
 * flight, the last state it entered and that state's input (the output of the last completed
 * state). Step Functions keeps this itself; the local engine keeps it in files under the data dir
 * (one per run, replaced atomically) so that a stopped or killed stack can resume its runs.
 */
export class ExecutionJournal {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private fileOf(runId: string): string {
    return join(this.dir, `${encodeURIComponent(runId)}.json`);
  }

  record(entry: JournalEntry): void {
    const file = this.fileOf(entry.runId);
    writeFileSync(`${file}.tmp`, JSON.stringify(entry));
    renameSync(`${file}.tmp`, file);
  }

  remove(runId: string): void {
    rmSync(this.fileOf(runId), { force: true });
  }

  /** Every journalled run: its entry, or `null` when the file cannot be read back (then it cannot be resumed safely). */
  entries(): Map<string, JournalEntry | null> {
    const found = new Map<string, JournalEntry | null>();
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const runId = decodeURIComponent(name.slice(0, -'.json'.length));
      try {
        const parsed = JournalEntrySchema.safeParse(JSON.parse(readFileSync(join(this.dir, name), 'utf8')));
        found.set(runId, parsed.success && parsed.data.runId === runId ? parsed.data : null);
      } catch {
        found.set(runId, null);
      }
    }
    return found;
  }
}
