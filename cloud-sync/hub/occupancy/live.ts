import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../shared/platform/clock.js';
import { SiteEvent } from '../../../shared/protocol/events.js';
import type { SiteStatus } from '../../../shared/protocol/sync.js';
import type { HubDb, Sql, Tx } from '../db.js';
import type { HubStore, SiteView } from '../store.js';
import { type Alarm, AlarmBook } from './alarms.js';
import { type SiteHealth, directoryWarning, nextVerdictChangeAt, siteHealth, silentFor } from './health.js';
import { LiveFeed } from './live-feed.js';
import { NetworkOccupancyPublisher, type Publish } from './network-topic.js';
import { type DeclaredSite, OccupancyProjection, type SiteOccupancy } from './projection.js';
import { LiveCounters } from './counters.js';

export interface LiveDeps {
  db: HubDb;
  store: HubStore;
  clock: Clock;
  log: Logger;
  /** The sites the operator declared (name, time zone, capacity). */
  declaredSites: (q: Sql) => Promise<readonly DeclaredSite[]>;
  /** Members' names from the hub directory, by id (those it does not know are left out). */
  memberNames: (q: Sql, memberIds: readonly string[]) => Promise<Map<string, string>>;
  /** Publishes on the hub's MQTT connection: without it, no network topic. */
  publish?: Publish;
  topicPrefix?: string;
}

/** Events received this long before the saved cursor are projected again at start (clock steps). */
const REPLAY_MARGIN_MS = 60_000;
/** Events read and projected again per transaction at start. */
const REPLAY_PAGE = 2000;
/** How often the hub looks at the age of each site's last status: what adds to a site's offline bound. */
export const SITE_WATCH_MS = 1000;

const SAVE_CURSOR =
  'INSERT INTO live_cursor (id, received_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET received_at = excluded.received_at';

/**
 * The hub's live side (docs/dashboard.md): occupancy, alarms and site health, fed by ingest
 * (`onApplied`, `onStatus`), told to SSE clients through `feed` and to displays through the
 * retained network topic. At start it projects again what was received since its cursor, so a
 * crash between an ingest commit and the projection loses nothing.
 *
 * Nothing here ever rejects into its caller's event loop: a store that cannot be reached
 * (store.unavailable) is logged, and what failed is done again later (the recovery at the
 * next watch, a verdict on a site at the next look).
 */
export class HubLive {
  readonly projection: OccupancyProjection;
  readonly alarms: AlarmBook;
  readonly feed: LiveFeed;
  readonly counters = new LiveCounters();
  private readonly network: NetworkOccupancyPublisher | undefined;
  private readonly log: Logger;
  private watchTimer: TimerHandle | undefined;
  /** Set while a look at the sites is under way: the next tick does not start another. */
  private watching = false;
  /** A tick came while a look was under way: one more look right after it, at the time then. */
  private lookAgain = false;
  /** The statuses being judged and the looks under way: what `settled()` waits for. */
  private readonly underWay = new Set<Promise<void>>();
  /** Whether the start-up recovery went through: until it does, each watch tries it again. */
  private recovered = false;
  private recovering: Promise<void> | undefined;
  /** Set while the watch fails (the store unavailable): logged once, not every second. */
  private watchFailing = false;
  /** What the hub last judged of each site (offline, directory aging): the alarms are read and written only when it changes. */
  private readonly judged = new Map<string, string>();
  /**
   * When a site's verdict can next change without a new status: the watch reads nothing before
   * then (a manual clock moved a month on fires its timer 2.6 million times).
   */
  private nextLook = 0;
  /** Bumped by each status: a look that began before it does not push the next look back. */
  private statuses = 0;
  /** Each site's capacity as its last status reported it (the site's config file is its one source). */
  private readonly capacities = new Map<string, number>();

