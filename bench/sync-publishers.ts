/**
 * Worker thread of bench/sync.ts: the simulated sites. One mqtt.js client per site publishes
 * EventBatch messages (QoS 1, each publish awaited) on `${prefix}/sites/{site}/events`, within a
 * window of messages not yet consumed that the main thread widens by posting `consumed` counts.
 * The broker's PUBACK says nothing about delivery (docs/sync.md), so the window is what keeps the
 * subscriber's queue under Mosquitto's 1,000 messages.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { SiteEvent } from '../shared/protocol/events.js';
import type { EventBatch } from '../shared/protocol/sync.js';

export interface PublisherConfig {
  url: string;
  sites: string[];
  batchesPerSite: number;
  /** Events in each batch, cycled: batch b of a site holds `eventsPerBatch[b % length]` events. */
  eventsPerBatch: number[];
  /** Messages published but not yet consumed, at most. */
  window: number;
}

/** main → worker */
export type ToWorker = { go: string } | { consumed: number } | { close: true };
/** worker → main */
export type FromWorker = { ready: true } | { published: number; ms: number } | { error: string } | { closed: true };

/**
 * A valid event of `site`, like the edge stores it: each four seqs are one visit (entry granted,
 * check-in, exit granted, check-out) by one of 40 members, the everyday traffic of a site.
 */
function siteEvent(site: string, seq: number): SiteEvent {
  const at = new Date(Date.UTC(2026, 10, 23, 8, 0, seq % 60)).toISOString().replace('Z', '+00:00');
  const envelope = { v: 1 as const, site, seq, id: randomUUID(), at };
  const memberId = `m${Math.floor(seq / 4) % 40}`;
  const access = { door: 'front', badge: '…A27F', memberId, reason: 'ok' as const };
  switch (seq % 4) {
    case 0:
      return { ...envelope, type: 'access.granted', data: { ...access, reader: 'front-in', role: 'entry' } };
    case 1:
      return { ...envelope, type: 'presence.in', data: { memberId, door: 'front', reader: 'front-in' } };
    case 2:
      return { ...envelope, type: 'access.granted', data: { ...access, reader: 'front-out', role: 'exit' } };
    default:
      return {
        ...envelope,
        type: 'presence.out',
        data: { memberId, cause: 'badge', via: 'exit_reader', door: 'front', minutes: 240 },
      };
  }
}

function payloadsOf(site: string, batches: number, sizes: readonly number[]): string[] {
  const out: string[] = [];
  let seq = 0;
  for (let b = 0; b < batches; b++) {
    const events: SiteEvent[] = [];
    const size = sizes[b % sizes.length] ?? 1;
    for (let i = 1; i <= size; i++) events.push(siteEvent(site, ++seq));
    out.push(JSON.stringify({ v: 1, site, events } satisfies EventBatch));
  }
  return out;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('sync-publishers.ts runs as a worker thread');
  const cfg = workerData as PublisherConfig;
  const send = (m: FromWorker) => port.postMessage(m);
  const payloads = cfg.sites.map((s) => payloadsOf(s, cfg.batchesPerSite, cfg.eventsPerBatch));
  const clients: MqttClient[] = [];
  const runId = randomUUID().slice(0, 8);
  for (const [i] of cfg.sites.entries()) {
    clients.push(
      await mqtt.connectAsync(cfg.url, {
        clientId: `bench-pub-${runId}-${i}`,
        clean: true,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    );
  }

  let granted = 0;
  let consumed = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    while (waiting.length > 0 && granted - consumed < cfg.window) {
      granted++;
      waiting.shift()?.();
    }
  };
  const acquire = (): Promise<void> => {
    if (waiting.length === 0 && granted - consumed < cfg.window) {
      granted++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };

  const run = async (prefix: string) => {
    granted = 0;
    consumed = 0;
    const start = performance.now();
    await Promise.all(
      clients.map(async (client, i) => {
        const site = cfg.sites[i] ?? '';
        for (const payload of payloads[i] ?? []) {
          await acquire();
          await client.publishAsync(`${prefix}/sites/${site}/events`, payload, { qos: 1 });
        }
      }),
    );
    return performance.now() - start;
  };

  port.on('message', (m: ToWorker) => {
    if ('consumed' in m) {
      consumed = m.consumed;
      release();
    } else if ('go' in m) {
      run(m.go).then(
        (ms) => send({ published: cfg.sites.length * cfg.batchesPerSite, ms }),
        (err: unknown) => send({ error: String(err) }),
      );
    } else {
      void Promise.all(clients.map((c) => c.endAsync().catch(() => c.endAsync(true)))).then(() => {
        send({ closed: true });
        port.close();
      });
    }
  });
  send({ ready: true });
}

main().catch((err: unknown) => parentPort?.postMessage({ error: String(err) } satisfies FromWorker));
