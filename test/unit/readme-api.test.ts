import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '#shared/http/routes.ts';
import { apiTable, README_PATH, renderReadme } from '../contract/readme-api.ts';

describe("README's API table", () => {
  it('is the table generated from the route records (run npm run api:readme after changing a route)', async () => {
    const readme = await readFile(README_PATH, 'utf8');
    expect(await renderReadme(readme)).toBe(readme);
  });

  it('has one row per route record', () => {
    const rows = apiTable().split('\n').slice(2);
    expect(rows.map((row) => /`(\w+ \S+)`/.exec(row)?.[1])).toEqual(
      ROUTES.map((route) => `${route.method} ${route.path}`),
    );
  });
});
