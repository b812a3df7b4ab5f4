import type { AvailabilityAsk } from '../cloud-sync/hub/bookings/availability.js';
import { wallSpan, type Span } from '../cloud-sync/hub/bookings/rules.js';
import type { HubDb } from '../cloud-sync/hub/db.js';
import type { SiteRecord } from '../shared/protocol/api/hub-admin-sites.js';
import type { SiteAvailability } from '../shared/protocol/api/hub-bookings.js';
import type { Resource } from '../shared/protocol/bookings.js';
import type { Network } from './availability-seed.js';

/**
 * Before timing anything, the availability bench checks its answers on a few asks, worked out
 * here another way: a baseline that returns nothing, or an answer that is wrong, measures nothing.
 */
interface Stored {
  resource: string;
  site: string;
  start_ms: number | string;
  end_ms: number | string;
}

const fail = (message: string): never => {
  throw new Error(`availability bench, check: ${message}`);
};

/** Most bookings holding at one instant of `window`: the peak is reached at the window's start or at some booking's start. */
function peakAt(bookings: readonly Span[], window: Span): number {
  const instants = [
    window.startMs,
    ...bookings.map((b) => b.startMs).filter((t) => t > window.startMs && t < window.endMs),
  ];
  return Math.max(0, ...instants.map((t) => bookings.filter((b) => b.startMs <= t && t < b.endMs).length));
}

/** A site's desks booked for some of `window` and its rooms free all of it, from the rows alone. */
function expected(resources: readonly Resource[], rows: readonly Stored[], window: Span) {
  let booked = 0;
  let desks = 0;
  const freeRooms: string[] = [];
  for (const r of resources) {
    const on = rows
      .filter((b) => b.resource === r.id)
      .map((b) => ({ startMs: Number(b.start_ms), endMs: Number(b.end_ms) }))
      .filter((b) => b.startMs < window.endMs && window.startMs < b.endMs);
    if (r.kind === 'room') {
      if (on.length === 0) freeRooms.push(r.id);
      continue;
    }
    desks += r.size ?? 1;
    booked += r.kind === 'desk-pool' ? peakAt(on, window) : Math.min(1, on.length);
  }
  return { booked, desks, freeRooms };
}

export interface SampleInput {
  db: HubDb;
  /** The statement `availability()` reads the bookings with. */
  sql: string;
  sites: readonly SiteRecord[];
  network: Network;
  params: (ask: AvailabilityAsk) => unknown[];
  asks: readonly AvailabilityAsk[];
  paths: {
    bare: (ask: AvailabilityAsk) => Promise<number>;
    ours: (ask: AvailabilityAsk) => Promise<unknown>;
    http: (ask: AvailabilityAsk) => Promise<unknown>;
  };
}

