/**
 * The format of the local stack's seed data (`demo.json`, or the file named by `REIN_SEED`):
 * tenants with their demo users and accounts, each account with the raw records Rein's context
 * sources read (CRM, usage, contract, tickets, invoices).
 *
 * Records are raw source data, not what the model sees: the context layer copies only allow-listed
 * fields. To make that visible, CRM records are loose objects. Besides the required fields they keep
 * any further field as written (nested values included), and the usual sensitive ones
 * (`internalNotes`, `creditScore`, `contactPhone`, `discountFloorPct`) are typed so a typo in the
 * demo data is caught. The other records have fixed fields and reject unknown ones.
 *
 * The JSON schema generated from {@link SeedSchema} is committed as `seed.schema.json`
 * (regenerate with `npx tsx infra/local/seed/write-schema.ts`).
 */
import { z } from 'zod';
import { RoleSchema } from '#shared/domain/principal.ts';
import { ContractRecordSchema } from '#shared/sources/contract.ts';
import { CrmRecordSchema as CatalogueCrmRecordSchema } from '#shared/sources/crm.ts';
import { InvoiceRecordSchema } from '#shared/sources/invoices.ts';
import { TicketRecordSchema } from '#shared/sources/tickets.ts';
import { UsageRecordSchema } from '#shared/sources/usage.ts';

/** Same rule as a principal's tenant claim. */
const TenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
  .describe('Tenant id, the `tenant_id` claim of its users: lower case letters, digits and dashes.');

const AccountIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/)
  .describe(
    'Account id, unique within its tenant: lower case letters, digits and dashes, e.g. `acct-northwind`.',
  );

const MoneySchema = z.number().nonnegative();

/**
 * The catalogue's CRM record, with the demo data's sensitive fields typed so a typo is caught. The
 * catalogue itself names no sensitive field: any field outside the allow-list stays with Rein.
 */
const CrmRecordSchema = CatalogueCrmRecordSchema.extend({
  internalNotes: z.string().optional().describe('Sensitive: must never reach the model.'),
  creditScore: z.number().optional().describe('Sensitive: must never reach the model.'),
  contactPhone: z.string().optional().describe('Sensitive (personal data): must never reach the model.'),
  discountFloorPct: z.number().optional().describe('Sensitive: lowest discount sales may offer, in percent.'),
});

export const SEED_SOURCES = ['crm', 'usage', 'tickets', 'invoices', 'contract'] as const;
export const SeedSourceSchema = z.enum(SEED_SOURCES);
export type SeedSource = z.infer<typeof SeedSourceSchema>;

export const SeedUserSchema = z
  .strictObject({
    sub: z.string().min(1).max(256).describe('Subject claim of the user, e.g. `csm-alice`.'),
    name: z.string().min(1).describe('Display name, printed next to the ready token.'),
    roles: z
      .array(RoleSchema)
      .min(1)
      .describe('Tenant roles (csm, manager, admin) or platform roles (finance, operator).'),
  })
  .describe('A demo user; the local stack prints a ready token for each. Users are not stored in DynamoDB.');
export type SeedUser = z.infer<typeof SeedUserSchema>;

