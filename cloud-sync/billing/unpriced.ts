import type { PeriodId } from './period.js';
import type { ConsumableUse } from './visits.js';
import type { Unbilled, UnpricedUse } from '../../shared/protocol/api/hub-billing.js';

// Listed with a month by the billing API: shared/protocol/api/hub-billing.ts.
export type { Unbilled, UnpricedUse };

const keyOf = (u: Pick<UnpricedUse, 'period' | 'site' | 'item'>) => `${u.period}\u0000${u.site}\u0000${u.item}`;
const byKey = (a: UnpricedUse, b: UnpricedUse) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);

/** The uses of `period` without a price, one entry per site and item, sorted. */
export function unpricedOf(period: PeriodId, uses: readonly ConsumableUse[]): UnpricedUse[] {
  const grouped = new Map<string, UnpricedUse>();
  for (const use of uses) {
    const key = keyOf({ period, site: use.site, item: use.item });
    const held = grouped.get(key) ?? { period, site: use.site, item: use.item, uses: 0, quantity: 0 };
    held.uses++;
    held.quantity += use.quantity;
    grouped.set(key, held);
  }
  return [...grouped.values()].sort(byKey);
}

/** What `after` lists beyond `before` (a closed month rated again with its late events): only what those brought. */
export function unpricedSince(before: readonly UnpricedUse[], after: readonly UnpricedUse[]): UnpricedUse[] {
  const earlier = new Map(before.map((u) => [keyOf(u), u]));
  return after
    .map((u) => ({
      ...u,
      uses: u.uses - (earlier.get(keyOf(u))?.uses ?? 0),
      quantity: u.quantity - (earlier.get(keyOf(u))?.quantity ?? 0),
    }))
    .filter((u) => u.uses > 0);
}

export const sortUnpriced = (list: readonly UnpricedUse[]): UnpricedUse[] => [...list].sort(byKey);

type Stored = Unbilled | (UnpricedUse & { reason: 'unpriced' });

/**
 * A closed month keeps both lists in its one `unbilled` column, the unpriced uses tagged: no
 * schema change, and the months closed before keep reading as they did (members only).
 */
export function storedUnbilled(unbilled: readonly Unbilled[], unpriced: readonly UnpricedUse[]): string {
  const rows: Stored[] = [...unbilled, ...unpriced.map((u) => ({ reason: 'unpriced' as const, ...u }))];
  return JSON.stringify(rows);
}

export function parseStoredUnbilled(json: string): { unbilled: Unbilled[]; unpriced: UnpricedUse[] } {
  const rows = JSON.parse(json) as Stored[];
  const unbilled: Unbilled[] = [];
  const unpriced: UnpricedUse[] = [];
  for (const row of rows) {
    if (row.reason !== 'unpriced') unbilled.push(row);
    else {
      const { reason: _, ...use } = row;
      unpriced.push(use);
    }
  }
  return { unbilled, unpriced };
}
