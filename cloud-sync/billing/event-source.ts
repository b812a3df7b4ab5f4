import type { Sql } from '../hub/db.js';
import { sqlDialect } from '../hub/storage/dialect.js';
import { Slices } from '../hub/slices.js';
import type { BilledEvent } from './visits.js';
import { billedRow } from './stored-rows.js';

/** What billing reads of the hub's events: presence and consumables, nothing else. */
const BILLED_TYPES = "('presence.in', 'presence.out', 'consumable.used')";

export interface ReadProgress {
  (phase: string, done: number, total: number): void;
}

export interface EventRead {
  /** In (site, seq) order. */
  events: BilledEvent[];
  /** Stored rows that no longer parse (written by another version): skipped, counted, logged. */
  unreadable: number;
}

/** The rows billing reads: presence and consumables of a window of site-local dates, received up to a cutoff. */
const BILLED = `type IN ${BILLED_TYPES} AND at >= ? AND at < ? AND received_at <= ?`;

/**
 * A billed row as one text: when the hub received it (ms), a space, then its body. One value per
 * row, not an object: a month's million objects cost SQLite's driver about 0.4 s of a 1.1 s read.
 */
const BILLED_ROW = "CAST(received_at AS TEXT) || ' ' || body";

/** Rows between two progress reports: often enough for a bar, rarely enough to cost nothing. */
const REPORT_EVERY = 50_000;
/**
 * Rows of the events table one page looks at at most, whatever they are: a page's statements
 * stay short even where the table holds months of other events, and its rows are few.
 */
export const PAGE_ROWS = 5_000;
/** Rows parsed between two chances for the event loop to run something else. */
const TICK_EVERY = 250;

/** A key of the events table. Every stored key is above `BEFORE_ALL` (seqs start at 1). */
interface Key {
  site: string;
  seq: number;
}
const BEFORE_ALL: Key = { site: '', seq: 0 };

/** The first key after a key: where the next page starts (one step down the primary key). */
const NEXT_KEY = 'SELECT site, seq FROM events WHERE (site, seq) > (?, ?) ORDER BY site, seq LIMIT 1';
/** A page: `pageRows` seqs of one site from the first stored one (a site's seqs are integers). */
const IN_PAGE = 'site = ? AND seq >= ? AND seq < ?';

/** How a read goes: its progress reports, its slices, its page size (tests use small ones). */
export interface ReadOptions {
  progress?: ReadProgress | undefined;
  /** The phase named in progress reports. */
  phase?: string;
  slices?: Slices;
  pageRows?: number;
}

/**
 * The events table in key order, at most `pageRows` rows at a time: each page a range of one
 * site's seqs, from the first key stored after the last page. Where a page starts is a seek
 * down the primary key, not a count of the rows before it, so the table is walked once.
 * Between pages the event loop gets a turn when the work has gone on for its budget (`slices`).
 */
async function* pages(q: Sql, slices: Slices, pageRows: number): AsyncGenerator<{ where: string; keys: unknown[] }> {
  for (let after = BEFORE_ALL; ;) {
    const first = await q.get<Key>(NEXT_KEY, [after.site, after.seq]);
    if (first === undefined) return;
    const end = first.seq + pageRows;
    yield { where: IN_PAGE, keys: [first.site, first.seq, end] };
    after = { site: first.site, seq: end - 1 };
    await slices.tick();
  }
}

/**
 * The hub's events of the site-local dates `[from, to)` received up to `cutoff` (hub ms), handed
 * to `each` one at a time in (site, seq) order, as they are read: none is kept here, so a month
 * of millions takes the memory of one page. `at` starts with the site-local date, so a string
 * range on it selects by site-local date exactly. The table has no index on `at` (ingest pays
 * for every index): this is one scan of it, page by page on its key, so that the hub keeps
 * answering meanwhile. A page is two short statements: where it ends (`pages`), then its billed
 * rows, the only ones that come out of the database. Returns how many were handed, and how many
 * rows no longer parse.
 */
