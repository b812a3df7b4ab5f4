import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { startBroker } from '../cloud-sync/broker/embedded.js';
import { benchMosquitto } from './mosquitto.js';
import { createHub, type Hub } from '../cloud-sync/hub-process/hub.js';
import { systemClock } from '../shared/platform/clock.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { EventBatch } from '../shared/protocol/sync.js';
import type { FromWorker, PublisherConfig, ToWorker } from './sync-publishers.js';
import { sleep } from '../tests/support/sleep.js';
import { tcpProxy } from '../tests/support/tcp-proxy.js';
import { BENCH_PG_URL, benchPostgresMissing, benchSchema } from './pg.js';
import { silent } from '../tests/support/logger.js';
import { baselineShortfall, failedMeasurement } from './failures.js';

const SITES = Number(process.env.BENCH_SYNC_SITES ?? 100);
const SCALE = Number(process.env.BENCH_SYNC_SCALE ?? 1);
/** Messages published and not yet consumed, at most: well under the 1,000 messages Mosquitto's default configuration queues before it drops some (docs/sync.md). */
const WINDOW = 300;
/** Liveness bound of each phase (not a performance threshold). */
const PHASE_TIMEOUT_MS = 60_000;

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
  /** The broker acknowledged every publish: what is missing at the end was lost, not late. */
  published: boolean;
}

/** After publishing ends, how long a consumer may go on receiving before what it lacks counts as lost. */
const LOSS_GRACE_MS = 5_000;

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
  let publishedAt: number | undefined;
  published.then(
    () => (publishedAt = performance.now()),
    () => undefined, // awaited below, unless the phase timed out first
  );
  const start = performance.now();
  post({ go: prefix });
  let last = 0;
  let lastReceived = 0;
  let progressAt = start;
  while (last < totalMessages && performance.now() - start < PHASE_TIMEOUT_MS) {
    // Everything published and acknowledged, and nothing more consumed for a while: the rest is lost.
    if (publishedAt !== undefined && performance.now() - Math.max(publishedAt, progressAt) > LOSS_GRACE_MS) break;
    await sleep(2);
    const r = received();
    if (r !== lastReceived) post({ consumed: r });
    lastReceived = r;
    const now = consumed();
    if (now !== last) progressAt = performance.now();
    last = now;
  }
  const ms = performance.now() - start;
  if (last >= totalMessages) await published;
  return { ms, consumedMessages: last, complete: last >= totalMessages, published: publishedAt !== undefined };
}

/** Hub ingest from 100 sites on each store against a bare subscriber on the same stream, for each traffic shape. */
export async function benchIngest(): Promise<string[]> {
  const mosquitto = await benchMosquitto();
  const embedded = mosquitto ? undefined : await startBroker({ port: 0, log: silent });
  const url = mosquitto?.url ?? `mqtt://127.0.0.1:${embedded?.port ?? 0}`;
  const pgMissing = await benchPostgresMissing();
  const lines = [
    `### Hub ingest: ${SITES} sites → one subscriber`,
    `broker: ${mosquitto?.label ?? `embedded Aedes on port ${embedded?.port ?? '?'} (no mosquitto program, and none on 127.0.0.1:1883)`}`,
    `stream (the same for every consumer, one after the other, after an unreported warm-up): ${SITES} mqtt.js publisher clients (one per site, in a worker thread), QoS 1, each publish awaited; at most ${WINDOW} messages published and not yet consumed`,
    `floor: a bare mqtt.js subscriber that parses each batch and checks it with the shared EventBatch schema, storing nothing (what any ingest must do at least); the hub on each store: a fresh database, group commit, projections, acks; \`/health\` asked every ${HEALTH_EVERY_MS} ms during each hub run (latency from the same process: the hub's event loop delay shows in it)`,
    ...(pgMissing ? [`PostgreSQL runs skipped: ${pgMissing}`] : []),
  ];
  try {
    for (const profile of PROFILES)
      lines.push(
        '',
        ...(await benchProfile(url, profile.name, profile.sizes, Math.round(profile.events * SCALE), !pgMissing)),
      );
  } finally {
    await embedded?.close();
    await mosquitto?.stop();
  }
  return lines;
}

/** /health is asked this often during each hub run. */
const HEALTH_EVERY_MS = 10;

interface StoreRun {
  label: string;
  key: 'sqlite' | 'pg' | 'pg1ms';
  phase: PhaseResult;
  healthP99Ms: number;
  healthMaxMs: number;
  check: string;
}

