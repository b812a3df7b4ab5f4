import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { mosquittoPasswordLine, renderObserverAcl } from '../../firmware-config/render-mosquitto.js';
import { finished, runCli, spawnCli, waitForOutput } from '../harness/process.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { tempDir } from '../support/temp-dir.js';
import { runDeployMosquitto } from '../support/mosquitto.js';
import { eventually } from '../support/eventually.js';

const ROOT = resolve('.');
const cleanups = cleanupsAfterEach();

// Under CI (.ci/run installs them) a missing tool fails the test instead of skipping it.
const hasBinary = (name: string) =>
  process.env.CI === 'true' || spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

async function render(config: string, out: string): Promise<void> {
  // Real paths of this machine, so systemd-analyze can check that ExecStart's binary exists.
  const r = await runCli(['config', 'render', config, '--out', out, '--install-dir', ROOT, '--node', process.execPath]);
  expect(r.code, r.stderr).toBe(0);
}

/** A client logged in to the broker at `url`, keeping the topic of every message it receives. */
async function watching(url: string, clientId: string, username: string, password: string) {
  const seen: string[] = [];
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, clientId, username, password });
  cleanups.push(() => void client.end(true));
  client.on('message', (topic) => seen.push(topic));
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return { client, seen };
}

describe('the rendered systemd units', () => {
  const verify = hasBinary('systemd-analyze') ? it : it.skip;
  for (const example of ['business-hours', 'rural-24-7', 'lockers']) {
    verify(`of the ${example} example pass systemd-analyze verify without a warning`, async () => {
      const out = tempDir();
      await render(join(ROOT, 'firmware-config', 'examples', `${example}.yaml`), out);
      const unit = readFileSync(
        join(
          out,
          spawnSync('ls', [out])
            .stdout.toString()
            .split('\n')
            .find((f) => f.endsWith('.service')) ?? '',
        ),
        'utf8',
      );
      const path = join(out, 'check.service');
      writeFileSync(path, unit);
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', path], { encoding: 'utf8' });
      // verify exits 0 on a mistyped directive and only warns: the warnings are the result.
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    });
  }

  verify('a unit with a mistyped directive does not pass the same check (the check can fail)', () => {
    const path = join(tempDir(), 'bad.service');
    writeFileSync(path, `[Service]\nType=notify\nExecStart=${process.execPath}\nRestart=sometimes\n`);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', path], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('sometimes');
  });
});

/** Our own Mosquitto on a free loopback port with the given password file and ACL lines. */
async function startMosquitto(dir: string, passwd: string, acl: string): Promise<string> {
  const broker = await runDeployMosquitto(dir, { passwd, acl });
  cleanups.push(() => broker.stop());
  return broker.url;
}

/** Waits for a delivery, bounded: messages from one publisher arrive in order, so the last one sent comes last. */
const until = (check: () => boolean) => eventually(check, 'a message');

const connect = (url: string, username: string, password: string) =>
  mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: `${username}-${Math.random().toString(16).slice(2, 8)}`,
    username,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });

