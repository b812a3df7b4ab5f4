import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SeqRange } from '../../cloud-sync/hub/seq-ranges.js';
import { advanceContiguous, normalize, subtractParked } from '../../cloud-sync/hub/seq-ranges.js';

describe('seq ranges', () => {
  it('merges overlapping and touching ranges', () => {
    expect(
      normalize([
        [5, 6],
        [1, 2],
        [3, 3],
        [10, 12],
        [11, 20],
      ]),
    ).toEqual([
      [1, 3],
      [5, 6],
      [10, 20],
    ]);
  });

  it('advances through stored and parked seqs up to the first absent one', () => {
    expect(advanceContiguous(0, [], [1, 2, 3, 5])).toBe(3);
    expect(advanceContiguous(0, [[4, 4]], [1, 2, 3, 5, 7])).toBe(5);
    expect(advanceContiguous(0, [[1, 9]], [])).toBe(9);
    expect(advanceContiguous(3, [[2, 6]], [7, 8])).toBe(8);
    expect(advanceContiguous(0, [[3, 4]], [2])).toBe(0);
  });

  it('removes parked seqs from the gaps', () => {
    expect(
      subtractParked(
        [[3, 10]],
        [
          [4, 5],
          [8, 8],
        ],
      ),
    ).toEqual([
      [3, 3],
      [6, 7],
      [9, 10],
    ]);
    expect(
      subtractParked(
        [
          [3, 4],
          [8, 9],
        ],
        [
          [1, 3],
          [9, 20],
        ],
      ),
    ).toEqual([
      [4, 4],
      [8, 8],
    ]);
    expect(subtractParked([[3, 4]], [[3, 4]])).toEqual([]);
  });

  it('property: gaps minus parked are exactly the seqs in a gap and not parked', () => {
    const range = fc
      .tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 8 }))
      .map(([a, len]): SeqRange => [a, a + len]);
    fc.assert(
      fc.property(fc.array(range, { maxLength: 8 }), fc.array(range, { maxLength: 8 }), (g, p) => {
        const gaps = normalize(g);
        const parked = normalize(p);
        const inside = (rs: SeqRange[], s: number) => rs.some(([a, b]) => a <= s && s <= b);
        const out = subtractParked(gaps, parked);
        for (let s = 1; s <= 80; s++) expect(inside(out, s)).toBe(inside(gaps, s) && !inside(parked, s));
        expect(normalize(out)).toEqual(out);
      }),
    );
  });
});
