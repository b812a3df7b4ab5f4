import type { Employer, Member, Plan } from '../../shared/protocol/directory.js';
import type { Resource } from '../../shared/protocol/bookings.js';
import type { ErrorDetail } from '../../shared/platform/errors.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { PeriodId } from './period.js';
import type { Coverage } from './period.js';
import { addDays, coverage, lastDay, overlaps, periodOf, periodOfWeek, weekOf } from './period.js';
import type { PackPurchase } from './pack-rating.js';
import { packChain, packDraws, type PackChain } from './pack-rating.js';
import type { ExtraDay, PlanTariff, PriceList } from './prices.js';
import { vatBasisPoints } from './prices.js';
import type { UnpricedUse } from './unpriced.js';
import { unpricedOf } from './unpriced.js';
import type { BilledEvent, ConsumableUse, MemberDay } from './visits.js';
import { inSiteSeqOrder, tallyOf, VisitTally } from './visits.js';
import type { BilledBooking } from './booking-rating.js';
import { bookingLines, bookingPeriod } from './booking-rating.js';
import type { Slices } from '../hub/slices.js';
import { runAtOnce, runInSlices, STEP, type Steps } from './steps.js';
import type { AdmittedBeyondQuota, LineKind, Unbilled } from '../../shared/protocol/api/hub-billing.js';

// What the billing API shows of a rating: shared/protocol/api/hub-billing.ts.
export type { AdmittedBeyondQuota, LineKind };

/** One priced line before VAT: what a member used at a site (or network-wide, site null). */
export interface RatedLine {
  /** `employer:<id>`, or `member:<id>` for a member without an employer. */
  account: string;
  member: string;
  site: string | null;
  kind: LineKind;
  /** The consumable item (kind `consumable`), or the booked resource (the booking kinds). */
  item: string | null;
  description: string;
  quantity: number;
  unitCents: number;
  amountCents: number;
  vatBasisPoints: number;
  /** The site-local dates (weeks: their Mondays) the line covers, ascending. */
  dates: string[];
  /**
   * The first and last day the line covers: a subscription or a locker its month (or the part
   * of it the membership covers), a week pass Monday to Sunday, other lines their first and
   * last date. Absent when rated under the rules of months closed before lines carried them.
   */
  from?: string;
  to?: string;
}

/**
 * The rules a month is rated with. `current`: today's. `before-line-dates`: those of the months
 * closed before lines carried their dates, so that `verify` re-rates such a month as it was
 * closed: no `from`/`to`, a subscription and a locker charged a whole month whenever the
 * membership overlaps it, a locker whatever the plan says.
 */
export type RatingRules = 'current' | 'before-line-dates';

/**
 * The rules a closed month's frozen invoices were rated with: those of the months before lines
 * carried their dates when none of their lines has one (every line rated since has).
 */
export function rulesOf(frozen: ReadonlyArray<{ lines: ReadonlyArray<{ from?: string | undefined }> }>): RatingRules {
  return frozen.length > 0 && frozen.every((i) => i.lines.every((l) => l.from === undefined))
    ? 'before-line-dates'
    : 'current';
}

export interface RatingInput {
  period: PeriodId;
  prices: PriceList;
  members: readonly Member[];
  employers: readonly Employer[];
  /** The directory's plans: whether a member's plan opens their locker. */
  plans: readonly Plan[];
  /** Today's rules unless given (`verify` of a month closed before lines carried their dates). */
  rules?: RatingRules;
  /** Every presence and consumable event of the period's read window, in any order. */
  events: readonly BilledEvent[];
  /** Site id → IANA time zone, for sites the operator declared. */
  zones: ReadonlyMap<string, string>;
  /** Bookings that may start in the period (those starting in another site-local month are left out), in any order. */
  bookings?: readonly BilledBooking[];
  /** The resources by id, with their prices. */
  resources?: ReadonlyMap<string, Resource>;
  /** The packs of days sold (pack-rating.ts); none if absent. */
  packs?: PackInput;
}

