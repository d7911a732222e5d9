import { describe, expect, it } from 'vitest';
import { ConfigError, machineClientBindings, parseEnv } from '#shared/config.ts';

describe('machine client bindings from the environment', () => {
  it('reads AUTH_MACHINE_SCOPE and the JSON list of client → tenant bindings', () => {
    const env = parseEnv({
      REIN_ENV: 'dev',
      AUTH_MACHINE_SCOPE: 'rein-dev/ingest',
      AUTH_MACHINE_CLIENTS:
        '[{"clientId":"abc123","tenantId":"acme"},{"clientId":"def456","tenantId":"globex"}]',
    });
    expect(machineClientBindings(env)).toEqual({
      scope: 'rein-dev/ingest',
      tenantByClientId: { abc123: 'acme', def456: 'globex' },
    });
  });

  it('accepts no machine client without a scope, and an empty list with one', () => {
    expect(machineClientBindings(parseEnv({ REIN_ENV: 'dev' }))).toBeUndefined();
    expect(
      machineClientBindings(parseEnv({ REIN_ENV: 'dev', AUTH_MACHINE_SCOPE: 'rein-dev/ingest' })),
    ).toEqual({ scope: 'rein-dev/ingest', tenantByClientId: {} });
  });

  it('fails the cold start on malformed JSON, a bad tenant id, or one client bound to two tenants', () => {
    const base = { REIN_ENV: 'dev', AUTH_MACHINE_SCOPE: 'rein-dev/ingest' };
    expect(() => parseEnv({ ...base, AUTH_MACHINE_CLIENTS: '[{' })).toThrow(ConfigError);
    expect(() =>
      parseEnv({ ...base, AUTH_MACHINE_CLIENTS: '[{"clientId":"abc","tenantId":"Acme Corp"}]' }),
    ).toThrow(ConfigError);
    const twice = parseEnv({
      ...base,
      AUTH_MACHINE_CLIENTS: '[{"clientId":"abc","tenantId":"acme"},{"clientId":"abc","tenantId":"globex"}]',
    });
    expect(() => machineClientBindings(twice)).toThrow(ConfigError);
  });
});
