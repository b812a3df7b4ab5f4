import { TesseraError } from '../../shared/platform/errors.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { SiteStatus } from '../../shared/protocol/sync.js';
import type { HubDb, Sql, Tx } from './db.js';
import type { SeqRange } from './seq-ranges.js';
import { MAX_RANGES, advanceContiguous, normalize, skipParked, subtractParked } from './seq-ranges.js';
import { sqlDialect } from './storage/dialect.js';
import type { DeadLetter, StoredEvent } from '../../shared/protocol/api/hub-sites.js';

/** A seq the hub already holds with another event id: the stored event is kept. */
export interface Conflict {
  site: string;
  seq: number;
  storedId: string;
  receivedId: string;
}

export interface Progress {
  /** Every seq up to it is stored at the hub (or parked at the site): the ack's `seq`. */
  contiguous: number;
  /** The highest seq stored. */
  maxSeen: number;
  /** Absent ranges between contiguous and maxSeen, parked ones excepted: the ack's `missing`. */
  missing: SeqRange[];
}

export interface IngestResult extends Progress {
  site: string;
  /** How many events were stored for the first time: `appliedEvents.length`. */
  applied: number;
  /** The events stored for the first time, in seq order. */
  appliedEvents: SiteEvent[];
  duplicates: number;
  conflicts: Conflict[];
}

export interface SiteView extends Progress {
  site: string;
  /** From the last status: false after the site's last will; null before any status. */
  online: boolean | null;
  /** `at` of the highest seq stored (site-local ISO time). */
  lastEventAt: string | null;
  status: SiteStatus | null;
  statusAt: number | null;
}

// Stored events and dead letters are answered as they are: the API's wire shapes (shared/protocol/api/hub-sites.ts).
export type { DeadLetter, StoredEvent };

export const DEAD_LETTER_PAYLOAD_BYTES = 4096;
/** Events per INSERT statement. */
const ROWS_PER_INSERT = 50;
/** Older dead letters are pruned beyond this many, so a flood of garbage cannot fill the disk. */
export const DEAD_LETTERS_KEPT = 10_000;

interface ProgressRow {
  site: string;
  contiguous: number;
  max_seen: number;
  last_event_at: string | null;
  last_status: string | null;
  status_at: number | null;
}

/** Sites per statement when the group's progress rows are made, locked and saved. */
const ROWS_PER_STATEMENT = 256;
const CREATE_PROGRESS = 'INSERT INTO site_progress (site) VALUES ';
// VALUES columns are column1, column2, … on both databases.
const SAVE_PROGRESS =
  'UPDATE site_progress SET contiguous = v.column2, max_seen = v.column3, last_event_at = v.column4 FROM (VALUES ';
const SAVE_PROGRESS_END = ') AS v WHERE site_progress.site = v.column1';
const statements = new Map<string, string>();

/** `head`, `count` times `row` joined by commas, then `tail`: made once per shape and count. */
function rowsStatement(head: string, row: string, count: number, tail: string): string {
  const key = `${head}|${row}|${count}`;
  let sql = statements.get(key);
  if (sql === undefined) {
    sql = `${head}${Array.from({ length: count }, () => row).join(', ')}${tail}`;
    statements.set(key, sql);
  }
  return sql;
}

/**
 * `items` with its last one repeated up to the next power of two: a few statement texts for
 * every group size (each prepared once per connection), the repeats changing nothing.
 */
function padded<T>(items: readonly T[]): T[] {
  let size = 1;
  while (size < items.length) size *= 2;
  const last = items[items.length - 1] as T;
  return [...items, ...Array.from({ length: size - items.length }, () => last)];
}

const keyOf = (e: { site: string; seq: number }) => `${e.site} ${e.seq}`;

/** Seqs read at a time when moving contiguous forward: a full batch in one page, more pages only past it. */
const SEQ_PAGE = 1024;
const SEQ_PAGE_MAX = 16_384;

