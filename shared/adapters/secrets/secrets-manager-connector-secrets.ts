import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ConnectorSecrets } from '../../ports/index.ts';

/** How long a read connector secret is reused, so a run does not read it once per source. */
const CACHE_MS = 60_000;

/**
 * Connector secrets in Secrets Manager: one secret per tenant connector, named
 * `<prefix>/<tenantId>/<sourceId>` under the stage's prefix (CONNECTOR_SECRET_PREFIX), which is all
 * the functions' IAM policies reach. Values are never logged; errors never carry them.
 */
export class SecretsManagerConnectorSecrets implements ConnectorSecrets {
  private readonly cache = new Map<string, { value: string | null; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private name(tenantId: string, sourceId: string): string {
    return `${this.prefix}/${tenantId}/${sourceId}`;
  }

  async put(tenantId: string, sourceId: string, secret: string): Promise<void> {
    const name = this.name(tenantId, sourceId);
    try {
      await this.client.send(new CreateSecretCommand({ Name: name, SecretString: secret }));
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceExistsException')) throw error;
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
    }
    this.cache.delete(name);
  }

  async get(tenantId: string, sourceId: string): Promise<string | null> {
    const name = this.name(tenantId, sourceId);
    const cached = this.cache.get(name);
    if (cached && cached.until > this.now()) return cached.value;
    let value: string | null;
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      value = result.SecretString ?? null;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
      value = null;
    }
    this.cache.set(name, { value, until: this.now() + CACHE_MS });
    return value;
  }
}
