import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConnectorSecrets } from '../../ports/index.ts';

/**
 * The local stack's connector secrets: kept in memory, and in a file readable only by the owner
 * (`.rein/connector-secrets.json`) when a path is given, so they survive a restart like the data.
 */
export class LocalConnectorSecrets implements ConnectorSecrets {
  private readonly secrets = new Map<string, string>();

  constructor(private readonly file: string | null = null) {
    if (file && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      for (const [key, value] of Object.entries(saved)) this.secrets.set(key, value);
    }
  }

  put(tenantId: string, sourceId: string, secret: string): Promise<void> {
    this.secrets.set(`${tenantId}/${sourceId}`, secret);
    if (this.file) {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(Object.fromEntries(this.secrets)), { mode: 0o600 });
      chmodSync(this.file, 0o600);
    }
    return Promise.resolve();
  }

  get(tenantId: string, sourceId: string): Promise<string | null> {
    return Promise.resolve(this.secrets.get(`${tenantId}/${sourceId}`) ?? null);
  }
}
