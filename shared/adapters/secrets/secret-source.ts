import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from '../../ports/index.ts';

/** How long a fetched key is reused. Short, so a rotated key is picked up without a redeploy. */
export const SECRET_CACHE_MS = 5 * 60 * 1000;

/**
 * The OpenAI key from Secrets Manager, cached in memory for SECRET_CACHE_MS. The secret holds the
 * key itself or JSON `{"apiKey": "…"}`. The key is never logged and never part of a cache key.
 */
export class SecretsManagerSecretSource implements SecretSource {
  private cached: { value: string; until: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly now: () => number = Date.now,
  ) {}

  async getOpenAiKey(options: { fresh?: boolean } = {}): Promise<string> {
    if (!options.fresh && this.cached && this.cached.until > this.now()) return this.cached.value;
    this.pending ??= this.load().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async load(): Promise<string> {
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const raw = result.SecretString?.trim();
    if (!raw) throw new Error('The OpenAI key secret is empty.');
    let value = raw;
    if (raw.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        // JSON.parse quotes the text it failed on: never let that reach a log or an error.
        throw new Error('The OpenAI key secret is not valid JSON.');
      }
      const apiKey =
        parsed !== null && typeof parsed === 'object'
          ? (parsed as Record<string, unknown>)['apiKey']
          : undefined;
      if (typeof apiKey !== 'string' || apiKey.length === 0)
        throw new Error('The OpenAI key secret has no apiKey field.');
      value = apiKey;
    }
    this.cached = { value, until: this.now() + SECRET_CACHE_MS };
    return value;
  }
}
