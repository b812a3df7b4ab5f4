import { DateTime, FixedOffsetZone } from 'luxon';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { STEP, type Steps } from './steps.js';

interface Billed {
  site: string;
  seq: number;
  member: string;
  /** The event's `at`: site-local ISO time with its offset. */
  at: string;
  /** When the hub received it (hub clock, ms). */
  receivedAt: number;
}

/** What billing keeps of a hub event: only what rating needs (a month holds a million of them). */
export type BilledEvent =
  | (Billed & { type: 'presence.in' })
  | (Billed & { type: 'presence.out'; minutes: number })
  | (Billed & { type: 'consumable.used'; item: string; quantity: number });

/** The billed part of an event; undefined for the types billing does not read. */
export function billedEventOf(event: SiteEvent, receivedAt: number): BilledEvent | undefined {
  // Literal objects of one shape, not spreads: a million of them are held at once.
  const { site, seq, at } = event;
  if (event.type === 'presence.in') return { type: event.type, site, seq, at, receivedAt, member: event.data.memberId };
  if (event.type === 'presence.out')
    return { type: event.type, site, seq, at, receivedAt, member: event.data.memberId, minutes: event.data.minutes };
  if (event.type === 'consumable.used')
    return {
      type: event.type,
      site,
      seq,
      at,
      receivedAt,
      member: event.data.memberId,
      item: event.data.item,
      quantity: event.data.quantity,
    };
  return undefined;
}

/** A member's day across the network: the unit a per-day tariff charges and a quota counts. */
export interface MemberDay {
  member: string;
  date: string;
  /** The site of the day's first check-in: where the day is charged. */
  site: string;
  /** Presence minutes of the day at every site, or null if a visit is still open (charged as a full day). */
  minutes: number | null;
}

export interface ConsumableUse {
  member: string;
  site: string;
  item: string;
  quantity: number;
  date: string;
  at: number;
  seq: number;
}

type CheckIn = Extract<BilledEvent, { type: 'presence.in' }>;

/** Sorts by (site, seq): the one order every re-rating sees, whatever order the rows came in. */
export const bySiteSeq = (a: BilledEvent, b: BilledEvent): number =>
  a.site < b.site ? -1 : a.site > b.site ? 1 : a.seq - b.seq;

/** A member's day as the tally builds it: with the first check-in's instant, which decides its site. */
interface TalliedDay extends MemberDay {
  firstIn: number;
}

/** One site's part of the tally: its last seq seen, and its members' check-ins not yet paired. */
interface SiteTally {
  seq: number;
  open: Map<string, CheckIn>;
}

/** What the tally of a period's events gives rating: the members' days and the consumable uses. */
export interface Tallied {
  /** Each member's days, by date. */
  days: Map<string, MemberDay[]>;
  /** In the order they were used. */
  uses: ConsumableUse[];
}

/**
 * A period's events reduced as they are read, one by one, each site's in seq order (the hub
 * reads them in (site, seq) order): each check-in is paired with its check-out, per site and
 * member, and the visit added to its member's day at once, so that what is held is one day per
 * member and date, the check-ins still open, and the consumable uses; never the events (a
 * month has a million of them).
 *
 * A visit counts on the date it started (one spanning midnight counts the day before). A
 * check-out whose check-in is outside the events read starts at `at - minutes`, dated in the
 * site's time zone (or the event's own offset for a site not declared). A check-in without a
 * check-out is an open visit: its day is charged as a full one. A member's day is charged at
 * the site of its first check-in (the lowest site id at the same instant), its minutes those of
 * every site.
 */
export class VisitTally {
  private readonly sites = new Map<string, SiteTally>();
  private readonly days = new Map<string, Map<string, TalliedDay>>();
  private readonly uses: ConsumableUse[] = [];
  /**
   * One string per member, site, date and item: each event parsed brings its own copies, and
   * the days and uses held would keep a million of them.
   */
  private readonly strings = new Map<string, string>();

  constructor(private readonly zones: ReadonlyMap<string, string>) {}

