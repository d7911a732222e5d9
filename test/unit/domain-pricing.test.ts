import { describe, expect, it } from 'vitest';
import {
  costOf,
  estimateTokens,
  maxCostOf,
  priceFor,
  PRICE_TABLE,
  roundUsd,
  UnknownModelPriceError,
} from '#shared/domain/pricing.ts';

describe('priceFor', () => {
  it('returns the row in force on the given day', () => {
    expect(priceFor('gpt-4.1-mini', new Date('2026-10-01T12:00:00Z'))).toEqual({
      model: 'gpt-4.1-mini',
      effectiveFrom: '2025-04-14',
      inputPerMTok: 0.4,
      cachedInputPerMTok: 0.1,
      outputPerMTok: 1.6,
    });
  });

  it('applies a row from its effective day (UTC) but not the day before', () => {
    expect(priceFor('gpt-5', new Date('2025-08-07T00:00:00Z')).effectiveFrom).toBe('2025-08-07');
    expect(() => priceFor('gpt-5', new Date('2025-08-06T23:59:59Z'))).toThrow(UnknownModelPriceError);
  });

  it('picks the latest effective row when a model has several', () => {
    // Every model's rows must resolve to the one with the latest effective date not after `at`.
    const at = new Date('2027-01-01T00:00:00Z');
    for (const model of new Set(PRICE_TABLE.map((row) => row.model))) {
      const latest = PRICE_TABLE.filter((row) => row.model === model)
        .map((row) => row.effectiveFrom)
        .sort()
        .at(-1);
      expect(priceFor(model, at).effectiveFrom).toBe(latest);
    }
  });

  it('throws UnknownModelPriceError naming a model that has no price', () => {
    expect(() => priceFor('gpt-99', new Date('2026-10-01T00:00:00Z'))).toThrow(
      new UnknownModelPriceError('gpt-99'),
    );
  });
});

describe('costOf', () => {
  const price = priceFor('gpt-4.1-mini', new Date('2026-10-01T00:00:00Z'));

  it('bills cached input tokens at the cached rate and the rest of the input at the full rate', () => {
    // 600k uncached × 0.4 + 400k cached × 0.1 + 100k out × 1.6, per million.
    const cost = costOf(
      { inputTokens: 1_000_000, cachedInputTokens: 400_000, outputTokens: 100_000, reasoningTokens: 50_000 },
      price,
    );
    expect(cost).toBe(0.44);
  });

  it('rounds to a micro-dollar', () => {
    expect(costOf({ inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, price)).toBe(
      0.000002,
    );
    expect(roundUsd(0.1 + 0.2)).toBe(0.3);
  });
});

describe('maxCostOf and estimateTokens', () => {
  it('reserves the whole input uncached plus the maximum output', () => {
    const price = priceFor('gpt-4.1-mini', new Date('2026-10-01T00:00:00Z'));
    expect(maxCostOf(1000, 2000, price)).toBe(0.0036);
  });

  it('estimates one token per three characters plus a fixed overhead', () => {
    expect([estimateTokens(''), estimateTokens('abcd')]).toEqual([16, 18]);
  });
});
