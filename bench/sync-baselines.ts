import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
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
    const start = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < payloads.length) await pub.publishAsync(topic, payloads[next++] ?? Buffer.alloc(0), { qos: 1 });
    };
    const done = Promise.all([Promise.all(Array.from({ length: window }, lane)), all]).then(
      () => performance.now() - start,
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(NaN), timeoutMs)));
    // Past the bound, the lanes fail when the clients close: already answered.
    done.catch(() => undefined);
    const ms = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    return ms;
  } finally {
    await Promise.all([sub.endAsync(true), pub.endAsync(true)]);
  }
}