/** What the packs of days of a period's rating need besides its events. */
export interface PackInput {
  /** Every pack sold whose date is in or before the period, recorded up to the cutoff. */
  purchases: readonly PackPurchase[];
  /**
   * The presence events of the holders of packs that count in the period, before its read
   * window, from the first day their packs need (`packChain`), received up to the cutoff.
   */
  history: readonly BilledEvent[];
  /** Each closed month's cutoff: a day the hub received after its month was closed draws from no pack. */
  cutoffs: ReadonlyMap<PeriodId, number>;
}

/** How many member-days of the month a billed member spent at a site (charged or covered). */
export interface SiteDays {
  account: string;
  member: string;
  site: string;
  days: number;
}

export interface Rating {
  lines: RatedLine[];
  days: SiteDays[];
  unbilled: Unbilled[];
  admittedBeyondQuota: AdmittedBeyondQuota[];
  /** Uses of items without a price: listed, not charged. */
  unpriced: UnpricedUse[];
}

/** One account's part of a rating: its lines by key, and its members' days by site, member by member. */
export interface RatedAccount {
  account: string;
  lines: RatedLine[];
  days: SiteDays[];
}

/** What a rating lists besides its accounts' lines and days. */
export type RatingNotes = Omit<Rating, 'lines' | 'days'>;

/** People of the network itself: their visits are work, not usage. */
const UNBILLED_ROLES = new Set(['staff', 'cleaner']);

export const accountOf = (m: Member): string =>
  m.employer !== undefined ? `employer:${m.employer}` : `member:${m.id}`;

/**
 * Rates one period (a pure function). The same input, in any order, gives the same lines in
 * the same order. Throws `billing.unpriced` listing every billed plan without a tariff; uses of
 * an item without a price are not charged but listed in `unpriced` (a site's new item must not
 * hold up the month).
 */
export const ratePeriod = (input: RatingInput): Rating => runAtOnce(ratingOf(input));

/** `ratePeriod` in slices of a few milliseconds, the event loop answering between them. */
export const ratePeriodInSlices = (input: RatingInput, slices: Slices): Promise<Rating> =>
  runInSlices(ratingOf(input), slices);

/** What a rating reads besides the events. */
export type RatingBasis = Omit<RatingInput, 'events'>;

function* ratingOf({ events, ...basis }: RatingInput): Steps<Rating> {
  const rating = new PeriodRating(basis);
  let done = 0;
  for (const e of yield* inSiteSeqOrder(events)) {
    if (++done % STEP === 0) yield;
    rating.add(e);
  }
  return yield* rating.steps();
}

/**
 * A period's rating fed its events one at a time as the hub reads them (each site's in seq
 * order), then rated (`steps`, as `ratePeriod`): it keeps what rating needs of the events (the
 * members' days, the consumable uses, the visits of the few members holding a pack), never the
 * events themselves, so that a month of millions is rated in bounded memory.
 */
export class PeriodRating {
  private readonly tally: VisitTally;
  private readonly chains = new Map<string, PackChain>();
  /** The presence events of the members whose packs count in the period: their days draw from them. */
  private readonly held = new Map<string, BilledEvent[]>();

  constructor(private readonly basis: RatingBasis) {
    this.tally = new VisitTally(basis.zones);
    for (const [member, list] of groupBy(basis.packs?.purchases ?? [], (p) => p.member)) {
      const chain = packChain(list, basis.period);
      if (chain) this.chains.set(member, chain);
    }
  }

  add(event: BilledEvent): void {
    this.tally.add(event);
    if (event.type === 'consumable.used' || !this.chains.has(event.member)) return;
    const own = this.held.get(event.member);
    if (own) own.push(event);
    else this.held.set(event.member, [event]);
  }

  /** The rating of the events added, every account's lines together (once: it ends the tally). */
  steps(): Steps<Rating> {
    return collected((each) => this.accountSteps(each));
  }

  /**
   * The rating of the events added, account by account in account order: each account's lines
   * and days handed to `each` as soon as they are rated, and let go here (once: it ends the
   * tally). A month's lines are never held together unless `each` keeps them.
   */
  accountSteps(each: (account: RatedAccount) => void): Steps<RatingNotes> {
    return ratingSteps(this.basis, this.tally, (input) => packDrawSteps(input, this.chains, this.held), each);
  }
}

