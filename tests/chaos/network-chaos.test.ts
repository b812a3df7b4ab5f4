import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../../edge/store/store.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { finished, runCli, spawnCli, waitForOutput } from '../harness/process.js';
import { loginOver, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { sleep } from '../support/sleep.js';
import { freePort } from '../support/tcp.js';
import { tempDir } from '../support/temp-dir.js';

// Five sites tapping while edges and the hub are killed with SIGKILL and restarted (which also
// cuts every broker connection): at the end the hub holds exactly the union of the sites' logs.

type Proc = ChildProcess & { output: { stdout: string; stderr: string } };

const SITES = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];
const TAP_MS = 20_000;
const TAP_EVERY_MS = 75;
const CATCH_UP_MS = 60_000;
const UIDS = ['04A1A1A1A1A1A1', '04B2B2B2B2B2B2', '04C3C3C3C3C3C3', '04D4D4D4D4D4D4'];

const children: Proc[] = [];
afterEach(async () => {
  const alive = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of alive) c.kill('SIGKILL');
  await Promise.all(alive.map((c) => finished(c, 5_000).catch(() => undefined)));
});

/** The end of every child's output, printed when the scenario fails. */
function dumpOutputs(): void {
  for (const c of children)
    console.log(
      `--- pid ${c.pid} (${c.spawnargs.slice(2, 4).join(' ')}), exit ${c.exitCode ?? c.signalCode}:\n${(c.output.stdout + c.output.stderr).slice(-3_000)}`,
    );
}

function spawnTracked(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawnCli(args, env);
  children.push(child);
  return child;
}

async function killHard(child: Proc): Promise<void> {
  child.kill('SIGKILL');
  const end = await finished(child, 5_000);
  expect(end.signal).toBe('SIGKILL');
}

async function getJson<T>(url: string, auth?: AuthHeaders): Promise<T> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(5_000),
    headers: auth ? { authorization: auth.authorization } : {},
  });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Hub {
  dir: string;
  brokerPort: number;
  child?: Proc;
  api?: string;
  /** A session with the running hub (a restart keeps the account and its sessions: they are in its database). */
  auth?: AuthHeaders;
}

async function startHub(hub: Hub): Promise<void> {
  const child = spawnTracked(
    [
      'hub',
      '--db',
      join(hub.dir, 'hub.db'),
      '--key',
      join(hub.dir, 'hub.key'),
      '--broker-port',
      String(hub.brokerPort),
      '--api-port',
      '0',
    ],
    { TESSERA_INITIAL_ADMIN_PASSWORD: TEST_ADMIN.password },
  );
  const m = await waitForOutput(child, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/);
  hub.child = child;
  hub.api = m[1] ?? '';
  hub.auth ??= await loginOver(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
}

interface Site {
  id: string;
  dir: string;
  config: string;
  db: string;
  child?: Proc;
  /** Every process this site ran as, killed ones included (their output tells the reconnects). */
  runs: Proc[];
  /** The API of the running incarnation; undefined while the site is down. */
  url?: string | undefined;
  taps: { ok: number; failed: number };
}

/** The site's own broker identity, through the command an operator runs beside the live hub. */
async function provision(hub: Hub, id: string): Promise<{ username: string; password: string }> {
  const r = await runCli(['site', 'provision', id, '--db', join(hub.dir, 'hub.db'), '--key', join(hub.dir, 'hub.key')]);
  const password = /^ {2}password: (\S+)$/m.exec(r.stdout)?.[1];
  if (r.code !== 0 || password === undefined) throw new Error(`site provision ${id}: ${r.code} ${r.stderr}`);
  return { username: id, password };
}

async function siteFolder(hub: Hub, id: string): Promise<Site> {
  const dir = tempDir(`tessera-chaos-${id}-`);
  const config = join(dir, 'site.yaml');
  writeFileSync(
    config,
    networkSiteYaml({ id, mqttUrl: `mqtt://127.0.0.1:${hub.brokerPort}`, credentials: await provision(hub, id) }),
  );
  writeFileSync(
    join(dir, 'directory.yaml'),
    `revision: 1
plans: [{ id: always, name: "24/7", access: always }]
members: [{ id: alice, name: Alice, plan: always }, { id: bob, name: Bob, plan: always }, { id: carol, name: Carol, plan: always }]
badges: [{ uid: "${UIDS[0]}", member: alice }, { uid: "${UIDS[1]}", member: bob }, { uid: "${UIDS[2]}", member: carol, status: revoked }]
`,
  );
  return { id, dir, config, db: join(dir, 'edge.db'), taps: { ok: 0, failed: 0 }, runs: [] };
}

async function startSite(site: Site): Promise<void> {
  const child = spawnTracked(['edge', '--config', site.config, '--simulate']);
  const m = await waitForOutput(child, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
  site.child = child;
  site.runs.push(child);
  site.url = m[1];
}

async function killAndRestartSite(site: Site, downMs: number): Promise<void> {
  site.url = undefined;
  await killHard(site.child as Proc);
  await sleep(downMs);
  await startSite(site);
}

/** Taps at a modest rate until `stop()`; a request to a site that is down just counts as failed. */
function tapLoop(site: Site, running: () => boolean): Promise<void> {
  return (async () => {
    let n = 0;
    while (running()) {
      const url = site.url;
      if (url !== undefined) {
        try {
          const reader = n % 3 === 2 ? 'front-out' : 'front-in';
          const uid = UIDS[Math.floor(Math.random() * UIDS.length)];
          const res = await fetch(`${url}/simulate/tap`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ reader, uid }),
            signal: AbortSignal.timeout(2_000),
          });
          await res.arrayBuffer();
          if (res.ok) site.taps.ok++;
          else site.taps.failed++;
        } catch {
          site.taps.failed++;
        }
        n++;
      }
      await sleep(TAP_EVERY_MS);
    }
  })();
}