const SQL = {
  idsBetween: 'SELECT seq, id FROM events WHERE site = ? AND seq >= ? AND seq <= ?',
  progress: 'SELECT * FROM site_progress WHERE site = ?',
  allProgress: 'SELECT * FROM site_progress ORDER BY site',
  allSites: 'SELECT site FROM site_progress ORDER BY site',
  createProgress: 'INSERT INTO site_progress (site) VALUES (?) ON CONFLICT (site) DO NOTHING',
  saveProgress: 'UPDATE site_progress SET contiguous = ?, max_seen = ?, last_event_at = ? WHERE site = ?',
  // The same status again (a broker's retained copy, handed over at each subscribe) is no new
  // heartbeat: it keeps the time it first arrived, so a site that died meanwhile is not revived.
  saveStatus:
    'UPDATE site_progress SET status_at = CASE WHEN last_status = ? AND status_at IS NOT NULL THEN status_at ELSE ? END, last_status = ? WHERE site = ?',
  seqsAbove: 'SELECT seq FROM events WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?',
  // Gaps between consecutive stored seqs from the contiguous one (which may be parked, not stored).
  gaps: `
    SELECT seq + 1 AS a, next - 1 AS b FROM (
      SELECT seq, LEAD(seq) OVER (ORDER BY seq) AS next
      FROM (SELECT CAST(? AS BIGINT) AS seq UNION ALL SELECT seq FROM events WHERE site = ? AND seq > ?) AS settled
    ) AS pairs WHERE next > seq + 1 LIMIT ?`,
  events: 'SELECT seq, body, received_at FROM events WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?',
  deadLetter: 'INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES (?, ?, ?, ?, ?) RETURNING id',
  pruneDeadLetters: 'DELETE FROM dead_letters WHERE id <= ?',
  deadLetters: 'SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?',
};

/**
 * Told, inside the ingest transaction, of each site's seqs stored for the first time (peers.ts):
 * what it writes or sends through `tx` takes effect at the commit, never for one rolled back.
 */
export type Announce = (tx: Tx, site: string, seqs: readonly number[]) => Promise<void>;

/**
 * The hub's event store: each (site, seq) is applied exactly once (docs/architecture.md, invariant 3), the
 * highest contiguous seq and the gaps are known per site, refused messages are kept.
 */
export class HubStore {
  /**
   * Each site's parked ranges from its last status, normalized, with the status text they came
   * from: parsed once per status, not per batch, and never stale when another hub instance
   * recorded a newer status (the row read under its lock says which status is current).
   */
  private readonly parked = new Map<string, { status: string | null; ranges: SeqRange[] }>();
  /** The multi-row INSERT of each row count up to ROWS_PER_INSERT (the adapters prepare each text once). */
  private readonly inserts = new Map<number, string>();
  /** The sites known to have a progress row: what `/health` counts without asking the database. */
  private readonly known = new Set<string>();

  constructor(
    readonly db: HubDb,
    private readonly announce?: Announce,
  ) {}

  /**
   * How many sites the hub holds progress for, as last seen: the last `sites()` listing and the
   * sites stored or recorded since (never a database read: `/health` answers without it).
   */
  get knownSites(): number {
    return this.known.size;
  }

  /** Sites whose batches or status were just committed in a caller's transaction (HubIngest). */
  heardFrom(sites: Iterable<string>): void {
    for (const site of sites) this.known.add(site);
  }

  /**
   * Stores a batch in one transaction: new seqs are applied, a seq already held with the same
   * event id is a duplicate, with another id a conflict (not applied). Rejects, changing
   * nothing, if the batch breaks the EventBatch rules (callers parse with EventBatch first).
   */
  async ingest(batch: EventBatch, nowMs: number): Promise<IngestResult> {
    const [result] = await this.ingestAll([batch], nowMs);
    if (!result) throw new Error('no result for a batch');
    return result;
  }

  /**
   * Group commit: stores several batches, of any sites, in one transaction of its own, as
   * `ingest` would one after the other. Each result carries its site's progress after the whole
   * group. Rejects, changing nothing, if any batch breaks the EventBatch rules.
   */
  async ingestAll(batches: readonly EventBatch[], nowMs: number): Promise<IngestResult[]> {
    batches.forEach(checkBatch);
    const results = await this.db.transaction((tx) => this.ingestIn(tx, batches, nowMs));
    this.heardFrom(batches.map((b) => b.site));
    return results;
  }

