import type { SqlStatement } from '../storage/hub-db.js';
import type { SiteEvent } from '../../../shared/protocol/events.js';
import type { HubDb } from '../db.js';
import { type BucketRow, type HistoryPoint, bucketStart, historySeries, rateOf } from './buckets.js';
import { sqlDialect } from '../storage/dialect.js';

/** What the projection needs to know of a site the operator declared. */
export interface DeclaredSite {
  id: string;
  name: string;
  timeZone: string;
  /** Deprecated: only until the site reports the capacity its door enforces. */
  capacity?: number | undefined;
}

import type { NetworkOccupancy, PresentMember, SiteOccupancy } from '../../../shared/protocol/api/hub-occupancy.js';

// What the projection answers is the API's own wire shape (shared/protocol/api/hub-occupancy.ts).
export type { NetworkOccupancy, PresentMember, SiteOccupancy };

type PresenceEvent = Extract<SiteEvent, { type: 'presence.in' | 'presence.out' }>;
const isPresence = (e: SiteEvent): e is PresenceEvent => e.type === 'presence.in' || e.type === 'presence.out';

/**
 * Live occupancy: who is in at each site, from presence.in / presence.out events.
 * A member's presence is that of their highest-seq presence event, kept in SQLite with the seq,
 * so applying events is idempotent and order-free (a re-sent or late event never undoes a newer
 * one) and a restart finds everyone still in. Each change also updates the site's 15-minute
 * history bucket of the event's own time, so a site catching up after a day offline fills its
 * history at the right hours.
 */
export class OccupancyProjection {
  /** site → member → since: who is in, read once at start and kept in step with the table. */
  private readonly present = new Map<string, Map<string, string>>();
  private readonly stmt: {
    save: SqlStatement<[string, string, number, number, string | null]>;
    bucket: SqlStatement<[string, number, number, number]>;
    buckets: SqlStatement<[string, number, number], BucketRow>;
    before: SqlStatement<[string, number], BucketRow>;
  };
  private readonly applyTx: (events: readonly SiteEvent[]) => Set<string>;

  constructor(
    private readonly db: HubDb,
    private readonly declared: () => readonly DeclaredSite[],
    private readonly memberName: (memberId: string) => string | undefined,
    /** The capacity each site reports in its status: it wins over a declared one. */
    private readonly reportedCapacity: (site: string) => number | undefined = () => undefined,
  ) {
    this.stmt = {
      // Only a higher seq replaces what is stored: `changes` says whether the event was news.
      save: db.prepare(`INSERT INTO presence_state (site, member_id, seq, present, since) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (site, member_id) DO UPDATE SET seq = excluded.seq, present = excluded.present, since = excluded.since
        WHERE excluded.seq > presence_state.seq`),
      bucket: db.prepare(`INSERT INTO occupancy_buckets (site, start_ms, peak, last) VALUES (?, ?, ?, ?)
        ON CONFLICT (site, start_ms) DO UPDATE SET peak = ${sqlDialect(db).greatest('occupancy_buckets.peak', 'excluded.peak')}, last = excluded.last`),
      buckets: db.prepare(
        'SELECT start_ms AS "startMs", peak, last FROM occupancy_buckets WHERE site = ? AND start_ms >= ? AND start_ms <= ?',
      ),
      before: db.prepare(
        'SELECT start_ms AS "startMs", peak, last FROM occupancy_buckets WHERE site = ? AND start_ms < ? ORDER BY start_ms DESC LIMIT 1',
      ),
    };
    // Built once: better-sqlite3 wraps a function anew at every `transaction()` call.
    this.applyTx = db.transaction((events: readonly SiteEvent[]) => this.applyEvents(events));
    this.reload();
  }

