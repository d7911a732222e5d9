import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';

/** Where the console's generated API types live (committed; a unit test fails when they are stale). */
export const API_TYPES_PATH = new URL('../src/api/schema.gen.ts', import.meta.url);

const HEADER = `/**
 * Generated from Rein's OpenAPI document (shared/http/openapi.ts) by \`npm run web:api\`. Do not edit.
 */
`;

/** The console's API types: openapi-typescript over the document the API serves, formatted by prettier. */
export async function generateApiTypes(): Promise<string> {
  const document = buildOpenApiDocument();
  const ast = await openapiTS(JSON.parse(JSON.stringify(document)) as Parameters<typeof openapiTS>[0], {
    alphabetize: true,
  });
  const source = `${HEADER}${astToString(ast)}`;
  const options = (await prettier.resolveConfig(API_TYPES_PATH.pathname)) ?? {};
  return prettier.format(source, { ...options, parser: 'typescript' });
}