  /**
   * `ingestAll` inside the caller's transaction `tx` (HubIngest's group commit, where listeners
   * write in the same transaction): each site's progress row is locked, the sites in sorted
   * order, then each batch is applied, in the order given. Nothing is committed here: a
   * rejection leaves `tx` to be rolled back. Call `heardFrom` once committed.
   */
  async ingestIn(tx: Tx, batches: readonly EventBatch[], nowMs: number): Promise<IngestResult[]> {
    batches.forEach(checkBatch);
    const rows = await this.lockProgress(tx, [...new Set(batches.map((b) => b.site))].sort());
    // Whether a site held seqs above its contiguous one before this group: if not, the seqs
    // above it now are this group's, known here, and contiguous moves without a read.
    const settledBefore = new Set([...rows.values()].filter((r) => r.max_seen <= r.contiguous).map((r) => r.site));
    const applied = await this.applyBatches(tx, batches, rows, nowMs);
    if (this.announce) for (const site of rows.keys()) await this.announceApplied(tx, site, applied);
    const progress = await this.settleAll(tx, rows, settledBefore, applied);
    return applied.map((r) => ({ ...r, ...(progress.get(r.site) as Progress) }));
  }

  /** Keeps a site's last status; its parked ranges settle those seqs. Returns the site's progress. */
  async recordStatus(status: SiteStatus, nowMs: number): Promise<Progress> {
    try {
      const progress = await this.db.transaction(async (tx) => {
        await tx.run(SQL.createProgress, [status.site]);
        const text = JSON.stringify(status);
        await tx.run(SQL.saveStatus, [text, nowMs, text, status.site]);
        this.parked.set(status.site, { status: text, ranges: normalize(status.parked) });
        return this.settle(tx, await this.progressRow(tx, status.site));
      });
      this.known.add(status.site);
      return progress;
    } catch (err) {
      this.parked.delete(status.site); // rolled back: read again from the database when next needed
      throw err;
    }
  }

  async deadLetter(
    topic: string,
    reason: string,
    detail: string,
    payload: Buffer | string,
    nowMs: number,
  ): Promise<void> {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const text = bytes.subarray(0, DEAD_LETTER_PAYLOAD_BYTES).toString('utf8');
    const id = (await this.db.value<number>(SQL.deadLetter, [
      shown(topic),
      reason,
      shown(detail),
      shown(text),
      nowMs,
    ])) as number;
    if (id % 100 === 0) await this.db.run(SQL.pruneDeadLetters, [id - DEAD_LETTERS_KEPT]);
  }

  /** Newest first. */
  deadLetters(limit = 100): Promise<DeadLetter[]> {
    return this.db.all<DeadLetter>(SQL.deadLetters, [limit]);
  }

  /** A site's progress, undefined before anything from it; in `q`'s transaction when given. */
  progress(site: string): Promise<Progress | undefined>;
  progress(q: Sql, site: string): Promise<Progress | undefined>;
  async progress(a: string | Sql, b?: string): Promise<Progress | undefined> {
    const [q, site] = typeof a === 'string' ? [this.db, a] : [a, b as string];
    const row = await q.get<ProgressRow>(SQL.progress, [site]);
    return row ? this.progressOf(q, row) : undefined;
  }

  /** Every site heard from, by id; in `q`'s transaction when given. */
  async sites(q: Sql = this.db): Promise<SiteView[]> {
    const rows = await q.all<ProgressRow>(SQL.allProgress);
    const views: SiteView[] = [];
    for (const row of rows) views.push(await this.viewOf(q, row));
    if (q === this.db) this.heardFrom(rows.map((r) => r.site));
    return views;
  }

  /** The id of every site heard from, sorted: `sites()` without reading their statuses. */
  async siteIds(): Promise<string[]> {
    const ids = await this.db.column<string>(SQL.allSites);
    this.heardFrom(ids);
    return ids;
  }

