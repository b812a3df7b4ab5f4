import { DateTime, FixedOffsetZone } from 'luxon';
import type { SiteEvent } from '../../shared/events.js';

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
  if (event.type === 'presence.out') return { type: event.type, site, seq, at, receivedAt, member: event.data.memberId, minutes: event.data.minutes };
  if (event.type === 'consumable.used') return { type: event.type, site, seq, at, receivedAt, member: event.data.memberId, item: event.data.item, quantity: event.data.quantity };
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
export const bySiteSeq = (a: BilledEvent, b: BilledEvent): number => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.seq - b.seq);

/**
 * Pairs each check-in with its check-out, per site and member in seq order. A visit counts on
 * the date it started (one spanning midnight counts the day before). A check-out whose check-in
 * is outside the events read starts at `at - minutes`, dated in the site's time zone (or the
 * event's own offset for a site not declared). A check-in without a check-out is an open visit.
 */
export function visitDays(events: readonly BilledEvent[], zones: ReadonlyMap<string, string>): VisitDay[] {
  const open = new Map<string, CheckIn>();
  const days = new Map<string, VisitDay>();
  const add = (member: string, site: string, date: string, minutes: number | null, firstIn: number) => {
    const key = `${member}\u0000${site}\u0000${date}`;
    const day = days.get(key);
    if (!day) days.set(key, { member, site, date, minutes, firstIn });
    else {
      day.minutes = day.minutes === null || minutes === null ? null : day.minutes + minutes;
      day.firstIn = Math.min(day.firstIn, firstIn);
    }
  };
  const closeOpen = (key: string) => {
    const pending = open.get(key);
    if (pending) add(pending.member, pending.site, pending.at.slice(0, 10), null, Date.parse(pending.at));
    open.delete(key);
  };
  for (const event of events.filter((e) => e.type !== 'consumable.used').sort(bySiteSeq)) {
    const key = `${event.site}\u0000${event.member}`;
    if (event.type === 'presence.in') {
      closeOpen(key);
      open.set(key, event);
      continue;
    }
    if (event.type !== 'presence.out') continue;
    const pending = open.get(key);
    open.delete(key);
    if (pending) add(event.member, event.site, pending.at.slice(0, 10), event.minutes, Date.parse(pending.at));
    else {
      const start = Date.parse(event.at) - event.minutes * 60_000;
      add(event.member, event.site, startDate(start, event.at, zones.get(event.site)), event.minutes, start);
    }
  }
  for (const key of [...open.keys()]) closeOpen(key);
  return [...days.values()];
}

function startDate(startMs: number, at: string, zone: string | undefined): string {
  const offset = /([+-]\d{2}):?(\d{2})$/.exec(at);
  const fixed = offset ? FixedOffsetZone.instance(Number(offset[1]) * 60 + Math.sign(Number(offset[1]) || 1) * Number(offset[2])) : FixedOffsetZone.utcInstance;
  const local = DateTime.fromMillis(startMs, { zone: zone ?? fixed });
  return (local.isValid ? local : DateTime.fromMillis(startMs, { zone: fixed })).toISODate() ?? at.slice(0, 10);
}

/** A member's days across the network, each charged at the site of its first check-in. */
export function memberDays(days: readonly VisitDay[]): MemberDay[] {
  const byKey = new Map<string, VisitDay[]>();
  for (const d of days) {
    const key = `${d.member}\u0000${d.date}`;
    const list = byKey.get(key);
    if (list) list.push(d);
    else byKey.set(key, [d]);
  }
  return [...byKey.values()].map((list) => {
    const sorted = list.sort((a, b) => a.firstIn - b.firstIn || (a.site < b.site ? -1 : 1));
    const first = sorted[0] as VisitDay;
    const minutes = sorted.some((d) => d.minutes === null) ? null : sorted.reduce((s, d) => s + (d.minutes ?? 0), 0);
    return { member: first.member, date: first.date, site: first.site, minutes };
  });
}

export function consumableUses(events: readonly BilledEvent[]): ConsumableUse[] {
  const uses: ConsumableUse[] = [];
  for (const e of events) {
    if (e.type === 'consumable.used') uses.push({ member: e.member, site: e.site, item: e.item, quantity: e.quantity, date: e.at.slice(0, 10), at: Date.parse(e.at), seq: e.seq });
  }
  return uses.sort((a, b) => a.at - b.at || (a.site < b.site ? -1 : a.site > b.site ? 1 : a.seq - b.seq));
}