/** The hub's stores, each on a fresh database: SQLite in a file, PostgreSQL on loopback and behind 1 ms more round trip. */
function storeTargets(dir: string, withPg: boolean) {
  const targets: Array<{
    key: StoreRun['key'];
    label: string;
    open: () => Promise<{ dbPath: string; close: () => Promise<void> }>;
  }> = [
    {
      key: 'sqlite',
      label: 'hub on SQLite (file, WAL)',
      open: async () => ({ dbPath: join(dir, `hub-${randomUUID().slice(0, 8)}.db`), close: async () => undefined }),
    },
  ];
  if (!withPg) return targets;
  targets.push(
    {
      key: 'pg',
      label: 'hub on PostgreSQL (loopback)',
      open: async () => {
        const schema = await benchSchema();
        return { dbPath: schema.url, close: schema.drop };
      },
    },
    {
      key: 'pg1ms',
      label: 'hub on PostgreSQL behind a proxy adding 1 ms of round trip',
      open: async () => {
        const target = new URL(BENCH_PG_URL);
        const proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, { latencyMs: 1 });
        const schema = await benchSchema();
        const via = new URL(schema.url);
        via.host = `127.0.0.1:${proxy.port}`;
        return {
          dbPath: via.toString(),
          close: async () => {
            await proxy.close();
            await schema.drop();
          },
        };
      },
    },
  );
  return targets;
}

