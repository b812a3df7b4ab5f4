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

/** Seqs read at a time when moving contiguous forward: a full batch in one page, more pages only past it. */
const SEQ_PAGE = 1024;
const SEQ_PAGE_MAX = 16_384;

const SQL = {
  idsBetween: 'SELECT seq, id FROM events WHERE site = ? AND seq >= ? AND seq <= ?',
  progress: 'SELECT * FROM site_progress WHERE site = ?',
  allProgress: 'SELECT * FROM site_progress ORDER BY site',
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
    const rows = new Map<string, ProgressRow>();
    // Each site's row is locked for the ingest transaction: another instance storing the same
    // site waits, then sees these events (READ COMMITTED), so contiguous never goes back.
    // Locked in one order by every instance: two groups of the same sites never deadlock.
    const lock = `${SQL.progress}${sqlDialect(tx).forUpdate}`;
    for (const site of [...new Set(batches.map((b) => b.site))].sort()) {
      await tx.run(SQL.createProgress, [site]);
      rows.set(site, await this.progressRow(tx, site, lock));
    }
    const applied: Array<Omit<IngestResult, keyof Progress>> = [];
    for (const batch of batches)
      applied.push(await this.applyBatch(tx, batch, rows.get(batch.site) as ProgressRow, nowMs));
    if (this.announce) for (const site of rows.keys()) await this.announceApplied(tx, site, applied);
    const progress = new Map<string, Progress>();
    for (const [site, row] of rows) progress.set(site, await this.settle(tx, row));
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
    for (const row of rows) {
      const status = statusOf(row);
      views.push({
        site: row.site,
        online: status?.online ?? null,
        lastEventAt: row.last_event_at,
        status,
        statusAt: row.status_at,
        ...(await this.progressOf(q, row)),
      });
    }
    if (q === this.db) this.heardFrom(rows.map((r) => r.site));
    return views;
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

  private async applyBatch(
    tx: Tx,
    batch: EventBatch,
    row: ProgressRow,
    nowMs: number,
  ): Promise<Omit<IngestResult, keyof Progress>> {
    const { site } = batch;
    const { events } = batch;
    const stored = new Set<number>();
    for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
      const rows = events.slice(i, i + ROWS_PER_INSERT);
      const values = rows.flatMap((e) => [site, e.seq, e.id, e.at, e.type, JSON.stringify(e), nowMs]);
      for (const seq of await tx.column<number>(this.insertOf(rows.length), values)) stored.add(seq);
    }
    const appliedEvents = stored.size === events.length ? [...events] : events.filter((e) => stored.has(e.seq));
    let duplicates = 0;
    const conflicts: Conflict[] = [];
    const first = events[0];
    const last = events[events.length - 1];
    if (first && last && appliedEvents.length < events.length) {
      const ids = await tx.all<{ seq: number; id: string }>(SQL.idsBetween, [site, first.seq, last.seq]);
      const held = new Map(ids.map((r) => [r.seq, r.id]));
      for (const e of events) {
        if (stored.has(e.seq)) continue;
        const storedId = held.get(e.seq);
        if (storedId === e.id) duplicates++;
        else conflicts.push({ site, seq: e.seq, storedId: storedId ?? '', receivedId: e.id });
      }
    }
    if (last && last.seq > row.max_seen) {
      row.max_seen = last.seq;
      row.last_event_at = last.at;
    }
    return { site, applied: appliedEvents.length, appliedEvents, duplicates, conflicts };
  }

  /** Advances contiguous past stored and parked seqs, saves it, and computes what is missing. */
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
      sql = `INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ${values} ON CONFLICT (site, seq) DO NOTHING RETURNING seq`;
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
