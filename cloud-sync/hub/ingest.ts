import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { Ack } from '../../shared/protocol/sync.js';
import { EventBatch, SYNC_SCHEMA_VERSION, SiteStatus } from '../../shared/protocol/sync.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../shared/protocol/topics.js';
import { describeIssues, formatDetails } from '../../shared/platform/validation.js';
import type { z } from 'zod';
import type { HubStore, IngestResult } from './store.js';
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
   * so its site sends it again, to an instance alive.
   */
  shared?: boolean;
  /**
   * Group commit: the batches that arrive within this many ms of the first one waiting are
   * committed in one transaction (default 20). Fewer, larger commits rewrite far fewer pages
   * (each commit rewrites every b-tree page it touches, one per site at least). 0: each batch
   * is committed as it arrives.
   */
  commitWindowMs?: number;
  /** Told of each valid site status once recorded (the directory publisher answers it). */
  onSiteStatus?: (status: SiteStatus) => void;
  /**
   * Told of the events stored for the first time, in seq order, once committed (each event
   * once, whatever the re-sends): what live projections such as occupancy are built from.
   */
  onApplied?: (events: readonly SiteEvent[]) => void;
  /**
   * Rewrites a batch just before it is stored: events naming an erased member, from a site that
   * had not heard of the erasure, are stored (and told to listeners) under the pseudonym.
   */
  pseudonymise?: (batch: EventBatch) => EventBatch;
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

