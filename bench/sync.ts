import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import pino from 'pino';
import { startBroker, type EmbeddedBroker } from '../cloud-sync/broker/embedded.js';
import { createSyncWorker, type SyncWorker } from '../cloud-sync/edge/sync-worker.js';
import { createHub, type Hub } from '../cloud-sync/hub/hub.js';
import { runEdge, type RunningEdge } from '../edge/site/run.js';
import { EdgeStore } from '../edge/store/store.js';
import { systemClock } from '../shared/clock.js';
import { generateHubKeys } from '../shared/signing.js';
import { EventBatch } from '../shared/sync.js';
import { DEFAULT_TOPIC_PREFIX } from '../shared/topics.js';
import { networkSiteYaml } from '../tests/fixtures/site-yaml.js';
import { loginOver, TEST_ADMIN, type AuthHeaders } from '../tests/harness/hub-auth.js';
import { fmtMs, percentile } from './stats.js';
import type { FromWorker, PublisherConfig, ToWorker } from './sync-publishers.js';

const SITES = Number(process.env.BENCH_SYNC_SITES ?? 100);
const EVENTS_PER_BATCH = 100;
const TOTAL_EVENTS = Number(process.env.BENCH_SYNC_EVENTS ?? 200_000);
/** Messages published and not yet consumed, at most: well under Mosquitto's 1,000 queued (MQTT.md). */
const WINDOW = 300;
const REVOCATIONS = Number(process.env.BENCH_SYNC_REVOCATIONS ?? 30);
const BACKLOG = Number(process.env.BENCH_SYNC_BACKLOG ?? 50_000);
/** Liveness bounds of each loop (not performance thresholds). */
const PHASE_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 5_000;
const MOSQUITTO = { host: '127.0.0.1', port: 1883 };

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmtInt = (n: number) => Math.round(n).toLocaleString('en');
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

/** Cloud sync: hub ingest against a bare subscriber, revocation latency, backlog drain. */
export async function benchSync(): Promise<string[]> {
  const cpu = cpus();
  const lines = ['## Cloud sync', `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; loopback only`, ''];
  lines.push(...(await benchIngest()), '', ...(await benchRevocation()), '', ...(await benchDrain()));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// 1. Hub ingest from 100 sites, against a bare mqtt.js subscriber on the same stream.

/** A TCP connect to Mosquitto, then a real MQTT CONNECT; false if either fails within `ms`. */
async function mosquittoReachable(ms = 1000): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const s = tcpConnect(MOSQUITTO);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
  if (!tcp) return false;
  const client = mqtt.connect(`mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`, { clientId: `bench-probe-${randomUUID().slice(0, 8)}`, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: ms });
  const ok = await new Promise<boolean>((resolve) => {
    client.once('connect', () => resolve(true));
    client.once('error', () => resolve(false));
    client.once('close', () => resolve(false));
  });
  await client.endAsync(true);
  return ok;
}

