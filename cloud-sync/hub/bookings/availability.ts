import { DateTime } from 'luxon';
import type { Resource } from '../../../shared/protocol/bookings.js';
import type { SiteRecord } from '../../../shared/protocol/api/hub-admin-sites.js';
import type { SiteAvailability } from '../../../shared/protocol/api/hub-bookings.js';
import type { Sql } from '../db.js';
import { overlaps, peakOverlap, wallSpan, type Span } from './rules.js';
import { BookingStore, type BookingRow } from './store.js';

/** Who is in at a site now, as the hub's live occupancy knows it (injected: no occupancy internals here). */
export interface LiveSite {
  site: string;
  present: number;
  capacity: number | null;
}
export type OccupancyNow = () => Promise<readonly LiveSite[]>;

/** The window asked for: a site-local date and wall times, read in each site's own time zone. */
export interface AvailabilityAsk {
  date: string;
  from: string;
  to: string;
}

/** Free desks and rooms of one site for `window`, from its resources and its confirmed bookings overlapping it. */
function siteFree(resources: readonly Resource[], bookings: readonly BookingRow[], window: Span) {
  const of = new Map<string, BookingRow[]>();
  for (const b of bookings) of.set(b.resource, [...(of.get(b.resource) ?? []), b]);
  let desks = 0;
  const rooms: SiteAvailability['freeRooms'] = [];
  for (const r of resources) {
    const taken = (of.get(r.id) ?? []).filter((b) => overlaps(b, window));
    if (r.kind === 'desk-pool') desks += Math.max(0, (r.size ?? 0) - peakOverlap(taken, window));
    else if (taken.length > 0) continue;
    else if (r.kind === 'desk') desks += 1;
    else rooms.push({ id: r.id, name: r.name, capacity: r.capacity ?? 0 });
  }
  return { desks, rooms };
}

/**
 * Each site's free desks and rooms for `ask`, and who is in now, in a fixed number of
 * statements whatever the number of sites: the resources, then the confirmed bookings
 * overlapping the union of the sites' windows (the (site, start_ms) index), then the live count.
 * When the window holds now, a site's free desks are also capped by its free places now.
 */
export async function availability(
  q: Sql,
  sites: readonly SiteRecord[],
  ask: AvailabilityAsk,
  nowMs: number,
  occupancyNow: OccupancyNow,
): Promise<SiteAvailability[]> {
  const windows = new Map(sites.map((s) => [s.id, wallSpan(ask, s.timeZone)]));
  if (windows.size === 0) return [];
  const spans = [...windows.values()];
  const values = await q.column<string>(
    "SELECT value FROM directory_entities WHERE entity = 'resource' AND deleted = 0 ORDER BY id",
  );
  const resources = values.map((v) => JSON.parse(v) as Resource).filter((r) => windows.has(r.site));
  const bookings = await new BookingStore().inWindow(
    q,
    { sites: [...windows.keys()] },
    Math.min(...spans.map((s) => s.startMs)),
    Math.max(...spans.map((s) => s.endMs)),
    true,
  );
  const live = new Map((await occupancyNow()).map((l) => [l.site, l]));
  return sites.map((site) => {
    const window = windows.get(site.id) as Span;
    const free = siteFree(
      resources.filter((r) => r.site === site.id),
      bookings.filter((b) => b.site === site.id),
      window,
    );
    const now = live.get(site.id);
    const capacity = now?.capacity ?? site.capacity ?? null;
    const present = now?.present ?? 0;
    const today = DateTime.fromMillis(nowMs, { zone: site.timeZone }).toISODate() === ask.date;
    const holdsNow = today && window.startMs <= nowMs && nowMs < window.endMs;
    const desks = holdsNow && capacity !== null ? Math.min(free.desks, Math.max(0, capacity - present)) : free.desks;
    return {
      site: site.id,
      name: site.name,
      timeZone: site.timeZone,
      freeDesks: desks,
      freeRooms: free.rooms,
      occupancy: { present, capacity },
    };
  });
}
