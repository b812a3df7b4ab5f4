import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { observerRights, topics } from '../../shared/protocol/topics.js';
import { finished, runCli, spawnCli, waitForOutput } from '../harness/process.js';
import { batchOf } from '../harness/hub-fixtures.js';
import { loginOver, TEST_ADMIN } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';

/** Runs `tessera hub` in its own process. */
const spawnHub = (args: string[]) =>
  spawnCli(['hub', ...args], { TESSERA_LOG_LEVEL: 'warn', TESSERA_INITIAL_ADMIN_PASSWORD: TEST_ADMIN.password });

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0 });
    });
  });
}

describe('tessera hub (the command)', () => {
  let dir: string;
  /** The hub's database and key: a PostgreSQL URL leaves the key nowhere near it, so the key is always named. */
  let db: string[];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-hub-cli-'));
    db = ['--db', await lastingHubDb(dir), '--key', join(dir, 'hub.key')];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints where its broker and API listen, admits a provisioned site, ingests, and stops cleanly on SIGTERM', async () => {
    const hub = spawnHub([...db, '--broker-port', '0', '--api-port', '0']);
    try {
      const [, mqttUrl] = await waitForOutput(
        hub,
        /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+) \(embedded, MQTT 3\.1\.1; provisioned sites only/,
      );
      const [, apiUrl] = await waitForOutput(hub, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/);
      const provisioned = await runCli(['site', 'provision', 'murat', ...db, '--url', mqttUrl ?? '']);
      expect(provisioned.code).toBe(0);
      expect(provisioned.stdout).toMatch(
        /^broker:\n {2}url: mqtt:\/\/127\.0\.0\.1:\d+\n {2}username: murat\n {2}password: \S{24}\n {2}hubPublicKey: \|\n {4}-----BEGIN PUBLIC KEY-----/m,
      );
      const password = /^ {2}password: (\S+)$/m.exec(provisioned.stdout)?.[1] ?? '';
      const site = await mqtt.connectAsync(mqttUrl ?? '', {
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: 'tessera-edge-murat',
        username: 'murat',
        password,
      });
      await site.publishAsync(topics().events('murat'), JSON.stringify(batchOf('murat', 1, 2)), { qos: 1 });
      await site.endAsync();
      const { authorization } = await loginOver(apiUrl ?? '', TEST_ADMIN.username, TEST_ADMIN.password);
      await vi.waitFor(
        async () => {
          const body = (await (await fetch(`${apiUrl}/sites`, { headers: { authorization } })).json()) as {
            sites: Array<{ contiguous: number }>;
          };
          expect(body.sites[0]?.contiguous).toBe(2);
        },
        { timeout: 5000, interval: 50 },
      );
      // Without credentials, or with a wrong password, the broker refuses the connection.
      await expect(mqtt.connectAsync(mqttUrl ?? '', { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow(
        /Bad username or password|Not authorized/i,
      );
      await expect(
        mqtt.connectAsync(mqttUrl ?? '', {
          protocolVersion: 4,
          reconnectPeriod: 0,
          username: 'murat',
          password: `${password}x`,
        }),
      ).rejects.toThrow(/Bad username or password/i);
      hub.kill('SIGTERM');
      const r = await finished(hub, 8000);
      expect(r.code).toBe(0);
    } finally {
      if (hub.exitCode === null) hub.kill('SIGKILL');
    }
  });

  it('site provision needs the hub database and key, and a valid site id', async () => {
    const none = await runCli(['site', 'provision', 'murat', '--db', join(dir, 'missing.db')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no hub database at ${join(dir, 'missing.db')}`);
    expect((await runCli(['site', 'provision'])).code).toBe(64);
    const hub = spawnHub([...db, '--broker-port', '0', '--api-port', '0']);
    try {
      await waitForOutput(hub, /API:/);
      const bad = await runCli(['site', 'provision', 'Not A Site', ...db]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('invalid site id "Not A Site"');
      expect(bad.stderr).toContain('[request.invalid]');
      // --json: the same login as one object, for a script that writes the config itself.
      const json = await runCli(['site', 'provision', 'murat', ...db, '--url', 'mqtts://hub.example:8883', '--json']);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        site: 'murat',
        url: 'mqtts://hub.example:8883',
        username: 'murat',
        clientId: 'tessera-edge-murat',
        password: expect.stringMatching(/^\S{24}$/),
        hubPublicKeyPem: expect.stringContaining('-----BEGIN PUBLIC KEY-----'),
      });
    } finally {
      hub.kill('SIGKILL');
    }
  });

  it('observer provision prints a read-only login that reads the network occupancy, and its Mosquitto lines', async () => {
    expect((await runCli(['observer', 'provision', 'hall', '--db', join(dir, 'missing.db')])).stderr).toContain(
      'no hub database at',
    );
    const hub = spawnHub([...db, '--broker-port', '0', '--api-port', '0']);
    try {
      const [, mqttUrl] = await waitForOutput(hub, /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+) \(embedded/);
      const hubDb = db.slice(0, 2); // --db only: an observer needs no key
      const bad = await runCli(['observer', 'provision', 'Hall Display', ...hubDb]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('invalid observer name "Hall Display"');
      const provisioned = await runCli(['observer', 'provision', 'hall', ...hubDb, '--url', mqttUrl ?? '']);
      expect(provisioned.code).toBe(0);
      expect(provisioned.stdout).toMatch(
        /^url: mqtt:\/\/127\.0\.0\.1:\d+\nusername: observer\.hall\npassword: \S{24}\n(#.*\n)?clientId: observer\.hall$/m,
      );
      expect(provisioned.stdout).toMatch(/^observer\.hall:\$7\$1000\$/m);
      expect(provisioned.stdout).toContain(
        'user observer.hall\ntopic read tessera/v1/network/occupancy\ntopic read tessera/v1/hub/status\ntopic read tessera/v1/sites/+/status\n',
      );
      expect(provisioned.stdout).toContain('topic write homeassistant/status\n');
      expect(provisioned.stdout).not.toContain('topic write tessera/v1/home-assistant/+/command');
      const field = (name: string) => new RegExp(`^${name}: (\\S+)$`, 'm').exec(provisioned.stdout)?.[1] ?? '';
      const observer = await mqtt.connectAsync(mqttUrl ?? '', {
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: field('clientId'),
        username: field('username'),
        password: field('password'),
      });
      const occupancy = new Promise<string>((resolve) => observer.once('message', (topic) => resolve(topic)));
      await observer.subscribeAsync(topics().occupancy, { qos: 1 });
      expect(await occupancy).toBe(topics().occupancy);
      await observer.endAsync();
      const json = await runCli(['observer', 'provision', 'hall', ...hubDb, '--url', mqttUrl ?? '', '--json']);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        name: 'hall',
        username: 'observer.hall',
        clientId: 'observer.hall',
        reads: observerRights().read,
        publishes: ['homeassistant/status'],
        mosquitto: { passwordLine: expect.stringMatching(/^observer\.hall:\$7\$/) },
      });
    } finally {
      hub.kill('SIGKILL');
    }
  });

  it('--open-broker admits any client (and says so)', async () => {
    const hub = spawnHub([...db, '--broker-port', '0', '--api-port', '0', '--open-broker']);
    try {
      const [, mqttUrl] = await waitForOutput(
        hub,
        /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+) \(embedded, MQTT 3\.1\.1; open to any client\)/,
      );
      const anyone = await mqtt.connectAsync(mqttUrl ?? '', { protocolVersion: 4, reconnectPeriod: 0 });
      await anyone.endAsync();
    } finally {
      hub.kill('SIGKILL');
    }
  });

  it('says which port is in use and what to pass instead', async () => {
    const { server, port } = await occupyPort();
    try {
      const broker = await finished(
        spawnHub(['--db', join(dir, 'a.db'), '--broker-port', String(port), '--api-port', '0']),
        8000,
      );
      expect(broker.code).toBe(1);
      expect(broker.stderr).toContain(
        `the MQTT broker cannot listen on 127.0.0.1:${port}: the port is in use; pass --broker-port N`,
      );
      const api = await finished(
        spawnHub(['--db', join(dir, 'b.db'), '--broker-port', '0', '--api-port', String(port)]),
        8000,
      );
      expect(api.code).toBe(1);
      expect(api.stderr).toContain(
        `the hub API cannot listen on 127.0.0.1:${port}: the port is in use; pass --api-port N`,
      );
    } finally {
      server.close();
    }
  });

  it('refuses --mqtt with --broker-port, a bad port, a bad retention and half a TLS pair, as usage errors', async () => {
    const both = await finished(spawnHub(['--mqtt', 'mqtt://127.0.0.1:1883', '--broker-port', '1884']), 8000);
    expect(both.code).toBe(64);
    expect(both.stderr).toContain('--mqtt and --broker-port exclude each other');
    const bad = await finished(spawnHub(['--api-port', '80a']), 8000);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--api-port expects 0-65535, got "80a"');
    const retention = await finished(spawnHub(['--retention-days', '0']), 8000);
    expect(retention.code).toBe(64);
    expect(retention.stderr).toContain('--retention-days expects a whole number of days, 1-36500, got "0"');
    const tls = await finished(spawnHub(['--tls-cert', 'cert.pem']), 8000);
    expect(tls.code).toBe(64);
    expect(tls.stderr).toContain('--tls-cert and --tls-key go together');
  });
});
