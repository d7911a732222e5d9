import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SigningSecretStore } from '../../ports/index.ts';

/**
 * Action targets' signing secrets in Secrets Manager, one secret per tenant and target under
 * `prefix` (e.g. `rein/dev/action-targets/`), so IAM can grant exactly that prefix. Values are never
 * logged and never part of an error message.
 */
export class SecretsManagerSigningSecrets implements SigningSecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  private nameOf(tenantId: string, targetId: string): string {
    return `${this.prefix}${tenantId}/${targetId}`;
  }

  async putSigningSecret(tenantId: string, targetId: string, secret: string): Promise<void> {
    const name = this.nameOf(tenantId, targetId);
    try {
      await this.client.send(new CreateSecretCommand({ Name: name, SecretString: secret }));
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceExistsException')) throw error;
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
    }
  }

  async getSigningSecret(tenantId: string, targetId: string): Promise<string | null> {
    try {
      const result = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.nameOf(tenantId, targetId) }),
      );
      return result.SecretString ?? null;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return null;
      throw error;
    }
  }
}
