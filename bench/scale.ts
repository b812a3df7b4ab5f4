import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import mqtt, { type MqttClient } from 'mqtt';
import { benchPostgresMissing, benchSchema } from './pg.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { statusOf } from '../tests/harness/hub-fixtures.js';
import { spawnCli, waitForOutput } from '../tests/harness/process.js';
import { fmtInt, mosquittoReachable, nextFromWorker, pct, runPhase, type PhaseResult } from './ingest.js';
import type { PublisherConfig, ToWorker } from './sync-publishers.js';
import { sleep } from '../tests/support/sleep.js';
import { baselineShortfall, failedMeasurement } from './failures.js';

/**
 * The hub at scale. Ingest through the machine's Mosquitto from 100 sites with one and with
 * two hub instances (separate processes) on PostgreSQL, each as a ratio to a bare mqtt.js
 * subscriber counting the same stream in the same run; then 1,000 simulated sites connecting
 * at once to one hub: the time until the hub has every site's status, and the hub's memory per site.
 */
const SITES = Number(process.env.BENCH_SCALE_SITES ?? 100);
const EVENTS = Number(process.env.BENCH_SCALE_EVENTS ?? 60_000);
const CONNECTING_SITES = Number(process.env.BENCH_SCALE_CONNECT ?? 1000);
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const WINDOW = 300;
/** Liveness bounds (not performance thresholds). */
const START_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 120_000;

type Proc = ReturnType<typeof spawnCli>;

const INSTANCES_HEADING = `### Ingest through Mosquitto with 1 and 2 hub instances on PostgreSQL: ${SITES} sites`;
const CONNECTING_HEADING = `### Sites connecting at once: ${CONNECTING_SITES} simulated sites to one hub`;

export async function benchScale(): Promise<string[]> {
  const lines = ['## Hub scale-out', ''];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-scale-'));
  try {
    writeFileSync(join(dir, 'hub.key'), generateHubKeys().privateKeyPem, { mode: 0o600 });
    const pgMissing =
      (await benchPostgresMissing()) ??
      ((await mosquittoReachable()) ? undefined : 'Mosquitto at 127.0.0.1:1883 unreachable');
    lines.push(
      ...(pgMissing ? [INSTANCES_HEADING, `skipped: ${pgMissing}`] : await benchInstances(dir)),
      '',
      ...(await benchConnections(dir)),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

async function startHubProcess(args: string[]): Promise<{ child: Proc; apiUrl: string }> {
  const child = spawnCli(['hub', ...args, '--api-port', '0'], {
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_INITIAL_ADMIN_PASSWORD: 'bench-admin-password',
  });
  const [, apiUrl] = await waitForOutput(child, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/, START_TIMEOUT_MS);
  return { child, apiUrl: apiUrl ?? '' };
}

/** SIGTERM, then SIGKILL past 5 s; resolves once the process is gone. */
async function stopHubProcess(p: { child: Proc }): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => 'exited'), sleep(5000)])) === 'exited') return;
  p.child.kill('SIGKILL');
  await exited;
}

type Health = { sites: number; ingest: { received: number; batches: number; storeErrors: number } };
const health = async (apiUrl: string): Promise<Health> => (await (await fetch(`${apiUrl}/health`)).json()) as Health;

