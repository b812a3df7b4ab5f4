/** Occupancy history is kept in buckets of this length, aligned on UTC (every real time zone offset is a multiple of 15 minutes). */
export const BUCKET_MS = 15 * 60_000;

export const bucketStart = (ms: number): number => Math.floor(ms / BUCKET_MS) * BUCKET_MS;

export interface BucketRow {
  startMs: number;
  /** The most people present at once during the bucket. */
  peak: number;
  /** The number present after the bucket's last change: what the next, quiet buckets carry. */
  last: number;
}

import type { HistoryPoint } from '../../../shared/protocol/api/hub-occupancy.js';

export type { HistoryPoint };

export const rateOf = (present: number, capacity: number | null): number | null =>
  capacity === null || capacity <= 0 ? null : Math.round((present / capacity) * 1000) / 1000;

/**
 * One point per bucket from `fromMs` to `toMs`: the bucket's peak where something changed, else
 * the count carried over from the last change before it (`before`: the last bucket earlier than
 * the range, if any). Pure: rows are the stored buckets within the range, in any order.
 */
export function historySeries(
  rows: readonly BucketRow[],
  before: BucketRow | undefined,
  fromMs: number,
  toMs: number,
  capacity: number | null,
): HistoryPoint[] {
  const byStart = new Map(rows.map((r) => [r.startMs, r]));
  const points: HistoryPoint[] = [];
  let carried = before?.last ?? 0;
  for (let start = bucketStart(fromMs); start <= toMs; start += BUCKET_MS) {
    const row = byStart.get(start);
    const present = row ? row.peak : carried;
    if (row) carried = row.last;
    points.push({ start, present, rate: rateOf(present, capacity) });
  }
  return points;
}
