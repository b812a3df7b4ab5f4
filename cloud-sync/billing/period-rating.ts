import type { Employer, Member, Plan } from '../../shared/protocol/directory.js';
import type { Resource } from '../../shared/protocol/bookings.js';
import { readBilledBookings } from './booking-source.js';
import type { Sql } from '../hub/db.js';
import { Slices } from '../hub/slices.js';
import type { ReadProgress } from './event-source.js';
import { datesReceivedBetween, readBilledEvents } from './event-source.js';
import type { Invoice } from './invoice.js';
import { adjustmentsOf, invoiceSteps } from './invoice.js';
import { runInSlices } from './steps.js';
import type { PeriodId } from './period.js';
import { addDays, periodOf, readWindow } from './period.js';
import type { PriceList } from './prices.js';
import type { AdmittedBeyondQuota, RatedLine, RatingRules } from './rate.js';
import { ratePeriodInSlices, type PackInput } from './rate.js';
import { packDatesRecordedBetween, packInput } from './packs.js';
import type { Unbilled, UnpricedUse } from './unpriced.js';
import { sortUnpriced, unpricedSince } from './unpriced.js';

/** Everything a rating reads besides the events: fixed for one close. */
export interface RatingContext {
  /** Where the events are read: the database, outside any transaction (a rating is long). */
  db: Sql;
  prices: PriceList;
  members: readonly Member[];
  employers: readonly Employer[];
  /** The directory's plans (whether a plan opens lockers). */
  plans: readonly Plan[];
  /** Today's rules unless given: `verify` of a month closed before lines carried their dates rates by its rules. */
  rules?: RatingRules;
  zones: ReadonlyMap<string, string>;
  /** The bookable resources by id, with the prices their bookings are billed at. */
  resources: ReadonlyMap<string, Resource>;
  progress?: ReadProgress;
  /** Reading and rating give the event loop a turn once they have run for its budget. */
  slices?: Slices;
}

/** The last close before this one: its cutoff, and every period closed so far. */
export interface LedgerState {
  lastCutoff: number;
  closed: ReadonlySet<PeriodId>;
  /** Closed periods whose access and presence events the hub's retention pruned: never re-rated. */
  pruned?: ReadonlySet<PeriodId>;
}

export interface PeriodStatement {
  invoices: Invoice[];
  unbilled: Unbilled[];
  /** The period's days let in beyond a quota the plan refuses: charged, and listed for the operator. */
  admittedBeyondQuota: AdmittedBeyondQuota[];
  /** Uses of items without a price, this month's and those late events brought to closed months: not charged. */
  unpriced: UnpricedUse[];
  /** Closed periods that late events changed, corrected on these invoices. */
  adjusted: PeriodId[];
  /** Closed periods that late events touched but whose events were pruned: not re-rated, not billed. */
  unrated: PeriodId[];
  /** Event rows that could not be read (counted, skipped). */
  unreadable: number;
}

/**
 * The invoices of `period` as of `cutoff`: its own events received up to the cutoff, plus, for
 * each closed period that late events touched, what they changed since the last close
 * (`rate(Q, cutoff) - rate(Q, lastCutoff)`, line by line). Summed over closes this telescopes:
 * a closed invoice plus its adjustments is the rating of all its events, and nothing is counted
 * twice or lost.
 */