/** Polls the instances' /health every 10 ms in the background: the phase's consumed and received counts. */
function pollHealth(apiUrls: string[]): { consumed: () => number; received: () => number; stop: () => Promise<void> } {
  let batches = 0;
  let received = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const all = await Promise.all(apiUrls.map(health));
      batches = all.reduce((n, h) => n + h.ingest.batches, 0);
      received = all.reduce((n, h) => n + h.ingest.received, 0);
      await sleep(10);
    }
  })();
  return {
    consumed: () => batches,
    received: () => received,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function benchInstances(dir: string): Promise<string[]> {
  const sites = Array.from({ length: SITES }, (_, i) => `s${i.toString().padStart(3, '0')}`);
  const batchesPerSite = Math.max(1, Math.round(EVENTS / SITES / 5.5));
  const totalMessages = SITES * batchesPerSite;
  const cfg: PublisherConfig = {
    url: 'mqtt://127.0.0.1:1883',
    sites,
    batchesPerSite,
    eventsPerBatch: SIZES,
    window: WINDOW,
  };
  const worker = new Worker(new URL('./sync-publishers.js', import.meta.url), { workerData: cfg });
  const results: Array<{ label: string; r: PhaseResult }> = [];
  try {
    await nextFromWorker(worker, (m): m is { ready: true } => 'ready' in m, 60_000, 'ready');
    const bare = async (label: string) => {
      const prefix = `bench/${randomUUID()}/bare/v1`;
      let messages = 0;
      const sub = await mqtt.connectAsync(cfg.url, {
        clientId: `bench-bare-${randomUUID().slice(0, 8)}`,
        clean: true,
        protocolVersion: 5,
        reconnectPeriod: 0,
      });
      try {
        sub.on('message', () => messages++);
        await sub.subscribeAsync(`$share/bare/${prefix}/sites/+/events`, { qos: 1 });
        results.push({ label, r: await runPhase(worker, prefix, totalMessages, () => messages) });
      } finally {
        await sub.endAsync();
      }
    };
    const hubs = async (label: string, instances: string[]) => {
      const prefix = `bench/${randomUUID()}/v1`;
      const db = await benchSchema();
      const started: Array<{ child: Proc; apiUrl: string }> = [];
      try {
        // One after the other: the first migrates the schema and makes the admin.
        // Instance names (so MQTT client ids) of this run only: no process of another run can take them over.
        const run = randomUUID().slice(0, 8);
        for (const name of instances)
          started.push(
            await startHubProcess([
              '--db',
              db.url,
              '--key',
              join(dir, 'hub.key'),
              '--mqtt',
              cfg.url,
              '--instance',
              `${name}-${run}`,
              '--topic-prefix',
              prefix,
            ]),
          );
        const poll = pollHealth(started.map((s) => s.apiUrl));
        try {
          results.push({ label, r: await runPhase(worker, prefix, totalMessages, poll.consumed, poll.received) });
        } finally {
          await poll.stop();
        }
      } finally {
        await Promise.all(started.map(stopHubProcess));
        await db.drop();
      }
    };
    await bare('warm-up');
    results.pop();
    await bare('baseline: bare mqtt.js subscriber (MQTT 5, shared subscription of one), counting, run 1');
    await hubs('hub, 1 instance on PostgreSQL (validate, group commit, ack)', ['a']);
    await hubs('hub, 2 instances on PostgreSQL, one $share group', ['a', 'b']);
    await bare('baseline: bare mqtt.js subscriber, counting, run 2');
  } finally {
    worker.postMessage({ close: true } satisfies ToWorker);
    await nextFromWorker(worker, (m): m is { closed: true } => 'closed' in m, 5000, 'close').catch(() => undefined);
    await worker.terminate();
  }
  return instancesReport(results, totalMessages);
}

function instancesReport(results: Array<{ label: string; r: PhaseResult }>, totalMessages: number): string[] {
  const rate = (p: PhaseResult) => p.consumedMessages / (p.ms / 1000);
  const bare = results.filter((x) => x.label.startsWith('baseline'));
  const bareRate = bare.reduce((s, x) => s + rate(x.r), 0) / bare.length;
  const complete = results.every((x) => x.r.complete);
  const shortfalls = bare.flatMap((x) => baselineShortfall(x.r, totalMessages) ?? []);
  return [
    INSTANCES_HEADING,
    `${fmtInt(totalMessages)} messages of 1 to 10 events (5.5 on average); each hub instance its own process, on one PostgreSQL database (127.0.0.1:5432), each run on a fresh schema and topic prefix; at most ${WINDOW} messages published and not yet consumed`,
    '',
    '| consumer | messages/s | events/s | time | ratio to the baseline (mean of its 2 runs) |',
    '|---|---|---|---|---|',
    ...results.map(
      ({ label, r }) =>
        `| ${label} | ${fmtInt(rate(r))} | ${fmtInt(rate(r) * 5.5)} | ${(r.ms / 1000).toFixed(2)} s${r.complete ? '' : r.published ? ' (**messages lost**)' : ' (**timed out**)'} | ${label.startsWith('baseline') ? '' : complete ? pct(rate(r), bareRate) : 'not measured'} |`,
    ),
    '',
    ...shortfalls.map((why) => failedMeasurement('scale: ingest with 1 and 2 hub instances', why)),
    'Two instances split the stream between two processes; on this 2-core machine they share the cores with Mosquitto, PostgreSQL and the 100 publishers.',
  ];
}

/** A site as it connects: its last will, its retained status, its subscriptions (ack, directory, commands). */
async function connectSite(url: string, prefix: string, site: string): Promise<MqttClient> {
  const t = (leaf: string) => `${prefix}/sites/${site}/${leaf}`;
  const status = (online: boolean) => JSON.stringify(statusOf(site, { online }));
  const client = await mqtt.connectAsync(url, {
    clientId: `bench-site-${site}`,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    will: { topic: t('status'), payload: Buffer.from(status(false)), qos: 1, retain: true },
  });
  await client.subscribeAsync([t('ack'), t('directory'), t('commands')], { qos: 1 });
  await client.publishAsync(t('status'), status(true), { qos: 1, retain: true });
  return client;
}

const rssKb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** Linux's clock ticks per second (USER_HZ), the unit of /proc/PID/stat's CPU times. */
const TICKS_PER_S = 100;

/**
 * The CPU time the process has used so far (user + system), in ms: on a shared machine the
 * wall time of a run moves with the others' load, the CPU time it cost far less.
 */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

interface Connecting {
  connected: number;
  /** Until every site is connected, subscribed and has published its status. */
  connectMs: number;
  /** Until the consumer knows every site (the hub: GET /health counts their statuses). */
  knownMs: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  /** CPU time of the broker's process from the first connect until the consumer knows every site. */
  cpuMs: number;
}

/** CONNECTING_SITES sites connecting at once to the broker at `mqttUrl`, whose process is `pid`. */
async function connectAll(
  mqttUrl: string,
  prefix: string,
  pid: number,
  known: () => Promise<number>,
): Promise<Connecting> {
  const clients: MqttClient[] = [];
  try {
    await sleep(500);
    const rssBeforeKb = rssKb(pid);
    const cpuBeforeMs = cpuMs(pid);
    const t0 = performance.now();
    const connected = await Promise.allSettled(
      Array.from({ length: CONNECTING_SITES }, (_, i) =>
        connectSite(mqttUrl, prefix, `c${i.toString().padStart(4, '0')}`),
      ),
    );
    for (const c of connected) if (c.status === 'fulfilled') clients.push(c.value);
    const connectMs = performance.now() - t0;
    while ((await known()) < clients.length && performance.now() - t0 < CONNECT_TIMEOUT_MS) await sleep(20);
    const knownMs = performance.now() - t0;
    const cpu = cpuMs(pid) - cpuBeforeMs;
    await sleep(1000);
    return { connected: clients.length, connectMs, knownMs, rssBeforeKb, rssAfterKb: rssKb(pid), cpuMs: cpu };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

async function benchConnections(dir: string): Promise<string[]> {
  const prefix = `bench/${randomUUID()}/v1`;
  const bareBroker = spawn(process.execPath, ['dist/bench/bare-broker.js'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let bare: Connecting;
  try {
    const port = await new Promise<string>((resolve, reject) => {
      bareBroker.stdout.on('data', (c: Buffer) => {
        const m = /port (\d+)/.exec(c.toString());
        if (m?.[1]) resolve(m[1]);
      });
      bareBroker.once('exit', () => reject(new Error('the bare broker exited')));
    });
    bare = await connectAll(`mqtt://127.0.0.1:${port}`, prefix, bareBroker.pid ?? 0, () =>
      Promise.resolve(CONNECTING_SITES),
    );
  } finally {
    bareBroker.kill('SIGTERM');
  }
  const hub = await startHubProcess([
    '--db',
    join(dir, 'connect.db'),
    '--key',
    join(dir, 'hub.key'),
    '--broker-port',
    '0',
    '--open-broker',
    '--topic-prefix',
    prefix,
  ]);
  let ours: Connecting;
  try {
    const [, mqttUrl] =
      /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+)/.exec(hub.child.output.stdout + hub.child.output.stderr) ?? [];
    ours = await connectAll(mqttUrl ?? '', prefix, hub.child.pid ?? 0, async () => (await health(hub.apiUrl)).sites);
  } finally {
    await stopHubProcess(hub);
  }
  const perSiteKb = (c: Connecting) => (c.rssAfterKb - c.rssBeforeKb) / Math.max(1, c.connected);
  const row = (label: string, c: Connecting, known: string) =>
    `| ${label} | ${fmtInt(c.connected)} | ${(c.connectMs / 1000).toFixed(2)} s | ${known} | ${(c.cpuMs / 1000).toFixed(2)} s | ${fmtInt(c.rssBeforeKb / 1024)} → ${fmtInt(c.rssAfterKb / 1024)} MB | ${fmtInt(perSiteKb(c))} KB |`;
  return [
    CONNECTING_HEADING,
    "each site: a connection with its last will, 3 subscriptions (ack, directory, commands), its retained status; all on this machine (loopback); CPU and memory: of the broker's process (CPU time from the first connect until every status is recorded, user + system)",
    '',
    '| consumer | sites connected | all connected, subscribed, status sent | every status recorded (GET /health) | CPU time | RSS before → after | memory per site |',
    '|---|---|---|---|---|---|---|',
    row('hub (embedded broker, SQLite, ingest, API)', ours, `${(ours.knownMs / 1000).toFixed(2)} s`),
    row('baseline: the same Aedes broker alone, in its own process', bare, ''),
    bare.connected < CONNECTING_SITES
      ? failedMeasurement(
          'scale: sites connecting at once',
          `only ${fmtInt(bare.connected)} of ${fmtInt(CONNECTING_SITES)} sites connected to the bare broker`,
        )
      : `| ratio hub / baseline | | ${(ours.connectMs / bare.connectMs).toFixed(1)}× | | ${(ours.cpuMs / bare.cpuMs).toFixed(1)}× | | ${(perSiteKb(ours) / perSiteKb(bare)).toFixed(1)}× |`,
  ];
}