/** Every account's lines and days in one list each, in account order: the lines sorted by key. */
function* collected(rate: (each: (account: RatedAccount) => void) => Steps<RatingNotes>): Steps<Rating> {
  const lines: RatedLine[] = [];
  const days: SiteDays[] = [];
  const notes = yield* rate((a) => {
    for (const l of a.lines) lines.push(l);
    for (const d of a.days) days.push(d);
  });
  return { lines, days, ...notes };
}

/** Members rated between two yields. */
const MEMBER_STEP = 100;

function* ratingSteps(
  input: RatingBasis,
  tally: VisitTally,
  drawSteps: (input: RatingBasis) => Steps<Map<string, Map<string, PackPurchase>>>,
  each: (account: RatedAccount) => void,
): Steps<RatingNotes> {
  const members = new Map(input.members.map((m) => [m.id, m]));
  const tallied = yield* tally.steps();
  const days = tallied.days;
  const uses = yield* groupSteps(tallied.uses, (u) => u.member);
  const booked = yield* groupSteps(
    (input.bookings ?? []).filter((b) => bookingPeriod(b, input.zones) === input.period),
    (b) => b.member,
  );
  const sold = groupBy(
    (input.packs?.purchases ?? []).filter((p) => periodOf(p.date) === input.period),
    (p) => p.member,
  );
  const problems = missingPrices(input, days, uses, booked, members, sold);
  if (problems.length > 0)
    throw new TesseraError('billing.unpriced', `${problems.length} price(s) missing from the price list`, problems);
  const plans = new Map(input.plans.map((p) => [p.id, p]));
  const unbilled: Unbilled[] = [];
  const admitted: AdmittedBeyondQuota[] = [];
  const unpriced: ConsumableUse[] = [];
  const draws = yield* drawSteps(input);
  // The billed members by account, each account's in id order; the others listed or let go at once.
  const accounts = new Map<string, Member[]>();
  const ids = [...new Set([...members.keys(), ...days.keys(), ...uses.keys(), ...booked.keys()])].sort();
  for (const id of ids) {
    const member = members.get(id);
    if (member) {
      // No tariff, and (missingPrices) nothing used and no day of validity in the period: nothing to bill.
      if (UNBILLED_ROLES.has(member.role) || !Object.hasOwn(input.prices.plans, member.plan)) {
        days.delete(id);
        uses.delete(id);
      } else {
        const list = accounts.get(accountOf(member));
        if (list) list.push(member);
        else accounts.set(accountOf(member), [member]);
      }
      continue;
    }
    const billable = (days.get(id) ?? []).filter((d) => periodOf(d.date) === input.period);
    const used = (uses.get(id) ?? []).filter((u) => periodOf(u.date) === input.period);
    days.delete(id);
    uses.delete(id);
    const bookings = booked.get(id)?.length ?? 0;
    if (billable.length + used.length + bookings > 0)
      unbilled.push({
        member: id,
        reason: 'not_in_directory',
        days: billable.length,
        consumables: used.length,
        // Only when there are some: the lists of months closed before bookings read as they did.
        ...(bookings > 0 ? { bookings } : {}),
      });
  }
  let rated = 0;
  for (const account of [...accounts.keys()].sort()) {
    const lines = new LineBook(input.rules !== 'before-line-dates');
    const siteDays: SiteDays[] = [];
    for (const member of accounts.get(account) ?? []) {
      if (++rated % MEMBER_STEP === 0) yield;
      // Each member's days and uses are let go once rated: a month's are never held beside its lines.
      const id = member.id;
      const memberDays = days.get(id) ?? [];
      const memberUses = (uses.get(id) ?? []).filter((u) => periodOf(u.date) === input.period);
      days.delete(id);
      uses.delete(id);
      const tariff = input.prices.plans[member.plan] as PlanTariff;
      for (const p of sold.get(id) ?? []) ratePack(lines, member, p);
      const plan = plans.get(member.plan);
      admitted.push(...rateMember(lines, input, member, tariff, plan, memberDays, draws.get(id)));
      siteDays.push(
        ...daysBySite(
          member,
          memberDays.filter((d) => periodOf(d.date) === input.period),
        ),
      );
      unpriced.push(...rateConsumables(lines, input.prices, member, tariff, memberUses));
      rateBookings(lines, input, member, tariff, booked.get(id) ?? []);
    }
    accounts.delete(account);
    each({ account, lines: lines.sorted(), days: siteDays });
  }
  yield;
  return {
    unbilled,
    // In member order, as members are listed everywhere else (they were rated account by account).
    admittedBeyondQuota: admitted.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0)),
    unpriced: unpricedOf(input.period, unpriced),
  };
}