export async function statementOf(
  given: RatingContext,
  period: PeriodId,
  cutoff: number,
  state: LedgerState | undefined,
): Promise<PeriodStatement> {
  const ctx = { ...given, slices: given.slices ?? new Slices() };
  // Destructured so that the month's events can be collected before the closed months are read.
  const { rating: own, unreadable: ownUnreadable } = await rateAt(ctx, period, cutoff, 'reading events', state?.pruned);
  const adjustments = new Map<PeriodId, RatedLine[]>();
  let unreadable = ownUnreadable;
  const unrated: PeriodId[] = [];
  const unpriced = [...own.unpriced];
  for (const q of state ? await touchedPeriods(ctx, state, period, cutoff) : []) {
    // A month whose presence events are gone would be rated without what it was billed with
    // (quotas, half days): its late events are left unbilled, and the close says so.
    if (state?.pruned?.has(q) === true) {
      unrated.push(q);
      continue;
    }
    const after = await rateAt(ctx, q, cutoff, `late events of ${q}`, state?.pruned);
    const lastCutoff = state?.lastCutoff ?? 0;
    // The same bookings on both sides: late events adjust a closed month, its bookings stay as billed.
    const before = await ratePeriodInSlices(
      {
        ...input(ctx, q),
        events: after.events.filter((e) => e.receivedAt <= lastCutoff),
        bookings: after.bookings,
        packs: packsAsOf(after.packs, lastCutoff),
      },
      ctx.slices,
    );
    unreadable += after.unreadable;
    unpriced.push(...unpricedSince(before.unpriced, after.rating.unpriced));
    const lines = adjustmentsOf(before.lines, after.rating.lines);
    if (lines.length > 0) adjustments.set(q, lines);
  }
  const members = new Map(ctx.members.map((m) => [m.id, m]));
  const employers = new Map(ctx.employers.map((e) => [e.id, e]));
  const invoices = await runInSlices(
    invoiceSteps(period, ctx.prices.currency, own.lines, adjustments, { members, employers }, own.days),
    ctx.slices,
  );
  return {
    invoices,
    unbilled: own.unbilled,
    admittedBeyondQuota: own.admittedBeyondQuota,
    unpriced: sortUnpriced(unpriced),
    adjusted: [...adjustments.keys()],
    unrated,
    unreadable,
  };
}

function input(ctx: RatingContext, period: PeriodId) {
  return {
    period,
    prices: ctx.prices,
    members: ctx.members,
    employers: ctx.employers,
    plans: ctx.plans,
    ...(ctx.rules ? { rules: ctx.rules } : {}),
    zones: ctx.zones,
    resources: ctx.resources,
  };
}

async function rateAt(
  ctx: RatingContext & { slices: Slices },
  period: PeriodId,
  cutoff: number,
  phase: string,
  pruned: ReadonlySet<PeriodId> | undefined,
) {
  const read = await readBilledEvents(ctx.db, readWindow(period), cutoff, {
    progress: ctx.progress,
    phase,
    slices: ctx.slices,
  });
  const bookings = await readBilledBookings(ctx.db, period, cutoff, { slices: ctx.slices });
  const { packs, unreadable } = await packInput(ctx.db, period, cutoff, pruned);
  return {
    events: read.events,
    bookings,
    packs,
    unreadable: read.unreadable + unreadable,
    rating: await ratePeriodInSlices({ ...input(ctx, period), events: read.events, bookings, packs }, ctx.slices),
  };
}

/** The packs as a rating at an earlier cutoff saw them: the sales and visits the hub had then. */
const packsAsOf = (packs: PackInput, cutoff: number): PackInput => ({
  purchases: packs.purchases.filter((p) => Date.parse(p.recordedAt) <= cutoff),
  history: packs.history.filter((e) => e.receivedAt <= cutoff),
  cutoffs: packs.cutoffs,
});

/** Closed periods whose read window holds a billed event received since the last close. */
async function touchedPeriods(
  ctx: RatingContext & { slices: Slices },
  state: LedgerState,
  period: PeriodId,
  cutoff: number,
): Promise<PeriodId[]> {
  const touched = new Set<PeriodId>();
  for (const date of await datesReceivedBetween(ctx.db, state.lastCutoff, cutoff, { slices: ctx.slices }))
    for (const q of [periodOf(addDays(date, -7)), periodOf(date), periodOf(addDays(date, 7))])
      if (q !== period && state.closed.has(q)) touched.add(q);
  // A pack recorded after its month was closed (a sale in that close's last minute) adjusts that month.
  for (const date of await packDatesRecordedBetween(ctx.db, state.lastCutoff, cutoff))
    if (periodOf(date) !== period && state.closed.has(periodOf(date))) touched.add(periodOf(date));
  return [...touched].sort();
}
