import type { z } from 'zod';
import { SiteEvent } from '../../shared/protocol/events.js';
import type { HubDb } from '../hub/db.js';
import type { BilledEvent } from './visits.js';
import { billedEventOf } from './visits.js';

/** What billing reads of the hub's events: presence and consumables, nothing else. */
const BILLED_TYPES = "('presence.in', 'presence.out', 'consumable.used')";

export interface ReadProgress {
  (phase: string, done: number, total: number): void;
}

export interface EventRead {
  events: BilledEvent[];
  /** Stored rows that no longer parse (written by another version): skipped, counted, logged. */
  unreadable: number;
}

/** Rows between two progress reports: often enough for a bar, rarely enough to cost nothing. */
const REPORT_EVERY = 50_000;

/**
 * The hub's events of the site-local dates `[from, to)` received up to `cutoff` (hub ms). `at`
 * starts with the site-local date, so a string range on it selects by site-local date exactly.
 * The table has no index on `at` (ingest pays for every index): this is one scan of it.
 */
export function readBilledEvents(
  db: HubDb,
  window: { from: string; to: string },
  cutoff: number,
  progress?: ReadProgress,
  phase = 'reading events',
): EventRead {
  const where = `type IN ${BILLED_TYPES} AND at >= ? AND at < ? AND received_at <= ?`;
  const total = progress
    ? (db
        .prepare<[string, string, number], { n: number }>(`SELECT COUNT(*) AS n FROM events WHERE ${where}`)
        .get(window.from, window.to, cutoff)?.n ?? 0)
    : 0;
  const rows = db.prepare<[string, string, number], { body: string; received_at: number }>(
    `SELECT body, received_at FROM events WHERE ${where}`,
  );
  const events: BilledEvent[] = [];
  let unreadable = 0;
  let done = 0;
  progress?.(phase, 0, total);
  for (const row of rows.iterate(window.from, window.to, cutoff)) {
    const parsed = parseBody(row.body);
    const billed = parsed && billedEventOf(parsed, row.received_at);
    if (billed) events.push(billed);
    else unreadable++;
    if (++done % REPORT_EVERY === 0) progress?.(phase, done, total);
  }
  progress?.(phase, done, total);
  return { events, unreadable };
}

function parseBody(body: string): SiteEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const r = SiteEvent.safeParse(json);
  return r.success ? r.data : legacyUse(json, r.error);
}

/**
 * A consumable use an older hub stored before item names were checked at ingest (it took any id
 * up to 64 characters): read with the name it has, so that the close lists it among the uses
 * without a price (no price can name it) instead of skipping it as unreadable. Every other field
 * must still be valid.
 */
function legacyUse(json: unknown, error: z.ZodError): SiteEvent | undefined {
  if (!error.issues.every((i) => i.path.length === 2 && i.path[0] === 'data' && i.path[1] === 'item')) return undefined;
  const data = (json as { data?: unknown }).data;
  const item = (data as { item?: unknown }).item;
  if (typeof item !== 'string' || item.length === 0 || item.length > 64) return undefined;
  const r = SiteEvent.safeParse({ ...(json as object), data: { ...(data as object), item: 'legacy' } });
  return r.success && r.data.type === 'consumable.used' ? { ...r.data, data: { ...r.data.data, item } } : undefined;
}

/** The site-local dates of billed events received in `(after, upTo]`: where late events fell. */
export function datesReceivedBetween(db: HubDb, after: number, upTo: number): string[] {
  return db
    .prepare<[number, number], string>(
      `SELECT DISTINCT substr(at, 1, 10) FROM events WHERE type IN ${BILLED_TYPES} AND received_at > ? AND received_at <= ? ORDER BY 1`,
    )
    .pluck()
    .all(after, upTo);
}
