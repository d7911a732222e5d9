import { readFile, writeFile } from 'node:fs/promises';
import { ACCESS_PATH, API_TYPES_PATH, generateAccess, generateApiTypes } from './api-types.ts';

/** `npm run web:api`: regenerates the console's API types and access table; `--check` fails when stale. */
const files = [
  { path: API_TYPES_PATH, source: await generateApiTypes() },
  { path: ACCESS_PATH, source: await generateAccess() },
];
if (process.argv.includes('--check')) {
  let stale = false;
  for (const { path, source } of files) {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current !== source) {
      process.stderr.write(`${path.pathname} is stale: run \`npm run web:api\`.\n`);
      stale = true;
    }
  }
  if (stale) process.exit(1);
} else {
  for (const { path, source } of files) {
    await writeFile(path, source);
    process.stdout.write(`Wrote ${path.pathname}\n`);
  }
}