function daysBySite(member: Member, days: readonly MemberDay[]): SiteDays[] {
  const bySite = groupBy(days, (d) => d.site);
  return [...bySite.keys()]
    .sort()
    .map((site) => ({ account: accountOf(member), member: member.id, site, days: bySite.get(site)?.length ?? 0 }));
}

/** Charges the member's plan and days; returns the days let in beyond a refusing plan's quota. */
function rateMember(
  lines: LineBook,
  input: RatingBasis,
  member: Member,
  tariff: PlanTariff,
  plan: Plan | undefined,
  days: readonly MemberDay[],
  drawn: ReadonlyMap<string, PackPurchase> = new Map(),
): AdmittedBeyondQuota[] {
  const { period } = input;
  const legacy = input.rules === 'before-line-dates';
  const vat = vatBasisPoints(tariff.vatPercent);
  // The part of the month the membership covers; before lines carried dates, the whole month if it overlapped.
  const covered = legacy
    ? overlaps(period, member.validFrom, member.validUntil)
      ? WHOLE
      : undefined
    : coverage(period, member.validFrom, member.validUntil);
  const line = (
    site: string | null,
    kind: LineKind,
    description: string,
    unitCents: number,
    dates: string[],
    span?: Coverage,
  ) =>
    lines.add({
      account: accountOf(member),
      member: member.id,
      site,
      kind,
      item: null,
      description,
      quantity: dates.length === 0 ? 1 : dates.length,
      unitCents,
      amountCents: 0,
      vatBasisPoints: vat,
      dates,
      ...(span && span !== WHOLE ? { from: span.from, to: span.to } : {}),
    });
  // Her own locker, if her plan opens it at the door (edge/access/decide.ts); before, whatever the plan said.
  const locker = member.locker !== undefined && (legacy || plan?.lockers === true);
  if (tariff.lockerMonthlyCents !== undefined && locker && covered)
    line(
      null,
      'locker',
      `Locker rental ${monthly(period, covered)}`,
      prorated(tariff.lockerMonthlyCents, covered),
      [],
      covered,
    );
  switch (tariff.kind) {
    case 'per-day': {
      const charged = new Map<string, { site: string; half: boolean; dates: string[] }>();
      for (const d of days.filter((x) => periodOf(x.date) === period)) {
        const pack = drawn.get(d.date);
        if (pack) {
          lines.add({
            account: accountOf(member),
            member: member.id,
            site: d.site,
            kind: 'pack-day',
            item: pack.pack,
            description: `Days from the pack "${pack.name}" bought ${pack.date}`,
            quantity: 1,
            unitCents: 0,
            amountCents: 0,
            vatBasisPoints: vatBasisPoints(pack.vatPercent),
            dates: [d.date],
          });
          continue;
        }
        const half = tariff.halfDay !== undefined && d.minutes !== null && d.minutes < tariff.halfDay.underMinutes;
        const key = `${half ? 'half' : 'day'}\u0000${d.site}`;
        const held = charged.get(key);
        if (held) held.dates.push(d.date);
        else charged.set(key, { site: d.site, half, dates: [d.date] });
      }
      // One line per site and kind of day with all its dates, as the book would merge them.
      for (const { site, half, dates } of charged.values())
        if (half && tariff.halfDay)
          line(
            site,
            'half-day',
            `Half-day visits (under ${tariff.halfDay.underMinutes} min)`,
            tariff.halfDay.cents,
            dates,
          );
        else line(site, 'day', 'Day visits', tariff.dayCents, dates);
      return [];
    }
    case 'week-pass':
      for (const week of weeksOf(days, period))
        line(week[0]?.site ?? null, 'week', 'Week passes', tariff.weekCents, [weekOf(week[0]?.date ?? '')]);
      return [];
    case 'subscription': {
      const { daysPerWeek, extraDay } = tariff;
      const terms = daysPerWeek === undefined ? 'unlimited days' : `${daysPerWeek} day(s) a week`;
      if (covered)
        line(
          null,
          'subscription',
          `Subscription, ${terms}, ${monthly(period, covered)}`,
          prorated(tariff.monthlyCents, covered),
          [],
          covered,
        );
      if (daysPerWeek === undefined || extraDay === undefined) return [];
      const extra = extraDayTerms(daysPerWeek, extraDay);
      // The days of a week beyond its first `daysPerWeek` by date: the latest ones are the extra ones.
      const beyond = weeksOf(days, period).flatMap((week) => week.slice(daysPerWeek));
      for (const d of beyond) line(d.site, 'extra-day', extra.description, extra.cents, [d.date]);
      if (!extra.refused) return [];
      return beyond.map((d) => ({
        member: member.id,
        account: accountOf(member),
        plan: member.plan,
        site: d.site,
        date: d.date,
        unitCents: extra.cents,
      }));
    }
  }
}

