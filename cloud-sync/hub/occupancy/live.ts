import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../shared/platform/clock.js';
import { SiteEvent } from '../../../shared/protocol/events.js';
import type { SiteStatus } from '../../../shared/protocol/sync.js';
import type { HubDb } from '../db.js';
import type { HubStore, SiteView } from '../store.js';
import type { SqlStatement } from '../storage/hub-db.js';
import { type Alarm, AlarmBook } from './alarms.js';
import { type SiteHealth, directoryWarning, nextVerdictChangeAt, siteHealth, silentFor } from './health.js';
import { LiveFeed } from './live-feed.js';
import { NetworkOccupancyPublisher, type Publish } from './network-topic.js';
import { type DeclaredSite, OccupancyProjection } from './projection.js';
import { LiveCounters } from './counters.js';

export interface LiveDeps {
  db: HubDb;
  store: HubStore;
  clock: Clock;
  log: Logger;
  /** The sites the operator declared (name, time zone, capacity). */
  declaredSites: () => readonly DeclaredSite[];
  /** A member's name from the hub directory. */
  memberName: (memberId: string) => string | undefined;
  /** Publishes on the hub's MQTT connection: without it, no network topic. */
  publish?: Publish;
  topicPrefix?: string;
  /** Home Assistant MQTT discovery of each site's occupancy sensor (off by default). */
  homeAssistant?: { discoveryPrefix?: string };
}

/** Events received this long before the saved cursor are projected again at start (clock steps). */
const REPLAY_MARGIN_MS = 60_000;
/** How often the hub looks at the age of each site's last status: what adds to a site's offline bound. */
export const SITE_WATCH_MS = 1000;

/**
 * The hub's live side (docs/dashboard.md): occupancy, alarms and site health, fed by ingest
 * (`onApplied`, `onStatus`), told to SSE clients through `feed` and to displays through the
 * retained network topic. At start it projects again what was received since its cursor, so a
 * crash between an ingest commit and the projection loses nothing.
 */
export class HubLive {
  readonly projection: OccupancyProjection;
  readonly alarms: AlarmBook;
  readonly feed: LiveFeed;
  readonly counters = new LiveCounters();
  private readonly network: NetworkOccupancyPublisher | undefined;
  private readonly log: Logger;
  private readonly saveCursorStmt: SqlStatement<[number]>;
  private watchTimer: TimerHandle | undefined;
  /** What the hub last judged of each site (offline, directory aging): the alarms are read and written only when it changes. */
  private readonly judged = new Map<string, string>();
  /**
   * When a site's verdict can next change without a new status: the watch reads nothing before
   * then (a manual clock moved a month on fires its timer 2.6 million times).
   */
  private nextLook = 0;
  /** Each site's capacity as its last status reported it (the site's config file is its one source). */
  private readonly capacities = new Map<string, number>();
  /** Built once: better-sqlite3 wraps a function anew at every `transaction()` call. */
  private readonly applyTx: (events: readonly SiteEvent[]) => { changedSites: Set<string>; alarms: Alarm[] };

  constructor(private readonly deps: LiveDeps) {
    this.log = deps.log.child({ module: 'live' });
    this.projection = new OccupancyProjection(deps.db, deps.declaredSites, deps.memberName, (site) =>
      this.capacities.get(site),
    );
    this.alarms = new AlarmBook(deps.db, () => deps.clock.now());
    this.feed = new LiveFeed((err) => this.log.warn({ err }, 'a live listener failed'));
    this.saveCursorStmt = deps.db.prepare(
      'INSERT INTO live_cursor (id, received_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET received_at = excluded.received_at',
    );
    // One transaction for the projection, the alarms and the cursor: one commit per batch.
    this.applyTx = deps.db.transaction((events: readonly SiteEvent[]) => {
      const r = { changedSites: this.projection.apply(events), alarms: this.alarms.apply(events) };
      this.saveCursor();
      return r;
    });
    const publish = deps.publish;
    this.network = publish
      ? new NetworkOccupancyPublisher({
          publish,
          snapshot: () => this.projection.network(),
          clock: deps.clock,
          log: this.log,
          ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
          ...(deps.homeAssistant ? { homeAssistant: deps.homeAssistant } : {}),
        })
      : undefined;
  }

