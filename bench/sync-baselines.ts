import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import type { SiteEvent } from '../shared/protocol/events.js';
import { openSqlite } from '../shared/platform/sqlite.js';
import type { EdgeStore } from '../edge/store/store.js';
import { SYNC_SCHEMA_VERSION } from '../shared/protocol/sync.js';

/**
 * The bare MQTT baselines of the sync benchmarks, measured on the same broker in the same run:
 * what the broker and mqtt.js cost alone, without Tessera on either end.
 */

const connect = (url: string) =>
  mqtt.connectAsync(url, {
    clientId: `bench-bare-${randomUUID().slice(0, 8)}`,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });

/** Liveness bound of one bare message (not a performance threshold). */
const STEP_TIMEOUT_MS = 5_000;

/**
 * `count` QoS 1 publish → receive round trips between two bare clients, one after the other;
 * returns each in ms. The revocation's floor: one message through the broker.
 */
export async function bareRoundTrips(url: string, count: number): Promise<number[]> {
  const topic = `bench/bare-rtt/${randomUUID()}`;
  const [sub, pub] = [await connect(url), await connect(url)];
  const samples: number[] = [];
  try {
    let arrived: (() => void) | undefined;
    sub.on('message', () => arrived?.());
    await sub.subscribeAsync(topic, { qos: 1 });
    for (let i = 0; i < count; i++) {
      const received = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`bare round trip: no message within ${STEP_TIMEOUT_MS} ms`)),
          STEP_TIMEOUT_MS,
        );
        arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      const t0 = performance.now();
      await Promise.all([pub.publishAsync(topic, `revoke ${i}`, { qos: 1 }), received]);
      samples.push(performance.now() - t0);
    }
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  }
  return samples;
}

/** The site's whole backlog as the sync worker would send it: batches of `batchSize`, the same JSON payloads. */
export function backlogPayloads(store: EdgeStore, site: string, batchSize: number): Buffer[] {
  const payloads: Buffer[] = [];
  for (let after = 0; ;) {
    const events = store.events.list(after, batchSize);
    const last = events.at(-1);
    if (!last) return payloads;
    payloads.push(Buffer.from(JSON.stringify({ v: SYNC_SCHEMA_VERSION, site, events })));
    after = last.seq;
  }
}

/**
 * A bare publisher of `payloads` (QoS 1, at most `window` unacknowledged, like the sync worker)
 * to a bare subscriber that only counts them; returns the ms from the first publish until the
 * subscriber has them all, or NaN past `timeoutMs`.
 */
export async function bareDrain(
  url: string,
  payloads: readonly Buffer[],
  window: number,
  timeoutMs: number,
): Promise<number> {
  const topic = `bench/bare-drain/${randomUUID()}/events`;
  const [sub, pub] = [await connect(url), await connect(url)];
  try {
    let received = 0;
    const all = new Promise<void>((resolve) => {
      sub.on('message', () => {
        if (++received === payloads.length) resolve();
      });
    });
    await sub.subscribeAsync(topic, { qos: 1 });
    let next = 0;
    return await timedLanes(window, all, timeoutMs, async () => {
      while (next < payloads.length) await pub.publishAsync(topic, payloads[next++] ?? Buffer.alloc(0), { qos: 1 });
    });
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  }
}

/**
 * The drain's work done bare: a publisher reading the site's events from its SQLite file a page
 * at a time (each parsed, then written as the sync worker's payload), QoS 1, at most `window`
 * unacknowledged, to a subscriber that parses each payload and inserts its events into a table
 * like the hub's, one transaction per message: no validation, projection, group commit or ack.
 * Returns the ms from the first read until every event is stored, or NaN past `timeoutMs`.
 */
export async function storingDrain(
  url: string,
  from: { path: string; site: string; lastSeq: number },
  intoPath: string,
  batchSize: number,
  window: number,
  timeoutMs: number,
): Promise<number> {
  const topic = `bench/storing-drain/${randomUUID()}/events`;
  const source = new Database(from.path, { readonly: true });
  const into = openSqlite(intoPath, [BARE_EVENTS], 'the bare drain baseline');
  const [sub, pub] = [await connect(url), await connect(url)];
  try {
    const insert = into.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const store = into.transaction((events: SiteEvent[]) => {
      const now = Date.now();
      for (const e of events) insert.run(e.site, e.seq, e.id, e.at, e.type, JSON.stringify(e), now);
      return events.length;
    });
    let stored = 0;
    const all = new Promise<void>((resolve) => {
      sub.on('message', (_topic, payload) => {
        stored += store((JSON.parse(payload.toString('utf8')) as { events: SiteEvent[] }).events);
        if (stored >= from.lastSeq) resolve();
      });
    });
    await sub.subscribeAsync(topic, { qos: 1 });
    const page = source.prepare<[number, number], { seq: number; body: string }>(
      'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    let after = 0;
    return await timedLanes(window, all, timeoutMs, async () => {
      for (let rows = page.all(after, batchSize); rows.length > 0; rows = page.all(after, batchSize)) {
        after = (rows.at(-1) as { seq: number }).seq;
        const events = rows.map((r) => JSON.parse(r.body) as SiteEvent);
        const payload = Buffer.from(JSON.stringify({ v: SYNC_SCHEMA_VERSION, site: from.site, events }));
        await pub.publishAsync(topic, payload, { qos: 1 });
      }
    });
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
    source.close();
    into.close();
  }
}

/**
 * Starts `window` publishing lanes at once; the ms from their start until they are done and
 * `arrived` resolved, or NaN past `timeoutMs` (the lanes then fail when their client closes).
 */
async function timedLanes(
  window: number,
  arrived: Promise<void>,
  timeoutMs: number,
  lane: () => Promise<void>,
): Promise<number> {
  const start = performance.now();
  const done = Promise.all([Promise.all(Array.from({ length: window }, lane)), arrived]).then(
    () => performance.now() - start,
  );
  done.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(NaN), timeoutMs)));
  const ms = await Promise.race([done, timedOut]);
  clearTimeout(timer);
  return ms;
}

/** The hub's table of events (its first migration), without its indexes of member and clearing events. */
const BARE_EVENTS = `CREATE TABLE events (
  site TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL, type TEXT NOT NULL,
  body TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (site, seq)
) WITHOUT ROWID`;
