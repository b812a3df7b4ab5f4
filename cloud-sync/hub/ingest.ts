import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { Ack } from '../../shared/protocol/sync.js';
import { EventBatch, SYNC_SCHEMA_VERSION, SiteStatus } from '../../shared/protocol/sync.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../shared/protocol/topics.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';
import { describeIssues, formatDetails } from '../../shared/platform/validation.js';
import type { z } from 'zod';
import type { Tx } from './db.js';
import type { HubStore, IngestResult } from './store.js';
import { unstorableText } from './storage/unstorable.js';
import { filterMatches } from '../broker/topic-filter.js';
import { mqttSendsAtOnce } from '../../shared/platform/no-delay.js';
import type { IngestCounters } from '../../shared/protocol/api/hub-sites.js';

export interface IngestDeps {
  store: HubStore;
  clock: Clock;
  log: Logger;
  topicPrefix?: string;
  /** Stable across restarts, so the broker keeps the hub's session and queues for it. */
  clientId?: string;
  /** At most one ack per site per this many ms, always carrying the latest state. */
  ackIntervalMs?: number;
  /** Larger payloads are refused unread. A full batch of 1000 events is well under 1 MB. */
  maxPayloadBytes?: number;
  /** The hub's username and password on the broker (the embedded broker's per-start secret). */
  credentials?: { username: string; password: string };
  /**
   * mqtts to the hub's own embedded broker on loopback: its certificate names the host sites
   * dial, not 127.0.0.1, so the hub does not check it on this one connection to itself.
   */
  tlsLoopback?: boolean;
  /** How long start() waits for the first connection. */
  connectTimeoutMs?: number;
  /**
   * One of several hub instances (docs/scaling.md): MQTT 5, the events and statuses through the
   * shared subscription of group `hub` (each message to one instance), and a clean session: a
   * dead instance leaves nothing queued for it; what it took and did not commit is never acked,
   * so its site sends it again, to an instance alive. The listeners write in the ingest
   * transaction, under its locks of the group's sites (taken in one order), so two instances
   * never project the same site at once, and the other instances, told at this commit, read
   * the projection already made.
   */
  shared?: boolean;
  /**
   * Group commit: at most one commit starts per this many ms (default 20). A batch arriving
   * when the last commit started longer ago than that is committed at once (a lone tap waits
   * for nothing); the batches arriving sooner wait for the window's end and go in one
   * transaction. Under load, fewer, larger commits rewrite far fewer pages (each commit
   * rewrites every b-tree page it touches, one per site at least). 0: each batch is committed
   * as it arrives.
   */
  commitWindowMs?: number;
  /**
   * Told of each valid site status once committed (the directory publisher answers it): does
   * its own asynchronous work and catches its own errors.
   */
  onSiteStatus?: (status: SiteStatus) => void;
  /**
   * Told of the events stored for the first time by each group commit, each site's in seq order
   * (each event once, whatever the re-sends), inside the ingest transaction, in a savepoint of its own: what live projections
   * such as occupancy are built from, written through `tx`, committed with the events. A
   * failure is logged and rolled back to the savepoint; the events are still committed. The
   * function it may return runs after the commit (in-memory notifications).
   */
  onApplied?: (tx: Tx, events: readonly SiteEvent[]) => Promise<void | (() => void)>;
  /**
   * Rewrites a batch just before it is stored, in the ingest transaction: events naming an
   * erased member, from a site that had not heard of the erasure, are stored (and told to
   * listeners) under the pseudonym.
   */
  pseudonymise?: (tx: Tx, batch: EventBatch) => Promise<EventBatch>;
  /** The hub's last will, retained, QoS 1: what the broker publishes if the hub's connection drops. */
  will?: { topic: string; payload: string };
  /**
   * Other topics the hub listens to (Home Assistant's), subscribed with the site topics, their
   * messages handed to `onMessage` and nothing else. Those in `shared` go to one instance of
   * several (docs/scaling.md); the others to each.
   */
  extra?: { filters: string[]; shared: string[]; onMessage: (topic: string, payload: Buffer) => void };
  /** Told at each connection to the broker, the first and each one after a loss. */
  onConnect?: () => void;
}

