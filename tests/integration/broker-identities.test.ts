import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { topics } from '../../shared/protocol/topics.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { makeTestPki } from '../fixtures/tls-certs.js';
import { batchOf } from '../harness/hub-fixtures.js';
import { connectOutcome } from '../harness/broker.js';
import type { AuthHeaders } from '../harness/hub-auth.js';
import { startTestHub } from '../harness/network-hub.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';

const UID = '04C1C1C1C1C1C1';
const t = topics();
const cleanups = cleanupsAfterEach();

async function startSite(id: string, mqttUrl: string, hub: Hub, extraBroker: string[] = []): Promise<RunningEdge> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${id}-`));
  const config = join(dir, 'site.yaml');
  writeFileSync(
    config,
    networkSiteYaml({
      id,
      mqttUrl,
      hubPublicKeyPem: hub.publicKeyPem,
      heartbeatSeconds: 5,
      credentials: await hub.brokerIdentities.provision(id),
    }) + extraBroker.join('\n'),
  );
  const running = await runEdge({
    configPath: config,
    simulate: true,
    log: process.env.DBG ? pino({ level: 'info' }) : silent,
  });
  cleanups.push(async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return running;
}

async function put(apiUrl: string, path: string, body: unknown, auth: AuthHeaders): Promise<void> {
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: auth.authorization },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

async function seedMember(apiUrl: string, auth: AuthHeaders): Promise<void> {
  await put(apiUrl, '/directory/plans/always', { name: '24/7', access: 'always' }, auth);
  await put(apiUrl, '/directory/members/alice', { name: 'Alice Martin', plan: 'always' }, auth);
  await put(apiUrl, `/directory/badges/${UID}`, { member: 'alice' }, auth);
}

const tap = async (site: RunningEdge) => {
  const res = await fetch(`${site.url}/simulate/tap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reader: 'front-in', uid: UID }),
  });
  return (await res.json()) as { granted: boolean; reason: string };
};

/** A syncing site: its directory reached it (the door opens) and its events reached the hub, acknowledged. */
async function expectSyncing(hub: Hub, site: RunningEdge, apiUrl: string, auth: AuthHeaders): Promise<void> {
  await seedMember(apiUrl, auth);
  await eventually(async () => (await tap(site)).granted, 'the directory reaches the site and the badge opens');
  const id = site.config.site.id;
  const lastSeq = site.edge.store.events.lastSeq();
  await eventually(
    async () =>
      ((await hub.store.progress(id))?.contiguous ?? 0) >= lastSeq && site.edge.store.events.ackedSeq() >= lastSeq,
    'the events reach the hub and are acknowledged',
  );
}

