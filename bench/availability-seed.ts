import { DateTime } from 'luxon';
import type { Resource } from '../shared/protocol/bookings.js';
import { DAYS } from '../shared/protocol/schedule.js';
import type { SiteRecord } from '../shared/protocol/api/hub-admin-sites.js';
import type { HubDb, Sql } from '../cloud-sync/hub/db.js';
import type { HubDirectory } from '../cloud-sync/hub/directory.js';
import type { HubSites } from '../cloud-sync/hub/sites.js';
import { seededRandom as prng } from '../demo/day-plan.js';

export { prng };

/**
 * The network the availability bench asks about: sites in a few time zones (most in Paris),
 * each with desk pools, named desks and rooms, and a month of bookings that the hub could have
 * accepted (never a room twice at once, never a pool over its size), plus cancelled ones laid
 * anywhere (the query must leave them out). Generated from a seeded PRNG: the same every run.
 */
export interface NetworkSizes {
  sites: number;
  resources: number;
  bookings: number;
  cancelled: number;
}

export interface Network {
  sites: SiteRecord[];
  resources: Resource[];
  /** Rows of the bookings table, in its column order (`BOOKING_COLUMNS`). */
  rows: unknown[][];
}

export const YEAR = 2026;
export const MONTH = 10;
export const MONTH_DAYS = 31;
const OTHER_ZONES = ['Europe/Lisbon', 'Indian/Reunion', 'America/Martinique'];
/** Seven sites in ten in Paris, the others in the three other zones in turn. */
const zoneOf = (s: number) => (s % 10 < 7 ? 'Europe/Paris' : (OTHER_ZONES[s % 3] ?? 'UTC'));
const MINUTE_MS = 60_000;
const CREATED_AT = Date.parse(`${YEAR}-09-15T08:00:00Z`);
const BOOKING_COLUMNS =
  'id, resource, site, member, start_ms, end_ms, status, created_by, created_at, updated_at, cancelled_at, late_cancellation';
/** Rows per INSERT: 12 parameters each, well under either database's limit. */
const ROWS_PER_INSERT = 500;

/** Resource `r` of the network: one in ten a desk pool, six named desks, three rooms; at site `r mod sites`. */
function resourceAt(r: number, sites: number): Resource {
  const s = r % sites;
  const k = Math.floor(r / sites);
  const base = {
    id: `r${r}`,
    site: `site-${s}`,
    hours: [{ days: [...DAYS], from: '06:00', to: '23:00' }],
    plans: 'all' as const,
    freeCancellationHours: 24,
    noShowMinutes: 15,
  };
  const kind = k % 10;
  if (kind === 0) return { ...base, kind: 'desk-pool', name: `Open space ${k}`, size: 6 + ((r * 7) % 20) };
  if (kind <= 6) return { ...base, kind: 'desk', name: `Desk ${k}` };
  return { ...base, kind: 'room', name: `Room ${k}`, capacity: 4 + (r % 9) };
}

/**
 * The instant of local midnight of `day`, as the offset at noon gives it: wrong by the DST
 * shift before 03:00 on the day the clocks change, right for every booking here (07:00 on).
 */
function midnights(zone: string): number[] {
  return Array.from(
    { length: MONTH_DAYS + 1 },
    (_, d) =>
      DateTime.fromObject({ year: YEAR, month: MONTH, day: Math.max(1, d), hour: 12 }, { zone }).toMillis() -
      12 * 60 * MINUTE_MS,
  );
}

/** A booking's day and wall minutes: a desk often for the working day, otherwise 30 min to 4 h from 07:00 on. */
function slot(random: () => number, desk: boolean): { day: number; from: number; to: number } {
  const day = 1 + Math.floor(random() * MONTH_DAYS);
  if (desk && random() < 0.3) return { day, from: 8 * 60, to: 18 * 60 };
  const from = 7 * 60 + 15 * Math.floor(random() * 52);
  return { day, from, to: Math.min(22 * 60, from + 30 + 15 * Math.floor(random() * 15)) };
}

