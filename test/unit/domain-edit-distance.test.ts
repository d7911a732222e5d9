import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, normalizedEditDistance } from '#shared/domain/edit-distance.ts';

describe('normalizedEditDistance', () => {
  it('is 0 for equal strings, including two empty ones', () => {
    expect([normalizedEditDistance('renewal', 'renewal'), normalizedEditDistance('', '')]).toEqual([0, 0]);
  });

  it('is 1 for strings with no character in common at any position', () => {
    expect([normalizedEditDistance('abc', 'xyz'), normalizedEditDistance('', 'abc')]).toEqual([1, 1]);
  });

  it('divides the edits by the longer length', () => {
    // kitten → sitting takes 3 edits over 7 characters.
    expect(normalizedEditDistance('kitten', 'sitting')).toBe(0.4286);
  });

  it('is symmetric and stays within 0..1 for any pair of strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (a, b) => {
        const forward = normalizedEditDistance(a, b);
        expect(forward).toBe(normalizedEditDistance(b, a));
        expect(forward).toBeGreaterThanOrEqual(0);
        expect(forward).toBeLessThanOrEqual(1);
        expect(forward === 0).toBe(a === b);
      }),
    );
  });
});

describe('canonicalJson', () => {
  it('ignores key order at every depth, so reordering is never counted as an edit', () => {
    const original = { summary: 's', risks: [{ title: 't', evidence: ['a'] }], health: 'healthy' };
    const reordered = { health: 'healthy', risks: [{ evidence: ['a'], title: 't' }], summary: 's' };

    expect(normalizedEditDistance(canonicalJson(original), canonicalJson(reordered))).toBe(0);
  });

  it('keeps array order and scalar types', () => {
    expect(canonicalJson({ b: [2, 1], a: null, c: 'x', d: true })).toBe(
      '{"a":null,"b":[2,1],"c":"x","d":true}',
    );
  });
});

describe('normalizedEditDistance on large inputs', () => {
  it('counts an edit appended to a long text without comparing the untouched part', () => {
    const original = 'a'.repeat(8 * 1024);
    const edited = `${original}${'b'.repeat(56 * 1024)}`;
    // 56 KiB inserted into a 64 KiB result.
    expect(normalizedEditDistance(original, edited)).toBe(0.875);
  });

  it('never reports a changed text as unchanged, however small the change', () => {
    const text = 'x'.repeat(50_000);
    expect(normalizedEditDistance(text, `${text}y`)).toBeGreaterThan(0);
  });

  it('agrees with the plain dynamic-programming distance on short strings', () => {
    const reference = (s: string, t: string): number => {
      let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
      for (let i = 1; i <= s.length; i += 1) {
        const current = [i];
        for (let j = 1; j <= t.length; j += 1) {
          const cost = s[i - 1] === t[j - 1] ? 0 : 1;
          current[j] = Math.min(
            (previous[j] ?? 0) + 1,
            (current[j - 1] ?? 0) + 1,
            (previous[j - 1] ?? 0) + cost,
          );
        }
        previous = current;
      }
      return previous[t.length] ?? 0;
    };
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (a, b) => {
        const longer = Math.max(a.length, b.length);
        const expected =
          longer === 0
            ? 0
            : Math.max(a === b ? 0 : 0.0001, Math.round((reference(a, b) / longer) * 10_000) / 10_000);
        expect(normalizedEditDistance(a, b)).toBe(expected);
      }),
    );
  });
});
