import type { SqlStatement } from './storage/hub-db.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { SiteStatus } from '../../shared/protocol/sync.js';
import type { HubDb } from './db.js';
import type { SeqRange } from './seq-ranges.js';
import { MAX_RANGES, advanceContiguous, normalize, subtractParked } from './seq-ranges.js';
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

/**
 * The hub's event store: each (site, seq) is applied exactly once (docs/architecture.md, invariant 3), the
 * highest contiguous seq and the gaps are known per site, refused messages are kept.
 */
export class HubStore {
  private readonly stmt: {
    idsBetween: SqlStatement<[string, number, number], { seq: number; id: string }>;
    progress: SqlStatement<[string], ProgressRow>;
    lockProgress: SqlStatement<[string], ProgressRow>;
    allProgress: SqlStatement<[], ProgressRow>;
    createProgress: SqlStatement<[string]>;
    saveProgress: SqlStatement<[number, number, string | null, string]>;
    saveStatus: SqlStatement<[string, number, string, string]>;
    seqsAbove: SqlStatement<[string, number], number>;
    gaps: SqlStatement<[number, string, number, number], { a: number; b: number }>;
    events: SqlStatement<[string, number, number], { seq: number; body: string; received_at: number }>;
    deadLetter: SqlStatement<[string, string, string, string, number], number>;
    pruneDeadLetters: SqlStatement<[number]>;
    deadLetters: SqlStatement<[number], DeadLetter>;
  };
  private readonly ingestTx: (batches: readonly EventBatch[], nowMs: number) => IngestResult[];
  private readonly statusTx: (status: SiteStatus, nowMs: number) => Progress;
  /**
   * Each site's parked ranges from its last status, normalized, with the status text they came
   * from: parsed once per status, not per batch, and never stale when another hub instance
   * recorded a newer status (the row read under its lock says which status is current).
   */
  private readonly parked = new Map<string, { status: string | null; ranges: SeqRange[] }>();
  /** The multi-row INSERT of each row count up to ROWS_PER_INSERT, prepared once. */
  private readonly inserts = new Map<number, SqlStatement<unknown[], number>>();

  /** `announce`: told, inside the transaction, of each site's seqs stored for the first time (peers.ts). */
  constructor(
    readonly db: HubDb,
    private readonly announce?: (site: string, seqs: readonly number[]) => void,
  ) {
    this.stmt = {
      idsBetween: db.prepare('SELECT seq, id FROM events WHERE site = ? AND seq >= ? AND seq <= ?'),
      progress: db.prepare('SELECT * FROM site_progress WHERE site = ?'),
      // Each site's row is locked for the ingest transaction: another instance storing the same
      // site waits, then sees these events (READ COMMITTED), so contiguous never goes back.
      lockProgress: db.prepare(`SELECT * FROM site_progress WHERE site = ?${sqlDialect(db).forUpdate}`),
      allProgress: db.prepare('SELECT * FROM site_progress ORDER BY site'),
      createProgress: db.prepare('INSERT INTO site_progress (site) VALUES (?) ON CONFLICT (site) DO NOTHING'),
      saveProgress: db.prepare(
        'UPDATE site_progress SET contiguous = ?, max_seen = ?, last_event_at = ? WHERE site = ?',
      ),
      // The same status again (a broker's retained copy, handed over at each subscribe) is no new
      // heartbeat: it keeps the time it first arrived, so a site that died meanwhile is not revived.
      saveStatus: db.prepare(
        'UPDATE site_progress SET status_at = CASE WHEN last_status = ? AND status_at IS NOT NULL THEN status_at ELSE ? END, last_status = ? WHERE site = ?',
      ),
      seqsAbove: db
        .prepare<[string, number], number>('SELECT seq FROM events WHERE site = ? AND seq > ? ORDER BY seq')
        .pluck(),
      // Gaps between consecutive stored seqs from the contiguous one (which may be parked, not stored).
      gaps: db.prepare(`
        SELECT seq + 1 AS a, next - 1 AS b FROM (
          SELECT seq, LEAD(seq) OVER (ORDER BY seq) AS next
          FROM (SELECT CAST(? AS BIGINT) AS seq UNION ALL SELECT seq FROM events WHERE site = ? AND seq > ?) AS settled
        ) AS pairs WHERE next > seq + 1 LIMIT ?`),
      events: db.prepare('SELECT seq, body, received_at FROM events WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?'),
      deadLetter: db
        .prepare<[string, string, string, string, number], number>(
          'INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES (?, ?, ?, ?, ?) RETURNING id',
        )
        .pluck(),
      pruneDeadLetters: db.prepare('DELETE FROM dead_letters WHERE id <= ?'),
      deadLetters: db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?'),
    };
    this.ingestTx = db.transaction((batches: readonly EventBatch[], nowMs: number) =>
      this.applyBatches(batches, nowMs),
    );
    this.statusTx = db.transaction((status: SiteStatus, nowMs: number) => {
      this.stmt.createProgress.run(status.site);
      const text = JSON.stringify(status);
      this.stmt.saveStatus.run(text, nowMs, text, status.site);
      this.parked.set(status.site, { status: text, ranges: normalize(status.parked) });
      return this.settle(this.progressRow(status.site));
    });
  }

