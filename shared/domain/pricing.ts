import type { ModelUsage } from './model.ts';

/**
 * Model prices in USD per million tokens, versioned by effective date. A new price is a new row with
 * a later `effectiveFrom`; old rows stay so that past ledger entries can be re-derived.
 */
export interface PriceRow {
  model: string;
  effectiveFrom: string;
  inputPerMTok: number;
  cachedInputPerMTok: number;
  outputPerMTok: number;
}

export const PRICE_TABLE_VERSION = '2026-11-01';

export const PRICE_TABLE: readonly PriceRow[] = [
  {
    model: 'gpt-4.1',
    effectiveFrom: '2025-04-14',
    inputPerMTok: 2.0,
    cachedInputPerMTok: 0.5,
    outputPerMTok: 8.0,
  },
  {
    model: 'gpt-4.1-mini',
    effectiveFrom: '2025-04-14',
    inputPerMTok: 0.4,
    cachedInputPerMTok: 0.1,
    outputPerMTok: 1.6,
  },
  {
    model: 'gpt-4.1-nano',
    effectiveFrom: '2025-04-14',
    inputPerMTok: 0.1,
    cachedInputPerMTok: 0.025,
    outputPerMTok: 0.4,
  },
  {
    model: 'gpt-4o',
    effectiveFrom: '2024-08-06',
    inputPerMTok: 2.5,
    cachedInputPerMTok: 1.25,
    outputPerMTok: 10.0,
  },
  {
    model: 'gpt-4o-mini',
    effectiveFrom: '2024-07-18',
    inputPerMTok: 0.15,
    cachedInputPerMTok: 0.075,
    outputPerMTok: 0.6,
  },
  {
    model: 'gpt-5',
    effectiveFrom: '2025-08-07',
    inputPerMTok: 1.25,
    cachedInputPerMTok: 0.125,
    outputPerMTok: 10.0,
  },
  {
    model: 'gpt-5-mini',
    effectiveFrom: '2025-08-07',
    inputPerMTok: 0.25,
    cachedInputPerMTok: 0.025,
    outputPerMTok: 2.0,
  },
];

export class UnknownModelPriceError extends Error {
  constructor(model: string) {
    super(`No price is known for model ${model}.`);
    this.name = 'UnknownModelPriceError';
  }
}

/** The price row in force for `model` at `at` (the latest row whose effective date is not after it). */
export function priceFor(model: string, at: Date, table: readonly PriceRow[] = PRICE_TABLE): PriceRow {
  const day = at.toISOString().slice(0, 10);
  const rows = table
    .filter((row) => row.model === model && row.effectiveFrom <= day)
    .sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? 1 : -1));
  const row = rows[0];
  if (!row) throw new UnknownModelPriceError(model);
  return row;
}

/** Rounds to a micro-dollar so sums are exact to the cent. */
export function roundUsd(value: number): number {
  return Math.round(value * 1_000_000) / 1_000_000;
}

/** The cost of an attempt from its usage. Cached input tokens are part of the input tokens, billed at the cached rate. */
export function costOf(usage: ModelUsage, price: PriceRow): number {
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens);
  return roundUsd(
    (uncached * price.inputPerMTok +
      usage.cachedInputTokens * price.cachedInputPerMTok +
      usage.outputTokens * price.outputPerMTok) /
      1_000_000,
  );
}

/** The most an attempt can cost: the whole input uncached plus the maximum output. */
export function maxCostOf(estimatedInputTokens: number, maxOutputTokens: number, price: PriceRow): number {
  return roundUsd(
    (estimatedInputTokens * price.inputPerMTok + maxOutputTokens * price.outputPerMTok) / 1_000_000,
  );
}

/** A conservative input token estimate: 1 token per 3 characters (English averages about 4). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3) + 16;
}
