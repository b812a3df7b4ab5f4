/** Inclusive ranges of seq numbers, `[from, to]`, as the Ack and SiteStatus carry them. */
export type SeqRange = [number, number];

/** The ack's `missing` holds at most this many ranges (shared/protocol/sync.ts). */
export const MAX_RANGES = 1000;

/** Sorted by start, overlapping and touching ranges merged. */
export function normalize(ranges: readonly SeqRange[]): SeqRange[] {
  const sorted = ranges
    .filter(([a, b]) => a <= b)
    .map(([a, b]): SeqRange => [a, b])
    .sort((x, y) => x[0] - y[0]);
  const out: SeqRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

/** Past every parked range that begins at or before `c + 1`: those seqs are settled at the site. */
export function skipParked(c: number, parked: readonly SeqRange[]): number {
  let next = c;
  for (const [a, b] of parked) {
    if (a > next + 1) break;
    if (b > next) next = b;
  }
  return next;
}

/**
 * The highest contiguous seq: from `contiguous`, moves through the stored seqs above it
 * (`storedAbove`, ascending) and the parked ranges (normalized) while no seq is absent.
 * Stops reading `storedAbove` at the first gap.
 */
export function advanceContiguous(
  contiguous: number,
  parked: readonly SeqRange[],
  storedAbove: Iterable<number>,
): number {
  let c = skipParked(contiguous, parked);
  for (const seq of storedAbove) {
    if (seq <= c) continue;
    if (seq !== c + 1) break;
    c = skipParked(seq, parked);
  }
  return c;
}

/** `gaps` minus the parked ranges (both normalized), at most `MAX_RANGES` ranges. */
export function subtractParked(gaps: readonly SeqRange[], parked: readonly SeqRange[]): SeqRange[] {
  const out: SeqRange[] = [];
  let p = 0;
  for (const [from, to] of gaps) {
    let a = from;
    while (p < parked.length && (parked[p]?.[1] ?? Infinity) < a) p++;
    for (let q = p; q < parked.length && a <= to; q++) {
      const [pa, pb] = parked[q] ?? [Infinity, Infinity];
      if (pa > to) break;
      if (pa > a) out.push([a, pa - 1]);
      a = Math.max(a, pb + 1);
    }
    if (a <= to) out.push([a, to]);
    if (out.length >= MAX_RANGES) return out.slice(0, MAX_RANGES);
  }
  return out;
}
