import { readFile, writeFile } from 'node:fs/promises';
import { README_PATH, renderReadme } from './readme-api.ts';

await writeFile(README_PATH, await renderReadme(await readFile(README_PATH, 'utf8')));
process.stdout.write(`Rewrote the API table in ${README_PATH.pathname}\n`);
