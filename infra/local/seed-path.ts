import { fileURLToPath } from 'node:url';

/** The demo data set loaded by `npm start` unless REIN_SEED names another file. */
export const DEMO_SEED_PATH = fileURLToPath(new URL('./seed/demo.json', import.meta.url));
