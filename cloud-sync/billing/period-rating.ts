import type { Employer, Member, Plan } from '../../shared/protocol/directory.js';
import type { Resource } from '../../shared/protocol/bookings.js';
import { readBilledBookings } from './booking-source.js';
import type { Sql } from '../hub/db.js';
import { Slices } from '../hub/slices.js';
import type { ReadProgress } from './event-source.js';
import { datesReceivedBetween, forEachBilledEvent } from './event-source.js';
import type { Invoice } from './invoice.js';
import { adjustmentsOf, invoiceSteps } from './invoice.js';
import { runInSlices } from './steps.js';
import type { PeriodId } from './period.js';
import { addDays, periodOf, readWindow } from './period.js';
import type { PriceList } from './prices.js';
import type { AdmittedBeyondQuota, Rating, RatedLine, RatingRules } from './rate.js';
import { PeriodRating, type PackInput } from './rate.js';
import type { BilledEvent } from './visits.js';
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
  /** Rows of the events table read at a time (event-source.ts `PAGE_ROWS` unless given: tests use small pages). */
  pageRows?: number;
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
  const own = await rateAt(ctx, period, cutoff, 'reading events', state?.pruned);
  const adjustments = new Map<PeriodId, RatedLine[]>();
  let unreadable = own.unreadable;
  const unrated: PeriodId[] = [];
  const unpriced = [...own.rating.unpriced];
  for (const q of state ? await touchedPeriods(ctx, state, period, cutoff) : []) {
    // A month whose presence events are gone would be rated without what it was billed with
    // (quotas, half days): its late events are left unbilled, and the close says so.
    if (state?.pruned?.has(q) === true) {
      unrated.push(q);
      continue;
    }
    // The same bookings on both sides: late events adjust a closed month, its bookings stay as billed.
    const late = await rateAt(ctx, q, cutoff, `late events of ${q}`, state?.pruned, state?.lastCutoff ?? 0);
    const { rating: after, before } = late;
    unreadable += late.unreadable;
    unpriced.push(...unpricedSince(before.unpriced, after.unpriced));
    const lines = adjustmentsOf(before.lines, after.lines);
    if (lines.length > 0) adjustments.set(q, lines);
  }
  const members = new Map(ctx.members.map((m) => [m.id, m]));
  const employers = new Map(ctx.employers.map((e) => [e.id, e]));
  const invoices = await runInSlices(
    invoiceSteps(period, ctx.prices.currency, own.rating.lines, adjustments, { members, employers }, own.rating.days),
    ctx.slices,
  );
  return {
    invoices,
    unbilled: own.rating.unbilled,
    admittedBeyondQuota: own.rating.admittedBeyondQuota,
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

interface Rated {
  rating: Rating;
  /** Event rows, and the holders' earlier visits, that could not be read. */
  unreadable: number;
}

/**
 * The rating of `period` as of `cutoff`, its events rated as they are read (never all held);
 * with `asOf`, also its rating as of that earlier cutoff (the last close's) from the same read:
 * the events and the sales the hub had then, the same bookings.
 */
async function rateAt(ctx: Ctx, period: PeriodId, cutoff: number, phase: string, pruned: Pruned): Promise<Rated>;
async function rateAt(
  ctx: Ctx,
  period: PeriodId,
  cutoff: number,
  phase: string,
  pruned: Pruned,
  asOf: number,
): Promise<Rated & { before: Rating }>;
async function rateAt(
  ctx: Ctx,
  period: PeriodId,
  cutoff: number,
  phase: string,
  pruned: Pruned,
  asOf?: number,
): Promise<Rated & { before?: Rating }> {
  const bookings = await readBilledBookings(ctx.db, period, cutoff, { slices: ctx.slices });
  const { packs, unreadable } = await packInput(ctx.db, period, cutoff, pruned);
  const rating = new PeriodRating({ ...input(ctx, period), bookings, packs });
  const before =
    asOf === undefined
      ? undefined
      : new PeriodRating({ ...input(ctx, period), bookings, packs: packsAsOf(packs, asOf) });
  const add = (e: BilledEvent) => {
    rating.add(e);
    if (asOf !== undefined && e.receivedAt <= asOf) before?.add(e);
  };
  const read = await forEachBilledEvent(ctx.db, readWindow(period), cutoff, add, {
    progress: ctx.progress,
    phase,
    slices: ctx.slices,
    ...(ctx.pageRows === undefined ? {} : { pageRows: ctx.pageRows }),
  });
  return {
    rating: await runInSlices(rating.steps(), ctx.slices),
    ...(before ? { before: await runInSlices(before.steps(), ctx.slices) } : {}),
    unreadable: read.unreadable + unreadable,
  };
}

type Ctx = RatingContext & { slices: Slices };
type Pruned = ReadonlySet<PeriodId> | undefined;

/** The packs as a rating at an earlier cutoff saw them: the sales and visits the hub had then. */
const packsAsOf = (packs: PackInput, cutoff: number): PackInput => ({
  purchases: packs.purchases.filter((p) => Date.parse(p.recordedAt) <= cutoff),
  history: packs.history.filter((e) => e.receivedAt <= cutoff),
  cutoffs: packs.cutoffs,
});

/** Closed periods whose read window holds a billed event received since the last close. */
async function touchedPeriods(ctx: Ctx, state: LedgerState, period: PeriodId, cutoff: number): Promise<PeriodId[]> {
  const touched = new Set<PeriodId>();
  const paging = { slices: ctx.slices, ...(ctx.pageRows === undefined ? {} : { pageRows: ctx.pageRows }) };
  for (const date of await datesReceivedBetween(ctx.db, state.lastCutoff, cutoff, paging))
    for (const q of [periodOf(addDays(date, -7)), periodOf(date), periodOf(addDays(date, 7))])
      if (q !== period && state.closed.has(q)) touched.add(q);
  // A pack recorded after its month was closed (a sale in that close's last minute) adjusts that month.
  for (const date of await packDatesRecordedBetween(ctx.db, state.lastCutoff, cutoff))
    if (periodOf(date) !== period && state.closed.has(periodOf(date))) touched.add(periodOf(date));
  return [...touched].sort();
}
