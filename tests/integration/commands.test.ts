import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { systemClock } from '../../shared/platform/clock.js';
import { COMMAND_SCHEMA_VERSION } from '../../shared/protocol/commands.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { generateHubKeys, hubPrivateKey, signBody } from '../../shared/protocol/signing.js';
import { EventBatch } from '../../shared/protocol/sync.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';

const UID = '04A1A1A1A1A1A1';
const SITE = 'murat';
const cleanups = cleanupsAfterEach();

interface Network {
  hub: Hub;
  mqttUrl: string;
  site: RunningEdge;
  /** The level of the door relay's line (BCM 17) as the simulated GPIO mirrors it to a file. */
  relay(): string;
  /** Any line's level, as mirrored. */
  line(n: number): string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  tap(reader?: string): Promise<{ granted: boolean; reason: string }>;
  /** The site's events the hub holds. */
  hubEvents(): Promise<SiteEvent[]>;
}

/** A hub (embedded broker) and one site run from its config file with simulated hardware, a member whose badge opens it. */
async function startNetwork(opts: { brokerIdentities?: boolean } = {}): Promise<Network> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-commands-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const hub = await createHub({
    dbPath: await lastingHubDb(dir),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
    ...(opts.brokerIdentities ? { brokerIdentities: true } : {}),
  });
  const { mqttUrl, apiUrl } = await hub.start();
  cleanups.push(() => hub.stop());
  const auth: AuthHeaders = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
  const credentials = opts.brokerIdentities ? { credentials: await hub.brokerIdentities.provision(SITE) } : {};
  const yaml = networkSiteYaml({
    id: SITE,
    mqttUrl,
    hubPublicKeyPem: hub.publicKeyPem,
    heartbeatSeconds: 5,
    ...credentials,
  });
  writeFileSync(
    join(dir, 'site.yaml'),
    yaml.replace(
      'relay: { line: 17 } }',
      'relay: { line: 17 }, pulseMs: 500, exitButton: { line: 22, debounceMs: 0 } }',
    ),
  );
  const gpioDir = join(dir, 'gpio');
  const site = await runEdge({
    configPath: join(dir, 'site.yaml'),
    simulate: true,
    log: silent,
    storagePath: join(dir, 'edge.db'),
    simGpioDir: gpioDir,
  });
  cleanups.push(() => site.stop());
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${path.startsWith('http') ? '' : apiUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        authorization: auth.authorization,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const tap = async (reader = 'front-in') =>
    (await call('POST', `${site.url}/simulate/tap`, { reader, uid: UID })).json as { granted: boolean; reason: string };
  await call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
  await call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
  await call('PUT', `/directory/badges/${UID}`, { member: 'alice' });
  await eventually(async () => (await tap()).granted, 'the badge opens the site');
  await tap('front-out');
  await eventually(() => readFileSync(join(gpioDir, 'gpio17'), 'utf8') === '0', 'the door locked again');
  return {
    hub,
    mqttUrl,
    site,
    call,
    tap,
    relay: () => readFileSync(join(gpioDir, 'gpio17'), 'utf8'),
    line: (n) => readFileSync(join(gpioDir, `gpio${n}`), 'utf8'),
    hubEvents: async () => (await hub.store.events(SITE, 0, 10_000)).map((s) => s.event),
  };
}

const receipts = async (net: Network) =>
  (await net.hubEvents()).flatMap((e) => (e.type === 'command.executed' ? [e.data] : []));
const refusals = async (net: Network) =>
  (await net.hubEvents()).flatMap((e) =>
    e.type === 'device.fault' && e.data.kind === 'command.rejected' ? [e.data.detail ?? ''] : [],
  );

