import type { SiteEvent } from '../../../shared/protocol/events.js';
import type { HubDb, Sql } from '../db.js';
import { type BucketRow, type HistoryPoint, bucketStart, historySeries, rateOf } from './buckets.js';
import { sqlDialect } from '../storage/dialect.js';
import { rowChunks, valueColumns, valuesOf } from './rows.js';

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

/** A member's stored presence: that of their highest-seq presence event. */
interface StoredPresence {
  seq: number;
  present: number;
  since: string | null;
}

/** One site's members in during a staging: those held in memory, and what the events change. */
interface SiteView {
  /** Who is in as memory holds it (or as read again from the database, when memory was found stale). */
  base: Map<string, string>;
  /** Whether `base` was read again and replaces what memory holds. */
  reread: boolean;
  /** member → since (in) or null (out), as the events leave them. */
  changes: Map<string, string | null>;
  count: number;
}

/** What a group of events changes, written through its transaction and not yet in memory. */
export interface StagedPresence {
  /** The sites whose count changed. */
  readonly changed: ReadonlySet<string>;
  /** The number of people in at `site` once the events are applied. */
  present(site: string): number;
  /** Brings memory in step with what was written: once the transaction's writes have all succeeded. */
  commit(): void;
}

const NOTHING: StagedPresence = { changed: new Set(), present: () => 0, commit: () => undefined };

/** Only a higher seq replaces what is stored: a re-sent or late event never undoes a newer one. */
const saveSql = (rows: number) =>
  `INSERT INTO presence_state (site, member_id, seq, present, since)
  SELECT ${valueColumns(5)} FROM ${valuesOf(rows, '(?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), ?)')} WHERE v.column1 IS NOT NULL
  ON CONFLICT (site, member_id) DO UPDATE SET seq = excluded.seq, present = excluded.present, since = excluded.since
  WHERE excluded.seq > presence_state.seq`;
const bucketSql = (q: Sql, rows: number) =>
  `INSERT INTO occupancy_buckets (site, start_ms, peak, last)
  SELECT ${valueColumns(4)} FROM ${valuesOf(rows, '(?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))')} WHERE v.column1 IS NOT NULL
  ON CONFLICT (site, start_ms) DO UPDATE SET peak = ${sqlDialect(q).greatest('occupancy_buckets.peak', 'excluded.peak')}, last = excluded.last`;

const pairKey = (site: string, memberId: string) => `${site}\u0000${memberId}`;

/**
 * Live occupancy: who is in at each site, from presence.in / presence.out events.
 * A member's presence is that of their highest-seq presence event, kept in the database with
 * the seq, so applying events is idempotent and order-free (a re-sent or late event never undoes
 * a newer one) and a restart finds everyone still in. Each change also updates the site's
 * 15-minute history bucket of the event's own time, so a site catching up after a day offline
 * fills its history at the right hours.
 *
 * A group of events costs a few statements whatever its size: the stored presence of every
 * member concerned read at once, the events applied in memory in their order, then one
 * multi-row upsert of the members changed and one of the buckets touched.
 */
export class OccupancyProjection {
  /** site → member → since: who is in, read at start and kept in step with the table. */
  private readonly present = new Map<string, Map<string, string>>();

  constructor(
    private readonly db: HubDb,
    private readonly declared: (q: Sql) => Promise<readonly DeclaredSite[]>,
    private readonly memberNames: (q: Sql, memberIds: readonly string[]) => Promise<Map<string, string>>,
    /** The capacity each site reports in its status: it wins over a declared one. */
    private readonly reportedCapacity: (site: string) => number | undefined = () => undefined,
  ) {}

  /** Reads who is in from the table again: at start, and after an erasure renamed a member in it. */
  async reload(q: Sql = this.db): Promise<void> {
    // Those in, not every member ever seen: bounded by the people present.
    const rows = await q.all<{ site: string; member_id: string; since: string }>(
      'SELECT site, member_id, since FROM presence_state WHERE present = 1',
    );
    this.present.clear();
    for (const r of rows) this.membersOf(r.site).set(r.member_id, r.since);
  }