function nextFromWorker<T extends FromWorker>(worker: Worker, pick: (m: FromWorker) => m is T, ms: number, what: string): Promise<T> {
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

interface PhaseResult {
  ms: number;
  consumedMessages: number;
  complete: boolean;
}

/**
 * Lets the publishers go on `prefix` and polls `consumed()` (messages) every 2 ms, passing it to
 * the publishers' window, until every message is consumed or the phase times out.
 */
async function runPhase(worker: Worker, prefix: string, totalMessages: number, consumed: () => number): Promise<PhaseResult> {
  const post = (m: ToWorker) => worker.postMessage(m);
  const published = nextFromWorker(worker, (m): m is Extract<FromWorker, { published: number }> => 'published' in m, PHASE_TIMEOUT_MS + 5000, 'end of publishing');
  published.catch(() => undefined); // awaited below, unless the phase timed out first
  const start = performance.now();
  post({ go: prefix });
  let last = 0;
  while (last < totalMessages && performance.now() - start < PHASE_TIMEOUT_MS) {
    await sleep(2);
    const c = consumed();
    if (c !== last) post({ consumed: c });
    last = c;
  }
  const ms = performance.now() - start;
  if (last >= totalMessages) await published;
  return { ms, consumedMessages: last, complete: last >= totalMessages };
}

async function benchIngest(): Promise<string[]> {
  const onMosquitto = await mosquittoReachable();
  let embedded: EmbeddedBroker | undefined;
  let url = `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`;
  if (!onMosquitto) {
    embedded = await startBroker({ port: 0, log: silent });
    url = `mqtt://127.0.0.1:${embedded.port}`;
  }
  const run = randomUUID();
  const hubPrefix = `bench/${run}/v1`;
  const barePrefix = `bench/${run}/bare/v1`;
  const sites = Array.from({ length: SITES }, (_, i) => `s${i.toString().padStart(3, '0')}`);
  const batchesPerSite = Math.max(1, Math.round(TOTAL_EVENTS / SITES / EVENTS_PER_BATCH));
  const totalMessages = SITES * batchesPerSite;
  const totalEvents = totalMessages * EVENTS_PER_BATCH;
  const hubClientId = `bench-hub-${run.slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-sync-'));
  const cfg: PublisherConfig = { url, sites, batchesPerSite, eventsPerBatch: EVENTS_PER_BATCH, window: WINDOW };
  const worker = new Worker(new URL('./sync-publishers.js', import.meta.url), { workerData: cfg });
  let hub: Hub | undefined;
  const bare: PhaseResult[] = [];
  let ours: PhaseResult | undefined;
  let decoded: PhaseResult | undefined;
  let hubCheck = '';
  try {
    await nextFromWorker(worker, (m): m is { ready: true } => 'ready' in m, 60_000, 'ready');

    // (b) the baseline: a clean-session QoS 1 subscriber that only counts messages. With
    // `decode`, it also parses and schema-checks each batch: a reference row, not the baseline.
    const bareRun = async (decode = false): Promise<PhaseResult> => {
      let messages = 0;
      const sub = await mqtt.connectAsync(url, { clientId: `bench-bare-${randomUUID().slice(0, 8)}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
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
    // A warm-up run (not reported), then the baseline before and after ours.
    await bareRun();
    bare.push(await bareRun());
    decoded = await bareRun(true);

    // (a) the real hub ingest: schema check, SQLite commit before PUBACK, acks.
    hub = createHub({ dbPath: join(dir, 'hub.db'), clock: systemClock, log: silent, mqttUrl: url, topicPrefix: hubPrefix, clientId: hubClientId, apiPort: 0, privateKeyPem: generateHubKeys().privateKeyPem });
    await hub.start();
    const h = hub;
    ours = await runPhase(worker, hubPrefix, totalMessages, () => Math.floor(h.ingest.counters.applied / EVENTS_PER_BATCH));
    const stored = sites.reduce((n, s) => n + (h.store.progress(s)?.contiguous ?? 0), 0);
    const c = h.ingest.counters;
    hubCheck = `hub check: ${fmtInt(stored)} of ${fmtInt(totalEvents)} events stored contiguously; duplicates ${c.duplicates}, rejected ${c.rejected}, store errors ${c.storeErrors}, acks published ${fmtInt(c.acksPublished)}`;

    bare.push(await bareRun());
  } finally {
    await hub?.stop();
    await cleanBroker(url, hubClientId, hubPrefix, sites).catch(() => undefined);
    worker.postMessage({ close: true } satisfies ToWorker);
    await nextFromWorker(worker, (m): m is { closed: true } => 'closed' in m, 5000, 'close').catch(() => undefined);
    await worker.terminate();
    await embedded?.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const rate = (r: PhaseResult) => (r.consumedMessages * EVENTS_PER_BATCH) / (r.ms / 1000);
  const bareRate = bare.reduce((s, r) => s + rate(r), 0) / bare.length;
  const ourRate = ours ? rate(ours) : NaN;
  const row = (name: string, r: PhaseResult) =>
    `| ${name} | ${fmtInt(rate(r))} | ${fmtInt(rate(r) / EVENTS_PER_BATCH)} | ${(r.ms / 1000).toFixed(2)} s | ${r.complete ? 'all' : `**${fmtInt(r.consumedMessages * EVENTS_PER_BATCH)} (timed out)**`} |`;
  return [
    `### Hub ingest: ${SITES} sites → one subscriber, ${fmtInt(totalEvents)} events`,
    `broker: ${onMosquitto ? `Mosquitto at ${MOSQUITTO.host}:${MOSQUITTO.port}` : `embedded Aedes on port ${embedded?.port ?? '?'} (Mosquitto at ${MOSQUITTO.host}:${MOSQUITTO.port} unreachable)`}`,
    `stream (the same for every consumer, one after the other in this run, after an unreported warm-up): ${SITES} mqtt.js publisher clients (one per site, in a worker thread), ${batchesPerSite} EventBatch messages of ${EVENTS_PER_BATCH} events each, QoS 1, each publish awaited; at most ${WINDOW} messages published and not yet consumed`,
    '',
    '| consumer | events/s | messages/s | time | consumed |',
    '|---|---|---|---|---|',
    ...(ours ? [row('hub ingest (validate, commit, ack)', ours)] : []),
    ...bare.map((r, i) => row(`baseline: bare mqtt.js subscriber, counting (run ${i + 1} of ${bare.length}, ${i === 0 ? 'before' : 'after'} the hub)`, r)),
    ...(decoded ? [row('reference: bare subscriber + JSON.parse + EventBatch schema check, no storage', decoded)] : []),
    `| **ratio hub / baseline (mean of the baseline runs)** | **${pct(ourRate, bareRate)}** | | | goal ≥ 70 %: ${ourRate / bareRate >= 0.7 ? 'met' : 'NOT met'} |`,
    '',
    hubCheck,
  ];
}

/** Clears what the run left on the broker: the hub's retained acks and its persistent session. */
async function cleanBroker(url: string, hubClientId: string, prefix: string, sites: string[]): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: hubClientId, clean: true, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 });
  try {
    await Promise.all(sites.map((s) => c.publishAsync(`${prefix}/sites/${s}/ack`, '', { qos: 1, retain: true })));
  } finally {
    await c.endAsync();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Revocation latency: revoked at the hub API → refused at a site's door.

const UID = '04B0B0B0B0B0B0';

async function call(method: string, url: string, body?: unknown, auth?: AuthHeaders): Promise<Record<string, unknown>> {
  const headers = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: auth.authorization } : {}) };
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Polls `check` every `everyMs` until it holds; returns the ms since `since`, or throws after the bound. */
async function until(check: () => Promise<boolean>, what: string, since = performance.now(), everyMs = 3): Promise<number> {
  while (!(await check())) {
    if (performance.now() - since > STEP_TIMEOUT_MS) throw new Error(`not within ${STEP_TIMEOUT_MS} ms: ${what}`);
    await sleep(everyMs);
  }
  return performance.now() - since;
}


