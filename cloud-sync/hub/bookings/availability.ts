import { DateTime } from 'luxon';
import type { Resource } from '../../../shared/protocol/bookings.js';
import type { SiteRecord } from '../../../shared/protocol/api/hub-admin-sites.js';
import type { SiteAvailability } from '../../../shared/protocol/api/hub-bookings.js';
import type { Sql } from '../db.js';
import { overlaps, peakOverlap, wallSpan, type Span } from './rules.js';
import { BookingStore } from './store.js';

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

/** What the availability reads of a resource. */
type Bookable = Pick<Resource, 'id' | 'kind' | 'name' | 'size' | 'capacity'>;
type BySite = ReadonlyMap<string, readonly Bookable[]>;

/**
 * The live resources by site, parsed once per directory revision and database handle: every
 * change of a resource goes through the directory, which bumps the revision in the same
 * transaction, so a revision read before the resources never pairs with older ones. Parsing
 * the 5,000 resources' JSON at every ask was a tenth of the answer's time. Keyed by the handle
 * (weakly) so that two hubs in one process, or a closed database, never share an entry.
 */
const parsed = new WeakMap<Sql, { revision: number; bySite: BySite }>();

async function resourcesBySite(q: Sql): Promise<BySite> {
  const revision = Number((await q.value<number>('SELECT revision FROM directory_revision WHERE id = 1')) ?? 0);
  const cached = parsed.get(q);
  if (cached?.revision === revision) return cached.bySite;
  const values = await q.column<string>(
    "SELECT value FROM directory_entities WHERE entity = 'resource' AND deleted = 0 ORDER BY id",
  );
  const bySite = new Map<string, Bookable[]>();
  for (const v of values) {
    const { id, site, kind, name, size, capacity } = JSON.parse(v) as Resource;
    const list = bySite.get(site) ?? bySite.set(site, []).get(site);
    list?.push({ id, kind, name, size, capacity });
  }
  parsed.set(q, { revision, bySite });
  return bySite;
}

/** The spans booked, by site then resource, grouped in one pass. */
function bookedBySite(bookings: ReadonlyArray<Span & { site: string; resource: string }>) {
  const out = new Map<string, Map<string, Span[]>>();
  for (const b of bookings) {
    const site = out.get(b.site) ?? out.set(b.site, new Map()).get(b.site);
    const spans = site?.get(b.resource) ?? site?.set(b.resource, []).get(b.resource);
    spans?.push(b);
  }
  return out;
}

const NONE: readonly Span[] = [];

/** Free desks and rooms of one site for `window`, from its resources and its confirmed bookings (by resource). */
function siteFree(
  resources: readonly Bookable[],
  booked: ReadonlyMap<string, readonly Span[]> | undefined,
  window: Span,
) {
  let desks = 0;
  const rooms: SiteAvailability['freeRooms'] = [];
  for (const r of resources) {
    const taken = booked?.get(r.id) ?? NONE;
    // peakOverlap counts only what overlaps the window: the statement read the union of every site's window.
    if (r.kind === 'desk-pool') desks += Math.max(0, (r.size ?? 0) - peakOverlap(taken, window));
    else if (taken.some((b) => overlaps(b, window))) continue;
    else if (r.kind === 'desk') desks += 1;
    else rooms.push({ id: r.id, name: r.name, capacity: r.capacity ?? 0 });
  }
  return { desks, rooms };
}

/** The window in each time zone of `sites`, and whether `ask.date` is today there: luxon once per zone, not per site. */
function zoneWindows(sites: readonly SiteRecord[], ask: AvailabilityAsk, nowMs: number) {
  const zones = new Map<string, { window: Span; today: boolean }>();
  for (const { timeZone } of sites)
    if (!zones.has(timeZone))
      zones.set(timeZone, {
        window: wallSpan(ask, timeZone),
        today: DateTime.fromMillis(nowMs, { zone: timeZone }).toISODate() === ask.date,
      });
  return zones;
}

/**
 * Each site's free desks and rooms for `ask`, and who is in now, in a fixed number of
 * statements whatever the number of sites: the directory revision (and the resources when it
 * moved), then the confirmed bookings overlapping the union of the sites' windows (the
 * partial index `bookings_confirmed_by_site`), then the live count.
 * When the window holds now, a site's free desks are also capped by its free places now.
 */
export async function availability(
  q: Sql,
  sites: readonly SiteRecord[],
  ask: AvailabilityAsk,
  nowMs: number,
  occupancyNow: OccupancyNow,
): Promise<SiteAvailability[]> {
  if (sites.length === 0) return [];
  const zones = zoneWindows(sites, ask, nowMs);
  const spans = [...zones.values()].map((z) => z.window);
  const resources = await resourcesBySite(q);
  const booked = bookedBySite(
    await new BookingStore().confirmedSpans(
      q,
      [...new Set(sites.map((s) => s.id))],
      Math.min(...spans.map((s) => s.startMs)),
      Math.max(...spans.map((s) => s.endMs)),
    ),
  );
  const live = new Map((await occupancyNow()).map((l) => [l.site, l]));
  return sites.map((site) => {
    const { window, today } = zones.get(site.timeZone) as { window: Span; today: boolean };
    const free = siteFree(resources.get(site.id) ?? [], booked.get(site.id), window);
    const now = live.get(site.id);
    const capacity = now?.capacity ?? site.capacity ?? null;
    const present = now?.present ?? 0;
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