/** A pack sold, on the month of its date, at the price it was sold at: its line covers the days it may be used. */
function ratePack(lines: LineBook, member: Member, p: PackPurchase): void {
  lines.add({
    account: accountOf(member),
    member: member.id,
    site: null,
    kind: 'pack',
    item: p.pack,
    description: `Pack "${p.name}", ${p.days} day(s) to use from ${p.date} to ${p.validUntil}`,
    quantity: 1,
    unitCents: p.cents,
    amountCents: 0,
    vatBasisPoints: vatBasisPoints(p.vatPercent),
    dates: [p.date],
    from: p.date,
    to: p.validUntil,
  });
}

/**
 * For each holder of a pack that counts in the period: the days drawn from it (date → pack),
 * from her visits since the first day her packs need, those received after their month's
 * close left out (pack-rating.ts).
 */
function* packDrawSteps(
  input: RatingBasis,
  chains: ReadonlyMap<string, PackChain>,
  held: ReadonlyMap<string, readonly BilledEvent[]>,
): Steps<Map<string, Map<string, PackPurchase>>> {
  const out = new Map<string, Map<string, PackPurchase>>();
  const packs = input.packs;
  if (!packs || chains.size === 0) return out;
  const history = new Map<string, BilledEvent[]>();
  for (const e of packs.history) {
    if (e.type === 'consumable.used' || !chains.has(e.member)) continue;
    const own = history.get(e.member);
    if (own) own.push(e);
    else history.set(e.member, [e]);
  }
  const last = lastDay(input.period);
  for (const [member, chain] of chains) {
    const own = [...(history.get(member) ?? []), ...(held.get(member) ?? [])];
    const datesOf = function* (list: readonly BilledEvent[]) {
      const { days } = yield* tallyOf(list, input.zones);
      return [...days.values()].flatMap((d) => d.map((x) => x.date)).filter((d) => d >= chain.from && d <= last);
    };
    // On time: received by the close of the month of its date (the month being rated is not closed).
    const onTime = own.filter((e) => e.receivedAt <= (packs.cutoffs.get(periodOf(e.at.slice(0, 10))) ?? Infinity));
    const dates = (yield* datesOf(own)).sort();
    out.set(member, packDraws(chain, dates, new Set(yield* datesOf(onTime))));
  }
  return out;
}

/** A whole month, as months closed before lines carried their dates charged every one the membership overlapped. */
const WHOLE: Coverage = { from: '', to: '', days: 1, monthDays: 1 };

/**
 * A monthly price for the part of the month covered: `cents × days ÷ days of the month`,
 * rounded half up to the cent (a whole month is the price itself).
 */
export function prorated(cents: number, covered: Coverage): number {
  if (covered.days >= covered.monthDays) return cents;
  return Math.floor((2 * cents * covered.days + covered.monthDays) / (2 * covered.monthDays));
}

/** How a monthly line names its period: the month, or the days of it covered. */
const monthly = (period: PeriodId, covered: Coverage): string =>
  covered === WHOLE || covered.days >= covered.monthDays
    ? period
    : `${covered.from} to ${covered.to} (${covered.days}/${covered.monthDays} days)`;