// Shown by GET /health: the API's wire shape (shared/protocol/api/hub-sites.ts).
export type { IngestCounters };

/** Stable reason codes of dead letters. */
export type RejectReason =
  | 'payload.too_large'
  | 'payload.not_json'
  | 'payload.invalid'
  | 'topic.site_mismatch'
  | 'topic.unknown'
  | 'seq.conflict';

export const DEFAULT_HUB_CLIENT_ID = 'tessera-hub';
/** The shared subscription group of the hub instances. */
export const SHARE_GROUP = 'hub';
const DEFAULT_MAX_PAYLOAD = 4 * 1024 * 1024;
/** A group is committed at once when it holds this many events, whatever its window. */
const GROUP_EVENTS = 20_000;
const DEFAULT_COMMIT_WINDOW_MS = 20;
/** How JSON writes a character by its code: the only way a NUL or half a surrogate pair gets into a text. */
const UNICODE_ESCAPE = Buffer.from('\\u');

/** A valid batch waiting for its group commit, with the topic and payload it came in. */
interface Pending {
  topic: string;
  payload: Buffer;
  batch: EventBatch;
}

/** Each site's ack: when it was last sent, the timer of the next one, whether one is being read or owed. */
interface AckState {
  lastAt: number;
  timer: TimerHandle | undefined;
  /** Its progress is being read from the store: another ack asked for meanwhile goes after it. */
  reading: boolean;
  /** Asked for while reading, or while stopping: sent when possible. */
  owed: boolean;
}

/**
 * Hub ingest: events and statuses from every site, QoS 1 on a persistent session. Valid batches
 * are committed in groups (one transaction for all that arrived within a short window, one
 * commit in flight at a time: what arrives meanwhile goes in the next group, so each site's
 * batches are stored in the order they came), then acknowledged on each site's retained `ack`
 * topic. The broker's PUBACK may precede the commit: delivery rests on the hub's ack alone (a
 * PUBACK proves nothing: docs/sync.md), so a batch lost in a crash before its commit is sent
 * again by its site. Bad input is dead-lettered and counted; this never throws.
 */