  /** Projects again the events received since the cursor, and raises or clears site.offline from the statuses held. */
  recover(): void {
    // Without a cursor (a database from before occupancy existed), everything is projected once.
    const cursor = this.deps.db
      .prepare<[], { received_at: number }>('SELECT received_at FROM live_cursor WHERE id = 1')
      .get()?.received_at;
    const replayed = this.replaySince(cursor === undefined ? 0 : cursor - REPLAY_MARGIN_MS);
    this.watchSites();
    this.saveCursor();
    this.log.info({ replayed, sites: this.projection.network().sites.length }, 'live occupancy and alarms recovered');
  }

  /**
   * Applies again, site by site in seq order, the events received at or after `fromMs`; returns
   * how many. Read in pages by primary key: better-sqlite3 allows no write while a read is open.
   */
  private replaySince(fromMs: number): number {
    const page = this.deps.db.prepare<[number, string, string, number], { site: string; seq: number; body: string }>(
      'SELECT site, seq, body FROM events WHERE received_at >= ? AND (site > ? OR (site = ? AND seq > ?)) ORDER BY site, seq LIMIT 2000',
    );
    let count = 0;
    let after = { site: '', seq: 0 };
    for (;;) {
      const rows = page.all(fromMs, after.site, after.site, after.seq);
      const last = rows[rows.length - 1];
      if (!last) return count;
      after = { site: last.site, seq: last.seq };
      const events = rows.flatMap((r) => {
        const parsed = SiteEvent.safeParse(JSON.parse(r.body));
        return parsed.success ? [parsed.data] : [];
      });
      for (const site of new Set(events.map((e) => e.site))) {
        const ofSite = events.filter((e) => e.site === site);
        this.projection.apply(ofSite);
        this.alarms.apply(ofSite);
      }
      count += events.length;
    }
  }

  /** Ingest's onApplied: one site's newly stored events, in seq order. */
  onApplied(events: readonly SiteEvent[]): void {
    const now = this.deps.clock.now();
    const { changedSites, alarms } = this.applyTx(events);
    this.counters.observe(events, now);
    for (const e of events) this.feed.publish({ kind: 'event', site: e.site, data: e });
    this.tellAlarms(alarms);
    for (const site of changedSites) this.feed.publish({ kind: 'occupancy', site, data: this.projection.site(site) });
    if (alarms.length > 0) for (const site of new Set(alarms.map((a) => a.site))) this.publishHealth(site);
    if (changedSites.size > 0) this.network?.changed();
  }

  /**
   * Events another hub instance stored (peers.ts): it projected them into the database; this
   * instance reads who is in again and tells its own live clients.
   */
  onPeerApplied(events: readonly SiteEvent[]): void {
    if (events.length === 0) return;
    this.projection.reload();
    this.counters.observe(events, this.deps.clock.now());
    for (const e of events) this.feed.publish({ kind: 'event', site: e.site, data: e });
    for (const site of new Set(events.map((e) => e.site))) {
      this.feed.publish({ kind: 'occupancy', site, data: this.projection.site(site) });
      this.publishHealth(site);
    }
    this.network?.changed();
  }

  /** After notices from the other instances may have been missed: who is in, read again and told. */
  resync(): void {
    this.projection.reload();
    for (const s of this.projection.network().sites) this.feed.publish({ kind: 'occupancy', site: s.site, data: s });
    this.network?.changed();
  }

  /** Ingest's onSiteStatus: judged with the time it was recorded (a retained copy of an old status is no heartbeat). */
  onStatus(status: SiteStatus): void {
    this.nextLook = 0;
    const view = this.deps.store.sites().find((v) => v.site === status.site);
    if (view) this.tellAlarms(this.judge(view, this.deps.clock.now()));
    this.publishHealth(status.site);
    if (status.capacity !== undefined && this.capacities.get(status.site) !== status.capacity) {
      this.capacities.set(status.site, status.capacity);
      this.feed.publish({ kind: 'occupancy', site: status.site, data: this.projection.site(status.site) });
      this.network?.changed();
    }
  }

