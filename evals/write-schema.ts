/**
 * Regenerates `eval-suite.schema.json` from the zod schema, formatted with the project's Prettier
 * settings so `prettier --check` accepts it. Run: `npx tsx evals/write-schema.ts`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { evalSuiteJsonSchema } from './schema.ts';

const target = fileURLToPath(new URL('./eval-suite.schema.json', import.meta.url));
const config = await resolveConfig(target);
const text = await format(JSON.stringify(evalSuiteJsonSchema()), { ...config, filepath: target });
await writeFile(target, text);
console.log(`Wrote ${target}`);