  /**
   * One site as `sites()` lists it, undefined before anything from it: one row read, where a
   * caller judging one site's status would otherwise read and parse every site's (a thousand
   * sites connecting at once made that quadratic).
   */
  async site(site: string): Promise<SiteView | undefined> {
    const row = await this.db.get<ProgressRow>(SQL.progress, [site]);
    return row ? this.viewOf(this.db, row) : undefined;
  }

  private async viewOf(q: Sql, row: ProgressRow): Promise<SiteView> {
    const status = statusOf(row);
    return {
      site: row.site,
      online: status?.online ?? null,
      lastEventAt: row.last_event_at,
      status,
      statusAt: row.status_at,
      ...(await this.progressOf(q, row)),
    };
  }

  /** A site's events with seq above `afterSeq`, ascending; in `q`'s transaction when given. */
  events(site: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  events(q: Sql, site: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  async events(...args: [string, number, number] | [Sql, string, number, number]): Promise<StoredEvent[]> {
    const [q, site, afterSeq, limit] =
      typeof args[0] === 'string'
        ? [this.db, ...(args as [string, number, number])]
        : (args as [Sql, string, number, number]);
    const rows = await q.all<{ seq: number; body: string; received_at: number }>(SQL.events, [site, afterSeq, limit]);
    return rows.map((r) => ({ seq: r.seq, receivedAt: r.received_at, event: SiteEvent.parse(JSON.parse(r.body)) }));
  }

  /**
   * Each site's progress row, made if missing and locked, in one statement each for the whole
   * group: another instance storing the same sites waits, then sees these events (READ
   * COMMITTED), so contiguous never goes back; rows locked in site order by every instance, so
   * two groups of the same sites never deadlock.
   */
  private async lockProgress(tx: Tx, sites: readonly string[]): Promise<Map<string, ProgressRow>> {
    for (let i = 0; i < sites.length; i += ROWS_PER_STATEMENT) {
      const chunk = padded(sites.slice(i, i + ROWS_PER_STATEMENT));
      await tx.run(rowsStatement(CREATE_PROGRESS, '(?)', chunk.length, ' ON CONFLICT (site) DO NOTHING'), chunk);
    }
    const d = sqlDialect(tx);
    const locked = await tx.all<ProgressRow>(
      `SELECT * FROM site_progress WHERE ${d.inJsonArray('site', '?')} ORDER BY site${d.forUpdate}`,
      [JSON.stringify(sites)],
    );
    const rows = new Map(locked.map((r) => [r.site, r]));
    for (const site of sites) if (!rows.has(site)) throw new Error(`no progress row for site ${site}`);
    return rows;
  }

  /**
   * Applies the group's batches in order, as one after the other would: the first time a
   * (site, seq) comes in the group it is inserted (all sites' events in multi-row statements),
   * and a later batch carrying it again, or one carrying a seq the hub already held, counts a
   * duplicate (same event id) or a conflict (another id; the stored event is kept).
   */
  private async applyBatches(
    tx: Tx,
    batches: readonly EventBatch[],
    rows: ReadonlyMap<string, ProgressRow>,
    nowMs: number,
  ): Promise<Array<Omit<IngestResult, keyof Progress>>> {
    const firsts = new Map<string, SiteEvent>();
    for (const batch of batches) for (const e of batch.events) if (!firsts.has(keyOf(e))) firsts.set(keyOf(e), e);
    const candidates = [...firsts.values()];
    const stored = new Set<string>();
    for (let i = 0; i < candidates.length; i += ROWS_PER_INSERT) {
      const chunk = candidates.slice(i, i + ROWS_PER_INSERT);
      const values = chunk.flatMap((e) => [e.site, e.seq, e.id, e.at, e.type, JSON.stringify(e), nowMs]);
      for (const r of await tx.all<{ site: string; seq: number }>(this.insertOf(chunk.length), values))
        stored.add(`${r.site} ${r.seq}`);
    }
    const claimed = new Set<string>();
    const results: Array<Omit<IngestResult, keyof Progress>> = [];
    for (const batch of batches) {
      const { site, events } = batch;
      const appliedEvents: SiteEvent[] = [];
      const others: SiteEvent[] = [];
      for (const e of events) {
        const key = keyOf(e);
        if (stored.has(key) && !claimed.has(key) && firsts.get(key) === e) {
          claimed.add(key);
          appliedEvents.push(e);
        } else others.push(e);
      }
      let duplicates = 0;
      const conflicts: Conflict[] = [];
      if (others.length > 0) {
        const held = await this.heldIds(tx, site, others, stored, firsts);
        for (const e of others) {
          const storedId = held.get(e.seq);
          if (storedId === e.id) duplicates++;
          else conflicts.push({ site, seq: e.seq, storedId: storedId ?? '', receivedId: e.id });
        }
      }
      const row = rows.get(site) as ProgressRow;
      const last = events[events.length - 1];
      if (last && last.seq > row.max_seen) {
        row.max_seen = last.seq;
        row.last_event_at = last.at;
      }
      results.push({ site, applied: appliedEvents.length, appliedEvents, duplicates, conflicts });
    }
    return results;
  }

  /** The event id the hub holds for each of `events`' seqs: stored earlier in this group, or read. */
  private async heldIds(
    tx: Tx,
    site: string,
    events: readonly SiteEvent[],
    stored: ReadonlySet<string>,
    firsts: ReadonlyMap<string, SiteEvent>,
  ): Promise<Map<number, string>> {
    const held = new Map<number, string>();
    const unknown: number[] = [];
    for (const e of events) {
      const key = keyOf(e);
      const first = firsts.get(key);
      if (stored.has(key) && first) held.set(e.seq, first.id);
      else unknown.push(e.seq);
    }
    if (unknown.length > 0) {
      const ids = await tx.all<{ seq: number; id: string }>(SQL.idsBetween, [
        site,
        Math.min(...unknown),
        Math.max(...unknown),
      ]);
      for (const r of ids) if (!held.has(r.seq)) held.set(r.seq, r.id);
    }
    return held;
  }

  /**
   * Moves each site's contiguous seq forward and saves every row in one statement; reads only
   * for a site that held seqs above contiguous before the group (a gap being filled).
   */
  private async settleAll(
    tx: Tx,
    rows: ReadonlyMap<string, ProgressRow>,
    settledBefore: ReadonlySet<string>,
    applied: ReadonlyArray<Omit<IngestResult, keyof Progress>>,
  ): Promise<Map<string, Progress>> {
    const newSeqs = new Map<string, number[]>();
    for (const r of applied) {
      const seqs = newSeqs.get(r.site) ?? [];
      for (const e of r.appliedEvents) seqs.push(e.seq);
      newSeqs.set(r.site, seqs);
    }
    for (const row of rows.values()) {
      const parked = this.parkedOf(row);
      row.contiguous = settledBefore.has(row.site)
        ? advanceContiguous(
            row.contiguous,
            parked,
            (newSeqs.get(row.site) ?? []).sort((a, b) => a - b),
          )
        : await this.advance(tx, row.site, row.contiguous, parked);
    }
    const all = [...rows.values()];
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
      const chunk = padded(all.slice(i, i + ROWS_PER_STATEMENT));
      await tx.run(
        rowsStatement(SAVE_PROGRESS, '(?, CAST(? AS BIGINT), CAST(? AS BIGINT), ?)', chunk.length, SAVE_PROGRESS_END),
        chunk.flatMap((r) => [r.site, r.contiguous, r.max_seen, r.last_event_at]),
      );
    }
    const progress = new Map<string, Progress>();
    for (const row of all) progress.set(row.site, await this.progressOf(tx, row));
    return progress;
  }

  private async settle(tx: Tx, row: ProgressRow): Promise<Progress> {
    const parked = this.parkedOf(row);
    row.contiguous = await this.advance(tx, row.site, row.contiguous, parked);
    await tx.run(SQL.saveProgress, [row.contiguous, row.max_seen, row.last_event_at, row.site]);
    return this.progressOf(tx, row, parked);
  }

  /**
   * The highest contiguous seq from `contiguous`: the stored seqs above it are read in pages
   * (keyset, by seq), up to the first gap that no parked range covers.
   */
  private async advance(tx: Tx, site: string, contiguous: number, parked: readonly SeqRange[]): Promise<number> {
    let c = skipParked(contiguous, parked);
    for (let page = SEQ_PAGE; ; page = Math.min(page * 2, SEQ_PAGE_MAX)) {
      const seqs = await tx.column<number>(SQL.seqsAbove, [site, c, page]);
      const next = advanceContiguous(c, parked, seqs);
      const last = seqs[seqs.length - 1];
      if (seqs.length < page || last === undefined || next < last) return next;
      c = next;
    }
  }

  /**
   * `rows` events in one statement: one round trip to PostgreSQL for up to ROWS_PER_INSERT of
   * them. ON CONFLICT, not OR IGNORE: only the (site, seq) key may be skipped; any other
   * violation aborts the batch. RETURNING: the seqs stored for the first time.
   */
  private insertOf(rows: number): string {
    let sql = this.inserts.get(rows);
    if (sql === undefined) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
      sql = `INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ${values} ON CONFLICT (site, seq) DO NOTHING RETURNING site, seq`;
      this.inserts.set(rows, sql);
    }
    return sql;
  }