async function benchRevocation(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-revoke-'));
  const hub = createHub({ dbPath: join(dir, 'hub.db'), clock: systemClock, log: silent, brokerPort: 0, apiPort: 0, privateKeyPem: generateHubKeys().privateKeyPem, initialAdmin: TEST_ADMIN });
  let site: RunningEdge | undefined;
  const samples: number[] = [];
  const reinstated: number[] = [];
  try {
    const { mqttUrl, apiUrl } = await hub.start();
    const auth = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
    const config = join(dir, 'site.yaml');
    writeFileSync(config, networkSiteYaml({ id: 'bench', mqttUrl, hubPublicKeyPem: hub.publicKeyPem }));
    site = await runEdge({ configPath: config, simulate: true, log: silent, storagePath: join(dir, 'edge.db') });
    const siteUrl = site.url;
    const tap = async (reader: string) => (await call('POST', `${siteUrl}/simulate/tap`, { reader, uid: UID })) as { granted: boolean; reason: string };
    await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth);
    await call('PUT', `${apiUrl}/directory/members/bench`, { name: 'Bench Member', plan: 'always' }, auth);
    for (let i = 0; i < REVOCATIONS; i++) {
      const t0 = performance.now();
      await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'bench', status: 'active' }, auth);
      reinstated.push(await until(async () => (await tap('front-in')).granted, 'the badge opens the site', t0));
      await tap('front-out'); // back outside, so the next entry is no anti-passback case
      await sleep(20);
      const t1 = performance.now();
      await call('POST', `${apiUrl}/directory/badges/${UID}/revoke`, undefined, auth);
      samples.push(await until(async () => (await tap('front-in')).reason === 'badge_revoked', 'the revocation reaches the site', t1));
    }
  } finally {
    await site?.stop();
    // Let the site's last events and offline status land: a message that reaches the hub while
    // it disconnects can arm an ack timer that fires on the closed database (see the report).
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const sortedIn = [...reinstated].sort((a, b) => a - b);
  const p95 = percentile(sorted, 95);
  return [
    `### Revocation latency (${samples.length} revocations, hub API → site refuses the badge)`,
    'broker: embedded Aedes (the hub default), hub and site in this process; a tap polled every 3 ms through the site API (POST /simulate/tap)',
    '',
    '| change | p50 | p95 | max |',
    '|---|---|---|---|',
    `| revoke (POST /directory/badges/:uid/revoke) → tap refused with badge_revoked | ${fmtMs(percentile(sorted, 50))} | ${fmtMs(p95)} | ${fmtMs(sorted.at(-1) ?? NaN)} |`,
    `| reinstate (PUT /directory/badges/:uid) → tap granted | ${fmtMs(percentile(sortedIn, 50))} | ${fmtMs(percentile(sortedIn, 95))} | ${fmtMs(sortedIn.at(-1) ?? NaN)} |`,
    '',
    `goal p95 < 1 s: ${p95 < 1000 ? 'met' : 'NOT met'} (${pct(p95, 1000)} of the budget)`,
  ];
}

