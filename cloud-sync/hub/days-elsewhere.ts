import type { KeyObject } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import type { Plan } from '../../shared/protocol/directory.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { signBody } from '../../shared/protocol/signing.js';
import { MAX_DAYS_ELSEWHERE_MEMBERS, SYNC_SCHEMA_VERSION, type DaysElsewhere } from '../../shared/protocol/sync.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../shared/protocol/topics.js';
import type { HubDb, Tx } from './db.js';
import type { HubDirectory } from './directory.js';
import { sqlDialect } from './storage/dialect.js';

export interface DaysElsewhereDeps {
  db: HubDb;
  directory: HubDirectory;
  /** Publishes retained, QoS 1. */
  publish: (topic: string, payload: string) => Promise<void>;
  key: KeyObject;
  clock: Clock;
  log: Logger;
  /** Every site the hub knows of: those heard from and those declared. */
  sites: () => Promise<readonly string[]>;
  topicPrefix?: string;
}

/** How long changes gather before the sites are told: a busy ingest sends one message, not one per event. */
const SETTLE_MS = 200;
/** Check-ins read at a time at start. */
const PAGE = 2000;

type Entry = DaysElsewhere['members'][number];

/**
 * What each site must know to count a member's days a week across the network: the days the
 * member came to the other sites, this ISO week and last (the site keeps only its own week's).
 * Kept in memory from the `presence.in` events the hub stores (read back from the events table
 * at start), and sent to each site, signed and retained, whenever what that site should know
 * changes: a new day at another site, a directory change, a site heard from for the first time.
 */
export class DaysElsewherePublisher {
  /** member → day → the sites where the member came that day. */
  private readonly days = new Map<string, Map<string, Set<string>>>();
  /** site → the members part of the last message sent to it, as JSON. */
  private readonly sent = new Map<string, string>();
  private readonly t;
  private timer: TimerHandle | undefined;
  /** The flush under way: the next one waits for it. */
  private flushing: Promise<void> = Promise.resolve();
  private lastIssued = 0;

