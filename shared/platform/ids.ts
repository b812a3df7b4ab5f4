import { randomFillSync } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: one call into the system's generator per 256 ids, not one per id. */
const pool = Buffer.alloc(16 * 256);
let taken = pool.length;

/** A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by creation time. */
export function uuidv7(nowMs: number): string {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const at = taken;
  taken += 16;
  let ms = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    pool[at + i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  pool[at + 6] = ((pool[at + 6] ?? 0) & 0x0f) | 0x70;
  pool[at + 8] = ((pool[at + 8] ?? 0) & 0x3f) | 0x80;
  const hex = pool.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