  /**
   * Stores a batch in one transaction: new seqs are applied, a seq already held with the same
   * event id is a duplicate, with another id a conflict (not applied). Throws, changing nothing,
   * if the batch breaks the EventBatch rules (callers parse with EventBatch first).
   */
  ingest(batch: EventBatch, nowMs: number): IngestResult {
    const [result] = this.ingestAll([batch], nowMs);
    if (!result) throw new Error('no result for a batch');
    return result;
  }

  /**
   * Group commit: stores several batches, of any sites, in one transaction, as `ingest` would
   * one after the other. Each result carries its site's progress after the whole group. Throws,
   * changing nothing, if any batch breaks the EventBatch rules.
   */
  ingestAll(batches: readonly EventBatch[], nowMs: number): IngestResult[] {
    batches.forEach(checkBatch);
    return this.ingestTx(batches, nowMs);
  }

  /** Keeps a site's last status; its parked ranges settle those seqs. Returns the site's progress. */
  recordStatus(status: SiteStatus, nowMs: number): Progress {
    try {
      return this.statusTx(status, nowMs);
    } catch (err) {
      this.parked.delete(status.site); // rolled back: read again from the database when next needed
      throw err;
    }
  }

  deadLetter(topic: string, reason: string, detail: string, payload: Buffer | string, nowMs: number): void {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const text = bytes.subarray(0, DEAD_LETTER_PAYLOAD_BYTES).toString('utf8');
    const id = this.stmt.deadLetter.get(shown(topic), reason, shown(detail), shown(text), nowMs) as number;
    if (id % 100 === 0) this.stmt.pruneDeadLetters.run(id - DEAD_LETTERS_KEPT);
  }

  /** Newest first. */
  deadLetters(limit = 100): DeadLetter[] {
    return this.stmt.deadLetters.all(limit);
  }

  progress(site: string): Progress | undefined {
    const row = this.stmt.progress.get(site);
    return row ? this.progressOf(row) : undefined;
  }

  sites(): SiteView[] {
    return this.stmt.allProgress.all().map((row) => {
      const status = statusOf(row);
      return {
        site: row.site,
        online: status?.online ?? null,
        lastEventAt: row.last_event_at,
        status,
        statusAt: row.status_at,
        ...this.progressOf(row),
      };
    });
  }

  /** A site's events with seq above `afterSeq`, ascending. */
  events(site: string, afterSeq: number, limit: number): StoredEvent[] {
    return this.stmt.events
      .all(site, afterSeq, limit)
      .map((r) => ({ seq: r.seq, receivedAt: r.received_at, event: SiteEvent.parse(JSON.parse(r.body)) }));
  }