describe('hub commands over the embedded broker: the operator asks, the site obeys only the hub', () => {
  it('unlock from the hub API pulses the relay of the simulated GPIO, and the site’s receipt reaches the hub (broker identities enforced)', async () => {
    const net = await startNetwork({ brokerIdentities: true });
    const sent = await net.call('POST', `/sites/${SITE}/commands`, { kind: 'unlock', door: 'front' });
    expect(sent).toMatchObject({ status: 202, json: { published: true, item: { kind: 'unlock', door: 'front' } } });
    await eventually(() => net.relay() === '1', 'the relay energised');
    await eventually(() => net.relay() === '0', 'the relay released after its pulse');
    const nonce = (sent.json.item as { nonce: string }).nonce;
    await eventually(async () => (await receipts(net)).some((r) => r.command === nonce), 'the receipt at the hub');
    expect(await receipts(net)).toEqual([{ command: nonce, kind: 'unlock', door: 'front' }]);
    const audit = await net.call('GET', '/audit?entity=command');
    expect(audit.json.items).toEqual([
      expect.objectContaining({ entityId: SITE, after: expect.objectContaining({ nonce, kind: 'unlock' }) }),
    ]);
  });

  it('lockdown refuses a valid badge with reason lockdown while the exit button still opens; lift restores the badge', async () => {
    const net = await startNetwork();
    expect((await net.call('POST', `/sites/${SITE}/commands`, { kind: 'lockdown' })).status).toBe(202);
    await eventually(async () => (await net.tap()).reason === 'lockdown', 'the lockdown at the site');
    expect(net.relay()).toBe('0');
    expect((await net.call('POST', `${net.site.url}/simulate/exit/front`, {})).status).toBe(200);
    await eventually(() => net.relay() === '1', 'the exit button pulses the door in lockdown');
    // The simulated press ends by itself 150 ms later: let it, before the site may stop.
    await eventually(() => net.line(22) === '0', 'the exit button released');
    expect(await net.tap('front-out')).toMatchObject({ granted: true });
    const doors = (await net.call('GET', `${net.site.url}/doors`)).json.doors as Array<{ lockdown: boolean }>;
    expect(doors).toEqual([expect.objectContaining({ id: 'front', lockdown: true })]);

    expect((await net.call('POST', `/sites/${SITE}/commands`, { kind: 'lift_lockdown' })).status).toBe(202);
    await eventually(async () => (await net.tap()).granted, 'the badge opens again after the lift');
    await eventually(
      async () => (await net.hubEvents()).filter((e) => e.type === 'door.mode').length === 2,
      'the door modes at the hub',
    );
    expect((await net.hubEvents()).flatMap((e) => (e.type === 'door.mode' ? [e.data.mode] : []))).toEqual([
      'lockdown',
      'locked',
    ]);
    expect((await receipts(net)).map((r) => r.kind)).toEqual(['lockdown', 'lift_lockdown']);
  });

  it('a forged command injected with a plain MQTT client is refused and recorded; a captured real one replayed is refused too', async () => {
    const net = await startNetwork();
    const client = await mqtt.connectAsync(net.mqttUrl, {
      protocolVersion: 4,
      clientId: 'intruder',
      reconnectPeriod: 0,
    });
    cleanups.push(() => client.endAsync());
    const captured: Buffer[] = [];
    client.on('message', (_t, payload) => captured.push(payload));
    await client.subscribeAsync(`tessera/v1/sites/${SITE}/commands`, { qos: 1 });
    const now = Date.now();
    const body = {
      v: COMMAND_SCHEMA_VERSION,
      site: SITE,
      kind: 'unlock',
      door: 'front',
      nonce: 'forged-nonce-000000001',
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 60_000).toISOString(),
    };
    await client.publishAsync(
      `tessera/v1/sites/${SITE}/commands`,
      JSON.stringify({ body, signature: signBody(body, hubPrivateKey(generateHubKeys().privateKeyPem)) }),
      { qos: 1 },
    );
    await client.publishAsync(`tessera/v1/sites/${SITE}/commands`, JSON.stringify({ body }), { qos: 1 });
    await eventually(async () => (await refusals(net)).length === 2, 'both refusals at the hub');
    expect(await refusals(net)).toEqual([expect.stringMatching(/^forged: /), expect.stringMatching(/^unsigned: /)]);
    expect(net.relay()).toBe('0');

    expect((await net.call('POST', `/sites/${SITE}/commands`, { kind: 'unlock', door: 'front' })).status).toBe(202);
    await eventually(
      async () => captured.length === 3 && (await receipts(net)).length === 1,
      'the real unlock carried out',
    );
    await eventually(() => net.relay() === '0', 'the pulse over');
    await client.publishAsync(`tessera/v1/sites/${SITE}/commands`, captured[2] ?? '', { qos: 1 });
    await eventually(async () => (await refusals(net)).length === 3, 'the replay refused');
    expect((await refusals(net))[2]).toMatch(/^replayed: /);
    expect(net.relay()).toBe('0');
    const alarms = (await net.call('GET', '/alarms?open=true')).json.alarms as Array<{ kind: string }>;
    expect(alarms.filter((a) => a.kind === 'command.rejected')).toHaveLength(3);
  });

  it('a re-send request makes the site’s sync worker send its acknowledged events again from the seq asked', async () => {
    const net = await startNetwork();
    const lastSeq = net.site.edge.store.events.lastSeq();
    await eventually(() => net.site.edge.store.events.ackedSeq() >= lastSeq, 'every event acknowledged');
    const watcher = await mqtt.connectAsync(net.mqttUrl, {
      protocolVersion: 4,
      clientId: 'watcher',
      reconnectPeriod: 0,
    });
    cleanups.push(() => watcher.endAsync());
    const batches: EventBatch[] = [];
    watcher.on('message', (_t, payload) => batches.push(EventBatch.parse(JSON.parse(payload.toString()))));
    await watcher.subscribeAsync(`tessera/v1/sites/${SITE}/events`, { qos: 1 });

    expect((await net.call('POST', `/sites/${SITE}/commands`, { kind: 'resend', fromSeq: 2 })).status).toBe(202);
    const resent = () => new Set(batches.flatMap((b) => b.events.map((e) => e.seq)));
    await eventually(
      () => [...Array(lastSeq - 1).keys()].every((i) => resent().has(i + 2)),
      `seqs 2..${lastSeq} sent again`,
    );
    expect(resent().has(1)).toBe(false);
    // Exactly once at the hub all the same, and the receipt is the next event.
    await eventually(async () => (await receipts(net)).length === 1, 'the receipt at the hub');
    expect((await net.hubEvents()).map((e) => e.seq)).toEqual([...Array(lastSeq + 1).keys()].map((i) => i + 1));
    expect(await receipts(net)).toEqual([expect.objectContaining({ kind: 'resend', fromSeq: 2 })]);
  });
});