interface SiteRow {
  site: string;
  contiguous: number;
  maxSeen: number;
  missing: unknown[];
}

async function hubSites(hub: Hub): Promise<Map<string, SiteRow>> {
  const { sites } = await getJson<{ sites: SiteRow[] }>(`${hub.api}/sites`, hub.auth);
  return new Map(sites.map((s) => [s.site, s]));
}

/** Polls until the hub's contiguous seq of every site equals the site's own last seq, bounded. */
async function waitForCatchUp(hub: Hub, sites: Site[]): Promise<number> {
  const start = Date.now();
  let last = '';
  for (;;) {
    try {
      const rows = await hubSites(hub);
      const pairs = await Promise.all(
        sites.map(async (s) => ({
          site: s.id,
          lastSeq: (await getJson<{ lastSeq: number }>(`${s.url}/health`)).lastSeq,
          hub: rows.get(s.id),
        })),
      );
      last = pairs
        .map(
          (p) =>
            `${p.site}: site ${p.lastSeq}, hub contiguous ${p.hub?.contiguous ?? '-'} maxSeen ${p.hub?.maxSeen ?? '-'} missing ${JSON.stringify(p.hub?.missing ?? [])}`,
        )
        .join('\n');
      if (pairs.every((p) => p.hub !== undefined && p.hub.contiguous === p.lastSeq)) return Date.now() - start;
    } catch (err) {
      last = `poll failed: ${(err as Error).message}`;
    }
    if (Date.now() - start > CATCH_UP_MS)
      throw new Error(`the hub did not catch up within ${CATCH_UP_MS} ms:\n${last}`);
    await sleep(250);
  }
}

interface HubEvent {
  seq: number;
  event: { seq: number; id: string; site: string; type: string; at: string };
}

async function hubEvents(hub: Hub, site: string): Promise<HubEvent[]> {
  const all: HubEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await getJson<{ events: HubEvent[] }>(
      `${hub.api}/sites/${site}/events?after=${after}&limit=1000`,
      hub.auth,
    );
    if (page.events.length === 0) return all;
    all.push(...page.events);
    after = page.events[page.events.length - 1]?.seq ?? after;
  }
}