/**
 * What a day beyond the quota costs and how its line reads. A plan whose door refuses the day
 * charges its stated price for one a site let in anyway; only a list from before that price was
 * asked for (`"refuse"`, kept by closed months) still shows it at no charge, so that a closed
 * month re-rates as it was closed.
 */
function extraDayTerms(
  daysPerWeek: number,
  extraDay: ExtraDay,
): { cents: number; description: string; refused: boolean } {
  if (extraDay === 'refuse')
    return {
      cents: 0,
      description: `Days beyond ${daysPerWeek} a week (refused by the plan: not charged)`,
      refused: true,
    };
  if (extraDay.refuse === true)
    return {
      cents: extraDay.cents,
      description: `Days beyond ${daysPerWeek} a week, let in although the plan refuses them`,
      refused: true,
    };
  return { cents: extraDay.cents, description: `Days beyond ${daysPerWeek} a week`, refused: false };
}

/** The member's days grouped by ISO week, for the weeks billed in `period`, each week's days by date. */
function weeksOf(days: readonly MemberDay[], period: PeriodId): MemberDay[][] {
  const weeks = groupBy(
    days.filter((d) => periodOfWeek(weekOf(d.date)) === period),
    (d) => weekOf(d.date),
  );
  return [...weeks.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, list]) => list.sort((a, b) => (a.date < b.date ? -1 : 1)));
}

/** Units beyond the monthly inclusion are charged, in the order they were used, at the site of use. Returns the uses without a price. */
function rateConsumables(
  lines: LineBook,
  prices: PriceList,
  member: Member,
  tariff: PlanTariff,
  uses: readonly ConsumableUse[],
): ConsumableUse[] {
  const left = new Map(Object.entries(tariff.included));
  const unpriced: ConsumableUse[] = [];
  for (const use of uses) {
    // Own keys only: an item named `toString` or `constructor` fits the pattern, and is no price.
    const price = Object.hasOwn(prices.consumables, use.item) ? prices.consumables[use.item] : undefined;
    if (!price) {
      unpriced.push(use);
      continue;
    }
    const free = Math.min(left.get(use.item) ?? 0, use.quantity);
    left.set(use.item, (left.get(use.item) ?? 0) - free);
    const charged = use.quantity - free;
    if (charged === 0) continue;
    const included = Object.hasOwn(tariff.included, use.item) ? tariff.included[use.item] : undefined;
    const description = included ? `${price.name} beyond ${included} included` : price.name;
    lines.add({
      account: accountOf(member),
      member: member.id,
      site: use.site,
      kind: 'consumable',
      item: use.item,
      description,
      quantity: charged,
      unitCents: price.unitCents,
      amountCents: 0,
      vatBasisPoints: vatBasisPoints(price.vatPercent),
      dates: [use.date],
    });
  }
  return unpriced;
}

/** The member's bookings of the period, on the member's account at the plan's VAT (booking-rating.ts). */
function rateBookings(
  lines: LineBook,
  input: RatingBasis,
  member: Member,
  tariff: PlanTariff,
  bookings: readonly BilledBooking[],
): void {
  if (bookings.length === 0) return;
  for (const l of bookingLines(bookings, input.resources ?? new Map(), tariff.bookings, input.zones))
    lines.add({
      ...l,
      account: accountOf(member),
      member: member.id,
      amountCents: 0,
      vatBasisPoints: vatBasisPoints(tariff.vatPercent),
    });
}

function missingPrices(
  input: RatingBasis,
  days: Map<string, MemberDay[]>,
  uses: Map<string, ConsumableUse[]>,
  booked: Map<string, BilledBooking[]>,
  members: Map<string, Member>,
  sold: Map<string, PackPurchase[]>,
): ErrorDetail[] {
  const problems = new Map<string, string>();
  for (const m of [...members.values()].filter((x) => !UNBILLED_ROLES.has(x.role))) {
    const used = days.has(m.id) || uses.has(m.id) || booked.has(m.id) || sold.has(m.id);
    // Own keys only, as for items: a plan named `constructor` has no tariff unless the list gives it one.
    if (!Object.hasOwn(input.prices.plans, m.plan) && (used || overlaps(input.period, m.validFrom, m.validUntil)))
      problems.set(`plans.${m.plan}`, `no tariff for plan ${JSON.stringify(m.plan)} (member ${m.id})`);
  }
  return [...problems.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, message]) => ({ path, message }));
}

