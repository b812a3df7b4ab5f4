import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tcpReachable } from '../tests/support/tcp.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { startBroker, type EmbeddedBroker } from '../cloud-sync/broker/embedded.js';
import { createHub, type Hub } from '../cloud-sync/hub-process/hub.js';
import { systemClock } from '../shared/platform/clock.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { EventBatch } from '../shared/protocol/sync.js';
import type { FromWorker, PublisherConfig, ToWorker } from './sync-publishers.js';
import { sleep } from '../tests/support/sleep.js';
import { silent } from '../tests/support/logger.js';

const SITES = Number(process.env.BENCH_SYNC_SITES ?? 100);
const SCALE = Number(process.env.BENCH_SYNC_SCALE ?? 1);
/** Messages published and not yet consumed, at most: well under the 1,000 messages Mosquitto's default configuration queues before it drops some (docs/sync.md). */
const WINDOW = 300;
/** Liveness bound of each phase (not a performance threshold). */
const PHASE_TIMEOUT_MS = 60_000;
const MOSQUITTO = { host: '127.0.0.1', port: 1883 };

/**
 * The two shapes of traffic a hub sees. Live: a site sends what its outbox holds, a few events
 * at a time. Catch-up: a site back online sends full batches (the sync worker's default 100).
 */
const PROFILES = [
  {
    name: 'live traffic, 1 to 10 events per message (5.5 on average)',
    sizes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    events: 110_000,
  },
  { name: 'catch-up, 100 events per message', sizes: [100], events: 200_000 },
];

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en');
export const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

