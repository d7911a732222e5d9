import { writeFile } from 'node:fs/promises';
import { API_TYPES_PATH, generateApiTypes } from './api-types.ts';

await writeFile(API_TYPES_PATH, await generateApiTypes());
process.stdout.write(`Wrote ${API_TYPES_PATH.pathname}\n`);
