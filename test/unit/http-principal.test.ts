import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '#shared/domain/errors.ts';
import { parseRolesClaim, principalFromClaims } from '#shared/http/principal.ts';

const NAMES = { tenantClaim: 'custom:tenant', rolesClaim: 'custom:roles' };

describe('parseRolesClaim', () => {
  it("reads API Gateway's flattened form", () => {
    expect(parseRolesClaim('[csm manager]')).toEqual(['csm', 'manager']);
  });

  it('reads a JSON array string', () => {
    expect(parseRolesClaim('["csm","admin"]')).toEqual(['csm', 'admin']);
  });

  it('reads an array, space- and comma-separated strings', () => {
    expect([
      parseRolesClaim(['operator', 'finance']),
      parseRolesClaim('csm, manager'),
      parseRolesClaim('admin'),
    ]).toEqual([['operator', 'finance'], ['csm', 'manager'], ['admin']]);
  });

  it('ignores unknown roles and duplicates', () => {
    expect(parseRolesClaim(['csm', 'root', 'csm', 7])).toEqual(['csm']);
  });

  it('yields no roles from garbage', () => {
    expect([
      parseRolesClaim('garbage'),
      parseRolesClaim('["csm"'),
      parseRolesClaim('{"roles":["admin"]}'),
      parseRolesClaim(42),
      parseRolesClaim(undefined),
      parseRolesClaim(''),
    ]).toEqual([[], [], [], [], [], []]);
  });
});

describe('principalFromClaims', () => {
  it('builds the principal from sub, the tenant claim and the roles claim', () => {
    expect(
      principalFromClaims(
        { sub: 'csm-alice', 'custom:tenant': 'acme', 'custom:roles': '[csm manager]' },
        NAMES,
      ),
    ).toEqual({ sub: 'csm-alice', tenantId: 'acme', roles: ['csm', 'manager'] });
  });

  it('answers 401 without claims', () => {
    expect(() => principalFromClaims(undefined, NAMES)).toThrow(new UnauthorizedError());
  });

  it('answers 401 when sub, tenant or every known role is missing or malformed', () => {
    const complete = { sub: 'csm-alice', 'custom:tenant': 'acme', 'custom:roles': 'csm' };
    const broken = [
      { ...complete, sub: undefined },
      { ...complete, 'custom:tenant': undefined },
      { ...complete, 'custom:tenant': 'Acme Corp' },
      { ...complete, 'custom:roles': '[root]' },
    ];
    for (const claims of broken) {
      expect(() => principalFromClaims(claims, NAMES)).toThrow(
        new UnauthorizedError('The token does not carry a usable identity (sub, tenant, roles).'),
      );
    }
  });
});

describe('principalFromClaims for machine clients (client-credentials access tokens)', () => {
  const machineClients = { scope: 'rein-dev/ingest', tenantByClientId: { abc123: 'acme' } };
  const names = { ...NAMES, machineClients };
  const access = { sub: 'abc123', client_id: 'abc123', token_use: 'access', scope: 'rein-dev/ingest' };

  it("takes the tenant from Rein's binding of client_id and gives role integration only", () => {
    expect(principalFromClaims(access, names)).toEqual({
      sub: 'abc123',
      tenantId: 'acme',
      roles: ['integration'],
    });
  });

  it('ignores tenant and role claims a machine token carries', () => {
    expect(
      principalFromClaims({ ...access, 'custom:tenant': 'globex', 'custom:roles': '[admin]' }, names),
    ).toEqual({ sub: 'abc123', tenantId: 'acme', roles: ['integration'] });
  });

  it('answers 401 for an unbound client, a missing scope, or when no machine clients are configured', () => {
    expect(() => principalFromClaims({ ...access, client_id: 'other' }, names)).toThrow(
      new UnauthorizedError('This client is not bound to a tenant.'),
    );
    expect(() => principalFromClaims({ ...access, scope: 'openid rein-dev/other' }, names)).toThrow(
      new UnauthorizedError('The token lacks the scope rein-dev/ingest.'),
    );
    expect(() => principalFromClaims(access, NAMES)).toThrow(UnauthorizedError);
    // A binding key inherited from Object.prototype is no binding.
    expect(() => principalFromClaims({ ...access, client_id: 'constructor' }, names)).toThrow(
      UnauthorizedError,
    );
  });

  it("answers 401 for a person's access token (its client is no machine client)", () => {
    expect(() =>
      principalFromClaims(
        { sub: 'u-1', client_id: 'console', token_use: 'access', scope: 'openid email', username: 'alice' },
        names,
      ),
    ).toThrow(UnauthorizedError);
  });
});