async function benchProfile(
  url: string,
  name: string,
  sizes: number[],
  events: number,
  withPg: boolean,
): Promise<string[]> {
  const run = randomUUID();
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
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-sync-'));
  const cfg: PublisherConfig = { url, sites, batchesPerSite, eventsPerBatch: sizes, window: WINDOW };
  const worker = new Worker(new URL('./sync-publishers.js', import.meta.url), { workerData: cfg });
  const floor: PhaseResult[] = [];
  let counting: PhaseResult | undefined;
  const hubs: StoreRun[] = [];
  try {
    await nextFromWorker(worker, (m): m is { ready: true } => 'ready' in m, 60_000, 'ready');
    // A clean-session QoS 1 subscriber; with `decode`, each batch parsed and schema-checked: the floor.
    const bareRun = async (decode: boolean): Promise<PhaseResult> => {
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
    // A warm-up, then the baselines before the hubs. On a Mosquitto with its default queue of
    // 1,000 messages a client, the bare subscribers lost messages in some runs: mosquitto.ts says
    // why, and the bench's own Mosquitto has a larger queue.
    await bareRun(true);
    floor.push(await bareRun(true));
    floor.push(await bareRun(true));
    counting = await bareRun(false);
    for (const target of storeTargets(dir, withPg))
      hubs.push(await hubRun(url, worker, target, `bench/${run}/${target.key}/v1`, sites, totalMessages, totalEvents));
  } finally {
    worker.postMessage({ close: true } satisfies ToWorker);
    await nextFromWorker(worker, (m): m is { closed: true } => 'closed' in m, 5000, 'close').catch(() => undefined);
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  return report(name, totalEvents, totalMessages, { hubs, floor, counting });
}

/** One hub on one store: started on a fresh database, fed the stream, /health asked meanwhile, checked, stopped. */
async function hubRun(
  url: string,
  worker: Worker,
  target: ReturnType<typeof storeTargets>[number],
  prefix: string,
  sites: string[],
  totalMessages: number,
  totalEvents: number,
): Promise<StoreRun> {
  const clientId = `bench-hub-${randomUUID().slice(0, 8)}`;
  const db = await target.open();
  let hub: Hub | undefined;
  try {
    hub = await createHub({
      dbPath: db.dbPath,
      clock: systemClock,
      log: silent,
      mqttUrl: url,
      topicPrefix: prefix,
      clientId,
      apiPort: 0,
      privateKeyPem: generateHubKeys().privateKeyPem,
    });
    const { apiUrl } = await hub.start();
    const h = hub;
    const latencies: number[] = [];
    let running = true;
    const prober = (async () => {
      while (running) {
        const t0 = performance.now();
        await fetch(`${apiUrl}/health`).then((r) => r.arrayBuffer());
        latencies.push(performance.now() - t0);
        await sleep(HEALTH_EVERY_MS);
      }
    })();
    // Complete once every batch is committed; the window follows what the hub took off the broker.
    const phase = await runPhase(
      worker,
      prefix,
      totalMessages,
      () => h.ingest.counters.batches,
      () => h.ingest.counters.received,
    );
    running = false;
    await prober;
    let stored = 0;
    for (const s of sites) stored += (await h.store.progress(s))?.contiguous ?? 0;
    const c = h.ingest.counters;
    latencies.sort((a, b) => a - b);
    return {
      label: target.label,
      key: target.key,
      phase,
      healthP99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? NaN,
      healthMaxMs: latencies[latencies.length - 1] ?? NaN,
      check: `${target.label}: ${fmtInt(stored)} of ${fmtInt(totalEvents)} events stored contiguously; duplicates ${c.duplicates}, rejected ${c.rejected}, store errors ${c.storeErrors}, acks published ${fmtInt(c.acksPublished)}; /health asked ${latencies.length} times`,
    };
  } finally {
    await hub?.stop();
    await cleanBroker(url, clientId, prefix, sites).catch(() => undefined);
    await db.close();
  }
}

function report(
  name: string,
  totalEvents: number,
  totalMessages: number,
  r: { hubs: StoreRun[]; floor: PhaseResult[]; counting: PhaseResult | undefined },
): string[] {
  const eventsPerMessage = totalEvents / totalMessages;
  const rate = (p: PhaseResult) => p.consumedMessages / (p.ms / 1000);
  const floorRate = r.floor.reduce((s, p) => s + rate(p), 0) / r.floor.length;
  const floorComplete = r.floor.every((p) => p.complete);
  const consumed = (p: PhaseResult) =>
    p.complete ? 'all' : `**${fmtInt(p.consumedMessages)} (${p.published ? 'the rest lost' : 'timed out'})**`;
  const row = (label: string, p: PhaseResult, health = '') =>
    `| ${label} | ${fmtInt(rate(p))} | ${fmtInt(rate(p) * eventsPerMessage)} | ${(p.ms / 1000).toFixed(2)} s | ${consumed(p)} | ${health} |`;
  const baselines = [...r.floor, ...(r.counting ? [r.counting] : [])];
  const shortfalls = baselines.flatMap((p) => baselineShortfall(p, totalMessages) ?? []);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const sqlite = r.hubs.find((h) => h.key === 'sqlite');
  const pg1 = r.hubs.find((h) => h.key === 'pg1ms');
  // A run that timed out measured the stall, not the consumer: no ratio from it.
  const ratio = (h: StoreRun | undefined, base: number, baseComplete: boolean) =>
    h && h.phase.complete && baseComplete ? rate(h.phase) / base : undefined;
  const goal = (label: string, value: number | undefined, min: number) =>
    `| **${label}** | **${value === undefined ? 'not measured: a run timed out or was skipped' : pct(value, 1)}** | | | goal ≥ ${min * 100} %: ${value === undefined ? 'unknown' : value >= min ? 'met' : 'NOT met'} | |`;
  const sqliteRatio = ratio(sqlite, floorRate, floorComplete);
  const pgRatio = sqlite ? ratio(pg1, rate(sqlite.phase), sqlite.phase.complete) : undefined;
  const slowest = r.hubs.reduce((m, h) => Math.max(m, h.healthP99Ms), 0);
  return [
    `#### ${name}: ${fmtInt(totalMessages)} messages, ${fmtInt(totalEvents)} events`,
    '',
    '| consumer | messages/s | events/s | time | consumed | /health p99 (max) |',
    '|---|---|---|---|---|---|',
    ...r.hubs.map((h) => row(h.label, h.phase, `${ms(h.healthP99Ms)} (${ms(h.healthMaxMs)})`)),
    ...r.floor.map((p, i) =>
      row(`floor: bare subscriber + JSON.parse + EventBatch check, no storage (run ${i + 1} of ${r.floor.length})`, p),
    ),
    ...(r.counting ? [row('reference: bare subscriber counting messages, nothing parsed', r.counting)] : []),
    goal('hub on SQLite / floor (mean of the floor runs)', sqliteRatio, 0.7),
    ...(pg1 ? [goal('hub on PostgreSQL + 1 ms / hub on SQLite', pgRatio, 0.5)] : []),
    `| **/health p99 during ingest, slowest store** | **${ms(slowest)}** | | | goal < 50 ms: ${r.hubs.length > 0 && slowest < 50 ? 'met' : 'NOT met'} | |`,
    '',
    ...shortfalls.map((why) => failedMeasurement(`sync: ${name}`, why)),
    ...r.hubs.map((h) => h.check),
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