  constructor(private readonly deps: DaysElsewhereDeps) {
    this.t = topics(deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
  }

  /** Reads the window's check-ins from the events table, in pages by primary key: once, at start. */
  async load(): Promise<void> {
    const { db } = this.deps;
    const sql = `SELECT site, seq, substr(at, 1, 10) AS day, ${sqlDialect(db).jsonText('body', 'data.memberId')} AS member
      FROM events WHERE type = 'presence.in' AND at >= ? AND (site > ? OR (site = ? AND seq > ?)) ORDER BY site, seq LIMIT ?`;
    const from = this.windowStart();
    let after = { site: '', seq: 0 };
    for (;;) {
      const rows = await db.all<{ site: string; seq: number; day: string; member: string | null }>(sql, [
        from,
        after.site,
        after.site,
        after.seq,
        PAGE,
      ]);
      for (const r of rows) if (r.member !== null) this.add(r.member, r.day, r.site);
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = { site: last.site, seq: last.seq };
    }
  }

  /**
   * Ingest's listener: the days are kept in memory, so nothing is written in `tx`; they are
   * taken in once the events are committed (the function returned).
   */
  onApplied(_tx: Tx, events: readonly SiteEvent[]): Promise<() => void> {
    return Promise.resolve(() => this.applied(events));
  }

  /** Newly stored events, committed (this instance's, or another's told by peers.ts). */
  applied(events: readonly SiteEvent[]): void {
    const from = this.windowStart();
    let changed = false;
    for (const e of events) {
      if (e.type !== 'presence.in') continue;
      const day = e.at.slice(0, 10);
      if (day >= from && this.add(e.data.memberId, day, e.site)) changed = true;
    }
    if (changed) this.schedule();
  }

  /** A site heard from: told at once the first time (it may be new, or the hub restarted). */
  onSite(site: string): void {
    if (!this.sent.has(site)) this.schedule();
  }

  /** After an erasure renamed a member in the events: the days are read again, the erased id forgotten. */
  async reload(): Promise<void> {
    this.days.clear();
    await this.load();
    this.schedule();
  }

  /** Members and plans decide who is listed where. */
  onDirectoryChange(): void {
    this.schedule();
  }

  /** Cancels what is scheduled; resolves once the flush under way is done. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.settled();
  }

  /** Resolves once the flush under way, if any, is done (the sites told). */
  async settled(): Promise<void> {
    await this.flushing;
  }

  /** The message for `site` now (also for tests). */
  async entriesFor(site: string): Promise<Entry[]> {
    return this.entriesOf(site, await this.quotaMembers());
  }

  private schedule(): void {
    this.timer ??= this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() =>
        this.flush().catch((err: unknown) =>
          this.deps.log.warn({ err }, 'days elsewhere not worked out: sent on the next change'),
        ),
      );
    }, SETTLE_MS);
  }

  private async flush(): Promise<void> {
    this.prune();
    const members = await this.quotaMembers();
    for (const site of await this.deps.sites()) {
      const entries = this.entriesOf(site, members);
      const json = JSON.stringify(entries);
      if (this.sent.get(site) === json) continue;
      this.sent.set(site, json);
      this.send(site, entries);
    }
  }

  private send(site: string, members: Entry[]): void {
    if (members.length > MAX_DAYS_ELSEWHERE_MEMBERS)
      this.deps.log.warn(
        { site, members: members.length, sent: MAX_DAYS_ELSEWHERE_MEMBERS },
        'too many members with days elsewhere for one message: the rest count only their days at the site',
      );
    const body: DaysElsewhere = {
      v: SYNC_SCHEMA_VERSION,
      site,
      issuedAt: this.issuedAt(),
      members: members.slice(0, MAX_DAYS_ELSEWHERE_MEMBERS),
    };
    this.deps.publish(this.t.days(site), JSON.stringify({ body, signature: signBody(body, this.deps.key) })).then(
      () => this.deps.log.debug({ site, members: body.members.length }, 'days elsewhere published'),
      (err: unknown) => {
        this.deps.log.warn(
          { site, err: (err as Error).message },
          'days elsewhere not published: sent again on the next change',
        );
        this.sent.delete(site);
      },
    );
  }

  /** member → the sites their plan opens ('all' or a list), for active members whose plan limits days a week. */
  private async quotaMembers(): Promise<Map<string, 'all' | readonly string[]>> {
    const out = new Map<string, 'all' | readonly string[]>();
    // Plans are few, members many: each plan read once per flush.
    const plans = new Map<string, Plan | undefined>();
    const { db, directory } = this.deps;
    for (const id of [...this.days.keys()]) {
      const member = await directory.get(db, 'member', id);
      if (member?.status !== 'active') continue;
      if (!plans.has(member.plan)) plans.set(member.plan, await directory.get(db, 'plan', member.plan));
      const plan = plans.get(member.plan);
      if (plan?.daysPerWeek !== undefined) out.set(id, plan.sites);
    }
    return out;
  }

  /** A site's entries, members and days sorted, so that an unchanged view gives the same JSON. */
  private entriesOf(site: string, members: Map<string, 'all' | readonly string[]>): Entry[] {
    const list: Entry[] = [];
    for (const [member, opens] of [...members].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (opens !== 'all' && !opens.includes(site)) continue;
      const days = [...(this.days.get(member) ?? [])]
        .filter(([, at]) => [...at].some((s) => s !== site))
        .map(([day]) => day);
      if (days.length > 0) list.push({ member, days: days.sort() });
    }
    return list;
  }

  private add(member: string, day: string, site: string): boolean {
    let byDay = this.days.get(member);
    if (!byDay) this.days.set(member, (byDay = new Map()));
    let sites = byDay.get(day);
    if (!sites) byDay.set(day, (sites = new Set()));
    if (sites.has(site)) return false;
    sites.add(site);
    return true;
  }

  /** Forgets the days before the window. */
  private prune(): void {
    const from = this.windowStart();
    for (const [member, byDay] of this.days) {
      for (const day of byDay.keys()) if (day < from) byDay.delete(day);
      if (byDay.size === 0) this.days.delete(member);
    }
  }

  /**
   * The Monday of last week, a day early: a site's week may still be last week in its time zone
   * (or the current one a day ahead), and it only counts the days of its own week.
   */
  private windowStart(): string {
    return (
      DateTime.fromMillis(this.deps.clock.now(), { zone: 'UTC' }).minus({ days: 8 }).startOf('week').toISODate() ?? ''
    );
  }

  /** Strictly increasing: a site refuses a message issued no later than the one it holds. */
  private issuedAt(): string {
    this.lastIssued = Math.max(this.deps.clock.now(), this.lastIssued + 1);
    return new Date(this.lastIssued).toISOString();
  }
}
