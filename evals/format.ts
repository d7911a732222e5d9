import { format, resolveConfig } from 'prettier';

/**
 * Formats a file's text the way the repository's Prettier config does (the lint step runs
 * `prettier --check .`), so every file the eval tools write is already lint-clean.
 */
export async function formatLikeRepo(file: string, text: string): Promise<string> {
  const config = (await resolveConfig(file)) ?? {};
  return format(text, { ...config, filepath: file });
}
