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
