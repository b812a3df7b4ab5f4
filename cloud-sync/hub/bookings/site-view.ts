import type { Booking, Resource } from '../../../shared/protocol/bookings.js';
import type { DirectoryChange } from '../../../shared/protocol/sync.js';
import type { Sql } from '../db.js';
import { sqlDialect } from '../storage/dialect.js';
import { DAY_MS } from './rules.js';
import { BookingStore, MAX_BOOKING_MS, type BookingRow } from './store.js';

/** The directory's entity of a confirmed booking: what the door reads. */
export const bookingEntity = (b: BookingRow): Booking => ({
  id: b.id,
  resource: b.resource,
  site: b.site,
  member: b.member,
  start: new Date(b.startMs).toISOString(),
  end: new Date(b.endMs).toISOString(),
});

/** A booking a door may still need: confirmed, ending after a day ago. */
const stillNeeded = (b: BookingRow, nowMs: number) => b.status === 'confirmed' && b.endMs > nowMs - DAY_MS;

/** A changed directory row of a resource or a booking (a tombstone of a resource keeps its last value). */
export interface ChangedRow {
  entity: string;
  id: string;
  value: string | null;
  deleted: number;
}

/**
 * What site `site` must apply of the resources and bookings changed: its own resources (upserts,
 * deletes), then its bookings (upserts of those still needed, deletes of the others), resources
 * deleted last so that no booking is ever left without its resource. Other sites' are left out.
 */
export async function bookingChangesFor(
  q: Sql,
  site: string,
  changed: readonly ChangedRow[],
  nowMs: number,
): Promise<{ first: DirectoryChange[]; last: DirectoryChange[] }> {
  const first: DirectoryChange[] = [];
  const last: DirectoryChange[] = [];
  for (const r of changed) {
    if (r.entity !== 'resource' || r.value === null) continue;
    const value = JSON.parse(r.value) as Resource;
    if (value.site !== site) continue;
    if (r.deleted) last.push({ entity: 'resource', op: 'delete', id: r.id });
    else first.push({ entity: 'resource', op: 'upsert', value });
  }
  const ids = changed.filter((r) => r.entity === 'booking').map((r) => r.id);
  if (ids.length === 0) return { first, last };
  const live = new Set(changed.filter((r) => r.entity === 'booking' && !r.deleted).map((r) => r.id));
  const rows = await new BookingStore().byIds(q, ids);
  for (const b of rows) {
    if (b.site !== site) continue;
    first.push(
      live.has(b.id) && stillNeeded(b, nowMs)
        ? { entity: 'booking', op: 'upsert', value: bookingEntity(b) }
        : { entity: 'booking', op: 'delete', id: b.id },
    );
  }
  return { first, last };
}

/** Site `site`'s resources and the confirmed bookings of them a door may still need, as upserts: for a snapshot. */
export async function bookingSnapshotFor(q: Sql, site: string, nowMs: number): Promise<DirectoryChange[]> {
  const values = await q.column<string>(
    `SELECT value FROM directory_entities WHERE entity = 'resource' AND deleted = 0 AND ${sqlDialect(q).jsonText('value', 'site')} = ? ORDER BY id`,
    [site],
  );
  const resources = values.map((v) => JSON.parse(v) as Resource);
  const ids = new Set(resources.map((r) => r.id));
  const from = nowMs - DAY_MS;
  const bookings = (await new BookingStore().forSite(q, site, from, nowMs + 400 * DAY_MS + MAX_BOOKING_MS)).filter(
    (b) => ids.has(b.resource) && stillNeeded(b, nowMs),
  );
  return [
    ...resources.map((value): DirectoryChange => ({ entity: 'resource', op: 'upsert', value })),
    ...bookings.map((b): DirectoryChange => ({ entity: 'booking', op: 'upsert', value: bookingEntity(b) })),
  ];
}
