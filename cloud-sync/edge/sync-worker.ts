import type { TimerHandle } from '../../shared/platform/clock.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import { LINK_DEFAULTS, SYNC_SCHEMA_VERSION } from '../../shared/protocol/sync.js';
import { edgeClientId, topics } from '../../shared/protocol/topics.js';
import { readAck } from './ack.js';
import { MqttLink } from './mqtt-link.js';
import type { SyncWorkerDeps } from './options.js';
import { OutboxStream } from './outbox-stream.js';
import type { OutboundBatch } from './outbox-stream.js';
import { receiveCommand } from './hub-commands-inbound.js';
import { parkRejected } from './rejections.js';
import { buildStatus, parkedRanges } from './status.js';
import { LostLogWatch } from './lost-log.js';

export type { BrokerOptions, SyncWorkerDeps } from './options.js';

export interface SyncCounters {
  batchesSent: number;
  eventsSent: number;
  /** The most batches ever awaiting a PUBACK at once, as the MQTT client counts them. */
  maxInFlight: number;
  rewinds: number;
  invalidAcks: number;
  /** Acks beyond the last event of this store (not about this store). */
  refusedAcks: number;
  parkedEvents: number;
}

export interface SyncState {
  connected: boolean;
  /** Seconds since the broker was last reachable (since start if never); 0 while connected. */
  unreachableSeconds: number;
  lastSeq: number;
  ackedSeq: number;
  inFlight: number;
  parked: Array<[number, number]>;
  backlog: number;
  counters: SyncCounters;
}

export interface SyncWorker {
  start(): void;
  /**
   * Sends what is unsent (within the window), flushes in-flight batches (bounded), publishes the
   * offline status, closes the connection. Idempotent.
   */
  stop(): Promise<void>;
  state(): SyncState;
}

/**
 * The edge side of the site ↔ hub link (docs/sync.md): streams the outbox to the hub in batches
 * over MQTT, records the hub's acks, re-sends what the hub has not acknowledged, parks what the
 * broker keeps refusing, and publishes the site's status. It never deletes an event: only the hub's ack lets the site forget one (edge/store/retention.ts).
 */
