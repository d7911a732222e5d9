import { readFile, writeFile } from 'node:fs/promises';
import { API_TYPES_PATH, generateApiTypes } from './api-types.ts';

/** `npm run web:api`: regenerates the console's API types; `--check` fails when the file is stale. */
const source = await generateApiTypes();
if (process.argv.includes('--check')) {
  const current = await readFile(API_TYPES_PATH, 'utf8').catch(() => '');
  if (current !== source) {
    process.stderr.write('web/src/api/schema.gen.ts is stale: run `npm run web:api`.\n');
    process.exit(1);
  }
} else {
  await writeFile(API_TYPES_PATH, source);
  process.stdout.write(`Wrote ${API_TYPES_PATH.pathname}\n`);
}
