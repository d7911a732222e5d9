/**
 * Writes a suite's reports to `reports/evals/<suite>/` (gitignored): `results.json` (everything,
 * for tools), `junit.xml` (for CI test views) and `report.html` (for people).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Comparison } from './baseline.ts';
import { renderHtml } from './report-html.ts';
import { renderJunit } from './report-junit.ts';
import type { SuiteResult } from './runner.ts';

export interface ReportFiles {
  json: string;
  junit: string;
  html: string;
}

export async function writeReports(
  dir: string,
  result: SuiteResult,
  comparison: Comparison,
): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = {
    json: join(dir, 'results.json'),
    junit: join(dir, 'junit.xml'),
    html: join(dir, 'report.html'),
  };
  await writeFile(files.json, `${JSON.stringify({ ...result, comparison }, null, 2)}\n`);
  await writeFile(files.junit, renderJunit(result, comparison));
  await writeFile(files.html, renderHtml(result, comparison));
  return files;
}
