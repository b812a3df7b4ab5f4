import type { Employer, Member, Plan } from '../../shared/protocol/directory.js';
import type { Resource } from '../../shared/protocol/bookings.js';
import { readBilledBookings } from './booking-source.js';
import type { Sql } from '../hub/db.js';
import { Slices } from '../hub/slices.js';
import type { ReadProgress } from './event-source.js';
import { datesReceivedBetween, forEachBilledEvent } from './event-source.js';
import type { Invoice } from './invoice.js';
import type { InvoiceLine } from '../../shared/protocol/api/hub-billing.js';
import { AccountInvoices, adjustmentLines, adjustmentsOf } from './invoice.js';
import { runInSlices } from './steps.js';
import type { PeriodId } from './period.js';
import { addDays, periodOf, readWindow } from './period.js';
import type { PriceList } from './prices.js';
import type { AdmittedBeyondQuota, RatedLine, RatingRules } from './rate.js';
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

/** What a period's rating lists besides its invoices. */
export interface PeriodStatement {
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

/** A period's events read and its late corrections rated: its invoices are made by `rate`. */
export interface StatementRun {
  /** Closed periods that late events changed, corrected on these invoices. */
  adjusted: PeriodId[];
  /** Each account's adjustment lines, as its invoice carries them (corrections.ts routes them). */
  adjusting: ReadonlyMap<string, readonly InvoiceLine[]>;
  /**
   * Rates the period account by account, handing each account's invoice to `each` in account
   * order as soon as it is made (once): a month's invoices are never all held here.
   */
  rate(each: (invoice: Invoice) => void): Promise<PeriodStatement>;
}

/**
 * The invoices of `period` as of `cutoff`: its own events received up to the cutoff, plus, for
 * each closed period that late events touched, what they changed since the last close
 * (`rate(Q, cutoff) - rate(Q, lastCutoff)`, line by line). Summed over closes this telescopes:
 * a closed invoice plus its adjustments is the rating of all its events, and nothing is counted
 * twice or lost. The period's events are read here; its accounts are rated by the run's `rate`.
 */
export async function statementOf(
  given: RatingContext,
  period: PeriodId,
  cutoff: number,
  state: LedgerState | undefined,
): Promise<StatementRun> {
  const ctx = { ...given, slices: given.slices ?? new Slices() };
  const own = await readAt(ctx, period, cutoff, 'reading events', state?.pruned);
  const adjustments = new Map<PeriodId, RatedLine[]>();
  let unreadable = own.unreadable;
  const unrated: PeriodId[] = [];
  const unpriced: UnpricedUse[] = [];
  for (const q of state ? await touchedPeriods(ctx, state, period, cutoff) : []) {
    // A month whose presence events are gone would be rated without what it was billed with
    // (quotas, half days): its late events are left unbilled, and the close says so.
    if (state?.pruned?.has(q) === true) {
      unrated.push(q);
      continue;
    }
    // The same bookings on both sides: late events adjust a closed month, its bookings stay as billed.
    const late = await readAt(ctx, q, cutoff, `late events of ${q}`, state?.pruned, state?.lastCutoff ?? 0);
    const after = await runInSlices(late.rating.steps(), ctx.slices);
    const before = await runInSlices(late.before.steps(), ctx.slices);
    unreadable += late.unreadable;
    unpriced.push(...unpricedSince(before.unpriced, after.unpriced));
    const lines = adjustmentsOf(before.lines, after.lines);
    if (lines.length > 0) adjustments.set(q, lines);
  }
  const dir = {
    members: new Map(ctx.members.map((m) => [m.id, m])),
    employers: new Map(ctx.employers.map((e) => [e.id, e])),
  };
  const adjusting = adjustmentLines(adjustments, dir);
  return {
    adjusted: [...adjustments.keys()],
    adjusting,
    rate: async (each) => {
      const invoices = new AccountInvoices(period, ctx.prices.currency, adjusting, dir, each);
      const notes = await runInSlices(
        own.rating.accountSteps((a) => invoices.account(a)),
        ctx.slices,
      );
      invoices.end();
      return {
        unbilled: notes.unbilled,
        admittedBeyondQuota: notes.admittedBeyondQuota,
        unpriced: sortUnpriced([...notes.unpriced, ...unpriced]),
        adjusted: [...adjustments.keys()],
        unrated,
        unreadable,
      };
    },
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

/** A period's events read into its rating, not yet rated. */
interface Read {
  rating: PeriodRating;
  /** Event rows, and the holders' earlier visits, that could not be read. */
  unreadable: number;
}

/**
 * The events of `period` received up to `cutoff` read into its rating, as they are read (never
 * all held); with `asOf`, also into its rating as of that earlier cutoff (the last close's)
 * from the same read: the events and the sales the hub had then, the same bookings.
 */
async function readAt(ctx: Ctx, period: PeriodId, cutoff: number, phase: string, pruned: Pruned): Promise<Read>;
async function readAt(
  ctx: Ctx,
  period: PeriodId,
  cutoff: number,
  phase: string,
  pruned: Pruned,
  asOf: number,
): Promise<Read & { before: PeriodRating }>;
async function readAt(
  ctx: Ctx,
  period: PeriodId,
  cutoff: number,
  phase: string,
  pruned: Pruned,
  asOf?: number,
): Promise<Read & { before?: PeriodRating }> {
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
  return { rating, ...(before ? { before } : {}), unreadable: read.unreadable + unreadable };
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
