import type { SecretSource } from '../../ports/index.ts';

/** The local stack's SecretSource: the key from the environment (`OPENAI_API_KEY`), behind the same port. */
export class StaticSecretSource implements SecretSource {
  constructor(private readonly key: string) {}
  getOpenAiKey(): Promise<string> {
    return Promise.resolve(this.key);
  }
}
