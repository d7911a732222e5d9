import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { required } from '#shared/config.ts';
import { OpenAiModelClient } from '#shared/adapters/openai/model-client.ts';
import { SecretsManagerSecretSource } from '#shared/adapters/secrets/secret-source.ts';
import type { SdkAdapters } from './deps.ts';

/** The OpenAI key from Secrets Manager and the openai SDK, for the model gateway. */
export const openAi: SdkAdapters = {
  secrets: (env) =>
    env.OPENAI_SECRET_ARN
      ? new SecretsManagerSecretSource(
          new SecretsManagerClient({ region: required(env, 'AWS_REGION') }),
          env.OPENAI_SECRET_ARN,
        )
      : undefined,
  model: (env, secrets) =>
    new OpenAiModelClient({
      apiKey: (options) => secrets.getOpenAiKey(options),
      baseURL: env.OPENAI_BASE_URL,
    }),
};
