import { format, resolveConfig } from 'prettier';
import type { Route } from '#shared/http/contract.ts';
import { ROUTES } from '#shared/http/routes.ts';

/** README's API table sits between these markers; `npm run api:readme` rewrites it, a test fails on drift. */
export const README_PATH = new URL('../../README.md', import.meta.url);
const START = '<!-- api-table:start (generated from shared/http/routes.ts by `npm run api:readme`) -->';
const END = '<!-- api-table:end -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function queryOf(route: Route): string {
  const names = route.params?.query ? Object.keys(route.params.query.shape) : [];
  return names.length === 0 ? '' : names.map((name) => `\`${name}\``).join(', ');
}

function headersOf(route: Route): string {
  const names = route.params?.header ? Object.keys(route.params.header.shape) : [];
  return names.map((name) => `\`${name}\``).join(', ');
}

/** One row per route record: what a client needs at a glance; the document has the rest. */
export function apiTable(routes: readonly Route[] = ROUTES): string {
  const rows = routes.map((route) =>
    [
      `\`${route.method} ${route.path}\``,
      route.access === 'public' ? 'no token' : route.access.join(', '),
      cell(route.summary),
      queryOf(route),
      headersOf(route),
      `${String(route.response.status)}${route.response.alternative ? ` (JSON or ${route.response.alternative.mediaType})` : ''}`,
      route.errors.join(', '),
    ]
      .map((value) => ` ${value} `)
      .join('|'),
  );
  return [
    '| route | roles at the door | does | query | request headers | success | errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `|${row}|`),
  ].join('\n');
}

/** The README with its API table regenerated from the route records, formatted as prettier would. */
export async function renderReadme(readme: string): Promise<string> {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} section.`);
  const next = `${readme.slice(0, start)}${START}\n\n${apiTable()}\n\n${readme.slice(end)}`;
  const options = (await resolveConfig(README_PATH)) ?? {};
  return format(next, { ...options, filepath: README_PATH.pathname });
}
