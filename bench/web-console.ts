import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

export interface ConsoleSize {
  /** Scripts index.html loads at start (entry and module preloads), gzipped. */
  initialJsGzipBytes: number;
  initialJsBytes: number;
  initialFiles: string[];
  cssGzipBytes: number;
  /** Chunks loaded on demand (e.g. oidc-client-ts, only where Cognito signs in), gzipped. */
  lazy: { file: string; gzipBytes: number }[];
}

const WEB = fileURLToPath(new URL('../web/', import.meta.url));

/** Builds the console as `npm run web:build` does and measures what a first visit downloads. */
export async function measureConsole(): Promise<ConsoleSize> {
  await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'silent' });
  const dist = join(WEB, 'dist');
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const initial = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((match) => match[1] ?? '');
  const css = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map(
    (match) => match[1] ?? '',
  );
  const gz = async (file: string) => {
    const bytes = await readFile(join(dist, file));
    return { raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength };
  };
  let initialJsGzipBytes = 0;
  let initialJsBytes = 0;
  for (const file of initial) {
    const size = await gz(file);
    initialJsGzipBytes += size.gzip;
    initialJsBytes += size.raw;
  }
  let cssGzipBytes = 0;
  for (const file of css) cssGzipBytes += (await gz(file)).gzip;
  const lazy: { file: string; gzipBytes: number }[] = [];
  for (const name of await readdir(join(dist, 'assets'))) {
    const file = `/assets/${name}`;
    if (name.endsWith('.js') && !initial.includes(file))
      lazy.push({ file, gzipBytes: (await gz(file)).gzip });
  }
  return { initialJsGzipBytes, initialJsBytes, initialFiles: initial, cssGzipBytes, lazy };
}
