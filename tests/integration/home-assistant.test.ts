import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { SignedCommand } from '../../shared/protocol/commands.js';
import { hubPublicKey, verifyBody } from '../../shared/protocol/signing.js';
import { topics } from '../../shared/protocol/topics.js';
import { batchOf, statusOf } from '../harness/hub-fixtures.js';
import { startTestHub } from '../harness/network-hub.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';

const t = topics();
const cleanups = cleanupsAfterEach();

const MURAT = 'homeassistant/device/tessera/murat/config';
const LE_LIORAN = 'homeassistant/device/tessera/le-lioran/config';

/** What Home Assistant holds: the last payload of each topic it reads. */
interface HomeAssistant {
  client: MqttClient;
  last: Map<string, string>;
  closed: () => boolean;
}

/**
 * A client that logs in as Home Assistant does (MQTT 3.1.1, its configured client id, username
 * and password), publishes its birth, and subscribes to what Home Assistant reads: the
 * discovery wildcard, then (from the configs) the state and availability topics.
 */
async function homeAssistant(mqttUrl: string, login: { username: string; password: string; clientId: string }) {
  const client = mqtt.connect(mqttUrl, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...login,
    will: { topic: 'homeassistant/status', payload: Buffer.from('offline'), qos: 1, retain: false },
  });
  cleanups.push(() => client.endAsync(true));
  const last = new Map<string, string>();
  let closed = false;
  client.on('close', () => (closed = true));
  client.on('message', (topic, payload) => last.set(topic, payload.toString()));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.publishAsync('homeassistant/status', 'online', { qos: 1 });
  const granted = await client.subscribeAsync(
    ['homeassistant/#', t.hubStatus, t.allStatus, 'tessera/v1/home-assistant/+/state'],
    { qos: 1 },
  );
  expect(granted.map((g) => g.qos)).toEqual([1, 1, 1, 1]);
  return { client, last, closed: () => closed } satisfies HomeAssistant;
}

async function startHub(commands: boolean) {
  const started = await startTestHub(cleanups, {
    brokerIdentities: true,
    homeAssistant: { commands, refreshMs: 300 },
  });
  const { hub } = started;
  await hub.sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 4 });
  await hub.sites.upsert({ id: 'le-lioran', name: 'Le Lioran', timeZone: 'Europe/Paris', capacity: 10 });
  // The site as its edge would say it: its doors, online (retained), and two forced doors.
  await hub.ingest.publish(t.status('murat'), JSON.stringify(statusOf('murat', { doors: ['front', 'back'] })), true);
  await hub.ingest.publish(t.events('murat'), JSON.stringify(batchOf('murat', 1, 2)));
  return started;
}

/**
 * The JSON paths a template reads: `value_json.a.b`, and `value_json.doors.get("front", {}).get('open', false)`
 * as doors.front.open (a door the state does not list reads as the default).
 */
function pathsOf(template: string): string[][] {
  return [...template.matchAll(/value_json((?:\.get\((?:"[^"]*"|'[^']*'), [^)]*\)|\.[a-z_]+)+)/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/\.([a-z_]+)(?:\(["']([^"']*)["'])?/g)].map((k) =>
      k[1] === 'get' ? (k[2] ?? '') : (k[1] ?? ''),
    ),
  );
}

function hasPath(value: unknown, path: string[]): boolean {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !(key in v)) return false;
    v = (v as Record<string, unknown>)[key];
  }
  return true;
}

type Config = {
  dev: { ids: string[]; name: string };
  o: { name: string; sw: string };
  availability: Array<{ topic: string; value_template?: string; payload_available: string }>;
  availability_mode: string;
  state_topic: string;
  cmps: Record<string, Record<string, unknown> & { p: string; unique_id: string; default_entity_id: string }>;
};

/** Checks a device config as Home Assistant would use it, against what is on its topics. */
function checkConfig(ha: HomeAssistant, config: Config, siteStatusSent = true): void {
  expect(JSON.stringify(config)).not.toContain('object_id');
  expect(config.o).toMatchObject({ name: 'Tessera hub', sw: expect.any(String) });
  expect(config.availability_mode).toBe('all');
  expect(config.availability.map((a) => a.topic)).toEqual([t.hubStatus, expect.stringMatching(/\/status$/)]);
  const state = JSON.parse(ha.last.get(config.state_topic) ?? 'null') as unknown;
  expect(state).not.toBeNull();
  for (const a of config.availability) {
    const payload = ha.last.get(a.topic);
    // A site never heard from has no status: Home Assistant shows it unavailable.
    if (!siteStatusSent && a.topic !== t.hubStatus) {
      expect(payload, a.topic).toBeUndefined();
      continue;
    }
    expect(payload, a.topic).toBeDefined();
    if (a.value_template === undefined) expect(['online', 'offline']).toContain(payload);
    else for (const p of pathsOf(a.value_template)) expect(hasPath(JSON.parse(payload ?? ''), p), a.topic).toBe(true);
  }
  for (const [key, c] of Object.entries(config.cmps)) {
    expect(c.unique_id, key).toMatch(/^tessera_[a-z0-9_]+$/);
    expect(c.default_entity_id, key).toBe(`${c.p}.${c.unique_id}`);
    expect(['sensor', 'binary_sensor', 'lock', 'button']).toContain(c.p);
    for (const field of ['value_template', 'json_attributes_template'])
      for (const p of pathsOf(String(c[field] ?? ''))) expect(hasPath(state, p), `${key} ${p.join('.')}`).toBe(true);
  }
}

