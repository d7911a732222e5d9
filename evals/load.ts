/**
 * Finding and reading suite files. A file that does not match the schema is refused with every
 * problem, its path in the suite and its line in the file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { EvalSuiteSchema, type EvalSuite } from './schema.ts';

/** The `evals/` directory. */
export const EVALS_DIR = dirname(fileURLToPath(import.meta.url));
export const SUITE_FILE = 'suite.yaml';

export interface LoadedSuite {
  suite: EvalSuite;
  /** The suite file. */
  file: string;
  /** Its directory, which also holds `baseline.json` and `recordings/`. */
  dir: string;
}

export class SuiteFileError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'SuiteFileError';
  }
}

export function recordingsDirOf(loaded: Pick<LoadedSuite, 'dir'>): string {
  return join(loaded.dir, 'recordings');
}

export function baselineFileOf(loaded: Pick<LoadedSuite, 'dir'>): string {
  return join(loaded.dir, 'baseline.json');
}

/** Parses a suite from YAML text; `file` is used in messages. */
export function parseSuite(text: string, file: string): EvalSuite {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const shown = relative(process.cwd(), file) || file;
  if (doc.errors.length > 0) {
    throw new SuiteFileError(
      `${shown} is not valid YAML:`,
      doc.errors.map((error) => error.message),
    );
  }
  const parsed = EvalSuiteSchema.safeParse(doc.toJS());
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map((key) => (typeof key === 'number' ? key : String(key)));
    // The closest node that exists: a missing field is reported at its parent.
    let line = '';
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node: unknown = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        line = `:${pos.line}:${pos.col}`;
        break;
      }
    }
    return `${shown}${line} ${path.join('.') || '(root)'}: ${issue.message}`;
  });
  throw new SuiteFileError(
    `${shown} does not match the eval suite schema (${problems.length} problems):`,
    problems,
  );
}

export async function loadSuite(file: string): Promise<LoadedSuite> {
  const text = await readFile(file, 'utf8');
  return { suite: parseSuite(text, file), file, dir: dirname(file) };
}

/** Every `evals/<name>/suite.yaml`, by name. */
export async function findSuiteFiles(evalsDir: string = EVALS_DIR): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(evalsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(evalsDir, entry.name, SUITE_FILE);
    try {
      await readFile(file);
      found.set(entry.name, file);
    } catch {
      // A directory without a suite file is not a suite.
    }
  }
  return found;
}