/** Checks one ask for every site; returns the rows read, the desks booked, and the cancelled bookings left out. */
async function checkAsk(input: SampleInput, ask: AvailabilityAsk) {
  const { db, sql, sites, network, params, paths } = input;
  const rows = await db.all<Stored>(sql, params(ask));
  if ((await paths.bare(ask)) !== rows.length) fail('the bare driver and the hub storage read different rows');
  const [sitesJson, from, to, end] = params(ask);
  // The statement reads no status: the confirmed bookings in range are read here another way, and must be the same.
  const confirmed = await db.all<Stored>(
    "SELECT resource, site, start_ms, end_ms FROM bookings WHERE status = 'confirmed' AND start_ms >= ? AND start_ms < ? AND end_ms > ?",
    [from, to, end],
  );
  const asked = new Set(JSON.parse(sitesJson as string) as string[]);
  const keys = (list: readonly Stored[]) =>
    list.map((r) => `${r.site} ${r.resource} ${r.start_ms} ${r.end_ms}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (JSON.stringify(keys(rows)) !== JSON.stringify(keys(confirmed.filter((r) => asked.has(r.site)))))
    fail('the statement read other bookings than the confirmed ones overlapping the window');
  const ours = (await paths.ours(ask)) as SiteAvailability[];
  const http = (JSON.parse((await paths.http(ask)) as string) as { sites: SiteAvailability[] }).sites;
  let booked = 0;
  for (const [i, site] of sites.entries()) {
    const window = wallSpan(ask, site.timeZone);
    const want = expected(
      network.resources.filter((r) => r.site === site.id),
      rows.filter((r) => r.site === site.id),
      window,
    );
    const got = ours[i];
    const what = `${site.id} on ${ask.date} ${ask.from}-${ask.to}`;
    if (got?.site !== site.id) fail(`no answer for ${what}`);
    if ((got?.freeDesks ?? -1) + want.booked !== want.desks)
      fail(`${what}: ${got?.freeDesks} free + ${want.booked} booked desks, not the ${want.desks} it has`);
    const freeRooms = JSON.stringify(got?.freeRooms.map((r) => r.id).sort());
    if (freeRooms !== JSON.stringify(want.freeRooms.sort()))
      fail(`${what}: free rooms ${freeRooms}, not ${JSON.stringify(want.freeRooms)}`);
    const viaHttp = http.find((h) => h.site === site.id);
    if (viaHttp?.freeDesks !== got?.freeDesks || JSON.stringify(viaHttp?.freeRooms) !== JSON.stringify(got?.freeRooms))
      fail(`${what}: GET /availability answers otherwise than availability()`);
    booked += want.booked;
  }
  const cancelled = await db.value<number>(
    "SELECT count(*) AS n FROM bookings WHERE status = 'cancelled' AND start_ms >= ? AND start_ms < ? AND end_ms > ?",
    [from, to, end],
  );
  return { rows: rows.length, booked, cancelled: Number(cancelled ?? 0) };
}

/** The sample check: throws on the first wrong answer; returns what it checked, as a line of the report. */
export async function checkSample(input: SampleInput): Promise<string> {
  const counts = await input.db.all<{ status: string; n: number | string }>(
    'SELECT status, count(*) AS n FROM bookings GROUP BY status ORDER BY status',
  );
  const stored = Object.fromEntries(counts.map((c) => [c.status, Number(c.n)]));
  const confirmed = input.network.rows.filter((r) => r[6] === 'confirmed').length;
  if (stored.confirmed !== confirmed || (stored.cancelled ?? 0) !== input.network.rows.length - confirmed)
    fail(`the table holds ${JSON.stringify(stored)}, not the rows seeded`);
  let rows = 0;
  let booked = 0;
  let cancelled = 0;
  for (const ask of input.asks) {
    const one = await checkAsk(input, ask);
    rows += one.rows;
    booked += one.booked;
    cancelled += one.cancelled;
  }
  if (rows === 0 || booked === 0) fail('the sample asks found no booking: the baseline would measure nothing');
  if (input.network.rows.length > confirmed && cancelled === 0) fail('no cancelled booking in the sample windows');
  return `checked on ${input.asks.length} asks × ${input.sites.length} sites: free + booked desks = each site's desks, free rooms as the bookings leave them, \`GET /availability\` the same (${rows.toLocaleString('en')} confirmed rows read, ${booked.toLocaleString('en')} desks booked, ${cancelled.toLocaleString('en')} cancelled bookings in range left out)`;
}

/** How the database reads the bookings statement, in one line: the index it goes through is what the figures hang on. */
export async function planOf(db: HubDb, sql: string, params: unknown[]): Promise<string> {
  if (db.dialect === 'postgres') {
    const plan = await db.column<string>(`EXPLAIN ${sql}`, params);
    return plan
      .filter((l) => /Scan/.test(l) && !/ProjectSet|Result/.test(l))
      .map((l) => l.replace(/\s*\(cost=.*$/, '').replace(/^\s*(->\s*)?/, ''))
      .join('; ');
  }
  const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
  return plan
    .map((r) => r.detail)
    .filter((d) => /\bbookings\b/.test(d))
    .join('; ');
}
