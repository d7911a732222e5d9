import type { AccountDirectory } from '#shared/ports/index.ts';

export interface AccountRow {
  tenantId: string;
  accountId: string;
  ownerId: string;
  name?: string;
}

/** Accounts and their owners, per tenant. */
export class FakeAccountDirectory implements AccountDirectory {
  private readonly accounts: AccountRow[];

  constructor(accounts: readonly AccountRow[] = []) {
    this.accounts = [...accounts];
  }

  add(account: AccountRow): void {
    this.accounts.push(account);
  }

  getAccount(
    tenantId: string,
    accountId: string,
  ): Promise<{ accountId: string; ownerId: string; name: string | null } | null> {
    const row = this.accounts.find((a) => a.tenantId === tenantId && a.accountId === accountId);
    return Promise.resolve(
      row ? { accountId: row.accountId, ownerId: row.ownerId, name: row.name ?? null } : null,
    );
  }
}
