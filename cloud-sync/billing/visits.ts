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

/** One member at one site on one site-local date: presence minutes, or null while a visit is open. */
export interface VisitDay {
  member: string;
  site: string;
  date: string;
  minutes: number | null;
  /** The first check-in's instant (ms), to order a member's sites within a day. */
  firstIn: number;
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

/**
 * Pairs each check-in with its check-out, per site and member in seq order. A visit counts on
 * the date it started (one spanning midnight counts the day before). A check-out whose check-in
 * is outside the events read starts at `at - minutes`, dated in the site's time zone (or the
 * event's own offset for a site not declared). A check-in without a check-out is an open visit.
 * Yields every `STEP` events (steps.ts).
 */
export function* visitDaySteps(events: readonly BilledEvent[], zones: ReadonlyMap<string, string>): Steps<VisitDay[]> {
  const out: VisitDay[] = [];
  const sorted: BilledEvent[] = [];
  let done = 0;
  for (const e of events) {
    if (++done % STEP === 0) yield;
    if (e.type !== 'consumable.used') sorted.push(e);
  }
  // Events as the hub reads them come in (site, seq) order already: checked, and sorted if not.
  let inOrder = true;
  for (let i = 1; inOrder && i < sorted.length; i++) {
    if (i % STEP === 0) yield;
    inOrder = bySiteSeq(sorted[i - 1] as BilledEvent, sorted[i] as BilledEvent) < 0;
  }
  if (!inOrder) {
    sorted.sort(bySiteSeq);
    yield;
  }
  // Site by site (the sort puts each site's events together): maps keyed by plain ids, no
  // composite strings, since a month has a million of these events.
  for (let from = 0; from < sorted.length;) {
    const site = (sorted[from] as BilledEvent).site;
    let to = from;
    while (to < sorted.length && (sorted[to] as BilledEvent).site === site) to++;
    for (const day of yield* siteVisitDays(sorted.slice(from, to), zones.get(site))) out.push(day);
    from = to;
  }
  return out;
}

/** One site's events in seq order → its visit-days. */
function* siteVisitDays(events: readonly BilledEvent[], zone: string | undefined): Steps<VisitDay[]> {
  const open = new Map<string, CheckIn>();
  const days = new Map<string, Map<string, VisitDay>>();
  const add = (member: string, site: string, date: string, minutes: number | null, firstIn: number) => {
    let byDate = days.get(member);
    if (!byDate) days.set(member, (byDate = new Map()));
    const day = byDate.get(date);
    if (!day) byDate.set(date, { member, site, date, minutes, firstIn });
    else {
      day.minutes = day.minutes === null || minutes === null ? null : day.minutes + minutes;
      day.firstIn = Math.min(day.firstIn, firstIn);
    }
  };
  const addOpen = (pending: CheckIn) =>
    add(pending.member, pending.site, pending.at.slice(0, 10), null, Date.parse(pending.at));
  let done = 0;
  for (const event of events) {
    if (++done % STEP === 0) yield;
    const pending = open.get(event.member);
    if (event.type === 'presence.in') {
      if (pending) addOpen(pending);
      open.set(event.member, event);
      continue;
    }
    if (event.type !== 'presence.out') continue;
    open.delete(event.member);
    if (pending) add(event.member, event.site, pending.at.slice(0, 10), event.minutes, Date.parse(pending.at));
    else {
      const start = Date.parse(event.at) - event.minutes * 60_000;
      add(event.member, event.site, startDate(start, event.at, zone), event.minutes, start);
    }
  }
  for (const pending of open.values()) addOpen(pending);
  return [...days.values()].flatMap((byDate) => [...byDate.values()]);
}

function startDate(startMs: number, at: string, zone: string | undefined): string {
  const offset = /([+-]\d{2}):?(\d{2})$/.exec(at);
  const fixed = offset
    ? FixedOffsetZone.instance(Number(offset[1]) * 60 + Math.sign(Number(offset[1]) || 1) * Number(offset[2]))
    : FixedOffsetZone.utcInstance;
  const local = DateTime.fromMillis(startMs, { zone: zone ?? fixed });
  return (local.isValid ? local : DateTime.fromMillis(startMs, { zone: fixed })).toISODate() ?? at.slice(0, 10);
}

/** A member's days across the network, each charged at the site of its first check-in; yields every `STEP` days. */
export function* memberDaySteps(days: readonly VisitDay[]): Steps<MemberDay[]> {
  const byMember = new Map<string, Map<string, VisitDay[]>>();
  let done = 0;
  for (const d of days) {
    if (++done % STEP === 0) yield;
    let byDate = byMember.get(d.member);
    if (!byDate) byMember.set(d.member, (byDate = new Map()));
    const list = byDate.get(d.date);
    if (list) list.push(d);
    else byDate.set(d.date, [d]);
  }
  const out: MemberDay[] = [];
  for (const byDate of byMember.values()) {
    for (const list of byDate.values()) out.push(memberDayOf(list));
    if (++done % STEP === 0) yield;
  }
  return out;
}

function memberDayOf(list: VisitDay[]): MemberDay {
  const sorted = list.sort((a, b) => a.firstIn - b.firstIn || (a.site < b.site ? -1 : 1));
  const first = sorted[0] as VisitDay;
  const minutes = sorted.some((d) => d.minutes === null) ? null : sorted.reduce((s, d) => s + (d.minutes ?? 0), 0);
  return { member: first.member, date: first.date, site: first.site, minutes };
}

/** The consumable uses among `events`, in the order they were used; yields every `STEP` events. */
export function* consumableUseSteps(events: readonly BilledEvent[]): Steps<ConsumableUse[]> {
  const uses: ConsumableUse[] = [];
  let done = 0;
  for (const e of events) {
    if (++done % STEP === 0) yield;
    if (e.type === 'consumable.used')
      uses.push({
        member: e.member,
        site: e.site,
        item: e.item,
        quantity: e.quantity,
        date: e.at.slice(0, 10),
        at: Date.parse(e.at),
        seq: e.seq,
      });
  }
  yield;
  return uses.sort((a, b) => a.at - b.at || (a.site < b.site ? -1 : a.site > b.site ? 1 : a.seq - b.seq));
}