export async function forEachBilledEvent(
  q: Sql,
  window: { from: string; to: string },
  cutoff: number,
  each: (event: BilledEvent) => void,
  { progress, phase = 'reading events', slices = new Slices(), pageRows = PAGE_ROWS }: ReadOptions = {},
): Promise<{ events: number; unreadable: number }> {
  const values = [window.from, window.to, cutoff];
  const total = progress ? ((await q.value<number>(`SELECT COUNT(*) FROM events WHERE ${BILLED}`, values)) ?? 0) : 0;
  let events = 0;
  let unreadable = 0;
  let done = 0;
  progress?.(phase, 0, total);
  for await (const page of pages(q, slices, pageRows)) {
    const rows = await q.column<string>(
      `SELECT ${BILLED_ROW} FROM events WHERE ${page.where} AND ${BILLED} ORDER BY site, seq`,
      [...page.keys, ...values],
    );
    for (const row of rows) {
      const space = row.indexOf(' ');
      const billed = billedRow(row.slice(space + 1), Number(row.slice(0, space)));
      if (billed) {
        events++;
        each(billed);
      } else unreadable++;
      if (++done % REPORT_EVERY === 0) progress?.(phase, done, total);
      if (done % TICK_EVERY === 0) await slices.tick();
    }
  }
  progress?.(phase, done, total);
  return { events, unreadable };
}

/** `forEachBilledEvent`, the events collected: for a few (tests, tools), not a month's close. */
export async function readBilledEvents(
  q: Sql,
  window: { from: string; to: string },
  cutoff: number,
  options: ReadOptions = {},
): Promise<EventRead> {
  const events: BilledEvent[] = [];
  const { unreadable } = await forEachBilledEvent(q, window, cutoff, (e) => events.push(e), options);
  return { events, unreadable };
}

/**
 * The presence events of `members` on the site-local dates `[from, to)`, received up to
 * `cutoff`, in (site, seq) order: the visits before a month's read window that its packs of days
 * count (pack-rating.ts). One statement, through the index on the events' member.
 */
export async function readMembersPresence(
  q: Sql,
  members: readonly string[],
  window: { from: string; to: string },
  cutoff: number,
): Promise<EventRead> {
  if (members.length === 0 || window.from >= window.to) return { events: [], unreadable: 0 };
  const d = sqlDialect(q);
  const rows = await q.all<{ body: string; received_at: number }>(
    `SELECT body, received_at FROM events
      WHERE type IN ('presence.in', 'presence.out') AND at >= ? AND at < ? AND received_at <= ?
        AND ${d.jsonValid('body')} AND ${d.inJsonArray(d.jsonText('body', 'data.memberId'), '?')}
      ORDER BY site, seq`,
    [window.from, window.to, cutoff, JSON.stringify(members)],
  );
  const events: BilledEvent[] = [];
  let unreadable = 0;
  for (const row of rows) {
    const billed = billedRow(row.body, row.received_at);
    if (billed) events.push(billed);
    else unreadable++;
  }
  return { events, unreadable };
}

/**
 * The site-local dates of billed events received in `(after, upTo]`: where late events fell.
 * Read page by page like the events (a few dozen dates in all).
 */
export async function datesReceivedBetween(
  q: Sql,
  after: number,
  upTo: number,
  { slices = new Slices(), pageRows = PAGE_ROWS }: Pick<ReadOptions, 'slices' | 'pageRows'> = {},
): Promise<string[]> {
  const dates = new Set<string>();
  for await (const page of pages(q, slices, pageRows)) {
    const found = await q.column<string>(
      `SELECT DISTINCT substr(at, 1, 10) FROM events WHERE ${page.where} AND type IN ${BILLED_TYPES} AND received_at > ? AND received_at <= ?`,
      [...page.keys, after, upTo],
    );
    for (const date of found) dates.add(date);
  }
  return [...dates].sort();
}