/** The confirmed bookings: each on one lane of its resource (a pool has one per desk), never overlapping another there. */
function confirmedRows(resources: readonly Resource[], n: number, random: () => number, rows: unknown[][]): void {
  const lanes: number[] = [];
  for (const [i, r] of resources.entries()) for (let l = 0; l < (r.size ?? 1); l++) lanes.push(i);
  const taken = new Map<string, Array<[number, number]>>();
  const zones = new Map<string, number[]>();
  while (rows.length < n) {
    const lane = Math.floor(random() * lanes.length);
    const r = resources[lanes[lane] ?? 0] as Resource;
    const s = slot(random, r.kind !== 'room');
    const key = `${lane}/${s.day}`;
    const busy = taken.get(key) ?? [];
    if (busy.some(([a, b]) => a < s.to && s.from < b)) continue;
    taken.set(key, [...busy, [s.from, s.to]]);
    const zone = zoneOf(Number(r.site.slice(5)));
    const midnight = (zones.get(zone) ?? zones.set(zone, midnights(zone)).get(zone) ?? [])[s.day] ?? 0;
    const id = `b${rows.length}`;
    const start = midnight + s.from * MINUTE_MS;
    rows.push([id, r.id, r.site, `m${rows.length % 20_000}`, start, midnight + s.to * MINUTE_MS, 'confirmed']);
  }
}

/** The network for `sizes`: sites, resources, and booking rows (confirmed, then cancelled). */
export function generateNetwork(sizes: NetworkSizes): Network {
  const random = prng(2026);
  const sites = Array.from({ length: sizes.sites }, (_, s) => ({
    id: `site-${s}`,
    name: `Site ${s}`,
    timeZone: zoneOf(s),
    capacity: 150,
  }));
  const resources = Array.from({ length: sizes.resources }, (_, r) => resourceAt(r, sizes.sites));
  const confirmed: unknown[][] = [];
  confirmedRows(resources, sizes.bookings, random, confirmed);
  // Cancelled ones anywhere, over confirmed ones too: the availability must not count them.
  const rows = confirmed.map((c) => [...c, 'bench', CREATED_AT, CREATED_AT, null, 0]);
  for (let i = 0; i < sizes.cancelled; i++) {
    const twin = confirmed[Math.floor(random() * confirmed.length)] ?? [];
    const late = random() < 0.3 ? 1 : 0;
    const at = CREATED_AT + 86_400_000;
    rows.push([
      `c${i}`,
      twin[1],
      twin[2],
      `m${i % 20_000}`,
      twin[4],
      twin[5],
      'cancelled',
      'bench',
      CREATED_AT,
      at,
      at,
      late,
    ]);
  }
  return { sites, resources, rows };
}

async function insertBookings(tx: Sql, rows: readonly unknown[][]): Promise<void> {
  const one = `(${BOOKING_COLUMNS.split(',')
    .map(() => '?')
    .join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const batch = rows.slice(i, i + ROWS_PER_INSERT);
    await tx.run(`INSERT INTO bookings (${BOOKING_COLUMNS}) VALUES ${batch.map(() => one).join(', ')}`, batch.flat());
  }
}

/**
 * Writes the network in one transaction: the sites, the resources through the directory (one
 * revision, each validated as the API would), the bookings in multi-row INSERTs.
 */
export async function seedNetwork(
  db: HubDb,
  directory: HubDirectory,
  siteStore: HubSites,
  network: Network,
): Promise<void> {
  await db.transaction(async (tx) => {
    for (const site of network.sites) await siteStore.upsert(tx, site);
    await directory.upsertAll(
      tx,
      network.resources.map((value) => ({ entity: 'resource' as const, value })),
    );
    await insertBookings(tx, network.rows);
  });
}