  private async announceApplied(
    tx: Tx,
    site: string,
    applied: ReadonlyArray<{ site: string; appliedEvents: readonly SiteEvent[] }>,
  ): Promise<void> {
    const seqs = applied.flatMap((r) => (r.site === site ? r.appliedEvents.map((e) => e.seq) : []));
    if (seqs.length > 0) await this.announce?.(tx, site, seqs);
  }

  private parkedOf(row: ProgressRow): SeqRange[] {
    const cached = this.parked.get(row.site);
    if (cached?.status === row.last_status) return cached.ranges;
    const ranges = normalize(statusOf(row)?.parked ?? []);
    this.parked.set(row.site, { status: row.last_status, ranges });
    return ranges;
  }

  private async progressOf(q: Sql, row: ProgressRow, parked = this.parkedOf(row)): Promise<Progress> {
    const missing: SeqRange[] =
      row.max_seen > row.contiguous
        ? subtractParked(
            (
              await q.all<{ a: number; b: number }>(SQL.gaps, [row.contiguous, row.site, row.contiguous, MAX_RANGES])
            ).map((g): SeqRange => [g.a, g.b]),
            parked,
          )
        : [];
    return { contiguous: row.contiguous, maxSeen: row.max_seen, missing };
  }

  private async progressRow(q: Sql, site: string, sql = SQL.progress): Promise<ProgressRow> {
    const row = await q.get<ProgressRow>(sql, [site]);
    if (!row) throw new Error(`no progress row for site ${site}`);
    return row;
  }
}

/** Text for the operator: a NUL (which PostgreSQL text cannot hold) as U+FFFD, as bytes that are not UTF-8 already are. */
const shown = (text: string) => text.replaceAll('\u0000', '\ufffd');

function statusOf(row: ProgressRow): SiteStatus | null {
  if (row.last_status === null) return null;
  const parsed = SiteStatus.safeParse(JSON.parse(row.last_status));
  return parsed.success ? parsed.data : null;
}

/** The cheap EventBatch rules the store itself relies on, re-checked so a cast cannot break exactly-once ingest. */
function checkBatch(batch: EventBatch): void {
  batch.events.forEach((e, i) => {
    const prev = batch.events[i - 1];
    const ok = e.site === batch.site && Number.isInteger(e.seq) && e.seq >= 1 && (!prev || e.seq === prev.seq + 1);
    if (!ok)
      throw new TesseraError(
        'sync.rejected',
        `batch of site ${batch.site}: event ${i} (site ${e.site}, seq ${e.seq}) breaks the batch rules`,
      );
  });
  if (batch.events.length === 0) throw new TesseraError('sync.rejected', `empty batch of site ${batch.site}`);
}