describe('broker identities on the embedded broker', () => {
  it('a provisioned site syncs both ways; without its identity no client gets in', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups, { brokerIdentities: true });
    const site = await startSite('murat', mqttUrl, hub);
    await expectSyncing(hub, site, apiUrl, auth);

    await expect(mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(
      mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, username: 'nowhere', password: 'x' }),
    ).rejects.toThrow(/Bad username or password/i);
    // Provisioning again replaces the password: the old one stops at the next connection.
    const first = await hub.brokerIdentities.provision('allanche');
    await hub.brokerIdentities.provision('allanche');
    await expect(mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, ...first })).rejects.toThrow(
      /Bad username or password/i,
    );
    expect(hub.broker()?.refusals.connect).toBe(3);
  });

  it('site A can neither publish as site B nor read what is meant for B', async () => {
    const { hub, mqttUrl } = await startTestHub(cleanups, { brokerIdentities: true });
    const a = await hub.brokerIdentities.provision('site-a');
    await hub.brokerIdentities.provision('site-b');
    const client = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, ...a });
    cleanups.push(() => client.endAsync(true));

    const granted = await client.subscribeAsync(
      [t.ack('site-a'), t.directory('site-a'), t.days('site-a'), t.commands('site-a')],
      { qos: 1 },
    );
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1, 1]);
    for (const topic of [
      t.directory('site-b'),
      t.days('site-b'),
      t.ack('site-b'),
      'tessera/v1/sites/+/directory',
      '#',
    ]) {
      await expect(client.subscribeAsync(topic, { qos: 1 }), topic).rejects.toThrow(/Subscribe error/);
    }

    await client.publishAsync(t.events('site-a'), JSON.stringify(batchOf('site-a', 1, 1)), { qos: 1 });
    await eventually(
      async () => (await hub.store.progress('site-a'))?.contiguous === 1,
      "site A's own events are stored",
    );
    // Publishing as B: Aedes refuses it by closing the connection; nothing is stored for B.
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(t.events('site-b'), JSON.stringify(batchOf('site-b', 1, 1)), { qos: 1 });
    await closed;
    await new Promise((r) => setTimeout(r, 200));
    expect(await hub.store.progress('site-b')).toBeUndefined();
    expect(hub.broker()?.refusals).toMatchObject({ publish: 1, subscribe: 5 });
  });

  it('mqtts: a site that pins the hub CA syncs over TLS; a client that does not trust it cannot connect', async () => {
    const pki = makeTestPki();
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups, {
      brokerIdentities: true,
      brokerTls: { cert: pki.certPem, key: pki.keyPem },
    });
    expect(mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const site = await startSite('murat', mqttUrl, hub, [
      '  ca: |',
      ...pki.caPem
        .trim()
        .split('\n')
        .map((l) => `    ${l}`),
      '',
    ]);
    await expectSyncing(hub, site, apiUrl, auth);

    const identity = await hub.brokerIdentities.provision('allanche');
    expect(await connectOutcome(mqttUrl, { ...identity, ca: pki.caPem })).toBe('connected');
    expect(await connectOutcome(mqttUrl, identity)).toMatch(
      /unable to get local issuer certificate|self[- ]signed|unable to verify/i,
    );
    expect(await connectOutcome(mqttUrl.replace('mqtts:', 'mqtt:'), identity)).not.toBe('connected');
  });
});

describe('an identity is one client on the embedded broker', () => {
  const asClient = (
    identity: { username: string; password: string },
    clientId: string,
    o: mqtt.IClientOptions = {},
  ) => ({ protocolVersion: 4 as const, reconnectPeriod: 0, ...identity, clientId, ...o });

  it("site A's login with site B's client id or the hub's is refused; B and the hub stay connected and the hub keeps ingesting", async () => {
    const { hub, mqttUrl } = await startTestHub(cleanups, { brokerIdentities: true });
    const a = await hub.brokerIdentities.provision('site-a');
    const b = await hub.brokerIdentities.provision('site-b');
    const victim = await mqtt.connectAsync(mqttUrl, asClient(b, 'tessera-edge-site-b', { clean: false }));
    cleanups.push(() => victim.endAsync(true));
    let victimClosed = 0;
    victim.on('close', () => victimClosed++);
    const acks: string[] = [];
    victim.on('message', (_topic, payload) => acks.push(payload.toString()));
    await victim.subscribeAsync(t.ack('site-b'), { qos: 1 });

    for (const stolen of ['tessera-edge-site-b', 'tessera-hub']) {
      expect(await connectOutcome(mqttUrl, asClient(a, stolen, { clean: false })), stolen).toMatch(
        /Identifier rejected/i,
      );
    }
    expect(victimClosed).toBe(0);
    expect(victim.connected).toBe(true);
    expect(hub.ingest.connected).toBe(true);

    // Both still work: B's events are stored and B gets the hub's ack.
    await victim.publishAsync(t.events('site-b'), JSON.stringify(batchOf('site-b', 1, 2)), { qos: 1 });
    await eventually(
      () => acks.some((p) => (JSON.parse(p) as { seq: number }).seq === 2),
      "the hub acknowledges B's events",
    );
    expect((await hub.store.progress('site-b'))?.contiguous).toBe(2);
    expect(victimClosed).toBe(0);
    expect(hub.broker()?.refusals.connect).toBe(2);
  });

  it("a resumed session never hands another identity's queued messages", async () => {
    const { hub, mqttUrl } = await startTestHub(cleanups, { brokerIdentities: true });
    const a = await hub.brokerIdentities.provision('site-a');
    const b = await hub.brokerIdentities.provision('site-b');
    // B subscribes on a persistent session, then goes offline: what the hub sends B is queued.
    const first = await mqtt.connectAsync(mqttUrl, asClient(b, 'tessera-edge-site-b', { clean: false }));
    await first.subscribeAsync(t.directory('site-b'), { qos: 1 });
    await first.endAsync();
    await hub.ingest.publish(t.directory('site-b'), 'badge 04AABBCCDDEEFF for site B');

    const stolen: string[] = [];
    const intruder = mqtt.connect(mqttUrl, asClient(a, 'tessera-edge-site-b', { clean: false, connectTimeout: 3000 }));
    intruder.on('message', (topic) => stolen.push(topic));
    const outcome = await new Promise<string>((resolve) => {
      intruder.once('connect', () => resolve('connected'));
      intruder.once('error', (err) => resolve(err.message));
    });
    intruder.end(true);
    expect(outcome).toMatch(/Identifier rejected/i);
    expect(stolen).toEqual([]);

    // The queue was there all along: B itself gets it.
    const mine: string[] = [];
    const owner = mqtt.connect(mqttUrl, asClient(b, 'tessera-edge-site-b', { clean: false }));
    cleanups.push(() => owner.endAsync(true));
    owner.on('message', (_topic, payload) => mine.push(payload.toString()));
    await eventually(() => mine.length > 0, "B's queued directory reaches B");
    expect(mine).toEqual(['badge 04AABBCCDDEEFF for site B']);
  });
});