describe('the rendered broker identity, on a real Mosquitto', () => {
  const withMosquitto = hasBinary('mosquitto') && hasBinary('mosquitto_passwd') ? it : it.skip;
  withMosquitto(
    'admits the site with its password only, and lets it publish and read its own topics only',
    async () => {
      const dir = tempDir();
      const config = join(dir, 'murat.yaml');
      writeFileSync(
        config,
        'version: 2\nsite: { id: murat, name: M, timeZone: Europe/Paris, capacity: 2 }\ndirectory: { source: file, path: d.yaml }\nbroker: { url: "mqtt://127.0.0.1:1", username: murat, password: "s3cret pass" }\n',
      );
      await render(config, join(dir, 'out'));
      const hubLine = spawnSync(
        'sh',
        ['-c', `f=$(mktemp) && mosquitto_passwd -c -b "$f" hub hub-password >/dev/null && cat "$f" && rm "$f"`],
        { encoding: 'utf8' },
      ).stdout;
      const out = join(dir, 'out');
      const url = await startMosquitto(
        dir,
        hubLine + readFileSync(join(out, 'murat.mosquitto-passwd'), 'utf8'),
        `user hub\ntopic readwrite tessera/v1/#\n\n${readFileSync(join(out, 'murat.mosquitto-acl'), 'utf8')}`,
      );

      await expect(connect(url, 'murat', 'wrong')).rejects.toThrow(/Not authorized|Bad username or password/);
      const hub = await connect(url, 'hub', 'hub-password');
      cleanups.push(() => void hub.end(true));
      const received: string[] = [];
      hub.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
      await hub.subscribeAsync('tessera/v1/#', { qos: 1 });
      const site = await connect(url, 'murat', 's3cret pass');
      cleanups.push(() => void site.end(true));

      // MQTT 3.1.1 has no refusal for a publish: a forbidden one is acknowledged and dropped.
      await site.publishAsync('tessera/v1/sites/allanche/events', 'forged', { qos: 1 });
      await site.publishAsync('tessera/v1/sites/murat/directory', 'forged', { qos: 1 });
      await site.publishAsync('tessera/v1/sites/murat/events', 'ok', { qos: 1 });
      await until(() => received.length > 0);
      expect(received).toEqual(['tessera/v1/sites/murat/events ok']);

      // Mosquitto 2 grants any subscription and checks read access on each delivery.
      const siteReceived: string[] = [];
      site.on('message', (topic) => siteReceived.push(topic));
      await site.subscribeAsync('tessera/v1/#', { qos: 1 });
      await hub.publishAsync('tessera/v1/sites/allanche/directory', 'not yours', { qos: 1 });
      await hub.publishAsync('tessera/v1/sites/murat/events', 'not yours to read', { qos: 1 });
      await hub.publishAsync('tessera/v1/sites/murat/ack', '7', { qos: 1 });
      await until(() => siteReceived.length > 0);
      expect(siteReceived).toEqual(['tessera/v1/sites/murat/ack']);
    },
  );

  withMosquitto(
    "the compose demo's broker files admit the hub and both sites with the passwords of their configs, and no one else",
    async () => {
      const dir = tempDir();
      const url = await startMosquitto(
        dir,
        readFileSync(join(ROOT, 'deploy', 'mosquitto', 'passwd'), 'utf8'),
        readFileSync(join(ROOT, 'deploy', 'mosquitto', 'acl'), 'utf8'),
      );
      // The hub's password is docker-compose.yml's secret file, as the hub reads it.
      const hubPassword = readFileSync(join(ROOT, 'deploy', 'secrets', 'hub-mqtt-password'), 'utf8').trim();
      const identities: Array<[string, string]> = [['hub', hubPassword]];
      for (const site of ['murat', 'allanche']) {
        const config = readFileSync(join(ROOT, 'deploy', 'sites', `${site}.yaml`), 'utf8');
        identities.push([/username: (\S+)/.exec(config)?.[1] ?? '', /password: (\S+)/.exec(config)?.[1] ?? '']);
      }
      for (const [user, password] of identities) await (await connect(url, user, password)).endAsync();
      await expect(connect(url, 'murat', 'allanche-demo-password')).rejects.toThrow(/Not authorized/);
      await expect(connect(url, 'anonymous', '')).rejects.toThrow(/Not authorized/);
    },
  );
});