describe('a network under chaos: five sites, edges and hub killed with SIGKILL and restarted', () => {
  it('ends with the hub holding the union of the sites logs: 0 lost, 0 duplicated, 0 changed', async () => {
    try {
      await scenario();
    } catch (err) {
      dumpOutputs();
      throw err;
    }
  }, 120_000);
});

async function scenario(): Promise<void> {
  const started = Date.now();
  const brokerPort = await freePort();
  const hub: Hub = { dir: tempDir('tessera-chaos-hub-'), brokerPort };
  await startHub(hub);
  const sites = await Promise.all(SITES.map((id) => siteFolder(hub, id)));
  await Promise.all(sites.map(startSite));

  let tapping = true;
  const loops = sites.map((s) => tapLoop(s, () => tapping));
  const [s1, s2, , s4] = sites as [Site, Site, Site, Site, Site];
  // The chaos, on a fixed timeline within the tapping window.
  const chaos = (async () => {
    await sleep(3_000);
    await killAndRestartSite(s2, 1_000);
    await sleep(2_000);
    await killHard(hub.child as Proc);
    await sleep(2_000);
    await startHub(hub);
    await sleep(3_000);
    await killAndRestartSite(s4, 1_000);
    await sleep(1_500);
    await killAndRestartSite(s1, 500);
  })();
  try {
    await Promise.all([chaos, sleep(TAP_MS)]);
  } finally {
    tapping = false;
    await Promise.all(loops);
  }
  const tappedAt = Date.now();

  const caughtUpMs = await waitForCatchUp(hub, sites);

  // Stop the sites cleanly, then read their own logs from SQLite.
  for (const s of sites) {
    const child = s.child as Proc;
    s.url = undefined;
    child.kill('SIGTERM');
    expect((await finished(child, 15_000)).code).toBe(0);
  }
  const rows = await hubSites(hub);
  let total = 0;
  for (const s of sites) {
    const store = EdgeStore.open(s.db, s.id, 'Europe/Paris');
    const local = store.events.list(0, 10_000_000);
    const lastSeq = store.events.lastSeq();
    const ackedSeq = store.events.ackedSeq();
    store.close();
    const remote = await hubEvents(hub, s.id);
    const row = rows.get(s.id);
    console.log(
      `${s.id}: ${local.length} events at the site (acked ${ackedSeq}), ${remote.length} at the hub (contiguous ${row?.contiguous}, missing ${JSON.stringify(row?.missing)}); taps ok ${s.taps.ok}, failed ${s.taps.failed}`,
    );
    // The site's log is gapless, and the hub has every seq of it once (and nothing more).
    expect(local.map((e) => e.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(lastSeq).toBeGreaterThan(50);
    expect(row?.contiguous).toBe(lastSeq);
    expect(row?.missing).toEqual([]);
    expect(remote.map((e) => e.seq)).toEqual(local.map((e) => e.seq));
    // ... and each is the very event the site logged.
    remote.forEach((r, i) => {
      const l = local[i];
      expect(r.event.seq).toBe(r.seq);
      expect(r.event.id).toBe(l?.id);
      expect(r.event).toEqual(l);
    });
    // Every site lost its broker with the hub and came back on its own (the chaos did happen).
    const connects = s.runs.reduce(
      (n, c) => n + ((c.output.stdout + c.output.stderr).match(/connected to the broker/g)?.length ?? 0),
      0,
    );
    console.log(`${s.id}: ${s.runs.length} process(es), ${connects} broker connections`);
    expect(connects).toBeGreaterThanOrEqual(2);
    total += remote.length;
  }
  const { ingest } = await getJson<{ ingest: Record<string, number> }>(`${hub.api}/health`);
  console.log(
    `total ${total} events over ${sites.length} sites; hub caught up ${caughtUpMs} ms after tapping stopped (at +${tappedAt - started} ms); whole run ${Date.now() - started} ms; ingest since the hub restart ${JSON.stringify(ingest)}`,
  );
  expect(ingest.conflicts).toBe(0);
  expect(ingest.storeErrors).toBe(0);
}
