import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { systemClock, ManualClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import type { Logger } from 'pino';
import { cardKeys } from '../../edge/badges/diversify.js';
import { doorKeysFrom } from '../../edge/badges/door-keys.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { SimReader } from '../../edge/hardware/sim-reader.js';
import { createEdge } from '../../edge/site/edge.js';
import { createNtag424Verifier } from '../../edge/site/secure-badges.js';
import type { TapResult } from '../../edge/site/tap-handler.js';
import { EdgeStore } from '../../edge/store/store.js';
import { SiteConfig } from '../../firmware-config/schema.js';
import { Directory } from '../../shared/protocol/directory.js';
import { BASE_CONFIG, BASE_DIRECTORY, MONDAY_9AM_PARIS } from '../harness/site.js';
import { LogCapture, Secrets } from '../harness/log-capture.js';
import { testHubDb, lastingHubDb } from '../harness/hub-db.js';
import { eventuallyWithin } from '../support/eventually.js';

const UID = '04A1B2C3D4E5F6';
const UNKNOWN_UID = '04DEADBEEFCAFE';
const NEW_PASSWORD = 'correct horse battery staple';
const MANAGER_PASSWORD = 'manager-password-4711';
const RESET_PASSWORD = 'reset-password-0815';
const WRONG_PASSWORD = 'Tr0ub4dor&3-is-wrong';
const API_TOKEN = 'edge-api-token-5f0c3a9e1b7d';
const WRONG_BROKER_PASSWORD = 'not-the-broker-password-31';

const capture = new LogCapture();
const log = pino({ level: 'debug' }, capture);
const secrets = new Secrets();
const dir = mkdtempSync(join(tmpdir(), 'tessera-log-secrets-'));
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const eventually = eventuallyWithin(15_000, 25);

/** The hub's API over its real socket. */
function client(apiUrl: string) {
  return async (method: string, path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
}

async function startHub(): Promise<{ hub: Hub; mqttUrl: string; call: ReturnType<typeof client> }> {
  const keys = generateHubKeys();
  secrets.add('the hub private key (PEM)', keys.privateKeyPem.trim());
  for (const line of keys.privateKeyPem.split('\n').filter((l) => l.length >= 20 && !l.startsWith('-----')))
    secrets.add('the hub private key (a line of it)', line);
  // No initialAdmin: the hub makes `admin` with a one-time password, as on a first start.
  const hub = await createHub({
    dbPath: await lastingHubDb(dir),
    clock: systemClock,
    log,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: keys.privateKeyPem,
    brokerIdentities: true,
  });
  const { mqttUrl, apiUrl } = await hub.start();
  cleanups.push(() => hub.stop());
  return { hub, mqttUrl, call: client(apiUrl) };
}

async function login(call: ReturnType<typeof client>, username: string, password: string): Promise<string> {
  const r = await call('POST', '/auth/login', { username, password });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  const token = r.json.token as string;
  secrets.add(`the session token of ${username}`, token);
  return token;
}

/** The operator's first hour: the one-time password, their own, a wrong try, a site manager, a password reset. */
async function operatorLogsIn(hub: Hub, call: ReturnType<typeof client>): Promise<string> {
  const once = hub.oneTimeAdmin;
  if (!once) throw new Error('the hub made no one-time admin');
  secrets.add('the one-time admin password', once.password);
  for (const [what, p] of [
    ['the new admin password', NEW_PASSWORD],
    ['a site manager password', MANAGER_PASSWORD],
    ['a reset password', RESET_PASSWORD],
    ['a wrong password typed', WRONG_PASSWORD],
  ] as const)
    secrets.add(what, p);
  const first = await login(call, once.username, once.password);
  expect(
    (await call('POST', '/auth/password', { currentPassword: once.password, newPassword: NEW_PASSWORD }, first)).status,
  ).toBe(204);
  expect((await call('POST', '/auth/login', { username: once.username, password: WRONG_PASSWORD })).status).toBe(401);
  const admin = await login(call, once.username, NEW_PASSWORD);
  const created = await call(
    'POST',
    '/accounts',
    {
      username: 'manon',
      role: 'site_manager',
      sites: ['murat'],
      password: MANAGER_PASSWORD,
      mustChangePassword: false,
    },
    admin,
  );
  expect(created.status).toBe(201);
  const manager = await login(call, 'manon', MANAGER_PASSWORD);
  expect((await call('GET', '/directory/members', undefined, manager)).status).toBe(200);
  expect(
    (
      await call(
        'POST',
        `/accounts/${(created.json.account as { id: string }).id}/password`,
        { password: RESET_PASSWORD, mustChangePassword: false },
        admin,
      )
    ).status,
  ).toBe(204);
  await login(call, 'manon', RESET_PASSWORD);
  return admin;
}

async function startSite(hub: Hub, mqttUrl: string): Promise<RunningEdge> {
  const credentials = await hub.brokerIdentities.provision('murat');
  secrets.add('the site broker password', credentials.password);
  secrets.add('the edge API token', API_TOKEN);
  const yaml = networkSiteYaml({
    id: 'murat',
    mqttUrl,
    hubPublicKeyPem: hub.publicKeyPem,
    heartbeatSeconds: 5,
    credentials,
  }).replace('api: { port: 0 }', `api: { port: 0, token: "${API_TOKEN}" }`);
  writeFileSync(join(dir, 'site.yaml'), yaml);
  const site = await runEdge({
    configPath: join(dir, 'site.yaml'),
    simulate: true,
    log,
    storagePath: join(dir, 'edge.db'),
  });
  cleanups.push(() => site.stop());
  return site;
}

const MASTER = Buffer.from('8F3A6C1D2E4B5A69788796A5B4C3D2E1', 'hex');
const SECURE_UID = '04DE5F1EACC040';

/**
 * NTAG 424 badges at two doors of a site wired as in production (createEdge, simulated hardware),
 * one proving cards by AuthenticateEV2First, one by SUN message: genuine taps, a clone, a replay.
 */
async function secureBadgeTaps(logger: Logger): Promise<void> {
  const door = doorKeysFrom(MASTER);
  secrets.key('the site master key', MASTER);
  secrets.key('the SDM meta read key', door.metaReadKey);
  secrets.key('the door key master', door.doorKeyMaster);
  const keys = cardKeys(
    MASTER,
    Buffer.from(SECURE_UID, 'hex'),
    Buffer.from('3042F5', 'hex'),
    Buffer.from('Tessera', 'utf8'),
  ).map((k) => k.key);
  keys.forEach((k, i) => secrets.key(`the card's key ${i}`, k));
  secrets.uid('the NTAG 424 badge UID', SECURE_UID);
  const directory = structuredClone(BASE_DIRECTORY);
  directory.badges = [{ uid: SECURE_UID, member: 'eve', type: 'ntag424' }];
  for (const check of ['authenticate', 'sun'] as const) {
    const config = SiteConfig.parse({ ...BASE_CONFIG, secureBadges: { doorKeyFile: '/unused', check } });
    const clock = new ManualClock(MONDAY_9AM_PARIS);
    const reader = new SimReader(
      config.readers.map((r) => r.id),
      clock,
    );
    const store = EdgeStore.open(':memory:', config.site.id, config.site.timeZone);
    const verifier = createNtag424Verifier(config.secureBadges!, door, logger.child({ module: 'secure-badges' }));
    const edge = createEdge({ config, clock, log: logger, store, reader, gpio: new SimGpio(clock), verifier });
    edge.applyDirectory(Directory.parse(directory), 'test');
    await edge.start();
    const tap = (card: SoftNtag424, readerId = 'front-in') =>
      new Promise<TapResult>((resolve) => {
        const off = edge.onTap((r) => (off(), resolve(r)));
        reader.tap(readerId, SECURE_UID, { card });
      });
    const genuine = new SoftNtag424({ uid: SECURE_UID, keys, url: 'https://badge.example/t' });
    expect(await tap(genuine)).toMatchObject({ granted: true });
    expect(await tap(genuine, 'front-out')).toMatchObject({ granted: true });
    const clone = new SoftNtag424({ uid: SECURE_UID, keys: keys.map(() => Buffer.alloc(16, 7)) });
    expect(await tap(clone)).toMatchObject({ granted: false, reason: 'card_not_genuine' });
    // A card that starts its counter over replays SUN messages the door already accepted.
    if (check === 'sun')
      expect(await tap(new SoftNtag424({ uid: SECURE_UID, keys, url: 'https://badge.example/t' }))).toMatchObject({
        granted: false,
      });
    await edge.stop();
    store.close();
  }
}

/**
 * What is refused for being a bad secret is still one: a site config with a short API token and
 * a broker password of the wrong shape (the edge logs the errors), a first admin password too
 * short (the hub CLI prints the error). Returns the error texts, as the CLI would print them.
 */
async function refusedSecrets(logger: Logger): Promise<string[]> {
  for (const [what, text] of [
    ['a refused API token', 'short-secret'],
    ['a refused broker password', 's3cr3t-broker-pw'],
    ['a refused admin password', 'hunter2-x'],
  ] as const)
    secrets.add(what, text);
  const yaml = networkSiteYaml({ id: 'murat', mqttUrl: 'mqtt://127.0.0.1:1' })
    .replace('api: { port: 0 }', 'api: { port: 0, token: "short-secret" }')
    .replace(
      '  url: "mqtt://127.0.0.1:1"',
      '  url: "mqtt://127.0.0.1:1"\n  username: murat\n  password: ["s3cr3t-broker-pw"]',
    );
  writeFileSync(join(dir, 'refused.yaml'), yaml);
  const printed: string[] = [];
  await runEdge({ configPath: join(dir, 'refused.yaml'), simulate: true, log: logger }).then(
    () => expect.fail('the config should be refused'),
    (err: Error) => printed.push(err.message),
  );
  try {
    await createHub({
      dbPath: await testHubDb(),
      clock: systemClock,
      log: logger,
      initialAdmin: { username: 'admin', password: 'hunter2-x' },
    });
    expect.fail('the first admin password should be refused');
  } catch (err) {
    printed.push((err as Error).message);
  }
  expect(printed.join('\n')).toMatch(/api\.token[\s\S]*broker\.password[\s\S]*initialAdmin\.password/);
  return printed;
}

describe('logs of a whole run carry no secret', () => {
  it(
    'hub and site over MQTT, logins, a member with a badge, taps, a revocation, NTAG 424 keys at work: no password, token, key or full UID in any line',
    { timeout: 60_000 },
    async () => {
      const { hub, mqttUrl, call } = await startHub();
      const admin = await operatorLogsIn(hub, call);
      secrets.uid('the badge UID', UID);
      secrets.uid('an unknown badge UID', UNKNOWN_UID);
      const site = await startSite(hub, mqttUrl);
      const tap = async (uid: string, reader = 'front-in') =>
        (await (
          await fetch(`${site.url}/simulate/tap`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ reader, uid }),
          })
        ).json()) as { granted: boolean; reason: string };

      expect((await call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' }, admin)).status).toBe(
        200,
      );
      expect(
        (await call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' }, admin)).status,
      ).toBe(200);
      expect((await call('PUT', `/directory/badges/${UID.toLowerCase()}`, { member: 'alice' }, admin)).status).toBe(
        200,
      );
      expect((await call('PUT', `/directory/badges/${UNKNOWN_UID}`, { member: 'nobody' }, admin)).status).toBe(400);
      await eventually(async () => (await tap(UID)).granted, 'the badge opens the site');
      await tap(UID.match(/../g)!.join(':').toLowerCase(), 'front-out');
      expect(await tap(UNKNOWN_UID)).toMatchObject({ granted: false, reason: 'unknown_badge' });
      expect((await call('POST', `/directory/badges/${UID}/revoke`, undefined, admin)).status).toBe(200);
      await eventually(async () => (await tap(UID)).reason === 'badge_revoked', 'the revocation reaches the site');
      await eventually(
        async () => ((await hub.store.progress('murat'))?.contiguous ?? 0) >= site.edge.store.events.lastSeq(),
        'the hub holds every event',
      );
      secrets.add('a wrong broker password tried', WRONG_BROKER_PASSWORD);
      await expect(
        mqtt.connectAsync(mqttUrl, {
          protocolVersion: 4,
          clientId: 'intruder',
          username: 'murat',
          password: WRONG_BROKER_PASSWORD,
          reconnectPeriod: 0,
        }),
      ).rejects.toThrow();

      await secureBadgeTaps(log);
      const printed = await refusedSecrets(log);
      for (const c of cleanups.splice(1).reverse()) await c();

      const lines = [...capture.lines(), ...printed];
      expect(lines.length).toBeGreaterThan(50);
      expect(lines.some((l) => l.includes('"level":20'))).toBe(true); // debug lines were written too
      expect(lines.some((l) => l.includes('…E5F6'))).toBe(true); // the masked form is what the logs use
      expect(secrets.size).toBeGreaterThan(20);
      // The scan finds what it looks for: a line that had one of them would fail the test.
      expect(
        secrets.leaks([`{"msg":"login","password":"${NEW_PASSWORD}"}`, `{"badge":"${UID.toLowerCase()}"}`]),
      ).toHaveLength(2);
      expect(secrets.leaks(lines)).toEqual([]);
    },
  );
});