export class HubIngest {
  readonly counters: IngestCounters = {
    received: 0,
    batches: 0,
    applied: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    acksPublished: 0,
    storeErrors: 0,
  };
  private readonly t: ReturnType<typeof topics>;
  private readonly log: Logger;
  private readonly ackIntervalMs: number;
  private readonly maxPayloadBytes: number;
  private readonly acks = new Map<string, AckState>();
  private client: MqttClient | undefined;
  private url = '';
  /** Valid batches waiting for the next group commit. */
  private group: Pending[] = [];
  private groupEvents = 0;
  private groupTimer: TimerHandle | undefined;
  /** When the last group commit started (the clock's ms): the next one starts a window later at the earliest. */
  private lastCommitAt = Number.NEGATIVE_INFINITY;
  /** Whether the commits are under way (one group after another), and whether another is asked for. */
  private committing = false;
  private commitAsked = false;
  /**
   * Statuses and dead letters, written one after the other in arrival order (on PostgreSQL two
   * statements sent at once may commit in either order: a site's older status must not win).
   */
  private sideWork: Promise<void> = Promise.resolve();
  /** Every piece of work under way that touches the store: what `settled()` waits for. */
  private readonly underWay = new Set<Promise<void>>();
  private stopping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: IngestDeps) {
    this.t = topics(deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
    this.log = deps.log.child({ module: 'ingest' });
    this.ackIntervalMs = deps.ackIntervalMs ?? 50;
    this.maxPayloadBytes = deps.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects (the message handler is attached first, or queued messages go unseen) and subscribes; resolves once subscribed. */
  async start(url: string): Promise<void> {
    this.url = url;
    const shared = this.deps.shared === true;
    const client = mqtt.connect(url, {
      clientId: this.deps.clientId ?? DEFAULT_HUB_CLIENT_ID,
      clean: shared,
      protocolVersion: shared ? 5 : 4,
      manualConnect: true,
      reconnectPeriod: 1000,
      connectTimeout: this.deps.connectTimeoutMs ?? 10_000,
      ...(this.deps.credentials ?? {}),
      ...(this.deps.will ? { will: { ...this.deps.will, qos: 1 as const, retain: true } } : {}),
      ...(this.deps.tlsLoopback === true ? { rejectUnauthorized: false } : {}),
    });
    this.client = client;
    mqttSendsAtOnce(client);
    // Before connect: messages queued for our session arrive right after the CONNACK.
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
    client.on('offline', () => this.log.warn('MQTT offline: reconnecting'));
    client.on('connect', (connack) => {
      this.log.info({ sessionPresent: connack.sessionPresent }, 'MQTT connected');
      this.deps.onConnect?.();
    });
    client.connect();
    await this.firstConnect(client);
    const extra = this.deps.extra;
    const subscriptions = [
      ...[this.t.allEvents, this.t.allStatus, ...(extra?.shared ?? [])].map((topic) =>
        shared ? `$share/${SHARE_GROUP}/${topic}` : topic,
      ),
      ...(extra?.filters ?? []),
    ];
    const granted = await client.subscribeAsync(subscriptions, { qos: 1 });
    const refused = granted.filter((g) => g.qos !== 1);
    if (refused.length > 0)
      throw new TesseraError(
        'sync.rejected',
        `the broker refused the hub's subscriptions: ${refused.map((g) => `${g.topic} (${g.qos})`).join(', ')}`,
      );
  }

  /**
   * Commits the batches still waiting (after the commit in flight), writes the statuses and
   * dead letters under way, publishes the acks still waiting, then disconnects. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    // Nothing more is taken from here on (onMessage), and no ack timer is set (scheduleAck).
    this.stopped = true;
    await this.commitGroup();
    for (const [site, state] of this.acks) {
      state.timer?.cancel();
      if (state.timer === undefined && !state.owed) continue;
      state.timer = undefined;
      state.owed = false;
      this.publishAck(site);
    }
    await this.settled();
    const client = this.client;
    if (!client) return;
    const ended = client.endAsync();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref());
    if ((await Promise.race([ended, timeout])) === 'timeout') await client.endAsync(true);
  }

  /** One message from the broker. Public for tests; never throws: what it starts settles on its own (`settled()`). */
  onMessage(topic: string, payload: Buffer): void {
    // Once stopping, nothing more is stored: the database is about to close. A message dropped
    // here is not lost: the hub's ack never covered it, so its site sends it again.
    if (this.stopped) return;
    try {
      const extra = this.deps.extra;
      if (extra && [...extra.filters, ...extra.shared].some((f) => filterMatches(f, topic)))
        return extra.onMessage(topic, payload);
      this.counters.received++;
      if (topic.endsWith('/events')) this.onEvents(topic, payload);
      else if (topic.endsWith('/status')) this.onStatus(topic, payload);
      else this.reject(topic, 'topic.unknown', 'not an events or status topic', payload);
    } catch (err) {
      this.counters.storeErrors++;
      this.log.error({ err, topic }, 'could not process a message: it stays unacknowledged');
    }
  }

  /**
   * Resolves once the work begun for the messages received so far is done: the commits under
   * way or asked for, the statuses and dead letters, the acks being read. A group still in its
   * commit window is not committed by it (`commitGroup()` is).
   */
  async settled(): Promise<void> {
    while (this.underWay.size > 0) await Promise.all([...this.underWay]);
  }

  private onEvents(topic: string, payload: Buffer): void {
    const batch = this.parse(topic, payload, EventBatch);
    if (!batch) return;
    // Valid UTF-8 decodes to no half surrogate pair, and JSON holds no raw NUL in a string: a
    // payload without a \u escape holds neither, and its texts need no search.
    const unstorable = payload.includes(UNICODE_ESCAPE) ? unstorableText(batch) : undefined;
    if (unstorable !== undefined)
      return void this.reject(
        topic,
        'payload.invalid',
        `${unstorable}: a text holding a NUL character or half a surrogate pair cannot be stored`,
        payload,
      );
    this.group.push({ topic, payload, batch });
    this.groupEvents += batch.events.length;
    const windowMs = this.deps.commitWindowMs ?? DEFAULT_COMMIT_WINDOW_MS;
    const wait = this.lastCommitAt + windowMs - this.deps.clock.now();
    if (this.groupEvents >= GROUP_EVENTS || wait <= 0) this.askCommit();
    else this.groupTimer ??= this.deps.clock.setTimeout(() => this.askCommit(), wait);
  }

  /**
   * Commits the batches waiting now, in one transaction, right after the commit in flight if
   * any; resolves once they are committed (or given up), counted and their acks under way, and
   * the other work begun meanwhile is done (`settled()`). Never rejects.
   */
  async commitGroup(): Promise<void> {
    this.askCommit();
    await this.settled();
  }

  /** The batches waiting go in the next commit: now, or right after the one in flight. */
  private askCommit(): void {
    this.commitAsked = true;
    if (this.committing) return;
    this.committing = true;
    void this.track(this.commitLoop()); // never rejects: tracked for settled()
  }

  /** One group after another while commits are asked for: never two transactions of ingest at once. */
  private async commitLoop(): Promise<void> {
    try {
      while (this.commitAsked) {
        this.commitAsked = false;
        this.groupTimer?.cancel();
        this.groupTimer = undefined;
        const group = this.takeGroup();
        if (group.length === 0) continue;
        // What arrived during a long commit may be more than one group: the rest goes next, at once.
        if (this.group.length > 0) this.commitAsked = true;
        this.lastCommitAt = this.deps.clock.now();
        await this.commit(group);
      }
    } finally {
      this.committing = false; // in the same turn as the last look at commitAsked: no request falls between
    }
  }

  /** The batches waiting, in arrival order, up to GROUP_EVENTS events (one batch at least). */
  private takeGroup(): Pending[] {
    let events = 0;
    let n = 0;
    while (
      n < this.group.length &&
      (n === 0 || events + (this.group[n] as Pending).batch.events.length <= GROUP_EVENTS)
    )
      events += (this.group[n++] as Pending).batch.events.length;
    const group = this.group.splice(0, n);
    this.groupEvents -= events;
    return group;
  }

  /**
   * One group in one transaction: each batch made pseudonymous, all of them stored, then each
   * listener told of each batch's new events in a savepoint of its own. After the commit: the
   * listeners' after-commit functions, the counters, the acks. If the transaction fails, the
   * group stays unacknowledged (its sites send it again).
   */
  private async commit(group: readonly Pending[]): Promise<void> {
    const listener = this.deps.onApplied;
    const pseudonymise = this.deps.pseudonymise;
    let afterCommit: Array<() => void> = [];
    let results: IngestResult[];
    try {
      results = await this.deps.store.db.transaction(async (tx) => {
        afterCommit = [];
        // At commit time, not at arrival: an erasure committed meanwhile applies to the group too.
        const batches: EventBatch[] = [];
        for (const g of group) batches.push(pseudonymise ? await pseudonymise(tx, g.batch) : g.batch);
        const stored = await this.deps.store.ingestIn(tx, batches, this.deps.clock.now());
        // Once per group, with every event stored for the first time: a projection reads and
        // writes what the whole group concerns in a few statements, not a few per batch.
        const applied = stored.flatMap((r) => r.appliedEvents);
        if (listener && applied.length > 0) {
          try {
            const after = await tx.transaction((savepoint) => listener(savepoint, applied));
            if (typeof after === 'function') afterCommit.push(after);
          } catch (err) {
            this.log.error(
              { err, events: applied.length, listener: 'onApplied' },
              'ingest listener failed: what it wrote is undone',
            );
          }
        }
        return stored;
      });
    } catch (err) {
      this.counters.storeErrors += group.length;
      this.log.error({ err, batches: group.length }, 'could not store a group of batches: they stay unacknowledged');
      return;
    }
    this.deps.store.heardFrom(results.map((r) => r.site));
    this.counters.batches += results.length;
    results.forEach((result, i) => {
      const { topic, payload } = group[i] as Pending;
      this.count(topic, payload, result);
      this.scheduleAck(result.site);
    });
    for (const after of afterCommit) this.tell('onApplied', undefined, after);
  }

  private onStatus(topic: string, payload: Buffer): void {
    if (payload.length === 0) return; // a retained status being cleared
    const status = this.parse(topic, payload, SiteStatus);
    if (!status) return;
    this.side(async () => {
      try {
        const before = (await this.deps.store.progress(status.site))?.contiguous;
        const after = (await this.deps.store.recordStatus(status, this.deps.clock.now())).contiguous;
        this.log.info(
          { site: status.site, online: status.online, backlog: status.lastSeq - status.ackedSeq },
          'site status',
        );
        if (before !== undefined && after !== before) this.scheduleAck(status.site);
      } catch (err) {
        this.counters.storeErrors++;
        this.log.error({ err, topic }, 'could not record a site status');
        return;
      }
      this.tell('onSiteStatus', status.site, () => this.deps.onSiteStatus?.(status));
    });
  }

  /** A listener's failure is logged, never a reason to leave a stored batch unacknowledged. */
  private tell(listener: 'onApplied' | 'onSiteStatus', site: string | undefined, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err, site, listener }, 'ingest listener failed');
    }
  }

  /** Store work after the work before it, its failure its own to log: nothing here rejects. */
  private side(work: () => Promise<void>): void {
    this.sideWork = this.track(this.sideWork.then(work));
  }

  /** Counted in `settled()` until it settles; `work` must not reject (each caller catches its errors). */
  private track(work: Promise<void>): Promise<void> {
    const tracked = work.catch((err: unknown) => this.log.error({ err }, 'ingest work failed'));
    this.underWay.add(tracked);
    void tracked.finally(() => this.underWay.delete(tracked));
    return tracked;
  }

  /** Dead-letters a message, after the store work before it; a failure to do so is logged. */
  private deadLetter(topic: string, reason: RejectReason, detail: string, payload: Buffer): void {
    const at = this.deps.clock.now();
    this.side(() =>
      this.deps.store.deadLetter(topic, reason, detail, payload, at).catch((err: unknown) => {
        this.counters.storeErrors++;
        this.log.error({ err, topic, reason }, 'could not keep a dead letter');
      }),
    );
  }

  /** Size, JSON, schema, and the topic's site against the payload's. */
  private parse<S extends z.ZodType<{ site: string }>>(
    topic: string,
    payload: Buffer,
    schema: S,
  ): z.infer<S> | undefined {
    if (payload.length > this.maxPayloadBytes)
      return this.reject(
        topic,
        'payload.too_large',
        `${payload.length} bytes, more than ${this.maxPayloadBytes}`,
        payload,
      );
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return this.reject(topic, 'payload.not_json', (err as Error).message, payload);
    }
    const parsed = checkUntrusted(schema, json);
    if (!parsed.success)
      return this.reject(topic, 'payload.invalid', formatDetails(describeIssues(parsed.error, json)), payload);
    const site = this.t.siteOf(topic);
    if (parsed.data.site !== site)
      return this.reject(
        topic,
        'topic.site_mismatch',
        `payload of site ${parsed.data.site} on the topic of site ${site ?? '(none)'}`,
        payload,
      );
    return parsed.data;
  }

  private reject(topic: string, reason: RejectReason, detail: string, payload: Buffer): undefined {
    this.counters.rejected++;
    this.log.warn(
      { topic, reason, detail: detail.slice(0, 500), bytes: payload.length },
      'message rejected: dead-lettered',
    );
    this.deadLetter(topic, reason, detail, payload);
    return undefined;
  }

  private count(topic: string, payload: Buffer, r: IngestResult): void {
    this.counters.applied += r.applied;
    this.counters.duplicates += r.duplicates;
    if (r.conflicts.length === 0) return;
    this.counters.conflicts += r.conflicts.length;
    const detail = r.conflicts
      .map((c) => `seq ${c.seq}: stored id ${c.storedId}, received id ${c.receivedId}`)
      .join('\n');
    this.log.warn(
      { site: r.site, conflicts: r.conflicts.length, first: r.conflicts[0] },
      'seqs already held with other events: kept the stored ones',
    );
    this.deadLetter(topic, 'seq.conflict', detail, payload);
  }

  /** Leading edge at once, then at most one per interval, carrying the state when it is sent. */
  private scheduleAck(site: string): void {
    const state = this.ackState(site);
    if (this.stopped) {
      state.owed = true; // sent by stop(), once the commits under way are done
      return;
    }
    if (state.timer !== undefined) return;
    const wait = state.lastAt + this.ackIntervalMs - this.deps.clock.now();
    if (wait <= 0) {
      this.publishAck(site);
      return;
    }
    state.timer = this.deps.clock.setTimeout(() => {
      state.timer = undefined;
      this.publishAck(site);
    }, wait);
  }

  private ackState(site: string): AckState {
    let state = this.acks.get(site);
    if (!state) this.acks.set(site, (state = { lastAt: -Infinity, timer: undefined, reading: false, owed: false }));
    return state;
  }

  /** Publishes on the hub's connection (QoS 1 unless told); resolves once the broker acknowledged it (QoS 1) or it was sent (QoS 0). */
  publish(topic: string, payload: string, retain = false, qos: 0 | 1 = 1): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new TesseraError('sync.rejected', 'the hub is not connected to its broker'));
    return client.publishAsync(topic, payload, { qos, retain }).then(() => undefined);
  }

  /**
   * The site's ack, with its progress as committed, read from the store: one read at a time
   * per site (an ack asked for meanwhile is sent after it, with what is then committed), so a
   * retained ack never goes back to an older progress.
   */
  private publishAck(site: string): void {
    if (!this.client) return;
    const state = this.ackState(site);
    if (state.reading) {
      state.owed = true;
      return;
    }
    state.reading = true;
    state.lastAt = this.deps.clock.now();
    void this.track(
      (async () => {
        try {
          const progress = await this.deps.store.progress(site);
          const client = this.client;
          if (!progress || !client) return;
          const now = this.deps.clock.now();
          const ack: Ack = {
            v: SYNC_SCHEMA_VERSION,
            site,
            seq: progress.contiguous,
            missing: progress.missing,
            at: new Date(now).toISOString(),
          };
          client.publish(this.t.ack(site), JSON.stringify(ack), { qos: 1, retain: true }, (err) => {
            if (err) this.log.warn({ site, err: err.message }, 'ack not published');
            else this.counters.acksPublished++;
          });
        } catch (err) {
          // Its site sends the batches again, or the next commit of the site acks them.
          this.log.warn({ site, err }, 'ack not published: the progress could not be read');
        } finally {
          state.reading = false;
          if (state.owed) {
            state.owed = false;
            this.publishAck(site);
          }
        }
      })(),
    );
  }

  private firstConnect(client: MqttClient): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
      };
      const fail = (why: string) => {
        cleanup();
        client.end(true);
        reject(new TesseraError('sync.rejected', `cannot connect to the MQTT broker at ${this.url}: ${why}`));
      };
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error) => fail(err.message);
      const onClose = () => fail('connection closed');
      client.once('connect', onConnect);
      client.once('error', onError);
      client.once('close', onClose);
    });
  }
}
