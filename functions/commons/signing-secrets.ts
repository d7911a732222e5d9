import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { required } from '#shared/config.ts';
import { SecretsManagerSigningSecrets } from '#shared/adapters/secrets/signing-secrets.ts';
import type { SdkAdapters } from './deps.ts';

/** Action targets' signing secrets in Secrets Manager, under ACTION_SECRETS_PREFIX. */
export const signingSecrets: SdkAdapters = {
  signingSecrets: (env) =>
    env.ACTION_SECRETS_PREFIX
      ? new SecretsManagerSigningSecrets(
          new SecretsManagerClient({ region: required(env, 'AWS_REGION') }),
          env.ACTION_SECRETS_PREFIX,
        )
      : undefined,
};
