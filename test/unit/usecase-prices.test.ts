import { describe, expect, it } from 'vitest';
import { PRICE_TABLE, PRICE_TABLE_VERSION, priceFor } from '#shared/domain/pricing.ts';
import { getPrices } from '#shared/usecases/finance.ts';
import { makeDeps } from '../fakes/deps.ts';

describe('getPrices', () => {
  it('lists each model once with the row in force now, and the table version', () => {
    const deps = makeDeps();
    const now = deps.clock.now();

    const list = getPrices(deps);

    const models = [...new Set(PRICE_TABLE.map((row) => row.model))].sort();
    expect(list).toEqual({
      version: PRICE_TABLE_VERSION,
      currency: 'USD',
      unit: 'per million tokens',
      prices: models.map((model) => priceFor(model, now)),
    });
  });
});