  /** Reads who is in from the table again: at start, and after an erasure renamed a member in it. */
  reload(): void {
    this.present.clear();
    const rows = this.db
      .prepare<[], { site: string; member_id: string; since: string }>(
        'SELECT site, member_id, since FROM presence_state WHERE present = 1',
      )
      .all();
    for (const r of rows) this.membersOf(r.site).set(r.member_id, r.since);
  }

  /** Applies newly stored events (in one transaction); returns the sites whose count changed. */
  apply(events: readonly SiteEvent[]): Set<string> {
    return this.applyTx(events);
  }

  private applyEvents(events: readonly SiteEvent[]): Set<string> {
    const changed = new Set<string>();
    // Bucket rows touched by this call, written once at the end: `site|start` → peak and last.
    const buckets = new Map<string, { site: string; start: number; peak: number; last: number }>();
    for (const e of events) {
      if (!isPresence(e)) continue;
      const counts = this.applyOne(e);
      if (!counts) continue;
      changed.add(e.site);
      const start = bucketStart(Date.parse(e.at));
      const key = `${e.site}|${start}`;
      const b = buckets.get(key) ?? { site: e.site, start, peak: 0, last: 0 };
      // Those present before the change were there during this bucket too.
      b.peak = Math.max(b.peak, counts.before, counts.after);
      b.last = counts.after;
      buckets.set(key, b);
    }
    for (const b of buckets.values()) this.stmt.bucket.run(b.site, b.start, b.peak, b.last);
    return changed;
  }

  /** The count before and after the event, if it changed it. */
  private applyOne(e: PresenceEvent): { before: number; after: number } | undefined {
    const memberId = e.data.memberId;
    const inside = e.type === 'presence.in';
    if (this.stmt.save.run(e.site, memberId, e.seq, inside ? 1 : 0, inside ? e.at : null).changes === 0)
      return undefined;
    const members = this.membersOf(e.site);
    const before = members.size;
    if (inside) members.set(memberId, e.at);
    else members.delete(memberId);
    return members.size === before ? undefined : { before, after: members.size };
  }

  site(site: string): SiteOccupancy {
    const d = this.declared().find((s) => s.id === site);
    const present = this.present.get(site)?.size ?? 0;
    const capacity = this.reportedCapacity(site) ?? d?.capacity ?? null;
    return {
      site,
      name: d?.name ?? site,
      timeZone: d?.timeZone ?? null,
      capacity,
      present,
      rate: rateOf(present, capacity),
    };
  }

  /** Every declared site and every site with someone in, filtered by `visible`, and their total. */
  network(visible: (site: string) => boolean = () => true): NetworkOccupancy {
    const ids = new Set([
      ...this.declared().map((s) => s.id),
      ...[...this.present].filter(([, m]) => m.size > 0).map(([s]) => s),
    ]);
    const sites = [...ids]
      .filter(visible)
      .sort()
      .map((id) => this.site(id));
    const present = sites.reduce((n, s) => n + s.present, 0);
    const capacity = sites.reduce((n, s) => n + (s.capacity ?? 0), 0);
    return { sites, total: { present, capacity, rate: rateOf(present, capacity) } };
  }

  /** Who is in at a site, earliest arrival first. */
  whoIsIn(site: string): PresentMember[] {
    return [...(this.present.get(site) ?? [])]
      .map(([memberId, since]) => ({ memberId, name: this.memberName(memberId) ?? null, since }))
      .sort((a, b) => Date.parse(a.since) - Date.parse(b.since));
  }

  /** The site's history from `fromMs` to `toMs`, one point per 15-minute bucket. */
  history(site: string, fromMs: number, toMs: number): HistoryPoint[] {
    const start = bucketStart(fromMs);
    return historySeries(
      this.stmt.buckets.all(site, start, toMs),
      this.stmt.before.get(site, start),
      start,
      toMs,
      this.site(site).capacity,
    );
  }

  private membersOf(site: string): Map<string, string> {
    let members = this.present.get(site);
    if (!members) {
      members = new Map();
      this.present.set(site, members);
    }
    return members;
  }
}