  private applyBatches(batches: readonly EventBatch[], nowMs: number): IngestResult[] {
    const rows = new Map<string, ProgressRow>();
    // Locked in one order by every instance: two groups of the same sites never deadlock.
    for (const site of [...new Set(batches.map((b) => b.site))].sort()) {
      this.stmt.createProgress.run(site);
      rows.set(site, this.progressRow(site, this.stmt.lockProgress));
    }
    const applied = batches.map((batch) => this.applyBatch(batch, rows.get(batch.site) as ProgressRow, nowMs));
    if (this.announce) for (const site of rows.keys()) this.announceApplied(site, applied);
    const progress = new Map([...rows].map(([site, row]) => [site, this.settle(row)]));
    return applied.map((r) => ({ ...r, ...(progress.get(r.site) as Progress) }));
  }

  private applyBatch(batch: EventBatch, row: ProgressRow, nowMs: number): Omit<IngestResult, keyof Progress> {
    const { site } = batch;
    const { events } = batch;
    const stored = new Set<number>();
    for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
      const rows = events.slice(i, i + ROWS_PER_INSERT);
      const values = rows.flatMap((e) => [site, e.seq, e.id, e.at, e.type, JSON.stringify(e), nowMs]);
      for (const seq of this.insertOf(rows.length).all(...values)) stored.add(seq);
    }
    const appliedEvents = stored.size === events.length ? [...events] : events.filter((e) => stored.has(e.seq));
    let duplicates = 0;
    const conflicts: Conflict[] = [];
    const first = events[0];
    const last = events[events.length - 1];
    if (first && last && appliedEvents.length < events.length) {
      const held = new Map(this.stmt.idsBetween.all(site, first.seq, last.seq).map((r) => [r.seq, r.id]));
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
  private settle(row: ProgressRow): Progress {
    const parked = this.parkedOf(row);
    row.contiguous = advanceContiguous(row.contiguous, parked, this.stmt.seqsAbove.iterate(row.site, row.contiguous));
    this.stmt.saveProgress.run(row.contiguous, row.max_seen, row.last_event_at, row.site);
    return this.progressOf(row, parked);
  }

  /**
   * `rows` events in one statement: one round trip to PostgreSQL for up to ROWS_PER_INSERT of
   * them. ON CONFLICT, not OR IGNORE: only the (site, seq) key may be skipped; any other
   * violation aborts the batch. RETURNING: the seqs stored for the first time.
   */
  private insertOf(rows: number): SqlStatement<unknown[], number> {
    let stmt = this.inserts.get(rows);
    if (!stmt) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
      stmt = this.db
        .prepare<unknown[], number>(
          `INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ${values} ON CONFLICT (site, seq) DO NOTHING RETURNING seq`,
        )
        .pluck();
      this.inserts.set(rows, stmt);
    }
    return stmt;
  }

  private announceApplied(
    site: string,
    applied: ReadonlyArray<{ site: string; appliedEvents: readonly SiteEvent[] }>,
  ): void {
    const seqs = applied.flatMap((r) => (r.site === site ? r.appliedEvents.map((e) => e.seq) : []));
    if (seqs.length > 0) this.announce?.(site, seqs);
  }

  private parkedOf(row: ProgressRow): SeqRange[] {
    const cached = this.parked.get(row.site);
    if (cached?.status === row.last_status) return cached.ranges;
    const ranges = normalize(statusOf(row)?.parked ?? []);
    this.parked.set(row.site, { status: row.last_status, ranges });
    return ranges;
  }

  private progressOf(row: ProgressRow, parked = this.parkedOf(row)): Progress {
    const missing: SeqRange[] =
      row.max_seen > row.contiguous
        ? subtractParked(
            this.stmt.gaps.all(row.contiguous, row.site, row.contiguous, MAX_RANGES).map((g): SeqRange => [g.a, g.b]),
            parked,
          )
        : [];
    return { contiguous: row.contiguous, maxSeen: row.max_seen, missing };
  }

  private progressRow(site: string, read = this.stmt.progress): ProgressRow {
    const row = read.get(site);
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
