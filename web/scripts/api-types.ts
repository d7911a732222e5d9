import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';
import { ROUTES } from '#shared/http/routes.ts';
import { RoleSchema } from '#shared/domain/principal.ts';

/** Where the console's generated API types live (committed; a unit test fails when they are stale). */
export const API_TYPES_PATH = new URL('../src/api/schema.gen.ts', import.meta.url);

const HEADER = `/**
 * Generated from Rein's OpenAPI document (shared/http/openapi.ts) by \`npm run web:api\`. Do not edit.
 */
`;

/**
 * The API's TypeScript types (the console's client and the contract test's walkthrough): openapi-typescript
 * over the document the API serves (`document`, by default built from the route records), formatted by prettier.
 */
export async function generateApiTypes(document: object = buildOpenApiDocument(ROUTES)): Promise<string> {
  const ast = await openapiTS(JSON.parse(JSON.stringify(document)) as Parameters<typeof openapiTS>[0], {
    alphabetize: true,
  });
  const source = `${HEADER}${astToString(ast)}`;
  const options = (await prettier.resolveConfig(API_TYPES_PATH.pathname)) ?? {};
  return prettier.format(source, { ...options, parser: 'typescript' });
}

/** Where the roles each operation admits live (generated from the route records' `access`). */
export const ACCESS_PATH = new URL('../src/api/access.gen.ts', import.meta.url);

/**
 * The console's navigation input: each operation's `access` from the route records, so the
 * browser bundle carries the table without the API's code.
 */
export async function generateAccess(): Promise<string> {
  const access = Object.fromEntries(ROUTES.map((route) => [route.operation, route.access]));
  const source = `/**
 * Generated from the route records' \`access\` (shared/http/routes.ts) by \`npm run web:api\`. Do not edit.
 */
export const ROLES = ${JSON.stringify(RoleSchema.options)} as const;

/** The roles the API lets call each operation (\`'public'\`: no token needed). */
export const OPERATION_ACCESS = ${JSON.stringify(access)} as const;

export type Operation = keyof typeof OPERATION_ACCESS;
`;
  const options = (await prettier.resolveConfig(ACCESS_PATH.pathname)) ?? {};
  return prettier.format(source, { ...options, parser: 'typescript' });
}
