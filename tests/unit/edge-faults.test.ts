import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../edge/api/server.js';
import { HubDirectoryUpdates } from '../../edge/directory/hub-updates.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { SimReader } from '../../edge/hardware/sim-reader.js';
import type { Gpio } from '../../edge/hardware/types.js';
import { createEdge } from '../../edge/site/edge.js';
import { runEdge } from '../../edge/site/run.js';
import { EdgeStore } from '../../edge/store/store.js';
import { SiteConfig } from '../../firmware-config/schema.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { Directory } from '../../shared/protocol/directory.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import type { DirectoryUpdate } from '../../shared/protocol/sync.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { BASE_CONFIG, BASE_DIRECTORY, MONDAY_9AM_PARIS, startSite, UID, type Harness } from '../harness/site.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const HUB = generateHubKeys();
const THIEF = generateHubKeys();
const cleanups = cleanupsAfterEach();

const api = (site: Pick<Harness, 'edge' | 'clock'>) =>
  buildApi({ edge: site.edge, log: silent, clock: site.clock, version: 'test', startedAt: site.clock.now() });
const health = async (site: Pick<Harness, 'edge' | 'clock'>) =>
  (await api(site).inject({ method: 'GET', url: '/health' })).json() as {
    status: string;
    problems: string[];
    faults: Record<string, number>;
  };
const metrics = async (site: Pick<Harness, 'edge' | 'clock'>) =>
  (await api(site).inject({ method: 'GET', url: '/metrics' })).body;
const faultEvents = (site: Harness) => site.events().flatMap((e) => (e.type === 'device.fault' ? [e.data.kind] : []));

async function hubFedSite() {
  const site = await startSite({
    directory: { source: 'hub' },
    broker: { url: 'mqtt://127.0.0.1:1', hubPublicKey: HUB.publicKeyPem },
  });
  cleanups.push(() => site.stop());
  const updates = new HubDirectoryUpdates({
    site: 'murat',
    publicKey: hubPublicKey(HUB.publicKeyPem),
    edge: site.edge,
    log: silent,
  });
  const signed = (body: DirectoryUpdate, key = HUB.privateKeyPem) =>
    JSON.stringify({ body, signature: signBody(body, hubPrivateKey(key)) });
  return { site, updates, signed };
}

describe('faults at the edge are counted and told to the hub; harmless repeats are not faults', () => {
  it('the directory update in force received again is ignored, not a fault; a forged one is a fault counted in /health and /metrics', async () => {
    const { site, updates, signed } = await hubFedSite();
    const body: DirectoryUpdate = {
      v: 1,
      site: 'murat',
      kind: 'delta',
      from: 1,
      to: 2,
      issuedAt: new Date(site.clock.now() + 1000).toISOString(),
      changes: [],
    };
    expect(updates.receive(signed(body))).toMatchObject({ applied: true });
    expect(updates.receive(signed(body))).toEqual({ applied: false, duplicate: true });
    expect(faultEvents(site)).toEqual([]);
    const forged = { ...body, from: 2, to: 3, issuedAt: new Date(site.clock.now() + 2000).toISOString() };
    expect(updates.receive(signed(forged, THIEF.privateKeyPem))).toMatchObject({ refused: 'forged' });
    expect(faultEvents(site)).toEqual(['directory.rejected']);
    expect((await health(site)).faults).toEqual({ 'directory.rejected': 1 });
    expect(await metrics(site)).toContain('tessera_edge_faults_total{site="murat",kind="directory.rejected"} 1');
  });

  it('three unreadable UIDs in a row on a reader are one fault; a good read in between starts the count again', async () => {
    const site = await startSite();
    cleanups.push(() => site.stop());
    // What a PC/SC reader hands over when it could not read the UID (the simulator only presents valid ones).
    const unreadable = () =>
      void site.edge.taps.handle({ reader: 'front-in', uid: '', atr: '3B8F8001804F0CA000000306030001000000006A' });
    unreadable();
    unreadable();
    site.tap('front-in', UID.alice);
    site.tap('front-out', UID.alice);
    for (let i = 0; i < 4; i++) unreadable();
    expect(site.events().filter((e) => e.type === 'device.fault')).toMatchObject([
      { data: { device: 'front-in', kind: 'uid.unreadable' } },
    ]);
    expect((await health(site)).faults).toEqual({ 'uid.unreadable': 1 });
    expect(await metrics(site)).toContain('tessera_edge_faults_total{site="murat",kind="uid.unreadable"} 1');
  });

  it('a relay write that fails is a fault counted in /health and /metrics', async () => {
    const clock = new ManualClock(MONDAY_9AM_PARIS);
    const sim = new SimGpio(clock);
    // The relay board stops answering: every write to the door's relay line fails.
    const gpio: Gpio = {
      output: (line, opts) => {
        const out = sim.output(line, opts);
        if (line !== 17) return out;
        return {
          line,
          get active() {
            return out.active;
          },
          write: () => {
            throw new Error('EIO: the relay board does not answer');
          },
        };
      },
      input: (line, opts) => sim.input(line, opts),
      safeState: () => sim.safeState(),
      close: () => sim.close(),
    };
    const config = SiteConfig.parse(BASE_CONFIG);
    const store = EdgeStore.open(':memory:', 'murat', 'Europe/Paris');
    const edge = createEdge({
      config,
      clock,
      log: silent,
      store,
      reader: new SimReader(
        config.readers.map((r) => r.id),
        clock,
      ),
      gpio,
    });
    edge.applyDirectory(Directory.parse(BASE_DIRECTORY), 'test');
    await edge.start();
    cleanups.push(async () => {
      await edge.stop();
      store.close();
    });
    edge.doors.get('front')?.unlock('remote');
    expect(store.events.list(0, 100).filter((e) => e.type === 'device.fault')).toMatchObject([
      { data: { device: 'front', kind: 'gpio.error' } },
    ]);
    const site = { edge, clock };
    expect((await health(site)).faults).toEqual({ 'gpio.error': 1 });
    expect(await metrics(site)).toContain('tessera_edge_faults_total{site="murat",kind="gpio.error"} 1');
  });
});

describe('an edge that cannot reach its hub', () => {
  it('reports degraded in /health once the broker has been unreachable past broker.degradedAfterSeconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-unreachable-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const configPath = join(dir, 'site.yaml');
    // Port 1 on loopback: nothing listens, every connection is refused.
    writeFileSync(
      configPath,
      `${networkSiteYaml({ id: 'murat', mqttUrl: 'mqtt://127.0.0.1:1' })}  degradedAfterSeconds: 120\n`,
    );
    writeFileSync(join(dir, 'directory.yaml'), 'revision: 1\nplans: []\nemployers: []\nmembers: []\nbadges: []\n');
    const clock = new ManualClock(MONDAY_9AM_PARIS);
    const running = await runEdge({
      configPath,
      simulate: true,
      log: silent,
      clock,
      port: 0,
      storagePath: join(dir, 'edge.db'),
    });
    cleanups.push(() => running.stop());
    const get = async () =>
      (await fetch(`${running.url}/health`)).json() as Promise<{
        status: string;
        problems: string[];
        link: { connected: boolean; unreachableSeconds: number };
      }>;
    clock.advance(119_000);
    expect(await get()).toMatchObject({
      status: 'ok',
      problems: [],
      link: { connected: false, unreachableSeconds: 119 },
    });
    clock.advance(1_000);
    expect(await get()).toMatchObject({ status: 'degraded', problems: ['hub.unreachable'] });
  });
});
