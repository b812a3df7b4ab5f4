import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { TesseraError } from '../../shared/platform/errors.js';
import type { PackSale, PriceList } from '../../shared/protocol/api/hub-billing.js';
import type { HubDb, Sql } from '../hub/db.js';
import type { HubDirectory } from '../hub/directory.js';
import { readMembersPresence } from './event-source.js';
import type { PackPurchase } from './pack-rating.js';
import { packChain } from './pack-rating.js';
import type { PeriodId } from './period.js';
import { addDays, lastDay, periodOf, readWindow } from './period.js';
import type { PackInput } from './rate.js';

/** People of the network itself are never billed, so never sold a pack (rate.ts). */
const UNBILLED_ROLES = new Set(['staff', 'cleaner']);

interface PurchaseRow {
  body: string;
}

export interface BillingPacksDeps {
  db: HubDb;
  directory: HubDirectory;
  /** The ledger's price list (BillingLedger.prices), read at each sale. */
  ledger: { prices(): Promise<PriceList | undefined> };
  now: () => number;
}

/**
 * The packs of days sold (docs/billing.md "Packs of days"): the operator records a sale, which
 * keeps the offer's terms as they were that day; the ratings read them (`packInput`).
 */
export class BillingPacks {
  constructor(private readonly deps: BillingPacksDeps) {}

  /**
   * Records a pack sold to a member on `date`: an offer of the price list, to a billed member
   * whose plan is charged by the day, in a month not yet closed (a closed month's invoices are
   * final; a pack sold in one is recorded on a date of the next).
   */
  async sell(sale: PackSale): Promise<PackPurchase> {
    const { db, directory } = this.deps;
    const date = DateTime.fromISO(sale.date, { zone: 'utc' });
    if (!date.isValid || date.toISODate() !== sale.date)
      throw new TesseraError('request.invalid', 'invalid sale', [
        { path: 'date', message: 'expected a calendar date' },
      ]);
    const member = await directory.get(db, 'member', sale.member);
    if (!member) throw new TesseraError('not_found', `no member ${JSON.stringify(sale.member)}`);
    const prices = await this.deps.ledger.prices();
    if (!prices) throw new TesseraError('billing.unpriced', 'no price list yet: PUT /billing/prices first');
    const offer = prices.packs && Object.hasOwn(prices.packs, sale.pack) ? prices.packs[sale.pack] : undefined;
    if (!offer)
      throw new TesseraError('request.invalid', 'invalid sale', [
        { path: 'pack', message: `the price list sells no pack ${JSON.stringify(sale.pack)}` },
      ]);
    const tariff = Object.hasOwn(prices.plans, member.plan) ? prices.plans[member.plan] : undefined;
    if (UNBILLED_ROLES.has(member.role) || tariff?.kind !== 'per-day')
      throw new TesseraError('request.invalid', 'invalid sale', [
        {
          path: 'member',
          message: `a pack draws days from a plan charged by the day: ${member.id}'s plan ${JSON.stringify(member.plan)} is not (or the member is not billed)`,
        },
      ]);
    const purchase: PackPurchase = {
      id: randomUUID(),
      member: member.id,
      pack: sale.pack,
      name: offer.name,
      days: offer.days,
      cents: offer.cents,
      vatPercent: offer.vatPercent,
      date: sale.date,
      validUntil: addDays(sale.date, offer.validDays - 1),
      recordedAt: new Date(this.deps.now()).toISOString(),
    };
    await db.transaction(async (tx) => {
      const last = await tx.value<string | null>('SELECT MAX(period) FROM billing_periods');
      if (last !== null && last !== undefined && periodOf(sale.date) <= last)
        throw new TesseraError(
          'billing.period_closed',
          `${periodOf(sale.date)} is closed (up to ${last}): record the sale on a date of a month still open`,
        );
      await tx.run(
        'INSERT INTO billing_pack_purchases (id, member, bought_on, recorded_at, body) VALUES (?, ?, ?, ?, ?)',
        [purchase.id, purchase.member, purchase.date, this.deps.now(), JSON.stringify(purchase)],
      );
    });
    return purchase;
  }

  /** The packs sold, a member's or all, by date. */
  async list(member?: string): Promise<PackPurchase[]> {
    const rows = await this.deps.db.all<PurchaseRow>(
      `SELECT body FROM billing_pack_purchases${member === undefined ? '' : ' WHERE member = ?'} ORDER BY bought_on, member, id`,
      member === undefined ? [] : [member],
    );
    return rows.map((r) => JSON.parse(r.body) as PackPurchase);
  }
}

/** The packs sold whose date is up to `last`, recorded up to `cutoff`, in order. */
async function purchasesUpTo(q: Sql, last: string, cutoff: number): Promise<PackPurchase[]> {
  const rows = await q.all<PurchaseRow>(
    'SELECT body FROM billing_pack_purchases WHERE bought_on <= ? AND recorded_at <= ? ORDER BY member, bought_on, id',
    [last, cutoff],
  );
  return rows.map((r) => JSON.parse(r.body) as PackPurchase);
}

/** The dates of the packs recorded in `(after, upTo]`: a sale recorded after its month closed adjusts it, like a late event. */
export async function packDatesRecordedBetween(q: Sql, after: number, upTo: number): Promise<string[]> {
  return q.column<string>(
    'SELECT DISTINCT bought_on FROM billing_pack_purchases WHERE recorded_at > ? AND recorded_at <= ? ORDER BY bought_on',
    [after, upTo],
  );
}

/**
 * What a rating of `period` as of `cutoff` needs of the packs (rate.ts `PackInput`): the
 * purchases, the holders' visits before the month's read window back to the first day their
 * packs need, and the closed months' cutoffs. A month whose presence events the retention
 * pruned cannot tell which days drew: `billing.pruned`.
 */
export async function packInput(
  q: Sql,
  period: PeriodId,
  cutoff: number,
  pruned: ReadonlySet<PeriodId> = new Set(),
): Promise<{ packs: PackInput; unreadable: number }> {
  const purchases = await purchasesUpTo(q, lastDay(period), cutoff);
  const cutoffs = new Map(
    (await q.all<{ period: string; cutoff: number }>('SELECT period, cutoff FROM billing_periods')).map((r) => [
      r.period,
      Number(r.cutoff),
    ]),
  );
  const window = readWindow(period);
  const since = new Map<string, string>();
  const byMember = new Map<string, PackPurchase[]>();
  for (const p of purchases) byMember.set(p.member, [...(byMember.get(p.member) ?? []), p]);
  for (const [member, list] of byMember) {
    const chain = packChain(list, period);
    if (!chain || chain.from >= window.from) continue;
    const gone = [...pruned].find((q2) => q2 >= periodOf(chain.from) && q2 < period);
    if (gone !== undefined)
      throw new TesseraError(
        'billing.pruned',
        `the pack days of member ${member} count from ${chain.from}, but ${gone}'s presence events are past their retention and pruned: keep events longer than packs are valid`,
      );
    since.set(member, chain.from);
  }
  const from = [...since.values()].reduce((a, b) => (b < a ? b : a), window.from);
  const read = await readMembersPresence(q, [...since.keys()].sort(), { from, to: window.from }, cutoff);
  // One statement from the earliest day: each holder keeps her own days from hers.
  const history = read.events.filter((e) => e.at.slice(0, 10) >= (since.get(e.member) ?? window.from));
  return { packs: { purchases, history, cutoffs }, unreadable: read.unreadable };
}