/** A TCP connect to Mosquitto, then a real MQTT CONNECT; false if either fails within `ms`. */
export async function mosquittoReachable(ms = 1000): Promise<boolean> {
  if (!(await tcpReachable(MOSQUITTO.host, MOSQUITTO.port, ms))) return false;
  const client = mqtt.connect(`mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`, {
    clientId: `bench-probe-${randomUUID().slice(0, 8)}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: ms,
  });
  const ok = await new Promise<boolean>((resolve) => {
    client.once('connect', () => resolve(true));
    client.once('error', () => resolve(false));
    client.once('close', () => resolve(false));
  });
  await client.endAsync(true);
  return ok;
}

export function nextFromWorker<T extends FromWorker>(
  worker: Worker,
  pick: (m: FromWorker) => m is T,
  ms: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`publisher worker: no ${what} within ${ms} ms`))), ms);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      f();
    };
    const onMessage = (m: FromWorker) => {
      if ('error' in m) finish(() => reject(new Error(`publisher worker: ${m.error}`)));
      else if (pick(m)) finish(() => resolve(m));
    };
    const onError = (err: Error) => finish(() => reject(err));
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}

export interface PhaseResult {
  ms: number;
  consumedMessages: number;
  complete: boolean;
}

/**
 * Lets the publishers go on `prefix` and polls every 2 ms until every message is consumed
 * (`consumed()`: counted, or for the hub committed) or the phase times out. The publishers'
 * window is widened by `received()` (default: `consumed()`): what the subscriber has taken off
 * the broker, so what no longer sits in the broker's queue for it.
 */
export async function runPhase(
  worker: Worker,
  prefix: string,
  totalMessages: number,
  consumed: () => number,
  received = consumed,
): Promise<PhaseResult> {
  const post = (m: ToWorker) => worker.postMessage(m);
  const published = nextFromWorker(
    worker,
    (m): m is Extract<FromWorker, { published: number }> => 'published' in m,
    PHASE_TIMEOUT_MS + 5000,
    'end of publishing',
  );
  published.catch(() => undefined); // awaited below, unless the phase timed out first
  const start = performance.now();
  post({ go: prefix });
  let last = 0;
  let lastReceived = 0;
  while (last < totalMessages && performance.now() - start < PHASE_TIMEOUT_MS) {
    await sleep(2);
    const r = received();
    if (r !== lastReceived) post({ consumed: r });
    lastReceived = r;
    last = consumed();
  }
  const ms = performance.now() - start;
  if (last >= totalMessages) await published;
  return { ms, consumedMessages: last, complete: last >= totalMessages };
}

/** Hub ingest from 100 sites against a bare mqtt.js subscriber on the same stream, for each traffic shape. */
export async function benchIngest(): Promise<string[]> {
  const onMosquitto = await mosquittoReachable();
  let embedded: EmbeddedBroker | undefined;
  let url = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`;
  if (!onMosquitto) {
    embedded = await startBroker({ port: 0, log: silent });
    url = `mqtt://127.0.0.1:${embedded.port}`;
  }
  const lines = [
    `### Hub ingest: ${SITES} sites → one subscriber`,
    `broker: ${onMosquitto ? `Mosquitto at ${MOSQUITTO.host}:${MOSQUITTO.port}` : `embedded Aedes on port ${embedded?.port ?? '?'} (Mosquitto at ${MOSQUITTO.host}:${MOSQUITTO.port} unreachable)`}`,
    `stream (the same for every consumer, one after the other, after an unreported warm-up): ${SITES} mqtt.js publisher clients (one per site, in a worker thread), QoS 1, each publish awaited; at most ${WINDOW} messages published and not yet consumed`,
  ];
  try {
    for (const profile of PROFILES)
      lines.push('', ...(await benchProfile(url, profile.name, profile.sizes, Math.round(profile.events * SCALE))));
  } finally {
    await embedded?.close();
  }
  return lines;
}

async function benchProfile(url: string, name: string, sizes: number[], events: number): Promise<string[]> {
  const run = randomUUID();
  const hubPrefix = `bench/${run}/v1`;
  const barePrefix = `bench/${run}/bare/v1`;
  const sites = Array.from({ length: SITES }, (_, i) => `s${i.toString().padStart(3, '0')}`);
  const meanSize = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  const batchesPerSite = Math.max(1, Math.round(events / SITES / meanSize));
  const totalMessages = SITES * batchesPerSite;
  const perSite = Array.from({ length: batchesPerSite }, (_, b) => sizes[b % sizes.length] ?? 0).reduce(
    (a, b) => a + b,
    0,
  );
  const totalEvents = SITES * perSite;
  const hubClientId = `bench-hub-${run.slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-sync-'));
  const cfg: PublisherConfig = { url, sites, batchesPerSite, eventsPerBatch: sizes, window: WINDOW };
  const worker = new Worker(new URL('./sync-publishers.js', import.meta.url), { workerData: cfg });
  let hub: Hub | undefined;
  const bare: PhaseResult[] = [];
  let ours: PhaseResult | undefined;
  let decoded: PhaseResult | undefined;
  let hubCheck = '';
  try {
    await nextFromWorker(worker, (m): m is { ready: true } => 'ready' in m, 60_000, 'ready');
    // The baseline: a clean-session QoS 1 subscriber that only counts messages. With `decode`,
    // it also parses and schema-checks each batch: a reference row, not the baseline.
    const bareRun = async (decode = false): Promise<PhaseResult> => {
      let messages = 0;
      const sub = await mqtt.connectAsync(url, {
        clientId: `bench-bare-${randomUUID().slice(0, 8)}`,
        clean: true,
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      try {
        sub.on('message', (_topic, payload) => {
          if (decode && !EventBatch.safeParse(JSON.parse(payload.toString('utf8'))).success) return;
          messages++;
        });
        await sub.subscribeAsync(`${barePrefix}/sites/+/events`, { qos: 1 });
        return await runPhase(worker, barePrefix, totalMessages, () => messages);
      } finally {
        await sub.endAsync();
      }
    };
    // A warm-up, then both baselines before the hub: a baseline run after the hub's phase had
    // Mosquitto drop messages for it in most runs ("Outgoing messages are being dropped" within
    // its first second, the hub stopped or not; cause not found), which timed it out.
    await bareRun();
    bare.push(await bareRun());
    bare.push(await bareRun());
    decoded = await bareRun(true);

    // The real hub ingest: schema check, group commit to SQLite, acks.
    hub = await createHub({
      dbPath: join(dir, 'hub.db'),
      clock: systemClock,
      log: silent,
      mqttUrl: url,
      topicPrefix: hubPrefix,
      clientId: hubClientId,
      apiPort: 0,
      privateKeyPem: generateHubKeys().privateKeyPem,
    });
    await hub.start();
    const h = hub;
    // Complete once every batch is committed; the window follows what the hub took off the broker.
    ours = await runPhase(
      worker,
      hubPrefix,
      totalMessages,
      () => h.ingest.counters.batches,
      () => h.ingest.counters.received,
    );
    const stored = sites.reduce((n, s) => n + (h.store.progress(s)?.contiguous ?? 0), 0);
    const c = h.ingest.counters;
    hubCheck = `hub check: ${fmtInt(stored)} of ${fmtInt(totalEvents)} events stored contiguously; duplicates ${c.duplicates}, rejected ${c.rejected}, store errors ${c.storeErrors}, acks published ${fmtInt(c.acksPublished)}`;
    await hub.stop();
  } finally {
    await hub?.stop();
    await cleanBroker(url, hubClientId, hubPrefix, sites).catch(() => undefined);
    worker.postMessage({ close: true } satisfies ToWorker);
    await nextFromWorker(worker, (m): m is { closed: true } => 'closed' in m, 5000, 'close').catch(() => undefined);
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  return report(name, totalEvents, totalMessages, { ours, bare, decoded }, hubCheck);
}

function report(
  name: string,
  totalEvents: number,
  totalMessages: number,
  r: { ours: PhaseResult | undefined; bare: PhaseResult[]; decoded: PhaseResult | undefined },
  hubCheck: string,
): string[] {
  const eventsPerMessage = totalEvents / totalMessages;
  const rate = (p: PhaseResult) => p.consumedMessages / (p.ms / 1000);
  const bareRate = r.bare.reduce((s, p) => s + rate(p), 0) / r.bare.length;
  const ourRate = r.ours ? rate(r.ours) : NaN;
  // A run that timed out measured the stall, not the consumer: no ratio from it.
  const complete = r.ours?.complete === true && r.bare.every((p) => p.complete);
  const row = (label: string, p: PhaseResult) =>
    `| ${label} | ${fmtInt(rate(p))} | ${fmtInt(rate(p) * eventsPerMessage)} | ${(p.ms / 1000).toFixed(2)} s | ${p.complete ? 'all' : `**${fmtInt(p.consumedMessages)} (timed out)**`} |`;
  return [
    `#### ${name}: ${fmtInt(totalMessages)} messages, ${fmtInt(totalEvents)} events`,
    '',
    '| consumer | messages/s | events/s | time | consumed |',
    '|---|---|---|---|---|',
    ...(r.ours ? [row('hub ingest (validate, group commit, ack)', r.ours)] : []),
    ...r.bare.map((p, i) =>
      row(`baseline: bare mqtt.js subscriber, counting (run ${i + 1} of ${r.bare.length}, before the hub)`, p),
    ),
    ...(r.decoded
      ? [row('reference: bare subscriber + JSON.parse + EventBatch schema check, no storage', r.decoded)]
      : []),
    complete
      ? `| **ratio hub / baseline (mean of the baseline runs)** | **${pct(ourRate, bareRate)}** | | | goal ≥ 70 %: ${ourRate / bareRate >= 0.7 ? 'met' : 'NOT met'} |`
      : '| **ratio hub / baseline** | **not measured: a run timed out** | | | goal ≥ 70 %: unknown |',
    '',
    hubCheck,
  ];
}

/** Clears what the run left on the broker: the hub's retained acks and its persistent session. */
async function cleanBroker(url: string, hubClientId: string, prefix: string, sites: string[]): Promise<void> {
  const c = await mqtt.connectAsync(url, {
    clientId: hubClientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  try {
    await Promise.all(sites.map((s) => c.publishAsync(`${prefix}/sites/${s}/ack`, '', { qos: 1, retain: true })));
  } finally {
    await c.endAsync();
  }
}