// ---------------------------------------------------------------------------------------------
// 3. Drain of a backlog stored while the hub was unreachable.

async function benchDrain(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-drain-'));
  const store = EdgeStore.open(join(dir, 'edge.db'), 'drain', 'Europe/Paris');
  let hub: Hub | undefined;
  let worker: SyncWorker | undefined;
  let drainMs = NaN;
  let acked = 0;
  let lastSeq = 0;
  let hubHeld = 0;
  let counters = '';
  try {
    const now = Date.now();
    const t0 = performance.now();
    store.transaction(() => {
      for (let i = 0; i < BACKLOG; i++) store.events.append({ type: 'door.forced', data: { door: 'front' } }, now);
    });
    const appendMs = performance.now() - t0;
    lastSeq = store.events.lastSeq();
    hub = createHub({ dbPath: join(dir, 'hub.db'), clock: systemClock, log: silent, brokerPort: 0, apiPort: 0, privateKeyPem: generateHubKeys().privateKeyPem });
    const { mqttUrl } = await hub.start();
    worker = createSyncWorker({
      site: 'drain',
      broker: { url: mqttUrl, topicPrefix: DEFAULT_TOPIC_PREFIX, batchSize: 100, window: 10, ackTimeoutSeconds: 15, heartbeatSeconds: 30 },
      store,
      clock: systemClock,
      log: silent,
      version: 'bench',
      clockSynced: () => true,
    });
    const start = performance.now();
    worker.start();
    while (store.events.ackedSeq() < lastSeq && performance.now() - start < PHASE_TIMEOUT_MS) await sleep(5);
    acked = store.events.ackedSeq();
    if (acked >= lastSeq) drainMs = performance.now() - start;
    hubHeld = hub.store.progress('drain')?.contiguous ?? 0;
    const s = worker.state().counters;
    counters = `appending the backlog took ${fmtMs(appendMs)}; sync worker defaults (batch 100, window 10); batches sent ${fmtInt(s.batchesSent)}, events sent ${fmtInt(s.eventsSent)}, rewinds ${s.rewinds}, max in flight ${s.maxInFlight}`;
  } finally {
    await worker?.stop();
    await hub?.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    `### Backlog drain (${fmtInt(BACKLOG)} events stored while no broker was up)`,
    'broker: embedded Aedes (the hub default); timed from the sync worker start until the site records the hub ack of its last seq',
    '',
    '| drain | time | events/s | acked at the site | held at the hub |',
    '|---|---|---|---|---|',
    `| sync worker → hub ingest → ack | ${Number.isNaN(drainMs) ? `**not within ${PHASE_TIMEOUT_MS / 1000} s**` : `${(drainMs / 1000).toFixed(2)} s`} | ${Number.isNaN(drainMs) ? '–' : fmtInt(lastSeq / (drainMs / 1000))} | ${fmtInt(acked)} of ${fmtInt(lastSeq)} | ${fmtInt(hubHeld)} |`,
    '',
    `goal < 10 s: ${drainMs < 10_000 ? 'met' : 'NOT met'}; ${counters}`,
  ];
}