export function createSyncWorker(deps: SyncWorkerDeps): SyncWorker {
  const { site, broker, store, clock, version } = deps;
  const log = deps.log.child({ module: 'sync' });
  const t = topics(broker.topicPrefix);
  const counters: SyncCounters = {
    batchesSent: 0,
    eventsSent: 0,
    maxInFlight: 0,
    rewinds: 0,
    invalidAcks: 0,
    refusedAcks: 0,
    parkedEvents: 0,
  };
  const stream = new OutboxStream(
    store.events,
    {
      batchSize: broker.batchSize,
      window: broker.window,
      failureLimit: deps.failureLimit ?? 3,
      ackTimeoutMs: broker.ackTimeoutSeconds * 1000,
      now: () => clock.now(),
      problem: (e) =>
        e.site !== site
          ? `an event of site ${e.site}`
          : SiteEvent.safeParse(e).success
            ? undefined
            : 'no longer fits the event schema',
    },
    store.parked.list(),
  );
  let link: MqttLink | undefined;
  let phase: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let stopping: Promise<void> | undefined;
  const timers: TimerHandle[] = [];
  let onSettled: (() => void) | undefined;
  let stopListening: (() => void) | undefined;
  let sendScheduled = false;
  /** A status to publish at the next tick (a missed directory update: at most one per tick, however many are refused). */
  let statusDue = false;
  /** The broker refuses our status messages (an ACL without the status topic): stop sending them. */
  let statusRefused = false;
  /** When the broker was last lost (or the worker started without it); null while connected. */
  let unreachableSince: number | null = clock.now();

  const heartbeat = {
    seconds: broker.heartbeatSeconds,
    offlineAfterSeconds: broker.heartbeatSeconds * (broker.offlineAfterMissed ?? LINK_DEFAULTS.offlineAfterMissed),
  };
  const status = (online: boolean) =>
    Buffer.from(
      JSON.stringify(
        buildStatus(store, {
          site,
          ...(deps.doors ? { doors: deps.doors } : {}),
          ...(deps.readers ? { readers: deps.readers } : {}),
          online,
          version,
          nowMs: clock.now(),
          clockSynced: deps.clockSynced(),
          heartbeat,
          ...(deps.staleAfterSeconds !== undefined ? { staleAfterSeconds: deps.staleAfterSeconds } : {}),
          ...(deps.capacity !== undefined ? { capacity: deps.capacity } : {}),
          ...directoryMissed(),
        }),
      ),
    );

  function directoryMissed(): { directoryMissed?: number } {
    const missed = deps.directory?.missed();
    return missed === undefined ? {} : { directoryMissed: missed };
  }

  function publishStatus(online: boolean, done?: () => void): void {
    statusDue = false;
    if (!link?.ready || statusRefused) return done?.();
    link.publish(undefined, t.status(site), status(online), true, (err) => {
      if (err && phase === 'running') log.debug({ err: err.message }, 'status publish failed');
      done?.();
    });
  }

  const lostLog = new LostLogWatch({
    store,
    log,
    resume: () => {
      for (const p of store.parked.list()) stream.parkedRange(p);
      stream.rewind();
      counters.rewinds++;
    },
    tell: () => publishStatus(true),
  });

  function pump(): void {
    if (lostLog.behind()) return;
    while (phase === 'running' && link?.ready) {
      const next = stream.take();
      if (!next) return;
      if ('batch' in next) send(next.batch);
      else park(next.unsendable, `not sendable: ${next.reason}`);
    }
  }

  /**
   * Events just committed go out on the next turn of the event loop, not at the next poll: the
   * commits of one turn (a burst of taps) share a batch, and the window still bounds what is in
   * flight (what it holds back goes as acks come in).
   */
  function sendSoon(): void {
    if (sendScheduled) return;
    sendScheduled = true;
    setImmediate(() => {
      sendScheduled = false;
      if (phase === 'running') pump();
    });
  }

  function send(batch: OutboundBatch): void {
    const payload = Buffer.from(JSON.stringify({ v: SYNC_SCHEMA_VERSION, site, events: batch.events }));
    counters.batchesSent++;
    counters.eventsSent += batch.events.length;
    link?.publish(batch.id, t.events(site), payload, false, (err) => {
      if (err) return failed(batch.id, false, err.message);
      stream.settled(batch.id);
      if (stream.inFlightCount === 0) onSettled?.();
      pump();
    });
    counters.maxInFlight = Math.max(counters.maxInFlight, link?.queued() ?? 0);
  }

  function failed(id: number, stillQueued: boolean, reason: string): void {
    const batch = stream.batch(id);
    if (phase !== 'running' || !batch) return;
    const verdict = stream.failed(id, stillQueued);
    if (verdict.action !== 'retry' && stillQueued) link?.drop(id);
    if (verdict.action === 'park') park(verdict.seq, reason);
    else if (verdict.action === 'split')
      log.warn({ from: batch.from, to: batch.to, reason }, 'batch keeps failing: sending its events one by one');
    else log.info({ from: batch.from, to: batch.to, reason }, 'batch failed; it will be re-sent');
  }

  function park(seq: number, reason: string): void {
    parkRejected(store, clock, log, site, seq, reason);
    stream.parkedRange({ from: seq, to: seq });
    counters.parkedEvents++;
    // The hub counts a parked range as settled once the status declares it.
    publishStatus(true);
  }

  function onAck(payload: Buffer): void {
    const verdict = readAck(payload, site);
    if (verdict.ok === 'cleared') return;
    if (!verdict.ok) {
      counters.invalidAcks++;
      log.warn({ reason: verdict.reason, bytes: payload.length }, 'invalid ack ignored');
      return;
    }
    const { seq, missing } = verdict.ack;
    if (!store.events.markAcked(seq)) {
      counters.refusedAcks++;
      if (seq > store.events.lastSeq()) lostLog.hubAhead(seq);
      return;
    }
    if (stream.acknowledged(missing)) {
      counters.rewinds++;
      log.info(
        { from: store.events.ackedSeq() + 1, missing: missing.slice(0, 5) },
        'the hub reports a gap: re-sending',
      );
    }
    pump();
  }

  function tick(): void {
    if (phase !== 'running' || !link?.ready) return;
    if (stream.checkAckTimeout()) {
      counters.rewinds++;
      log.info(
        { from: store.events.ackedSeq() + 1, timeoutSeconds: broker.ackTimeoutSeconds },
        'no ack from the hub in time: re-sending',
      );
    }
    if (statusDue) publishStatus(true);
    pump();
  }

  function openLink(): MqttLink {
    return new MqttLink(
      {
        url: broker.url,
        clientId: edgeClientId(site),
        username: broker.username,
        password: broker.password,
        ca: broker.ca,
        will: { topic: t.status(site), payload: () => status(false) },
        subscriptions: [
          t.ack(site),
          ...(deps.directory ? [t.directory(site)] : []),
          ...(deps.daysElsewhere ? [t.days(site)] : []),
          ...(deps.commands ? [t.commands(site)] : []),
        ],
        log,
        ...(deps.connect ? { connect: deps.connect } : {}),
        ...(deps.reconnectMs !== undefined ? { reconnectMs: deps.reconnectMs } : {}),
        refusalLimit: deps.failureLimit ?? 3,
        keepaliveSeconds: broker.keepaliveSeconds ?? LINK_DEFAULTS.keepaliveSeconds,
      },
      {
        ready: () => {
          unreachableSince = null;
          log.info(
            { url: broker.url, lastSeq: store.events.lastSeq(), ackedSeq: store.events.ackedSeq() },
            'connected to the broker',
          );
          stream.rewind();
          counters.rewinds++;
          publishStatus(true);
          pump();
        },
        down: () => {
          unreachableSince ??= clock.now();
          if (phase === 'running')
            log.info({ backlog: store.events.lastSeq() - store.events.ackedSeq() }, 'broker connection lost');
        },
        message: (topic, payload) => {
          if (phase === 'new' || phase === 'stopped') return;
          // The hub's directory and days are applied while the worker stops too: the store stays open
          // until it has stopped, and the client acknowledges a message once this returns, so the
          // broker would not send one dropped here again (the hub would believe the site holds it).
          if (topic === t.directory(site)) {
            // A new revision goes straight into the status, so the hub knows what this site holds.
            const outcome = deps.directory?.receive(payload);
            if (phase !== 'running') return;
            if (outcome?.applied) publishStatus(true);
            // Missed an update: the hub hears it with the next tick and sends again at once.
            else if (outcome?.refused === 'out_of_order') statusDue = true;
            return;
          }
          if (topic === t.days(site)) {
            deps.daysElsewhere?.receive(payload);
            return;
          }
          if (phase !== 'running') return;
          if (topic === t.commands(site) && deps.commands) {
            if (receiveCommand(payload, { commands: deps.commands, stream, store, log })) counters.rewinds++;
            // The receipt or the refusal was just recorded: send it now.
            return pump();
          }
          if (topic !== t.ack(site)) return;
          try {
            onAck(payload);
          } catch (err) {
            counters.invalidAcks++;
            log.error({ err }, 'ack handling failed');
          }
        },
        refusedLike: (token) => failed(token, true, 'the broker closed the connection on this publish'),
        ownDropped: () => {
          statusRefused = true;
          log.error(
            { code: 'sync.rejected', topic: t.status(site) },
            'the broker keeps refusing the status messages: no more status until restart (check its ACL); events still flow',
          );
        },
      },
    );
  }

  function waitSettled(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stream.inFlightCount === 0 || !link?.ready) return resolve();
      const timer = clock.setTimeout(() => finish(), ms);
      const finish = () => {
        timer.cancel();
        onSettled = undefined;
        resolve();
      };
      onSettled = finish;
    });
  }

  function bounded(work: (done: () => void) => void, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => resolve(), ms);
      work(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  return {
    start() {
      if (phase !== 'new') throw new Error(`the sync worker cannot start: it is ${phase}`);
      phase = 'running';
      link = openLink();
      stopListening = store.onEventsCommitted?.(sendSoon);
      timers.push(clock.setInterval(tick, deps.pollMs ?? 200));
      timers.push(clock.setInterval(() => publishStatus(true), broker.heartbeatSeconds * 1000));
      log.info(
        { url: broker.url, site, lastSeq: store.events.lastSeq(), ackedSeq: store.events.ackedSeq() },
        'sync worker started',
      );
      link.start();
    },

    stop() {
      stopping ??= (async () => {
        const wasRunning = phase === 'running';
        // What was appended since the last tick goes out too (a tap just before the stop), so
        // that the flush below covers it instead of it waiting, unsent, for the next start.
        if (wasRunning) pump();
        phase = 'stopping';
        stopListening?.();
        for (const timer of timers.splice(0)) timer.cancel();
        if (wasRunning && link) {
          const current = link;
          await waitSettled(deps.flushMs ?? 2000);
          await bounded((done) => publishStatus(false, done), 1000);
          await bounded((done) => void current.end().then(done), 2000);
        }
        phase = 'stopped';
        log.info(
          { backlog: store.events.lastSeq() - store.events.ackedSeq(), inFlight: stream.inFlightCount },
          'sync worker stopped',
        );
      })();
      return stopping;
    },

    state() {
      const lastSeq = store.events.lastSeq();
      const ackedSeq = store.events.ackedSeq();
      const connected = link?.ready ?? false;
      return {
        connected,
        unreachableSeconds:
          connected || unreachableSince === null ? 0 : Math.max(0, Math.floor((clock.now() - unreachableSince) / 1000)),
        lastSeq,
        ackedSeq,
        inFlight: stream.inFlightCount,
        parked: parkedRanges(store),
        backlog: lastSeq - ackedSeq,
        counters: { ...counters },
      };
    },
  };
}