  add(event: BilledEvent): void {
    let site = this.sites.get(event.site);
    if (!site) this.sites.set(this.one(event.site), (site = { seq: 0, open: new Map() }));
    // A programming error, not bad data: the store's read and `tallyOf` both give each site's events in seq order.
    if (event.seq < site.seq) throw new Error(`billing: ${event.site}'s events are not in seq order`);
    site.seq = event.seq;
    if (event.type === 'consumable.used') {
      this.uses.push({
        member: this.one(event.member),
        site: this.one(event.site),
        item: this.one(event.item),
        quantity: event.quantity,
        date: this.one(event.at.slice(0, 10)),
        at: Date.parse(event.at),
        seq: event.seq,
      });
      return;
    }
    const pending = site.open.get(event.member);
    if (event.type === 'presence.in') {
      if (pending) this.addOpen(pending);
      site.open.set(event.member, event);
      return;
    }
    site.open.delete(event.member);
    if (pending) this.addDay(event.member, event.site, pending.at.slice(0, 10), event.minutes, Date.parse(pending.at));
    else {
      const start = Date.parse(event.at) - event.minutes * 60_000;
      const date = startDate(start, event.at, this.zones.get(event.site));
      this.addDay(event.member, event.site, date, event.minutes, start);
    }
  }

  /** The days and uses of every event added; the visits still open count as open. Ends the tally. */
  *steps(): Steps<Tallied> {
    for (const site of this.sites.values()) for (const pending of site.open.values()) this.addOpen(pending);
    this.sites.clear();
    const days = new Map<string, MemberDay[]>();
    let done = 0;
    for (const [member, byDate] of this.days) {
      if (++done % STEP === 0) yield;
      this.days.delete(member);
      // The tallied days themselves (their `firstIn` besides): no second copy of a month's days.
      days.set(
        member,
        [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1)),
      );
    }
    yield;
    const uses = this.uses.sort((a, b) => a.at - b.at || (a.site < b.site ? -1 : a.site > b.site ? 1 : a.seq - b.seq));
    return { days, uses };
  }

  private addOpen(pending: CheckIn): void {
    this.addDay(pending.member, pending.site, pending.at.slice(0, 10), null, Date.parse(pending.at));
  }

  private addDay(member: string, site: string, date: string, minutes: number | null, firstIn: number): void {
    let byDate = this.days.get(member);
    if (!byDate) this.days.set(this.one(member), (byDate = new Map()));
    const day = byDate.get(date);
    if (!day) {
      const key = this.one(date);
      byDate.set(key, { member: this.one(member), date: key, site: this.one(site), minutes, firstIn });
      return;
    }
    day.minutes = day.minutes === null || minutes === null ? null : day.minutes + minutes;
    if (firstIn < day.firstIn || (firstIn === day.firstIn && site < day.site)) {
      day.firstIn = firstIn;
      day.site = this.one(site);
    }
  }

  private one(s: string): string {
    const held = this.strings.get(s);
    if (held !== undefined) return held;
    this.strings.set(s, s);
    return s;
  }
}

/** `events` in (site, seq) order: as they are when they are (the store's read), else sorted (a copy). */
export function* inSiteSeqOrder(events: readonly BilledEvent[]): Steps<readonly BilledEvent[]> {
  for (let i = 1; i < events.length; i++) {
    if (i % STEP === 0) yield;
    if (bySiteSeq(events[i - 1] as BilledEvent, events[i] as BilledEvent) > 0) return [...events].sort(bySiteSeq);
  }
  return events;
}

/** The tally of `events` given at once, in any order (the visits of a pack's holder). */
export function* tallyOf(events: readonly BilledEvent[], zones: ReadonlyMap<string, string>): Steps<Tallied> {
  const tally = new VisitTally(zones);
  let done = 0;
  for (const e of yield* inSiteSeqOrder(events)) {
    if (++done % STEP === 0) yield;
    tally.add(e);
  }
  return yield* tally.steps();
}

function startDate(startMs: number, at: string, zone: string | undefined): string {
  const offset = /([+-]\d{2}):?(\d{2})$/.exec(at);
  const fixed = offset
    ? FixedOffsetZone.instance(Number(offset[1]) * 60 + Math.sign(Number(offset[1]) || 1) * Number(offset[2]))
    : FixedOffsetZone.utcInstance;
  const local = DateTime.fromMillis(startMs, { zone: zone ?? fixed });
  return (local.isValid ? local : DateTime.fromMillis(startMs, { zone: fixed })).toISODate() ?? at.slice(0, 10);
}
