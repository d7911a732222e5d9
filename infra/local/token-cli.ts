import { parseArgs } from 'node:util';
import { RoleSchema } from '#shared/domain/principal.ts';
import { loadOrCreateDevIssuer } from './dev-issuer.ts';
import { localEnv } from './local-env.ts';
import { DEMO_SEED_PATH } from './seed-path.ts';
import { readSeedFile } from './seed/load.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from './stack.ts';

/**
 * `npm run token -- <sub>` prints a token for a user of the seed data;
 * `npm run token -- <sub> --tenant <id> --roles csm,manager` for anyone.
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { tenant: { type: 'string' }, roles: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const sub = positionals[0];
  const env = localEnv();
  const seed = await readSeedFile(env.REIN_SEED ?? DEMO_SEED_PATH);
  if (!sub) {
    const users = seed.tenants.flatMap((t) =>
      t.users.map((u) => `${u.sub} (${t.tenantId}: ${u.roles.join(',')})`),
    );
    throw new Error(
      `Usage: npm run token -- <sub> [--tenant <id> --roles <r1,r2>]. Seed users: ${users.join(', ')}`,
    );
  }
  let tenantId = values.tenant;
  let roles = values.roles?.split(',').map((role) => RoleSchema.parse(role.trim()));
  if (!tenantId || !roles) {
    const tenant = seed.tenants.find((t) => t.users.some((u) => u.sub === sub));
    const user = tenant?.users.find((u) => u.sub === sub);
    if (!tenant || !user) throw new Error(`${sub} is not a seed user; pass --tenant and --roles.`);
    tenantId ??= tenant.tenantId;
    roles ??= user.roles;
  }
  const issuer = await loadOrCreateDevIssuer({
    dir: env.REIN_DATA_DIR,
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
  });
  process.stdout.write(`${await issuer.sign({ sub, tenantId, roles })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
