import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import type { RunningEdge } from '../../edge/site/run.js';
import { ERROR_TABLE } from '../../shared/platform/error-table.js';
import { freshPgDatabase, TEST_PG_URL } from '../harness/hub-db.js';
import { startNetworkSite, startTestHub, type StartedHub } from '../harness/network-hub.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventuallyWithin } from '../support/eventually.js';
import { pgServerBin, startPgCluster } from '../support/pg-cluster.js';
import { sleep } from '../support/sleep.js';
import { tcpProxy } from '../support/tcp-proxy.js';

/**
 * A hub on PostgreSQL whose database stalls (a proxy that stops forwarding) or restarts under
 * traffic (a private server this test starts), with a real site sending it events: the hub
 * goes on serving what needs no database, refuses what does with 503, drops no MQTT client, and
 * once the database is back stores every event once. The integration-pg project only.
 */
const bin = pgServerBin();
if (bin === undefined && process.env.CI === 'true')
  throw new Error('the hub restart test needs initdb and pg_ctl under CI (apt-get install postgresql)');
const withServerPrograms = bin === undefined ? it.skip : it;

/** Small bounds, so that the stall shows within seconds. */
const BOUNDS = { statementTimeoutMs: 1_000, connectTimeoutMs: 1_000, probeEveryMs: 200 };
const UID = '04A1A1A1A1A1A1';
const eventually = eventuallyWithin(60_000, 50);
const cleanups = cleanupsAfterEach();

/** The URL of a fresh schema of the test server, reached through `port` on loopback. */
async function throughPort(port: number): Promise<string> {
  const url = new URL(await freshPgDatabase());
  url.host = `127.0.0.1:${port}`;
  return url.toString();
}

async function send(apiUrl: string, auth: StartedHub['auth'], path: string, body: unknown): Promise<void> {
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'PUT',
    headers: { authorization: auth.authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status, await res.text()).toBe(200);
}