  constructor(private readonly deps: LiveDeps) {
    this.log = deps.log.child({ module: 'live' });
    this.projection = new OccupancyProjection(deps.db, deps.declaredSites, deps.memberNames, (site) =>
      this.capacities.get(site),
    );
    this.alarms = new AlarmBook(deps.db, () => deps.clock.now());
    this.feed = new LiveFeed((err) => this.log.warn({ err }, 'a live listener failed'));
    const publish = deps.publish;
    this.network = publish
      ? new NetworkOccupancyPublisher({
          publish,
          snapshot: () => this.projection.network(),
          clock: deps.clock,
          log: this.log,
          ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
        })
      : undefined;
  }

  /**
   * Reads who is in, projects again the events received since the cursor, and raises or clears
   * site.offline from the statuses held. A failure is logged, never thrown: the next watch
   * tries again.
   */
  recover(): Promise<void> {
    this.recovering ??= this.tryRecover().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async tryRecover(): Promise<void> {
    try {
      await this.projection.reload();
      // Without a cursor (a database from before occupancy existed), everything is projected once.
      const cursor = await this.deps.db.value<number>('SELECT received_at FROM live_cursor WHERE id = 1');
      const replayed = await this.replaySince(cursor === undefined ? 0 : cursor - REPLAY_MARGIN_MS);
      await this.watchSites();
      await this.deps.db.run(SAVE_CURSOR, [this.deps.clock.now()]);
      this.recovered = true;
      const sites = (await this.projection.network()).sites.length;
      this.log.info({ replayed, sites }, 'live occupancy and alarms recovered');
    } catch (err) {
      if (!this.watchFailing)
        this.log.error({ err }, 'live occupancy and alarms not recovered: tried again at each watch');
      this.watchFailing = true;
      // A page half applied in memory: what the database holds is what counts.
      await this.projection.reload().catch(() => undefined);
    }
  }

  /**
   * Applies again, site by site in seq order, the events received at or after `fromMs`; returns
   * how many. Read in pages by primary key, each page projected in one transaction.
   */
  private async replaySince(fromMs: number): Promise<number> {
    let count = 0;
    let after = { site: '', seq: 0 };
    for (;;) {
      const rows = await this.deps.db.all<{ site: string; seq: number; body: string }>(
        `SELECT site, seq, body FROM events WHERE received_at >= ? AND (site > ? OR (site = ? AND seq > ?)) ORDER BY site, seq LIMIT ${REPLAY_PAGE}`,
        [fromMs, after.site, after.site, after.seq],
      );
      const last = rows[rows.length - 1];
      if (!last) return count;
      after = { site: last.site, seq: last.seq };
      const events = rows.flatMap((r) => {
        const parsed = SiteEvent.safeParse(JSON.parse(r.body));
        return parsed.success ? [parsed.data] : [];
      });
      const staged = await this.deps.db.transaction(async (tx) => {
        const presence = await this.projection.stage(tx, events);
        await this.alarms.apply(tx, events);
        return presence;
      });
      staged.commit();
      count += events.length;
    }
  }

  /**
   * Ingest's onApplied: one site's newly stored events, in seq order. The projection, the
   * alarms and the cursor are written through `tx` (the ingest transaction); the function
   * returned tells live clients and the network topic, once that transaction committed.
   */
  async onApplied(tx: Tx, events: readonly SiteEvent[]): Promise<() => void> {
    const now = this.deps.clock.now();
    const presence = await this.projection.stage(tx, events);
    const alarms = await this.alarms.apply(tx, events);
    let occupancy: SiteOccupancy[] = [];
    if (presence.changed.size > 0) {
      const declared = await this.deps.declaredSites(tx);
      occupancy = [...presence.changed].map((site) => this.projection.siteOf(declared, site, presence.present(site)));
    }
    await tx.run(SAVE_CURSOR, [now]);
    presence.commit();
    return () => {
      this.counters.observe(events, now);
      for (const e of events) this.feed.publish({ kind: 'event', site: e.site, data: e });
      this.tellAlarms(alarms);
      for (const o of occupancy) this.feed.publish({ kind: 'occupancy', site: o.site, data: o });
      if (occupancy.length > 0) this.network?.changed();
      if (alarms.length > 0) void this.track(this.tellHealth(new Set(alarms.map((a) => a.site))));
    };
  }

  /**
   * Events another hub instance stored (peers.ts): it projected them into the database; this
   * instance reads who is in again and tells its own live clients.
   */
  async onPeerApplied(events: readonly SiteEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.counters.observe(events, this.deps.clock.now());
    for (const e of events) this.feed.publish({ kind: 'event', site: e.site, data: e });
    try {
      await this.projection.reload();
      const declared = await this.deps.declaredSites(this.deps.db);
      for (const site of new Set(events.map((e) => e.site))) {
        this.feed.publish({ kind: 'occupancy', site, data: this.projection.siteOf(declared, site) });
        await this.tellHealth([site]);
      }
    } catch (err) {
      this.log.error({ err }, 'occupancy not told after another instance stored events');
    }
    this.network?.changed();
  }

  /** After notices from the other instances may have been missed: who is in, read again and told. */
  async resync(): Promise<void> {
    try {
      await this.projection.reload();
      for (const s of (await this.projection.network()).sites)
        this.feed.publish({ kind: 'occupancy', site: s.site, data: s });
    } catch (err) {
      this.log.error({ err }, 'occupancy not read again after a resync');
    }
    this.network?.changed();
  }

  /**
   * Ingest's onSiteStatus: judged with the time it was recorded (a retained copy of an old
   * status is no heartbeat). Never rejects: a failure is logged.
   */
  onStatus(status: SiteStatus): Promise<void> {
    return this.track(this.judgeStatus(status));
  }

  private async judgeStatus(status: SiteStatus): Promise<void> {
    this.nextLook = 0;
    this.statuses++;
    try {
      const view = await this.deps.store.site(status.site);
      if (view) this.tellAlarms(await this.judge(view, this.deps.clock.now()));
      await this.tellHealth([status.site]);
      if (status.capacity !== undefined && this.capacities.get(status.site) !== status.capacity) {
        this.capacities.set(status.site, status.capacity);
        this.feed.publish({ kind: 'occupancy', site: status.site, data: await this.projection.site(status.site) });
        this.network?.changed();
      }
    } catch (err) {
      this.log.error({ err, site: status.site }, 'site status not judged');
    }
  }

  /**
   * Starts looking, every SITE_WATCH_MS of the hub's clock, at each site's last status: a site
   * that stopped sending it goes offline even when no last will ever comes. Idempotent. A look
   * still under way when the next tick comes is not doubled: one more follows it, once (however
   * many ticks came meanwhile), so that no tick's time goes unjudged.
   */
  watchHeartbeats(): void {
    this.watchTimer ??= this.deps.clock.setInterval(() => {
      if (this.watching) {
        this.lookAgain = true;
        return;
      }
      this.watching = true;
      void this.track(this.watchWhileAsked());
    }, SITE_WATCH_MS);
  }

  /**
   * Resolves once the work begun so far is done: the statuses being judged, the looks at the
   * sites under way or asked for, the health being told.
   */
  async settled(): Promise<void> {
    while (this.underWay.size > 0) await Promise.all([...this.underWay]);
  }

  /** Looks at the sites, then again while ticks came during the look (until stopped). Never rejects. */
  private async watchWhileAsked(): Promise<void> {
    try {
      do {
        this.lookAgain = false;
        await this.watchOnce();
      } while (this.lookAgain && this.watchTimer !== undefined);
    } finally {
      this.watching = false;
      this.lookAgain = false;
    }
  }

  private async watchOnce(): Promise<void> {
    try {
      if (!this.recovered) await this.recover();
      else await this.watchSites();
      if (this.watchFailing && this.recovered) this.log.info('site watch working again');
      if (this.recovered) this.watchFailing = false;
    } catch (err) {
      if (!this.watchFailing) this.log.error({ err }, 'site watch failed: tried again at each watch');
      this.watchFailing = true;
    }
  }

  /** Counted in `settled()` until it settles (each caller catches its errors). */
  private track(work: Promise<void>): Promise<void> {
    this.underWay.add(work);
    const done = () => void this.underWay.delete(work);
    work.then(done, done);
    return work;
  }

  /** Judges each site from its status held and the time now; tells what changed. */
  private async watchSites(): Promise<void> {
    const now = this.deps.clock.now();
    if (now < this.nextLook) return;
    const statuses = this.statuses;
    let next = Infinity;
    for (const view of await this.deps.store.sites()) {
      const changed = await this.judge(view, now);
      this.tellAlarms(changed);
      if (changed.length > 0) await this.tellHealth([view.site]);
      next = Math.min(next, nextVerdictChangeAt(view, now));
    }
    if (this.statuses === statuses) this.nextLook = next;
  }

  /** The alarms the hub raises from a site's status: offline (last will or a late heartbeat), a directory nearing its bound. */
  private async judge(view: SiteView, nowMs: number): Promise<Alarm[]> {
    if (!view.status) return [];
    if (view.status.capacity !== undefined) this.capacities.set(view.site, view.status.capacity);
    const silent = silentFor(view, nowMs);
    const warning = directoryWarning(view, nowMs);
    const verdict = `${view.status.online && silent === undefined}|${warning === null}|${view.status.logBehindHub ?? ''}`;
    const before = this.judged.get(view.site);
    if (before === verdict) return [];
    // Set before the writes: a look or a status meanwhile does not judge the same verdict twice.
    this.judged.set(view.site, verdict);
    try {
      return [
        ...(await this.alarms.onStatus(view.status, silent)),
        ...(await this.alarms.onDirectoryAge(view.site, warning)),
      ];
    } catch (err) {
      // Not written: judged again at the next look.
      if (this.judged.get(view.site) === verdict) this.judged.delete(view.site);
      this.nextLook = 0;
      throw err;
    }
  }

  private tellAlarms(alarms: readonly Alarm[]): void {
    for (const a of alarms) this.feed.publish({ kind: 'alarm', site: a.site, data: a });
  }

  /** Whether the site is declared or has sent anything. */
  async knows(site: string): Promise<boolean> {
    return (
      (await this.deps.declaredSites(this.deps.db)).some((s) => s.id === site) ||
      (await this.deps.store.progress(site)) !== undefined
    );
  }

  async health(site: string): Promise<SiteHealth> {
    const view = await this.deps.store.site(site);
    const open = await this.alarms.openCount(site);
    return siteHealth(site, view, open, this.deps.clock.now());
  }

  /** The health of every site that sent anything or is declared, filtered by `visible`. */
  async healthAll(visible: (site: string) => boolean = () => true): Promise<SiteHealth[]> {
    const views = new Map((await this.deps.store.sites()).map((v) => [v.site, v]));
    const open = await this.alarms.openCounts();
    const declared = await this.deps.declaredSites(this.deps.db);
    const ids = new Set([...views.keys(), ...declared.map((s) => s.id)]);
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
  async acknowledge(id: number, by: string): Promise<Alarm> {
    const alarm = await this.alarms.acknowledge(id, by);
    this.feed.publish({ kind: 'alarm', site: alarm.site, data: alarm });
    await this.tellHealth([alarm.site]);
    return alarm;
  }

  stop(): void {
    this.watchTimer?.cancel();
    this.watchTimer = undefined;
    this.network?.stop();
  }

  /** Tells live clients the sites' health, once read; a failure to read it is logged, never thrown. */
  private async tellHealth(sites: Iterable<string>): Promise<void> {
    for (const site of sites)
      try {
        this.feed.publish({ kind: 'health', site, data: await this.health(site) });
      } catch (err) {
        this.log.warn({ err, site }, 'site health not told to live clients');
      }
  }
}
