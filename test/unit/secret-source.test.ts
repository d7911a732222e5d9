import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRET_CACHE_MS, SecretsManagerSecretSource } from '#shared/adapters/secrets/secret-source.ts';
import { StaticSecretSource } from '#shared/adapters/secrets/static-secret-source.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rein/openai-AbCdEf';
const secretsManager = mockClient(SecretsManagerClient);

afterEach(() => {
  secretsManager.reset();
});

function source() {
  let now = Date.parse('2026-10-01T09:00:00Z');
  const secrets = new SecretsManagerSecretSource(
    new SecretsManagerClient({ region: 'eu-west-1' }),
    SECRET_ARN,
    () => now,
  );
  return {
    secrets,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function fetches(): number {
  return secretsManager.commandCalls(GetSecretValueCommand, { SecretId: SECRET_ARN }).length;
}

describe('SecretsManagerSecretSource', () => {
  it('reads the key once and serves it from memory within the cache window', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'sk-live-1' });
    const { secrets, advance } = source();

    const first = await secrets.getOpenAiKey();
    advance(SECRET_CACHE_MS - 1);
    const second = await secrets.getOpenAiKey();

    expect([first, second, fetches()]).toEqual(['sk-live-1', 'sk-live-1', 1]);
  });

  it('picks up a rotated key once the cache window has passed', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'sk-live-1' })
      .resolves({ SecretString: 'sk-live-2' });
    const { secrets, advance } = source();

    await secrets.getOpenAiKey();
    advance(SECRET_CACHE_MS);
    const rotated = await secrets.getOpenAiKey();

    expect([rotated, fetches()]).toEqual(['sk-live-2', 2]);
  });

  it('reads again inside the cache window when asked for a fresh key (after a 401)', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'sk-live-1' })
      .resolves({ SecretString: 'sk-live-2' });
    const { secrets } = source();

    await secrets.getOpenAiKey();
    const fresh = await secrets.getOpenAiKey({ fresh: true });
    const cached = await secrets.getOpenAiKey();

    expect([fresh, cached, fetches()]).toEqual(['sk-live-2', 'sk-live-2', 2]);
  });

  it('shares one read between concurrent callers', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'sk-live-1' });
    const { secrets } = source();

    const keys = await Promise.all([secrets.getOpenAiKey(), secrets.getOpenAiKey(), secrets.getOpenAiKey()]);

    expect([keys, fetches()]).toEqual([['sk-live-1', 'sk-live-1', 'sk-live-1'], 1]);
  });

  it('reads the key from a JSON secret with an apiKey field, trimming whitespace', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: ' {"apiKey":"sk-json-1"}\n' });

    expect(await source().secrets.getOpenAiKey()).toBe('sk-json-1');
  });

  it('fails on an empty secret or a JSON secret without an apiKey', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: '  ' })
      .resolves({ SecretString: '{"key":"sk-json-1"}' });
    const { secrets } = source();

    await expect(secrets.getOpenAiKey()).rejects.toThrow(new Error('The OpenAI key secret is empty.'));
    await expect(secrets.getOpenAiKey()).rejects.toThrow(
      new Error('The OpenAI key secret has no apiKey field.'),
    );
  });

  it('does not cache a failed read: the next call tries again', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('ThrottlingException'))
      .resolves({ SecretString: 'sk-live-1' });
    const { secrets } = source();

    await expect(secrets.getOpenAiKey()).rejects.toThrow('ThrottlingException');
    expect([await secrets.getOpenAiKey(), fetches()]).toEqual(['sk-live-1', 2]);
  });

  it('never echoes the key when a JSON secret is malformed', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"apiKey": sk-proj-TOPSECRET}' });

    const error = await source()
      .secrets.getOpenAiKey()
      .then(
        () => null,
        (reason: unknown) => reason,
      );

    expect(error).toBeInstanceOf(Error);
    expect(String(error instanceof Error ? error.message : error)).not.toContain('sk-proj');
  });
});

describe('StaticSecretSource', () => {
  it('serves the configured key', async () => {
    expect(await new StaticSecretSource('sk-local').getOpenAiKey()).toBe('sk-local');
  });
});