/** A member with a badge on a 24/7 plan, and a site that knows them. */
async function siteWithMember(started: StartedHub): Promise<RunningEdge> {
  const { hub, apiUrl, auth, mqttUrl } = started;
  await send(apiUrl, auth, '/directory/plans/always', { name: '24/7', access: 'always' });
  await send(apiUrl, auth, '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
  await send(apiUrl, auth, `/directory/badges/${UID}`, { member: 'alice' });
  const site = await startNetworkSite(cleanups, 'lyon', mqttUrl, hub.publicKeyPem);
  await eventually(() => tap(site), 'the site grants Alice, the directory having reached it');
  return site;
}

const tap = async (site: RunningEdge): Promise<boolean> => {
  const res = await fetch(`${site.url}/simulate/tap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reader: 'front-in', uid: UID }),
    signal: AbortSignal.timeout(10_000),
  });
  return ((await res.json()) as { granted: boolean }).granted;
};

const siteSeq = async (site: RunningEdge): Promise<number> =>
  ((await (await fetch(`${site.url}/health`)).json()) as { sync: { lastSeq: number } }).sync.lastSeq;

/** An MQTT client with a 1 s keepalive on the hub's embedded broker: it is dropped if the broker stops answering. */
async function keepaliveWatcher(mqttUrl: string): Promise<{ drops: () => number; end: () => Promise<void> }> {
  const client = await mqtt.connectAsync(mqttUrl, {
    clientId: `watcher-${process.pid}`,
    keepalive: 1,
    reconnectPeriod: 0,
  });
  let drops = 0;
  client.on('close', () => drops++);
  return { drops: () => drops, end: () => client.endAsync() };
}

const healthOf = async (apiUrl: string): Promise<{ status: number; body: { store?: { available?: boolean } } }> => {
  const res = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { store?: { available?: boolean } } };
};

/** Whether the hub answers /sites with `site`'s contiguous sequence equal to what the site holds. */
async function hubHasAll(started: StartedHub, site: RunningEdge): Promise<boolean> {
  const res = await fetch(`${started.apiUrl}/sites`, {
    headers: { authorization: started.auth.authorization },
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) return false;
  const lyon = ((await res.json()) as { sites: Array<{ site: string; contiguous: number }> }).sites.find(
    (s) => s.site === 'lyon',
  );
  return lyon?.contiguous === (await siteSeq(site));
}

/** Every event of `site` at the hub, once each and contiguous from 1 to what the site holds. */
async function expectEveryEventOnce(dbUrl: string, site: RunningEdge): Promise<void> {
  const last = await siteSeq(site);
  const db = await openHubDatabase(dbUrl);
  try {
    const seqs = await db.column<number>('SELECT seq FROM events WHERE site = ? ORDER BY seq', ['lyon']);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(await db.value('SELECT contiguous FROM site_progress WHERE site = ?', ['lyon'])).toBe(last);
  } finally {
    await db.close();
  }
}

describe('a hub on PostgreSQL when its database stalls or restarts', { timeout: 240_000 }, () => {
  it('stalled: /health, the dashboard files and MQTT go on, requests needing the store answer 503 with Retry-After; once it forwards again, every event is stored once', async () => {
    const target = new URL(TEST_PG_URL);
    const proxy = await tcpProxy({ host: target.hostname || '127.0.0.1', port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    const dbUrl = await throughPort(proxy.port);
    const started = await startTestHub(cleanups, { dbPath: dbUrl, postgres: BOUNDS });
    const { apiUrl, auth, mqttUrl } = started;
    const site = await siteWithMember(started);
    const watcher = await keepaliveWatcher(mqttUrl);
    cleanups.push(() => watcher.end());

    proxy.pause();
    // The site goes on deciding alone; its events wait, unacknowledged.
    for (let i = 0; i < 3; i++) expect(await tap(site)).toBe(true);
    await eventually(async () => {
      const health = await healthOf(apiUrl);
      return health.status === 200 && health.body.store?.available === false;
    }, '/health shows the store unavailable');
    const health = await fetch(`${apiUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ store: { available: false } });
    const page = await fetch(`${apiUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const refused = await fetch(`${apiUrl}/sites`, { headers: { authorization: auth.authorization } });
    expect(refused.status, await refused.clone().text()).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'store.unavailable' });
    expect(refused.headers.get('retry-after')).toBe(String(ERROR_TABLE['store.unavailable'].retryAfterSeconds));
    // Several keepalive periods of the watcher pass while the database says nothing.
    await sleep(3_000);
    expect(watcher.drops()).toBe(0);

    proxy.resume();
    await eventually(
      async () => (await healthOf(apiUrl)).body.store?.available === true && (await hubHasAll(started, site)),
      'the store available again and every event of the site at the hub',
    );
    expect(watcher.drops()).toBe(0);
    await expectEveryEventOnce(dbUrl, site);
  });

  withServerPrograms(
    'restarted under traffic: every event stored once, nothing doubled, no client dropped',
    async () => {
      const cluster = await startPgCluster(bin);
      cleanups.push(() => cluster.destroy());
      const dbUrl = cluster.url;
      const started = await startTestHub(cleanups, { dbPath: dbUrl, postgres: BOUNDS });
      const site = await siteWithMember(started);
      const watcher = await keepaliveWatcher(started.mqttUrl);
      cleanups.push(() => watcher.end());

      let tapping = true;
      const traffic = (async () => {
        while (tapping) {
          expect(await tap(site)).toBe(true);
          await sleep(50);
        }
      })();
      await sleep(500);
      await cluster.restart();
      await sleep(1_000);
      tapping = false;
      await traffic;

      await eventually(() => hubHasAll(started, site), 'every event of the site at the hub after the restart');
      expect(watcher.drops()).toBe(0);
      await expectEveryEventOnce(dbUrl, site);
    },
  );
});
