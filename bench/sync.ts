import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createSyncWorker, type SyncWorker } from '../cloud-sync/edge/sync-worker.js';
import { createHub, type Hub } from '../cloud-sync/hub/hub.js';
import { runEdge, type RunningEdge } from '../edge/site/run.js';
import { EdgeStore } from '../edge/store/store.js';
import { systemClock } from '../shared/clock.js';
import { generateHubKeys } from '../shared/signing.js';
import { DEFAULT_TOPIC_PREFIX } from '../shared/topics.js';
import { networkSiteYaml } from '../tests/fixtures/site-yaml.js';
import { loginOver, TEST_ADMIN, type AuthHeaders } from '../tests/harness/hub-auth.js';
import { benchIngest, fmtInt, pct } from './ingest.js';
import { fmtMs, percentile } from './stats.js';

const REVOCATIONS = Number(process.env.BENCH_SYNC_REVOCATIONS ?? 30);
const BACKLOG = Number(process.env.BENCH_SYNC_BACKLOG ?? 50_000);
/** Liveness bounds of each loop (not performance thresholds). */
const PHASE_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 5_000;

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Cloud sync: hub ingest against a bare subscriber, revocation latency, backlog drain. */
export async function benchSync(): Promise<string[]> {
  const cpu = cpus();
  const lines = ['## Cloud sync', `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; loopback only`, ''];
  lines.push(...(await benchIngest()), '', ...(await benchRevocation()), '', ...(await benchDrain()));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Revocation latency: revoked at the hub API → refused at a site's door.

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
// Drain of a backlog stored while the hub was unreachable.

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
