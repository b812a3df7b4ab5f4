import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncWorker, type SyncWorker } from '../cloud-sync/edge/sync-worker.js';
import { createHub, type Hub } from '../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../edge/site/run.js';
import { EdgeStore } from '../edge/store/store.js';
import { systemClock } from '../shared/platform/clock.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { DEFAULT_TOPIC_PREFIX } from '../shared/protocol/topics.js';
import { networkSiteYaml } from '../tests/fixtures/site-yaml.js';
import { loginOver, TEST_ADMIN, type AuthHeaders } from '../tests/harness/hub-auth.js';
import { benchIngest, fmtInt, pct } from './ingest.js';
import { fmtMs, percentile } from './stats.js';
import { backlogPayloads, bareDrain, bareRoundTrips, storingDrain } from './sync-baselines.js';
import { sleep } from '../tests/support/sleep.js';
import { silent } from '../tests/support/logger.js';
import { failedMeasurement } from './failures.js';

const REVOCATIONS = Number(process.env.BENCH_SYNC_REVOCATIONS ?? 30);
const BACKLOG = Number(process.env.BENCH_SYNC_BACKLOG ?? 50_000);
/** Liveness bounds of each loop (not performance thresholds). */
const PHASE_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 5_000;

/** Cloud sync: hub ingest against a bare subscriber, revocation latency, backlog drain. */
export async function benchSync(): Promise<string[]> {
  const cpu = cpus();
  const lines = [
    '## Cloud sync',
    `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; loopback only`,
    '',
  ];
  lines.push(...(await benchIngest()), '', ...(await benchRevocation()), '', ...(await benchDrain()));
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Revocation latency: revoked at the hub API → refused at a site's door.

const UID = '04B0B0B0B0B0B0';

async function call(method: string, url: string, body?: unknown, auth?: AuthHeaders): Promise<Record<string, unknown>> {
  const headers = {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(auth ? { authorization: auth.authorization } : {}),
  };
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Polls `check` every `everyMs` until it holds; returns the ms since `since`, or throws after the bound. */
async function until(
  check: () => Promise<boolean>,
  what: string,
  since = performance.now(),
  everyMs = 3,
): Promise<number> {
  while (!(await check())) {
    if (performance.now() - since > STEP_TIMEOUT_MS) throw new Error(`not within ${STEP_TIMEOUT_MS} ms: ${what}`);
    await sleep(everyMs);
  }
  return performance.now() - since;
}

/** `count` revocations and reinstatements of one badge, each timed from the hub API call to the tap that shows it at the site. */
async function revokeAndReinstate(
  apiUrl: string,
  siteUrl: string,
  auth: AuthHeaders,
  count: number,
): Promise<{ revoked: number[]; reinstated: number[] }> {
  const tap = async (reader: string) =>
    (await call('POST', `${siteUrl}/simulate/tap`, { reader, uid: UID })) as { granted: boolean; reason: string };
  await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth);
  await call('PUT', `${apiUrl}/directory/members/bench`, { name: 'Bench Member', plan: 'always' }, auth);
  const revoked: number[] = [];
  const reinstated: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'bench', status: 'active' }, auth);
    reinstated.push(await until(async () => (await tap('front-in')).granted, 'the badge opens the site', t0));
    await tap('front-out'); // back outside, so the next entry is no anti-passback case
    await sleep(20);
    const t1 = performance.now();
    await call('POST', `${apiUrl}/directory/badges/${UID}/revoke`, undefined, auth);
    revoked.push(
      await until(
        async () => (await tap('front-in')).reason === 'badge_revoked',
        'the revocation reaches the site',
        t1,
      ),
    );
  }
  return { revoked, reinstated };
}

