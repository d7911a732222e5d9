import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { required } from '#shared/config.ts';
import { SecretsManagerConnectorSecrets } from '#shared/adapters/secrets/secrets-manager-connector-secrets.ts';
import type { SdkAdapters } from './deps.ts';

/** Tenants' connector secrets in Secrets Manager, under the stage's prefix (CONNECTOR_SECRET_PREFIX). */
export const connectorSecrets: SdkAdapters = {
  connectorSecrets: (env) =>
    env.CONNECTOR_SECRET_PREFIX
      ? new SecretsManagerConnectorSecrets(
          new SecretsManagerClient({ region: required(env, 'AWS_REGION') }),
          env.CONNECTOR_SECRET_PREFIX,
        )
      : undefined,
};