  /** Applies newly stored events through `q` and at once in memory; returns the sites whose count changed. */
  async apply(q: Sql, events: readonly SiteEvent[]): Promise<Set<string>> {
    const staged = await this.stage(q, events);
    staged.commit();
    return new Set(staged.changed);
  }

  /**
   * Writes through `q` what newly stored events change (each site's in seq order; events of
   * several sites may come together), leaving memory as it is until `commit()`: a caller whose
   * own writes fail after this one leaves memory in step with its rolled-back transaction.
   */
  async stage(q: Sql, events: readonly SiteEvent[]): Promise<StagedPresence> {
    const presence = events.filter(isPresence);
    if (presence.length === 0) return NOTHING;
    const stored = await this.storedPresence(q, presence);
    const views = await this.viewsOf(q, presence, stored);
    const changed = new Set<string>();
    /** (site, member) → their presence after the events, for those the events changed. */
    const saves = new Map<string, { site: string; memberId: string } & StoredPresence>();
    /** Each change in event order, for memory at commit: the same order of arrivals as one event at a time. */
    const moves: Array<{ site: string; memberId: string; since: string | null }> = [];
    /** Bucket rows touched: `site|start` → peak and last. */
    const buckets = new Map<string, { site: string; start: number; peak: number; last: number }>();
    for (const e of presence) {
      const memberId = e.data.memberId;
      const key = pairKey(e.site, memberId);
      const held = stored.get(key);
      if (held && held.seq >= e.seq) continue;
      const inside = e.type === 'presence.in';
      const now = { seq: e.seq, present: inside ? 1 : 0, since: inside ? e.at : null };
      stored.set(key, now);
      saves.set(key, { site: e.site, memberId, ...now });
      const view = views.get(e.site) as SiteView;
      const wasIn = view.changes.has(memberId) ? view.changes.get(memberId) !== null : view.base.has(memberId);
      view.changes.set(memberId, inside ? e.at : null);
      moves.push({ site: e.site, memberId, since: inside ? e.at : null });
      const before = view.count;
      if (inside && !wasIn) view.count++;
      if (!inside && wasIn) view.count--;
      if (view.count === before) continue;
      changed.add(e.site);
      const start = bucketStart(Date.parse(e.at));
      const b = buckets.get(`${e.site}|${start}`) ?? { site: e.site, start, peak: 0, last: 0 };
      // Those present before the change were there during this bucket too.
      b.peak = Math.max(b.peak, before, view.count);
      b.last = view.count;
      buckets.set(`${e.site}|${start}`, b);
    }
    for (const chunk of rowChunks([...saves.values()], 5, (r) => [r.site, r.memberId, r.seq, r.present, r.since]))
      await q.run(saveSql(chunk.size), chunk.params);
    for (const chunk of rowChunks([...buckets.values()], 4, (b) => [b.site, b.start, b.peak, b.last]))
      await q.run(bucketSql(q, chunk.size), chunk.params);
    return {
      changed,
      present: (site) => views.get(site)?.count ?? this.present.get(site)?.size ?? 0,
      commit: () => {
        for (const [site, view] of views) if (view.reread) this.present.set(site, view.base);
        for (const { site, memberId, since } of moves)
          if (since === null) this.membersOf(site).delete(memberId);
          else this.membersOf(site).set(memberId, since);
      },
    };
  }

  /** The stored presence of every (site, member) the events name, in one statement. */
  private async storedPresence(q: Sql, events: readonly PresenceEvent[]): Promise<Map<string, StoredPresence>> {
    const d = sqlDialect(q);
    const rows = await q.all<{ site: string; member_id: string } & StoredPresence>(
      `SELECT site, member_id, seq, present, since FROM presence_state
      WHERE site IN ${d.jsonArrayValues('?')} AND member_id IN ${d.jsonArrayValues('?')}`,
      [
        JSON.stringify([...new Set(events.map((e) => e.site))]),
        JSON.stringify([...new Set(events.map((e) => e.data.memberId))]),
      ],
    );
    return new Map(rows.map((r) => [pairKey(r.site, r.member_id), { seq: r.seq, present: r.present, since: r.since }]));
  }