async function benchRevocation(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-revoke-'));
  const hub = await createHub({
    dbPath: join(dir, 'hub.db'),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
  });
  let site: RunningEdge | undefined;
  let timings: { revoked: number[]; reinstated: number[] } = { revoked: [], reinstated: [] };
  let bare: number[] = [];
  let bareFailure: string | undefined;
  try {
    const { mqttUrl, apiUrl } = await hub.start();
    const auth = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
    const config = join(dir, 'site.yaml');
    writeFileSync(config, networkSiteYaml({ id: 'bench', mqttUrl, hubPublicKeyPem: hub.publicKeyPem }));
    site = await runEdge({ configPath: config, simulate: true, log: silent, storagePath: join(dir, 'edge.db') });
    timings = await revokeAndReinstate(apiUrl, site.url, auth, REVOCATIONS);
    // The floor, on the same broker while the hub and the site are connected: one bare message through it.
    bare = await bareRoundTrips(mqttUrl, REVOCATIONS).catch((err: unknown) => {
      bareFailure = (err as Error).message;
      return [];
    });
  } finally {
    await site?.stop();
    // Let the site's last events and offline status land: a message that reaches the hub while
    // it disconnects can arm an ack timer that fires on the closed database (see the report).
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return bareFailure === undefined
    ? revocationReport(timings, bare)
    : [
        '### Revocation latency',
        failedMeasurement('sync: revocation latency', `the bare round trip baseline failed (${bareFailure})`),
      ];
}

function revocationReport(t: { revoked: number[]; reinstated: number[] }, bareMs: number[]): string[] {
  const [sorted, sortedIn, bare] = [t.revoked, t.reinstated, bareMs].map((s) => [...s].sort((a, b) => a - b)) as [
    number[],
    number[],
    number[],
  ];
  const p95 = percentile(sorted, 95);
  const row = (what: string, s: number[]) =>
    `| ${what} | ${fmtMs(percentile(s, 50))} | ${fmtMs(percentile(s, 95))} | ${fmtMs(s.at(-1) ?? NaN)} |`;
  const ratio = (p: number) => `${(percentile(sorted, p) / percentile(bare, p)).toFixed(1)}×`;
  return [
    `### Revocation latency (${sorted.length} revocations, hub API → site refuses the badge)`,
    'broker: embedded Aedes (the hub default), hub and site in this process; a tap polled every 3 ms through the site API (POST /simulate/tap)',
    '',
    '| change | p50 | p95 | max |',
    '|---|---|---|---|',
    row('revoke (POST /directory/badges/:uid/revoke) → tap refused with badge_revoked', sorted),
    row('reinstate (PUT /directory/badges/:uid) → tap granted', sortedIn),
    row(`baseline: bare mqtt.js QoS 1 publish → receive on the same broker (${bare.length} round trips)`, bare),
    `| ratio (revoke / baseline) | ${ratio(50)} | ${ratio(95)} | |`,
    '',
    `goal p95 < 50 ms: ${p95 < 50 ? 'met' : 'NOT met'} (${pct(p95, 50)} of the budget). Above the bare message: the API, the signed directory change, the site applying it, and the 3 ms tap poll.`,
  ];
}

// ---------------------------------------------------------------------------------------------
// Drain of a backlog stored while the hub was unreachable.

/** The sync worker's defaults: events per batch, batches in flight. */
const BATCH = 100;
const WINDOW = 10;

interface Drain {
  appendMs: number;
  lastSeq: number;
  /** NaN if not within the phase's bound. */
  drainMs: number;
  bareMs: number;
  /** The bare drain that reads and stores (storingDrain); NaN if not within the bound. */
  storingMs: number;
  acked: number;
  hubHeld: number;
  counters: string;
}

/** Starts the sync worker on the stored backlog; resolves once the site holds the ack of its last seq, or at the bound. */
async function drainWith(worker: SyncWorker, store: EdgeStore, lastSeq: number): Promise<number> {
  const start = performance.now();
  worker.start();
  while (store.events.ackedSeq() < lastSeq && performance.now() - start < PHASE_TIMEOUT_MS) await sleep(5);
  return store.events.ackedSeq() >= lastSeq ? performance.now() - start : NaN;
}

async function benchDrain(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-drain-'));
  const store = EdgeStore.open(join(dir, 'edge.db'), 'drain', 'Europe/Paris');
  let hub: Hub | undefined;
  let worker: SyncWorker | undefined;
  try {
    const now = Date.now();
    const t0 = performance.now();
    store.transaction(() => {
      for (let i = 0; i < BACKLOG; i++) store.events.append({ type: 'door.forced', data: { door: 'front' } }, now);
    });
    const appendMs = performance.now() - t0;
    const lastSeq = store.events.lastSeq();
    hub = await createHub({
      dbPath: join(dir, 'hub.db'),
      clock: systemClock,
      log: silent,
      brokerPort: 0,
      apiPort: 0,
      privateKeyPem: generateHubKeys().privateKeyPem,
    });
    const { mqttUrl } = await hub.start();
    // The baseline first, on the same broker: the same payloads, bare publisher to bare counting subscriber.
    const bareMs = await bareDrain(mqttUrl, backlogPayloads(store, 'drain', BATCH), WINDOW, PHASE_TIMEOUT_MS);
    const storingMs = await storingDrain(
      mqttUrl,
      { path: join(dir, 'edge.db'), site: 'drain', lastSeq },
      join(dir, 'bare-hub.db'),
      BATCH,
      WINDOW,
      PHASE_TIMEOUT_MS,
    );
    worker = createSyncWorker({
      site: 'drain',
      broker: {
        url: mqttUrl,
        topicPrefix: DEFAULT_TOPIC_PREFIX,
        batchSize: BATCH,
        window: WINDOW,
        ackTimeoutSeconds: 15,
        heartbeatSeconds: 30,
      },
      store,
      clock: systemClock,
      log: silent,
      version: 'bench',
      clockSynced: () => true,
    });
    const drainMs = await drainWith(worker, store, lastSeq);
    const s = worker.state().counters;
    const counters = `sync worker defaults (batch ${BATCH}, window ${WINDOW}); batches sent ${fmtInt(s.batchesSent)}, events sent ${fmtInt(s.eventsSent)}, rewinds ${s.rewinds}, max in flight ${s.maxInFlight}`;
    return drainReport({
      appendMs,
      lastSeq,
      drainMs,
      bareMs,
      storingMs,
      acked: store.events.ackedSeq(),
      hubHeld: (await hub.store.progress('drain'))?.contiguous ?? 0,
      counters,
    });
  } finally {
    await worker?.stop();
    await hub?.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ratioRow = (what: string, ms: number, baseMs: number) =>
  `| ratio (${what}) | ${Number.isNaN(ms) ? '**not measured: the drain did not finish**' : `${(ms / baseMs).toFixed(1)}×`} | | | |`;

function drainReport(d: Drain): string[] {
  const time = (ms: number) =>
    Number.isNaN(ms) ? `**not within ${PHASE_TIMEOUT_MS / 1000} s**` : `${(ms / 1000).toFixed(2)} s`;
  const rate = (ms: number) => (Number.isNaN(ms) ? '–' : fmtInt(d.lastSeq / (ms / 1000)));
  return [
    `### Backlog drain (${fmtInt(BACKLOG)} events stored while no broker was up)`,
    'broker: embedded Aedes (the hub default); timed from the sync worker start until the site records the hub ack of its last seq',
    '',
    '| drain | time | events/s | acked at the site | held at the hub |',
    '|---|---|---|---|---|',
    `| sync worker → hub ingest → ack | ${time(d.drainMs)} | ${rate(d.drainMs)} | ${fmtInt(d.acked)} of ${fmtInt(d.lastSeq)} | ${fmtInt(d.hubHeld)} |`,
    `| baseline: bare mqtt.js publisher → bare counting subscriber, the same ${fmtInt(Math.ceil(d.lastSeq / BATCH))} payloads, QoS 1, ${WINDOW} in flight | ${time(d.bareMs)} | ${rate(d.bareMs)} | | |`,
    `| baseline, storing: a bare publisher reading the site's SQLite file → a bare subscriber inserting each payload's events into a table like the hub's (no validation, projection, group commit or ack) | ${time(d.storingMs)} | ${rate(d.storingMs)} | | |`,
    ...(Number.isNaN(d.bareMs)
      ? [
          failedMeasurement(
            'sync: backlog drain',
            `the bare baseline did not receive its ${fmtInt(Math.ceil(d.lastSeq / BATCH))} payloads within ${PHASE_TIMEOUT_MS / 1000} s`,
          ),
        ]
      : [ratioRow('drain / baseline', d.drainMs, d.bareMs)]),
    ...(Number.isNaN(d.storingMs)
      ? [
          failedMeasurement(
            'sync: backlog drain',
            `the storing baseline did not store its ${fmtInt(d.lastSeq)} events within ${PHASE_TIMEOUT_MS / 1000} s`,
          ),
        ]
      : [
          ratioRow('drain / storing baseline', d.drainMs, d.storingMs),
          ratioRow('storing baseline / baseline', d.storingMs, d.bareMs),
        ]),
    '',
    `goals: < 10 s: ${d.drainMs < 10_000 ? 'met' : 'NOT met'}; at most 5× the baseline: ${d.drainMs / d.bareMs <= 5 ? 'met' : 'NOT met'}; appending the backlog took ${fmtMs(d.appendMs)}; ${d.counters}. The baseline reads nothing from SQLite and stores nothing: its payloads are built before the clock starts. The storing baseline reads and stores as Tessera does (rows parsed, payloads and rows written as JSON), with nothing else: its ratio to the baseline is what reading and storing alone cost, before any validation, projection or ack.`,
  ];
}