/**
 * Hub ingest: events and statuses from every site, QoS 1 on a persistent session. Valid batches
 * are committed in groups (one SQLite transaction for all that arrived within a short window),
 * then acknowledged on each site's retained `ack` topic. The broker's PUBACK may precede
 * the commit: delivery rests on the hub's ack alone (a PUBACK proves nothing: docs/sync.md), so a batch lost in a crash before
 * its commit is sent again by its site. Bad input is dead-lettered and counted; this never throws.
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
  private readonly acks = new Map<string, { lastAt: number; timer: TimerHandle | undefined }>();
  private client: MqttClient | undefined;
  private url = '';
  /** Valid batches waiting for the group commit, with the topic and payload each came in. */
  private group: Array<{ topic: string; payload: Buffer; batch: EventBatch }> = [];
  private groupEvents = 0;
  private groupTimer: TimerHandle | undefined;
  private stopping: Promise<void> | undefined;

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
      ...(this.deps.tlsLoopback === true ? { rejectUnauthorized: false } : {}),
    });
    this.client = client;
    // Before connect: messages queued for our session arrive right after the CONNACK.
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
    client.on('offline', () => this.log.warn('MQTT offline: reconnecting'));
    client.on('connect', (connack) => this.log.info({ sessionPresent: connack.sessionPresent }, 'MQTT connected'));
    client.connect();
    await this.firstConnect(client);
    const subscriptions = [this.t.allEvents, this.t.allStatus].map((topic) =>
      shared ? `$share/${SHARE_GROUP}/${topic}` : topic,
    );
    const granted = await client.subscribeAsync(subscriptions, { qos: 1 });
    const refused = granted.filter((g) => g.qos !== 1);
    if (refused.length > 0)
      throw new TesseraError(
        'sync.rejected',
        `the broker refused the hub's subscriptions: ${refused.map((g) => `${g.topic} (${g.qos})`).join(', ')}`,
      );
  }

  /** Commits the batches still waiting, publishes the acks still waiting, then disconnects. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.commitGroup();
      for (const [site, state] of this.acks) {
        if (state.timer === undefined) continue;
        state.timer.cancel();
        state.timer = undefined;
        this.publishAck(site);
      }
      const client = this.client;
      if (!client) return;
      const ended = client.endAsync();
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref());
      if ((await Promise.race([ended, timeout])) === 'timeout') await client.endAsync(true);
    })();
    return this.stopping;
  }

  /** One message from the broker. Public for tests; never throws. */
  onMessage(topic: string, payload: Buffer): void {
    // Once stopping, nothing more is stored: the database is about to close. A message dropped
    // here is not lost: the hub's ack never covered it, so its site sends it again.
    if (this.stopping !== undefined) return;
    try {
      this.counters.received++;
      if (topic.endsWith('/events')) this.onEvents(topic, payload);
      else if (topic.endsWith('/status')) this.onStatus(topic, payload);
      else this.reject(topic, 'topic.unknown', 'not an events or status topic', payload);
    } catch (err) {
      this.counters.storeErrors++;
      this.log.error({ err, topic }, 'could not process a message: it stays unacknowledged');
    }
  }

  private onEvents(topic: string, payload: Buffer): void {
    const batch = this.parse(topic, payload, EventBatch);
    if (!batch) return;
    this.group.push({ topic, payload, batch });
    this.groupEvents += batch.events.length;
    const windowMs = this.deps.commitWindowMs ?? DEFAULT_COMMIT_WINDOW_MS;
    if (this.groupEvents >= GROUP_EVENTS || windowMs <= 0) this.commitGroup();
    else this.groupTimer ??= this.deps.clock.setTimeout(() => this.commitGroup(), windowMs);
  }

  /** Commits the waiting batches in one transaction, then counts, acknowledges and tells listeners. */
  commitGroup(): void {
    this.groupTimer?.cancel();
    this.groupTimer = undefined;
    const group = this.group;
    if (group.length === 0) return;
    this.group = [];
    this.groupEvents = 0;
    let results: IngestResult[];
    // At commit time, not at arrival: an erasure committed meanwhile applies to the group too.
    const pseudonymise = this.deps.pseudonymise ?? ((b: EventBatch) => b);
    const store = () =>
      this.deps.store.ingestAll(
        group.map((g) => pseudonymise(g.batch)),
        this.deps.clock.now(),
      );
    const shared = this.deps.shared === true;
    try {
      // One of several instances: the listeners' writes go in the ingest transaction, under its
      // locks of the group's sites (taken in one order), so two instances never project the same
      // site at once (no deadlock on its rows), and the other instances, told at this commit,
      // read the projection already made.
      results = shared ? this.deps.store.db.transaction(() => this.tellApplied(store()))() : store();
    } catch (err) {
      this.counters.storeErrors += group.length;
      this.log.error({ err, batches: group.length }, 'could not store a group of batches: they stay unacknowledged');
      return;
    }
    this.counters.batches += results.length;
    results.forEach((result, i) => {
      const { topic, payload } = group[i] as (typeof group)[number];
      this.count(topic, payload, result);
      this.scheduleAck(result.site);
    });
    if (!shared) this.tellApplied(results);
  }

  /**
   * Tells the listener of each batch's new events, all inside one transaction of the hub
   * database: what listeners write (projections) then costs one commit per group, not one per
   * batch. A failing listener is logged and the others go on.
   */
  private tellApplied(results: IngestResult[]): IngestResult[] {
    const listener = this.deps.onApplied;
    if (!listener || results.every((r) => r.appliedEvents.length === 0)) return results;
    try {
      this.deps.store.db.transaction(() => {
        for (const r of results)
          if (r.appliedEvents.length > 0) this.tell('onApplied', r.site, () => listener(r.appliedEvents));
      })();
    } catch (err) {
      this.log.error({ err }, 'could not commit what ingest listeners wrote');
    }
    return results;
  }

  private onStatus(topic: string, payload: Buffer): void {
    if (payload.length === 0) return; // a retained status being cleared
    const status = this.parse(topic, payload, SiteStatus);
    if (!status) return;
    const before = this.deps.store.progress(status.site)?.contiguous;
    const after = this.deps.store.recordStatus(status, this.deps.clock.now()).contiguous;
    this.log.info(
      { site: status.site, online: status.online, backlog: status.lastSeq - status.ackedSeq },
      'site status',
    );
    if (before !== undefined && after !== before) this.scheduleAck(status.site);
    this.tell('onSiteStatus', status.site, () => this.deps.onSiteStatus?.(status));
  }

  /** A listener's failure is logged, never a reason to leave a stored batch unacknowledged. */
  private tell(listener: 'onApplied' | 'onSiteStatus', site: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err, site, listener }, 'ingest listener failed');
    }
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
    const parsed = schema.safeParse(json);
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
    this.deps.store.deadLetter(topic, reason, detail, payload, this.deps.clock.now());
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
    this.deps.store.deadLetter(topic, 'seq.conflict' satisfies RejectReason, detail, payload, this.deps.clock.now());
  }

  /** Leading edge at once, then at most one per interval, carrying the state when it is sent. */
  private scheduleAck(site: string): void {
    if (this.stopping !== undefined) return;
    const state = this.acks.get(site) ?? { lastAt: -Infinity, timer: undefined };
    this.acks.set(site, state);
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

  /** Publishes on the hub's connection (QoS 1 unless told); resolves once the broker acknowledged it (QoS 1) or it was sent (QoS 0). */
  publish(topic: string, payload: string, retain = false, qos: 0 | 1 = 1): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new TesseraError('sync.rejected', 'the hub is not connected to its broker'));
    return client.publishAsync(topic, payload, { qos, retain }).then(() => undefined);
  }

  private publishAck(site: string): void {
    const progress = this.deps.store.progress(site);
    const client = this.client;
    if (!progress || !client) return;
    const now = this.deps.clock.now();
    const state = this.acks.get(site);
    if (state) state.lastAt = now;
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