  /**
   * Each site's members in, as the events find them. Memory is checked against the rows just
   * read: where it disagrees (another hub instance wrote, or a transaction whose writes memory
   * took was not committed), the site's members in are read again and replace it at commit.
   */
  private async viewsOf(
    q: Sql,
    events: readonly PresenceEvent[],
    stored: ReadonlyMap<string, StoredPresence>,
  ): Promise<Map<string, SiteView>> {
    const stale = new Set<string>();
    for (const e of events) {
      const row = stored.get(pairKey(e.site, e.data.memberId));
      const held = this.present.get(e.site)?.get(e.data.memberId);
      const storedSince = row?.present === 1 ? row.since : undefined;
      if (held !== (storedSince ?? undefined)) stale.add(e.site);
    }
    const reread = new Map<string, Map<string, string>>([...stale].map((s) => [s, new Map()]));
    if (stale.size > 0) {
      const rows = await q.all<{ site: string; member_id: string; since: string }>(
        `SELECT site, member_id, since FROM presence_state WHERE present = 1 AND site IN ${sqlDialect(q).jsonArrayValues('?')}`,
        [JSON.stringify([...stale])],
      );
      for (const r of rows) reread.get(r.site)?.set(r.member_id, r.since);
    }
    const views = new Map<string, SiteView>();
    for (const site of new Set(events.map((e) => e.site))) {
      const fresh = reread.get(site);
      const base = fresh ?? this.present.get(site) ?? new Map<string, string>();
      views.set(site, { base, reread: fresh !== undefined, changes: new Map(), count: base.size });
    }
    return views;
  }

  /** A site's occupancy from the declared sites and its count (pure). */
  siteOf(declared: readonly DeclaredSite[], site: string, present = this.present.get(site)?.size ?? 0): SiteOccupancy {
    const d = declared.find((s) => s.id === site);
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

  async site(site: string): Promise<SiteOccupancy> {
    return this.siteOf(await this.declared(this.db), site);
  }

  /** Every declared site and every site with someone in, filtered by `visible`, and their total. */
  async network(visible: (site: string) => boolean = () => true): Promise<NetworkOccupancy> {
    const declared = await this.declared(this.db);
    const ids = new Set([
      ...declared.map((s) => s.id),
      ...[...this.present].filter(([, m]) => m.size > 0).map(([s]) => s),
    ]);
    const sites = [...ids]
      .filter(visible)
      .sort()
      .map((id) => this.siteOf(declared, id));
    const present = sites.reduce((n, s) => n + s.present, 0);
    const capacity = sites.reduce((n, s) => n + (s.capacity ?? 0), 0);
    return { sites, total: { present, capacity, rate: rateOf(present, capacity) } };
  }

  /** Who is in at a site, earliest arrival first. */
  async whoIsIn(site: string): Promise<PresentMember[]> {
    const members = [...(this.present.get(site) ?? [])];
    const names =
      members.length === 0
        ? new Map<string, string>()
        : await this.memberNames(
            this.db,
            members.map(([id]) => id),
          );
    return members
      .map(([memberId, since]) => ({ memberId, name: names.get(memberId) ?? null, since }))
      .sort((a, b) => Date.parse(a.since) - Date.parse(b.since));
  }

  /** The site's history from `fromMs` to `toMs`, one point per 15-minute bucket. */
  async history(site: string, fromMs: number, toMs: number): Promise<HistoryPoint[]> {
    const start = bucketStart(fromMs);
    const rows = await this.db.all<BucketRow>(
      'SELECT start_ms AS "startMs", peak, last FROM occupancy_buckets WHERE site = ? AND start_ms >= ? AND start_ms <= ?',
      [site, start, toMs],
    );
    const before = await this.db.get<BucketRow>(
      'SELECT start_ms AS "startMs", peak, last FROM occupancy_buckets WHERE site = ? AND start_ms < ? ORDER BY start_ms DESC LIMIT 1',
      [site, start],
    );
    return historySeries(rows, before, start, toMs, (await this.site(site)).capacity);
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