describe('observers on the embedded broker', () => {
  it('an observer reads the network occupancy, the hub status and the Home Assistant discovery configs, nothing else, and publishes none of them', async () => {
    const { hub, mqttUrl } = await startTestHub(cleanups, { brokerIdentities: true, homeAssistant: {} });
    const login = await hub.brokerIdentities.provisionObserver('hall');
    expect(login).toMatchObject({ username: 'observer.hall', clientId: 'observer.hall' });
    // What the hub publishes for sites, retained or queued, before and after the observer subscribes.
    await hub.ingest.publish(t.ack('murat'), '{"seq":7}', true);
    await hub.ingest.publish(t.directory('murat'), 'badge 04AABBCCDDEEFF', true);
    await hub.ingest.publish('homeassistant/light/elsewhere/config', '{}', true);

    const seen: string[] = [];
    const observer = mqtt.connect(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, ...login });
    cleanups.push(() => observer.endAsync(true));
    observer.on('message', (topic) => seen.push(topic));
    await new Promise<void>((resolve) => observer.once('connect', () => resolve()));
    // Home Assistant subscribes to discovery wildcards; a display to everything it can get.
    const granted = await observer.subscribeAsync(['homeassistant/+/+/+/config', '#', t.occupancy], { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1]);
    for (const topic of [t.directory('murat'), t.allEvents, 'homeassistant/light/elsewhere/config']) {
      await expect(observer.subscribeAsync(topic, { qos: 1 }), topic).rejects.toThrow(/Subscribe error/);
    }
    await hub.ingest.publish(t.directory('murat'), 'badge 04112233445566');
    await hub.ingest.publish(t.commands('murat'), 'open the door');
    await hub.ingest.publish('homeassistant/sensor/tessera/murat_occupancy/config', '{"name":"Occupancy"}', true);
    await eventually(
      () => seen.includes('homeassistant/sensor/tessera/murat_occupancy/config'),
      'the discovery config reaches the observer',
    );
    expect([...new Set(seen)].sort()).toEqual([
      'homeassistant/sensor/tessera/murat_occupancy/config',
      t.hubStatus,
      t.occupancy,
    ]);

    const closed = new Promise<void>((resolve) => observer.once('close', () => resolve()));
    observer.publish(t.occupancy, '{"total": 999}', { qos: 1 });
    await closed;
    expect(hub.broker()?.refusals).toMatchObject({ publish: 1 });
  });

  it('an observer connects with its own client id only, and no one else with it', async () => {
    const { hub, mqttUrl } = await startTestHub(cleanups, { brokerIdentities: true });
    const login = await hub.brokerIdentities.provisionObserver('hall');
    const site = await hub.brokerIdentities.provision('murat');
    expect(await connectOutcome(mqttUrl, { ...login, clientId: 'tessera-edge-murat' })).toMatch(/Identifier rejected/i);
    expect(await connectOutcome(mqttUrl, { ...site, clientId: login.clientId })).toMatch(/Identifier rejected/i);
    expect(await connectOutcome(mqttUrl, login)).toBe('connected');
  });
});
