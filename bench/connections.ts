import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { openHubDatabase } from '../cloud-sync/hub/db.js';
import { BrokerIdentities, type BrokerLogin } from '../cloud-sync/hub/broker-identities.js';
import { statusOf } from '../tests/harness/hub-fixtures.js';
import { sleep } from '../tests/support/sleep.js';
import { failedMeasurement } from './failures.js';
import { health, startHubProcess, stopHubProcess } from './hub-process.js';
import { fmtInt } from './ingest.js';
import { vmRssMb } from './process-memory.js';

/**
 * CONNECTING_SITES simulated sites connecting at once: to the bare embedded broker, to a hub
 * whose broker is open, and to a hub that admits each site with its own broker identity (the
 * default of `tessera hub`): the time until every site is connected, subscribed and has sent its
 * status, until the hub has recorded every status, and the broker process's CPU time and memory.
 */
const CONNECTING_SITES = Number(process.env.BENCH_SCALE_CONNECT ?? 1000);
/** Liveness bound (not a performance threshold). */
const CONNECT_TIMEOUT_MS = 120_000;
const HEADING = `### Sites connecting at once: ${CONNECTING_SITES} simulated sites to one hub`;

const siteIds = () => Array.from({ length: CONNECTING_SITES }, (_, i) => `c${i.toString().padStart(4, '0')}`);

/** A site as it connects: its last will, its retained status, its subscriptions (ack, directory, commands). */
async function connectSite(url: string, prefix: string, site: string, login?: BrokerLogin): Promise<MqttClient> {
  const t = (leaf: string) => `${prefix}/sites/${site}/${leaf}`;
  const status = (online: boolean) => JSON.stringify(statusOf(site, { online }));
  const client = await mqtt.connectAsync(url, {
    clientId: login?.clientId ?? `bench-site-${site}`,
    ...(login ? { username: login.username, password: login.password } : {}),
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

/** Every site connecting at once to the broker at `mqttUrl`, whose process is `pid`. */
async function connectAll(
  mqttUrl: string,
  prefix: string,
  pid: number,
  known: () => Promise<number>,
  logins?: ReadonlyMap<string, BrokerLogin>,
): Promise<Connecting> {
  const clients: MqttClient[] = [];
  try {
    await sleep(500);
    const rssBeforeKb = vmRssMb(pid) * 1024;
    const cpuBeforeMs = cpuMs(pid);
    const t0 = performance.now();
    const connected = await Promise.allSettled(
      siteIds().map((site) => connectSite(mqttUrl, prefix, site, logins?.get(site))),
    );
    for (const c of connected) if (c.status === 'fulfilled') clients.push(c.value);
    const connectMs = performance.now() - t0;
    while ((await known()) < clients.length && performance.now() - t0 < CONNECT_TIMEOUT_MS) await sleep(20);
    const knownMs = performance.now() - t0;
    const cpu = cpuMs(pid) - cpuBeforeMs;
    await sleep(1000);
    return { connected: clients.length, connectMs, knownMs, rssBeforeKb, rssAfterKb: vmRssMb(pid) * 1024, cpuMs: cpu };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

async function bareBroker(prefix: string): Promise<Connecting> {
  const child = spawn(process.execPath, ['dist/bench/bare-broker.js'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        const m = /port (\d+)/.exec(c.toString());
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error('the bare broker exited')));
    });
    return await connectAll(`mqtt://127.0.0.1:${port}`, prefix, child.pid ?? 0, () =>
      Promise.resolve(CONNECTING_SITES),
    );
  } finally {
    child.kill('SIGTERM');
  }
}

/** Each site's broker identity, made in the hub's database before the hub starts (as `tessera site provision` does). */
async function provisionSites(dbPath: string): Promise<Map<string, BrokerLogin>> {
  const db = await openHubDatabase(dbPath);
  try {
    const identities = new BrokerIdentities(db, () => Date.now());
    const logins = new Map<string, BrokerLogin>();
    for (const site of siteIds()) logins.set(site, await identities.provision(site));
    return logins;
  } finally {
    await db.close();
  }
}

/** The sites connecting to a hub on a fresh SQLite file: its broker open, or each site with its own identity. */
async function hubRun(dir: string, prefix: string, withIdentities: boolean): Promise<Connecting> {
  const dbPath = join(dir, `connect-${randomUUID().slice(0, 8)}.db`);
  const logins = withIdentities ? await provisionSites(dbPath) : undefined;
  const hub = await startHubProcess([
    ...['--db', dbPath, '--key', join(dir, 'hub.key'), '--broker-port', '0', '--topic-prefix', prefix],
    ...(withIdentities ? [] : ['--open-broker']),
  ]);
  try {
    const [, mqttUrl] =
      /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+)/.exec(hub.child.output.stdout + hub.child.output.stderr) ?? [];
    const known = async () => (await health(hub.apiUrl)).sites;
    return await connectAll(mqttUrl ?? '', prefix, hub.child.pid ?? 0, known, logins);
  } finally {
    await stopHubProcess(hub);
  }
}

export async function benchConnections(dir: string): Promise<string[]> {
  const prefix = `bench/${randomUUID()}/v1`;
  const bare = await bareBroker(prefix);
  const open = await hubRun(dir, prefix, false);
  const identified = await hubRun(dir, prefix, true);
  const perSiteKb = (c: Connecting) => (c.rssAfterKb - c.rssBeforeKb) / Math.max(1, c.connected);
  const row = (label: string, c: Connecting, known: string) =>
    `| ${label} | ${fmtInt(c.connected)} | ${(c.connectMs / 1000).toFixed(2)} s | ${known} | ${(c.cpuMs / 1000).toFixed(2)} s | ${fmtInt(c.rssBeforeKb / 1024)} → ${fmtInt(c.rssAfterKb / 1024)} MB | ${fmtInt(perSiteKb(c))} KB |`;
  const hubRow = (label: string, c: Connecting) => row(label, c, `${(c.knownMs / 1000).toFixed(2)} s`);
  // A few sites (the smoke test's) may cost the bare broker less than a clock tick of CPU, or no page.
  const times = (ours: number, base: number) => (base > 0 ? `${(ours / base).toFixed(1)}×` : 'not measurable');
  const ratio = (label: string, c: Connecting) =>
    `| ratio ${label} / baseline | ${c.connected < CONNECTING_SITES ? '**not every site connected**' : ''} | ${times(c.connectMs, bare.connectMs)} | | ${times(c.cpuMs, bare.cpuMs)} | | ${times(perSiteKb(c), perSiteKb(bare))} |`;
  return [
    HEADING,
    "each site: a connection with its last will, 3 subscriptions (ack, directory, commands), its retained status; all on this machine (loopback); CPU and memory: of the broker's process (CPU time from the first connect until every status is recorded, user + system)",
    '',
    '| consumer | sites connected | all connected, subscribed, status sent | every status recorded (GET /health) | CPU time | RSS before → after | memory per site |',
    '|---|---|---|---|---|---|---|',
    hubRow('hub, open broker (embedded broker, SQLite, ingest, API)', open),
    hubRow('hub, each site its own broker identity (login, client id, topic rights)', identified),
    row('baseline: the same Aedes broker alone, in its own process', bare, ''),
    ...(bare.connected < CONNECTING_SITES
      ? [
          failedMeasurement(
            'scale: sites connecting at once',
            `only ${fmtInt(bare.connected)} of ${fmtInt(CONNECTING_SITES)} sites connected to the bare broker`,
          ),
        ]
      : [ratio('hub, open', open), ratio('hub, identities', identified)]),
  ];
}
