/**
 * Regenerates `seed.schema.json` from the zod schema, formatted with the project's Prettier
 * settings so `prettier --check` accepts it. Run: `npx tsx infra/local/seed/write-schema.ts`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { seedJsonSchema } from './schema.ts';

const target = fileURLToPath(new URL('./seed.schema.json', import.meta.url));
const config = await resolveConfig(target);
const text = await format(JSON.stringify(seedJsonSchema()), { ...config, filepath: target });
await writeFile(target, text);
console.log(`Wrote ${target}`);