describe('Home Assistant on the embedded broker', () => {
  it('sees a device per site with its entities, states and availability, and loses a deleted site', async () => {
    const { hub, mqttUrl } = await startHub(false);
    const ha = await homeAssistant(mqttUrl, await hub.brokerIdentities.provisionObserver('home-assistant'));
    // A config an older hub left: cleared once seen.
    await hub.ingest.publish('homeassistant/sensor/tessera/murat_occupancy/config', '{"name":"Occupancy"}', true);

    await eventually(() => {
      const state = JSON.parse(ha.last.get('tessera/v1/home-assistant/murat/state') ?? '{}') as { problem?: boolean };
      return ha.last.has(MURAT) && ha.last.has(LE_LIORAN) && state.problem === true;
    }, 'both sites announced, murat with its alarm');
    const murat = JSON.parse(ha.last.get(MURAT) ?? '') as Config;
    checkConfig(ha, murat);
    expect(Object.keys(murat.cmps).sort()).toEqual([
      'capacity',
      'door_back',
      'door_front',
      'occupancy',
      'online',
      'problem',
    ]);
    expect(murat.cmps.door_front).toMatchObject({ p: 'binary_sensor', device_class: 'door' });
    expect(pathsOf(String(murat.cmps.door_front?.value_template))).toEqual([['doors', 'front', 'open']]);
    expect(murat.cmps.online).toMatchObject({ device_class: 'connectivity', availability: [{ topic: t.hubStatus }] });
    expect(murat.cmps.problem).toMatchObject({ device_class: 'problem' });
    expect(murat.cmps.occupancy?.default_entity_id).toBe('sensor.tessera_murat_occupancy');
    expect(murat.dev).toMatchObject({ ids: ['tessera_murat'], name: 'Télécentre de Murat' });
    expect(JSON.parse(ha.last.get('tessera/v1/home-assistant/murat/state') ?? '')).toMatchObject({
      present: 0,
      capacity: 4,
      online: true,
      problem: true,
      doors: { front: { open: true, locked: true }, back: { open: false } },
    });
    const lioran = JSON.parse(ha.last.get(LE_LIORAN) ?? '') as Config;
    checkConfig(ha, lioran, false);
    expect(lioran.cmps.occupancy?.default_entity_id).toBe('sensor.tessera_le_lioran_occupancy');
    expect(ha.last.get(t.hubStatus)).toBe('online');
    await eventually(
      () => ha.last.get('homeassistant/sensor/tessera/murat_occupancy/config') === '',
      "the older hub's sensor config cleared",
    );

    // Deleted from the hub: its config cleared (retained), so Home Assistant removes the device.
    await hub.sites.remove('le-lioran');
    await eventually(() => ha.last.get(LE_LIORAN) === '', 'the deleted site cleared');
    expect(ha.closed()).toBe(false);
    expect(hub.broker()?.refusals).toMatchObject({ connect: 0, publish: 0, subscribe: 0 });

    // Stopped: the hub says it is offline before its broker goes.
    await hub.stop();
    expect(ha.last.get(t.hubStatus)).toBe('offline');
  });

  it("the hub's last will says offline when its connection drops, and it says online again once back", async () => {
    const { hub, mqttUrl } = await startHub(false);
    const ha = await homeAssistant(mqttUrl, await hub.brokerIdentities.provisionObserver('home-assistant'));
    await eventually(() => ha.last.get(t.hubStatus) === 'online', 'the hub online');
    const statuses: string[] = [];
    ha.client.on('message', (topic, payload) => topic === t.hubStatus && statuses.push(payload.toString()));
    // The hub's connection lost without a DISCONNECT (as a crash with an external broker): the broker publishes the will.
    // Aedes keeps its connected clients by id (not in its typings).
    const broker = hub.broker()?.aedes as unknown as { clients: Record<string, { close(done: () => void): void }> };
    const client = broker.clients['tessera-hub'];
    expect(client).toBeDefined();
    client?.close(() => undefined);
    await eventually(() => statuses.join(',') === 'offline,online', 'offline, then online again after the reconnect');
  });

  it('clears the configs it finds of sites it does not know (deleted while it was down)', async () => {
    const { hub, mqttUrl } = await startHub(false);
    const ha = await homeAssistant(mqttUrl, await hub.brokerIdentities.provisionObserver('home-assistant'));
    await hub.ingest.publish('homeassistant/device/tessera/gone/config', '{"dev":{"ids":["tessera_gone"]}}', true);
    await eventually(() => ha.last.get('homeassistant/device/tessera/gone/config') === '', 'the unknown site cleared');
    await eventually(() => (ha.last.get(MURAT) ?? '') !== '', 'a known site stays');
  });

  it('with commands on, a press in Home Assistant is the signed, audited command; another identity cannot press', async () => {
    const { hub, mqttUrl } = await startHub(true);
    const siteLogin = await hub.brokerIdentities.provision('murat');
    const site = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, ...siteLogin });
    cleanups.push(() => site.endAsync(true));
    const received: SignedCommand[] = [];
    site.on('message', (_topic, payload) => received.push(SignedCommand.parse(JSON.parse(payload.toString()))));
    await site.subscribeAsync(t.commands('murat'), { qos: 1 });

    const ha = await homeAssistant(mqttUrl, await hub.brokerIdentities.provisionObserver('home-assistant'));
    await eventually(() => ha.last.has(MURAT), 'murat announced');
    const config = JSON.parse(ha.last.get(MURAT) ?? '') as Config;
    checkConfig(ha, config);
    const lock = config.cmps.lock_front as unknown as { command_topic: string; payload_unlock: string };
    const lockdown = config.cmps.lockdown as unknown as { command_topic: string; payload_press: string; p: string };
    expect(lockdown.p).toBe('button');
    expect(config.cmps.lock_front?.p).toBe('lock');

    await ha.client.publishAsync(lock.command_topic, lock.payload_unlock, { qos: 1 });
    await ha.client.publishAsync(lockdown.command_topic, lockdown.payload_press, { qos: 1 });
    await eventually(() => received.length === 2, 'both commands reach the site');
    const key = hubPublicKey(hub.publicKeyPem);
    expect(received.map((c) => verifyBody(c.body, c.signature, key))).toEqual([true, true]);
    expect(received.map((c) => c.body)).toMatchObject([
      { kind: 'unlock', door: 'front', site: 'murat' },
      { kind: 'lockdown', site: 'murat' },
    ]);
    const audit = await hub.store.db.all<{ actor: string; entity: string; entity_id: string }>(
      "SELECT actor, entity, entity_id FROM audit_log WHERE entity = 'command' ORDER BY id",
    );
    expect(audit).toEqual([
      { actor: 'home-assistant', entity: 'command', entity_id: 'murat' },
      { actor: 'home-assistant', entity: 'command', entity_id: 'murat' },
    ]);

    // An unknown door and a press that is not one: no command.
    await ha.client.publishAsync(lock.command_topic, '{"kind":"unlock","door":"cellar"}', { qos: 1 });
    await ha.client.publishAsync(lock.command_topic, '{"kind":"resend","fromSeq":1}', { qos: 1 });

    // Another observer may not press: the broker closes its connection, nothing is sent.
    await expect(pressAs(hub, mqttUrl, 'hall', lock)).resolves.toBe('closed');
    await sendRoundTrip(hub);
    expect(received).toHaveLength(2);
    expect(ha.closed()).toBe(false);
  });

  it('with commands off, no lock or button, and even Home Assistant cannot press', async () => {
    const { hub, mqttUrl } = await startHub(false);
    const siteLogin = await hub.brokerIdentities.provision('murat');
    const site = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, ...siteLogin });
    cleanups.push(() => site.endAsync(true));
    const received: string[] = [];
    site.on('message', (_topic, payload) => received.push(payload.toString()));
    await site.subscribeAsync(t.commands('murat'), { qos: 1 });
    const ha = await homeAssistant(mqttUrl, await hub.brokerIdentities.provisionObserver('home-assistant'));
    await eventually(() => ha.last.has(MURAT), 'murat announced');
    const config = JSON.parse(ha.last.get(MURAT) ?? '') as Config;
    expect(Object.values(config.cmps).map((c) => c.p)).not.toContain('lock');
    expect(Object.values(config.cmps).map((c) => c.p)).not.toContain('button');
    const press = {
      command_topic: t.homeAssistantCommand('murat'),
      payload_unlock: '{"kind":"unlock","door":"front"}',
    };
    await expect(pressAs(hub, mqttUrl, 'home-assistant', press)).resolves.toBe('closed');
    await sendRoundTrip(hub);
    expect(received).toEqual([]);
  });
});

/** Publishes a press as observer `name` (provisioned again); resolves `closed` if the broker closed the connection. */
async function pressAs(
  hub: Hub,
  mqttUrl: string,
  name: string,
  press: { command_topic: string; payload_unlock: string },
): Promise<'closed' | 'open'> {
  const login = await hub.brokerIdentities.provisionObserver(name);
  const client = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, ...login });
  cleanups.push(() => client.endAsync(true));
  const closed = new Promise<'closed'>((resolve) => client.once('close', () => resolve('closed')));
  client.publish(press.command_topic, press.payload_unlock, { qos: 1 });
  const timeout = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 5000));
  return Promise.race([closed, timeout]);
}

/** Waits until what the hub's connection sent before is through: one retained round trip on its own connection. */
async function sendRoundTrip(hub: Hub): Promise<void> {
  await hub.ingest.publish('tessera/v1/network/occupancy-probe', 'x');
}