export const SeedMachineClientSchema = z
  .strictObject({
    clientId: z
      .string()
      .regex(/^[\w+]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ + (as Cognito client ids)')
      .describe('OAuth client id; the token endpoint takes it with the secret (HTTP Basic or form fields).'),
    clientSecret: z
      .string()
      .regex(/^[\w+]{24,64}$/, 'must be 24-64 of A-Z a-z 0-9 _ + (as Cognito client secrets)')
      .describe('Demo secret, local stack only; in AWS Cognito generates it and it is never in a file.'),
  })
  .describe(
    "A machine client of the tenant (OAuth 2.0 client credentials): the local stack's token endpoint POST /local/oauth2/token issues it access tokens with role `integration` for this tenant only.",
  );
export type SeedMachineClient = z.infer<typeof SeedMachineClientSchema>;

export const SeedAccountSchema = z
  .strictObject({
    accountId: AccountIdSchema,
    crm: CrmRecordSchema,
    usage: UsageRecordSchema.optional().describe(
      'Absent: the account has no usage record (a "not found" data gap).',
    ),
    contract: ContractRecordSchema.optional(),
    tickets: z.array(TicketRecordSchema),
    invoices: z.array(InvoiceRecordSchema),
    brokenSources: z
      .array(SeedSourceSchema)
      .optional()
      .describe(
        "Sources whose records are loaded as last updated at the source on 2020-01-01, older than the source's maximum age, to show a stale source becoming a data gap (only sources with a maximum age, such as crm and usage, go stale).",
      ),
  })
  .describe('A customer account and its source records.');
export type SeedAccount = z.infer<typeof SeedAccountSchema>;

export const SeedTenantSchema = z
  .strictObject({
    tenantId: TenantIdSchema,
    name: z.string().min(1),
    monthlyBudgetUsd: MoneySchema.describe('Monthly model budget of the tenant in USD.'),
    users: z.array(SeedUserSchema),
    machineClients: z.array(SeedMachineClientSchema).optional(),
    accounts: z.array(SeedAccountSchema),
  })
  .describe('A tenant with its users and accounts.');
export type SeedTenant = z.infer<typeof SeedTenantSchema>;

export const SeedSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON schema, for editors.'),
    tenants: z.array(SeedTenantSchema).min(1),
  })
  .superRefine((seed, ctx) => {
    // Duplicates would silently overwrite each other in DynamoDB (and fail a batch write).
    reportDuplicates(seed.tenants, (tenant) => tenant.tenantId, ['tenants'], 'tenantId', ctx);
    // A client id names one tenant: the same id under two tenants would make its tenant ambiguous.
    const clientTenants = new Map<string, string>();
    seed.tenants.forEach((tenant, t) => {
      (tenant.machineClients ?? []).forEach((client, c) => {
        const other = clientTenants.get(client.clientId);
        if (other !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['tenants', t, 'machineClients', c, 'clientId'],
            message: `client id "${client.clientId}" is already a machine client of tenant "${other}"`,
          });
        else clientTenants.set(client.clientId, tenant.tenantId);
      });
    });
    seed.tenants.forEach((tenant, t) => {
      const tenantPath = ['tenants', t];
      reportDuplicates(tenant.users, (user) => user.sub, [...tenantPath, 'users'], 'sub', ctx);
      reportDuplicates(
        tenant.accounts,
        (account) => account.accountId,
        [...tenantPath, 'accounts'],
        'accountId',
        ctx,
      );
      const subs = new Set(tenant.users.map((user) => user.sub));
      tenant.accounts.forEach((account, a) => {
        const accountPath = [...tenantPath, 'accounts', a];
        if (!subs.has(account.crm.ownerId)) {
          ctx.addIssue({
            code: 'custom',
            path: [...accountPath, 'crm', 'ownerId'],
            message: `owner "${account.crm.ownerId}" is not a user of tenant "${tenant.tenantId}"`,
          });
        }
        reportDuplicates(
          account.tickets,
          (ticket) => ticket.ticketId,
          [...accountPath, 'tickets'],
          'ticketId',
          ctx,
        );
        reportDuplicates(
          account.invoices,
          (invoice) => invoice.invoiceId,
          [...accountPath, 'invoices'],
          'invoiceId',
          ctx,
        );
      });
    });
  })
  .meta({
    title: 'Rein seed data',
    description:
      'Tenants, demo users and accounts loaded into the local stack on start (demo.json, or the file named by REIN_SEED).',
  });
export type Seed = z.infer<typeof SeedSchema>;

function reportDuplicates<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  path: readonly (string | number)[],
  field: string,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (seen.has(key)) {
      ctx.addIssue({ code: 'custom', path: [...path, index, field], message: `duplicate ${field} "${key}"` });
    }
    seen.add(key);
  });
}

/** The JSON schema of the seed format, committed as `seed.schema.json` for editors and the README. */
export function seedJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SeedSchema, { io: 'input' });
}