/** `groupBy`, yielding every `STEP` items. */
function* groupSteps<T>(items: readonly T[], key: (x: T) => string): Steps<Map<string, T[]>> {
  const map = new Map<string, T[]>();
  let done = 0;
  for (const x of items) {
    if (++done % STEP === 0) yield;
    const k = key(x);
    const list = map.get(k);
    if (list) list.push(x);
    else map.set(k, [x]);
  }
  return map;
}

function groupBy<T>(items: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = map.get(k);
    if (list) list.push(x);
    else map.set(k, [x]);
  }
  return map;
}

/** Lines merged by what they charge: one line per (account, member, site, kind, item, price, VAT). */
export class LineBook {
  private readonly lines = new Map<string, RatedLine>();

  /** `dated`: lines carry `from` and `to` (not under the rules of months closed before they did). */
  constructor(private readonly dated = true) {}

  add(line: RatedLine): void {
    const key = lineKey(line);
    const held = this.lines.get(key);
    if (held) this.merge(held, line);
    else this.lines.set(key, this.kept(line));
  }

  /**
   * A line as the book keeps it: its own object and dates, amount worked out, span added. Field
   * by field, not spread: a month's close keeps tens of thousands, and a rest spread is a
   * runtime call for each.
   */
  private kept(line: RatedLine): RatedLine {
    const kept: RatedLine = {
      account: line.account,
      member: line.member,
      site: line.site,
      kind: line.kind,
      item: line.item,
      description: line.description,
      quantity: line.quantity,
      unitCents: line.unitCents,
      amountCents: line.quantity * line.unitCents,
      vatBasisPoints: line.vatBasisPoints,
      dates: [...line.dates],
    };
    if (!this.dated) return kept;
    const span = spanOf(line);
    if (span.from !== undefined) kept.from = span.from;
    if (span.to !== undefined) kept.to = span.to;
    return kept;
  }

  /** A line added to the one held under its key: most lines gather many dates (a member's days, her uses of an item). */
  private merge(held: RatedLine, line: RatedLine): void {
    held.quantity += line.quantity;
    held.amountCents = held.quantity * held.unitCents;
    for (const date of line.dates) held.dates.push(date);
    if (!this.dated) return;
    const span = spanOf(line);
    if (span.from !== undefined && (held.from === undefined || span.from < held.from)) held.from = span.from;
    if (span.to !== undefined && (held.to === undefined || span.to > held.to)) held.to = span.to;
  }

  /** The lines by key, each one's dates once and in order. Ends the book: its lines are handed on, not copied. */
  sorted(): RatedLine[] {
    const entries = [...this.lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.lines.clear();
    return entries.map(([, l]) => {
      l.dates = [...new Set(l.dates)].sort();
      return l;
    });
  }
}

/**
 * The first and last day that lines of `kind` on `dates` cover: a week pass (dated by its
 * Monday) to the Sunday of its last week, any other line from its first date to its last.
 * None for a line without dates.
 */
export function lineSpan(kind: LineKind, dates: readonly string[]): { from?: string; to?: string } {
  if (dates.length === 0) return {};
  let from = dates[0] as string;
  let to = from;
  for (const d of dates) {
    if (d < from) from = d;
    if (d > to) to = d;
  }
  return { from, to: kind === 'week' ? addDays(to, 6) : to };
}

export const lineKey = (
  l: Pick<RatedLine, 'account' | 'member' | 'site' | 'kind' | 'item' | 'unitCents' | 'vatBasisPoints' | 'description'>,
): string =>
  `${l.account}\u0000${l.member}\u0000${l.site ?? ''}\u0000${l.kind}\u0000${l.item ?? ''}\u0000${l.unitCents}\u0000${l.vatBasisPoints}\u0000${l.description}`;

/** The span a line was given (a pack, a subscription, a locker: what its month covers), else that of its dates. */
const spanOf = (line: RatedLine): Pick<RatedLine, 'from' | 'to'> =>
  line.from !== undefined && line.to !== undefined ? line : lineSpan(line.kind, line.dates);