describe('one login, one client, on a real Mosquitto with the sample configuration', () => {
  const withMosquitto = hasBinary('mosquitto') && hasBinary('mosquitto_passwd') ? it : it.skip;
  const demoBroker = async () => {
    const dir = tempDir();
    return startMosquitto(
      dir,
      readFileSync(join(ROOT, 'deploy', 'mosquitto', 'passwd'), 'utf8'),
      readFileSync(join(ROOT, 'deploy', 'mosquitto', 'acl'), 'utf8'),
    );
  };
  const as = (user: 'hub' | 'murat' | 'allanche', clientId: string, o: mqtt.IClientOptions = {}) => ({
    protocolVersion: 4 as const,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId,
    username: user,
    password: `${user}-demo-password`,
    ...o,
  });

  withMosquitto(
    "a site's login with another site's client id or the hub's disconnects neither, and takes no one's session",
    async () => {
      const url = await demoBroker();
      const hub = await mqtt.connectAsync(url, as('hub', 'tessera-hub', { clean: false }));
      cleanups.push(() => void hub.end(true));
      const events: string[] = [];
      hub.on('message', (topic) => events.push(topic));
      await hub.subscribeAsync('tessera/v1/sites/+/events', { qos: 1 });
      const victim = await mqtt.connectAsync(url, as('allanche', 'tessera-edge-allanche', { clean: false }));
      cleanups.push(() => void victim.end(true));
      const closes = { hub: 0, victim: 0 };
      hub.on('close', () => closes.hub++);
      victim.on('close', () => closes.victim++);

      for (const stolen of ['tessera-edge-allanche', 'tessera-hub', 'allanche', 'hub']) {
        const intruder = await mqtt.connectAsync(url, as('murat', stolen, { clean: false }));
        await intruder.endAsync();
      }
      // Both still hold their connections: a publish goes from one to the other.
      await victim.publishAsync('tessera/v1/sites/allanche/events', 'still here', { qos: 1 });
      await until(() => events.includes('tessera/v1/sites/allanche/events'));
      expect(closes).toEqual({ hub: 0, victim: 0 });
    },
  );

  withMosquitto(
    "a persistent session is the login's, whatever client id it sends: it keeps its queued messages, and no other login gets them",
    async () => {
      const url = await demoBroker();
      const first = await mqtt.connectAsync(url, as('allanche', 'tessera-edge-allanche', { clean: false }));
      await first.subscribeAsync('tessera/v1/sites/allanche/directory', { qos: 1 });
      await first.endAsync();
      const hub = await mqtt.connectAsync(url, as('hub', 'tessera-hub'));
      cleanups.push(() => void hub.end(true));
      await hub.publishAsync('tessera/v1/sites/allanche/directory', 'badge 04AABBCCDDEEFF', { qos: 1 });

      const stolen: string[] = [];
      const intruder = mqtt.connect(url, as('murat', 'tessera-edge-allanche', { clean: false }));
      intruder.on('message', (topic) => stolen.push(topic));
      await new Promise<void>((resolve) => intruder.once('connect', () => resolve()));
      const mine: string[] = [];
      const owner = mqtt.connect(url, as('allanche', 'another-id', { clean: false }));
      cleanups.push(() => void owner.end(true));
      owner.on('message', (_topic, payload) => mine.push(payload.toString()));
      await until(() => mine.length > 0);
      await intruder.endAsync();
      expect(mine).toEqual(['badge 04AABBCCDDEEFF']);
      expect(stolen).toEqual([]);
    },
  );
});

describe('an observer on a real Mosquitto, with the lines `tessera observer provision` prints', () => {
  const withMosquitto = hasBinary('mosquitto') && hasBinary('mosquitto_passwd') ? it : it.skip;
  withMosquitto(
    'reads the network occupancy and the discovery configs, nothing else, and publishes nothing',
    async () => {
      const dir = tempDir();
      const deploy = (f: string) => readFileSync(join(ROOT, 'deploy', 'mosquitto', f), 'utf8');
      const url = await startMosquitto(
        dir,
        deploy('passwd') + mosquittoPasswordLine('observer.hall', 'hall-password'),
        `${deploy('acl')}\n${renderObserverAcl('observer.hall')}`,
      );
      const { client: hub } = await watching(url, 'tessera-hub', 'hub', 'hub-demo-password');
      await hub.publishAsync('tessera/v1/sites/murat/directory', 'badge 04AABBCCDDEEFF', { qos: 1, retain: true });
      await hub.publishAsync('homeassistant/light/elsewhere/config', '{}', { qos: 1, retain: true });

      const { client: observer, seen } = await watching(url, 'observer.hall', 'observer.hall', 'hall-password');
      await observer.subscribeAsync(['#', 'homeassistant/+/+/+/config'], { qos: 1 });
      // MQTT 3.1.1 has no refusal for a publish: Mosquitto acknowledges and drops it.
      await observer.publishAsync('tessera/v1/network/occupancy', 'forged', { qos: 1 });
      await hub.publishAsync('tessera/v1/sites/murat/commands', 'open', { qos: 1 });
      await hub.publishAsync('homeassistant/sensor/tessera/murat_occupancy/config', '{}', { qos: 1, retain: true });
      await hub.publishAsync('tessera/v1/network/occupancy', '{"total":1}', { qos: 1, retain: true });
      await until(() => seen.includes('tessera/v1/network/occupancy'));
      expect([...new Set(seen)].sort()).toEqual([
        'homeassistant/sensor/tessera/murat_occupancy/config',
        'tessera/v1/network/occupancy',
      ]);
    },
  );
});

