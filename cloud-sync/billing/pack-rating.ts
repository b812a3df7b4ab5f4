import type { PackPurchase } from '../../shared/protocol/api/hub-billing.js';
import type { PeriodId } from './period.js';
import { firstDay, lastDay } from './period.js';

// A pack sold is a billing API shape: shared/protocol/api/hub-billing.ts.
export type { PackPurchase };

/**
 * The rules of packs of days (docs/billing.md "Packs of days"), pure:
 * - a purchase is billed in the month of its date, at the price it was sold at;
 * - each day its holder comes, from the purchase's date to its `validUntil`, draws one of its
 *   days, in date order, from the earliest-bought pack (then the lowest id) still valid that day
 *   with days left, whatever the length of the visit;
 * - only a day the hub had received by the close of its month draws: a day a site sent after
 *   its month was closed is charged at the plan's prices on the next invoice (an adjustment),
 *   so that no closed month's draws ever change;
 * - days beyond the packs are charged as the plan says.
 */

/** Ordered by date, then id: the order packs are drawn from. */
const byDate = (a: PackPurchase, b: PackPurchase) =>
  a.date < b.date ? -1 : a.date > b.date ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** What a month's draws depend on: the purchases, and the first day from which the holder's days count. */
export interface PackChain {
  purchases: PackPurchase[];
  from: string;
}

/**
 * The purchases a member's days of `period` may draw from, and the first day whose visits
 * decide what is left of them: the packs valid at some time in the period, and every earlier
 * one still valid after one of those was bought (a day draws from the earliest-bought pack
 * with days left, so those decide what the later ones had left). Undefined: no pack counts.
 */
export function packChain(purchases: readonly PackPurchase[], period: PeriodId): PackChain | undefined {
  const last = lastDay(period);
  const known = purchases.filter((p) => p.date <= last);
  let chain = known.filter((p) => p.validUntil >= firstDay(period));
  if (chain.length === 0) return undefined;
  for (;;) {
    const from = chain.reduce((d, p) => (p.date < d ? p.date : d), last);
    const wider = known.filter((p) => p.validUntil >= from);
    if (wider.length === chain.length) return { purchases: [...chain].sort(byDate), from };
    chain = wider;
  }
}

/**
 * Which pack each of the holder's days draws from (date → purchase): `dates` are the days she
 * came, ascending; `onTime` those the hub had by the close of their month.
 */
export function packDraws(
  chain: PackChain,
  dates: readonly string[],
  onTime: ReadonlySet<string>,
): Map<string, PackPurchase> {
  const left = new Map(chain.purchases.map((p) => [p.id, p.days]));
  const draws = new Map<string, PackPurchase>();
  for (const date of dates) {
    if (date < chain.from || !onTime.has(date)) continue;
    const pack = chain.purchases.find((p) => p.date <= date && date <= p.validUntil && (left.get(p.id) ?? 0) > 0);
    if (!pack) continue;
    left.set(pack.id, (left.get(pack.id) ?? 0) - 1);
    draws.set(date, pack);
  }
  return draws;
}