  /**
   * Starts looking, every SITE_WATCH_MS of the hub's clock, at each site's last status: a site
   * that stopped sending it goes offline even when no last will ever comes. Idempotent.
   */
  watchHeartbeats(): void {
    this.watchTimer ??= this.deps.clock.setInterval(() => {
      try {
        this.watchSites();
      } catch (err) {
        this.log.error({ err }, 'site watch failed');
      }
    }, SITE_WATCH_MS);
  }

  /** Judges each site from its status held and the time now; tells what changed. */
  private watchSites(): void {
    const now = this.deps.clock.now();
    if (now < this.nextLook) return;
    let next = Infinity;
    for (const view of this.deps.store.sites()) {
      const changed = this.judge(view, now);
      this.tellAlarms(changed);
      if (changed.length > 0) this.publishHealth(view.site);
      next = Math.min(next, nextVerdictChangeAt(view, now));
    }
    this.nextLook = next;
  }

  /** The alarms the hub raises from a site's status: offline (last will or a late heartbeat), a directory nearing its bound. */
  private judge(view: SiteView, nowMs: number): Alarm[] {
    if (!view.status) return [];
    if (view.status.capacity !== undefined) this.capacities.set(view.site, view.status.capacity);
    const silent = silentFor(view, nowMs);
    const warning = directoryWarning(view, nowMs);
    const verdict = `${view.status.online && silent === undefined}|${warning === null}|${view.status.logBehindHub ?? ''}`;
    if (this.judged.get(view.site) === verdict) return [];
    this.judged.set(view.site, verdict);
    return [...this.alarms.onStatus(view.status, silent), ...this.alarms.onDirectoryAge(view.site, warning)];
  }

  private tellAlarms(alarms: readonly Alarm[]): void {
    for (const a of alarms) this.feed.publish({ kind: 'alarm', site: a.site, data: a });
  }

  /** Whether the site is declared or has sent anything. */
  knows(site: string): boolean {
    return this.deps.declaredSites().some((s) => s.id === site) || this.deps.store.progress(site) !== undefined;
  }

  health(site: string): SiteHealth {
    return siteHealth(
      site,
      this.deps.store.sites().find((v) => v.site === site),
      this.alarms.openCounts().get(site) ?? 0,
      this.deps.clock.now(),
    );
  }

  /** The health of every site that sent anything or is declared, filtered by `visible`. */
  healthAll(visible: (site: string) => boolean = () => true): SiteHealth[] {
    const views = new Map(this.deps.store.sites().map((v) => [v.site, v]));
    const open = this.alarms.openCounts();
    const ids = new Set([...views.keys(), ...this.deps.declaredSites().map((s) => s.id)]);
    const now = this.deps.clock.now();
    return [...ids]
      .filter(visible)
      .sort()
      .map((id) => siteHealth(id, views.get(id), open.get(id) ?? 0, now));
  }

  /** Starts the network topic: published at once (so displays find a retained value), then on change and every minute. */
  announce(): void {
    this.network?.start();
  }

  /** An operator or the site's manager saw the alarm: recorded once, told to every live client. */
  acknowledge(id: number, by: string) {
    const alarm = this.alarms.acknowledge(id, by);
    this.feed.publish({ kind: 'alarm', site: alarm.site, data: alarm });
    this.publishHealth(alarm.site);
    return alarm;
  }

  stop(): void {
    this.watchTimer?.cancel();
    this.watchTimer = undefined;
    this.network?.stop();
  }

  private publishHealth(site: string): void {
    this.feed.publish({ kind: 'health', site, data: this.health(site) });
  }

  private saveCursor(): void {
    this.saveCursorStmt.run(this.deps.clock.now());
  }
}