describe('Home Assistant on a real Mosquitto, with the lines `tessera observer provision home-assistant` prints', () => {
  const withMosquitto = hasBinary('mosquitto') && hasBinary('mosquitto_passwd') ? it : it.skip;
  withMosquitto(
    'reads the discovery, state and status topics, publishes its birth and presses; another observer cannot press',
    async () => {
      const dir = tempDir();
      const deploy = (f: string) => readFileSync(join(ROOT, 'deploy', 'mosquitto', f), 'utf8');
      const url = await startMosquitto(
        dir,
        deploy('passwd') +
          mosquittoPasswordLine('observer.home-assistant', 'ha-password') +
          mosquittoPasswordLine('observer.hall', 'hall-password'),
        `${deploy('acl')}\n${renderObserverAcl('observer.home-assistant', undefined, undefined, true)}\n${renderObserverAcl('observer.hall')}`,
      );
      const { client: hub } = await watching(url, 'tessera-hub', 'hub', 'hub-demo-password');
      const presses: string[] = [];
      hub.on('message', (topic, payload) => presses.push(`${topic} ${payload.toString()}`));
      await hub.subscribeAsync('tessera/v1/home-assistant/+/command', { qos: 1 });
      for (const [topic, payload] of [
        ['tessera/v1/hub/status', 'online'],
        ['tessera/v1/sites/murat/status', '{"online":true}'],
        ['tessera/v1/home-assistant/murat/state', '{"present":1}'],
        ['homeassistant/device/tessera/murat/config', '{}'],
        ['tessera/v1/sites/murat/directory', 'badge 04AABBCCDDEEFF'],
      ])
        await hub.publishAsync(topic ?? '', payload ?? '', { qos: 1, retain: true });

      // Home Assistant's own client id: the listener takes the username as client id anyway.
      const { client: ha, seen } = await watching(
        url,
        'mqtt-home-assistant-3f9a',
        'observer.home-assistant',
        'ha-password',
      );
      await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await ha.subscribeAsync(['homeassistant/#', 'tessera/v1/#'], { qos: 1 });
      await ha.publishAsync('tessera/v1/home-assistant/murat/command', '{"kind":"lockdown"}', { qos: 1 });
      await until(() => presses.length > 0);

      const hall = await mqtt.connectAsync(url, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: 'observer.hall',
        username: 'observer.hall',
        password: 'hall-password',
      });
      cleanups.push(() => void hall.end(true));
      // MQTT 3.1.1 has no refusal for a publish: Mosquitto acknowledges and drops it.
      await hall.publishAsync('tessera/v1/home-assistant/murat/command', '{"kind":"lift_lockdown"}', { qos: 1 });
      await hall.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await hub.publishAsync('tessera/v1/network/occupancy', '{"total":1}', { qos: 1, retain: true });
      await until(() => seen.includes('tessera/v1/network/occupancy'));
      expect(presses).toEqual(['tessera/v1/home-assistant/murat/command {"kind":"lockdown"}']);
      expect([...new Set(seen)].sort()).toEqual([
        'homeassistant/device/tessera/murat/config',
        'homeassistant/status',
        'tessera/v1/home-assistant/murat/state',
        'tessera/v1/hub/status',
        'tessera/v1/network/occupancy',
        'tessera/v1/sites/murat/status',
      ]);
    },
  );
});

describe("docker-compose.yml's hub command line", () => {
  it('its hub command line works: --api-host puts the API on the address given (0.0.0.0 in the container; here 127.0.0.2, loopback)', async () => {
    const dir = tempDir();
    const hub = spawnCli([
      'hub',
      '--db',
      join(dir, 'hub.db'),
      '--broker-port',
      '0',
      '--api-port',
      '0',
      '--api-host',
      '127.0.0.2',
    ]);
    cleanups.push(() => hub.kill('SIGKILL'));
    const m = await waitForOutput(hub, /API:\s+(http:\/\/127\.0\.0\.2:\d+)/);
    const res = await fetch(`${m[1]}/health`);
    expect(res.status).toBe(200);
    hub.kill('SIGTERM');
    expect((await finished(hub)).code).toBe(0);
  });
});
