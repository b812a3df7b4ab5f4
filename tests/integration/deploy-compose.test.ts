import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import pg from 'pg';
import { parse } from 'yaml';
import { loadSiteConfig } from '../../firmware-config/load.js';
import { passwordSalt, renderBrokerFiles } from '../../firmware-config/render-mosquitto.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { runCli, spawnCli, waitForOutput } from '../harness/process.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';
import { pgServerBin, startPgCluster } from '../support/pg-cluster.js';
import { freePort } from '../support/tcp.js';
import { runDeployMosquitto } from '../support/mosquitto.js';
import { tempDir } from '../support/temp-dir.js';

/** docker-compose.yml and the files it mounts, checked without a container engine. */

const ROOT = resolve('.');
const cleanups = cleanupsAfterEach();
const hasBinary = (name: string) =>
  process.env.CI === 'true' || spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
// The `<<: *tessera` lines merge the shared build and image into each Tessera service.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const secretFile = (name: string) => join(ROOT, compose.secrets[name]?.file ?? `(no secret ${name})`);
const deployFile = (...path: string[]) => readFileSync(join(ROOT, 'deploy', ...path), 'utf8');
const hubPassword = () => readFileSync(secretFile('hub-mqtt-password'), 'utf8').replace(/\n$/, '');

function siteConfigs(): SiteConfig[] {
  return ['murat', 'allanche'].map((site) => {
    const loaded = loadSiteConfig(join(ROOT, 'deploy', 'sites', `${site}.yaml`));
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    return loaded.value;
  });
}

describe('docker-compose.yml', () => {
  it('passes no secret on a command line nor in its environment: every password is a secret file', () => {
    const secrets = [
      ...readdirSync(join(ROOT, 'deploy', 'secrets')).map((f) => deployFile('secrets', f).trim()),
      ...siteConfigs().map((s) => s.broker?.password ?? ''),
    ];
    expect(secrets.filter((s) => s.length < 8)).toEqual([]);
    // Nowhere in the file at all: not in a command, an environment value nor a health check.
    for (const secret of secrets) expect(composeText).not.toContain(secret);
    for (const [name, service] of Object.entries(compose.services)) {
      const line = [...(service.command ?? []), ...Object.values(service.environment ?? {})].join(' ');
      // No URL carries a password (user:password@host).
      expect(line, name).not.toMatch(/:\/\/[^/@\s]*:[^/@\s]*@/);
      for (const s of service.secrets ?? []) expect(Object.keys(compose.secrets), name).toContain(s);
    }
  });

  it('gives every service a health check, and starts each one once those it needs are healthy', () => {
    const services = compose.services;
    for (const [name, service] of Object.entries(services))
      expect(service.healthcheck?.test.length ?? 0, `${name}'s healthcheck`).toBeGreaterThan(1);
    expect(services.postgres?.healthcheck?.test).toContain('pg_isready');
    for (const name of ['hub', 'murat', 'allanche'])
      expect(services[name]?.healthcheck?.test.join(' '), name).toMatch(/fetch\('http:\/\/127\.0\.0\.1:\d+\/health'\)/);
    const needs = (name: string) =>
      Object.entries(services[name]?.depends_on ?? {}).map(([on, d]) => `${on}:${d.condition}`);
    expect(needs('hub').sort()).toEqual(['mosquitto:service_healthy', 'postgres:service_healthy']);
    expect(needs('murat')).toEqual(['hub:service_healthy']);
    expect(needs('allanche')).toEqual(['hub:service_healthy']);
  });

  it('runs the hub on PostgreSQL and Mosquitto, its passwords from the secrets the two servers use', () => {
    const { hub, postgres } = compose.services;
    const db = hub?.command?.[hub.command.indexOf('--db') + 1] ?? '';
    expect(db).toMatch(/^postgres:\/\/tessera@postgres:5432\/tessera$/);
    expect(hub?.command).not.toContain('--mqtt');
    expect(hub?.environment?.TESSERA_MQTT_URL).toBe('mqtt://hub@mosquitto:1883');
    expect(hub?.environment?.TESSERA_MQTT_PASSWORD_FILE).toBe('/run/secrets/hub-mqtt-password');
    expect(hub?.environment?.TESSERA_DB_PASSWORD_FILE).toBe('/run/secrets/postgres-password');
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(postgres?.environment?.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres-password');
    expect(hub?.secrets?.sort()).toEqual(['hub-mqtt-password', 'postgres-password']);
    expect(postgres?.secrets).toEqual(['postgres-password']);
  });

  it('runs two simulated sites from deploy/sites, on the image the hub builds', () => {
    const sites = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'edge');
    expect(sites.map(([name]) => name).sort()).toEqual(['allanche', 'murat']);
    for (const [name, service] of sites) {
      expect(service.command).toEqual(['edge', '--config', `/run/secrets/${name}-config`, '--simulate']);
      expect(compose.secrets[`${name}-config`]?.file).toBe(`./deploy/sites/${name}.yaml`);
      expect(service.image).toBe(compose.services.hub?.image);
      expect(service.build).toEqual(compose.services.hub?.build);
    }
    expect(compose.services.hub?.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
  });

  it("deploy/mosquitto's passwd and acl are what `tessera config mosquitto` renders from the hub's secret and the sites' configs", () => {
    const passwd = deployFile('mosquitto', 'passwd');
    // The hashes are salted: rendered again with the salts they hold, every byte must match.
    const salts = new Map(
      passwd
        .split('\n')
        .map((line) => [line.split(':')[0] ?? '', passwordSalt(line)] as const)
        .filter((e): e is readonly [string, Buffer] => e[1] !== undefined),
    );
    expect([...salts.keys()]).toEqual(['hub', 'murat', 'allanche']);
    const rendered = renderBrokerFiles({ username: 'hub', password: hubPassword() }, siteConfigs(), salts);
    expect(passwd).toBe(rendered.passwd);
    expect(deployFile('mosquitto', 'acl')).toBe(rendered.acl);
  });

  it('`tessera config mosquitto` writes files that the same comparison accepts, and refuses a config without a broker', async () => {
    const out = tempDir();
    const sites = ['murat', 'allanche'].map((s) => join(ROOT, 'deploy', 'sites', `${s}.yaml`));
    const r = await runCli([
      'config',
      'mosquitto',
      ...sites,
      '--hub-password-file',
      secretFile('hub-mqtt-password'),
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const passwd = readFileSync(join(out, 'passwd'), 'utf8');
    const salts = new Map(passwd.split('\n').map((l) => [l.split(':')[0] ?? '', passwordSalt(l) ?? Buffer.alloc(0)]));
    expect(passwd).toBe(renderBrokerFiles({ username: 'hub', password: hubPassword() }, siteConfigs(), salts).passwd);
    expect(readFileSync(join(out, 'acl'), 'utf8')).toBe(deployFile('mosquitto', 'acl'));
    const standalone = join(out, 'standalone.yaml');
    writeFileSync(
      standalone,
      'version: 2\nsite: { id: alone, name: A, timeZone: Europe/Paris, capacity: 2 }\ndirectory: { source: file, path: d.yaml }\n',
    );
    const example = standalone;
    const noBroker = await runCli([
      'config',
      'mosquitto',
      example,
      '--hub-password-file',
      secretFile('hub-mqtt-password'),
      '--out',
      out,
    ]);
    expect(noBroker.code).toBe(2);
    expect(noBroker.stderr).toMatch(/no broker block/);
  });

  const compose1 = hasBinary('docker-compose') ? it : it.skip;
  compose1('validates with docker-compose config, and its sites run configs that tessera accepts', async () => {
    const r = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '--quiet'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const site of ['murat', 'allanche'])
      expect((await runCli(['config', 'validate', join(ROOT, 'deploy', 'sites', `${site}.yaml`)])).code).toBe(0);
  });
});

/** Mosquitto with the compose broker's configuration and files, on a free loopback port. */
async function demoMosquitto(): Promise<number> {
  const broker = await runDeployMosquitto(tempDir(), {
    passwd: deployFile('mosquitto', 'passwd'),
    acl: deployFile('mosquitto', 'acl'),
  });
  cleanups.push(() => broker.stop());
  return broker.port;
}

describe("the compose network's broker, on a real Mosquitto", () => {
  const withMosquitto = hasBinary('mosquitto') && hasBinary('mosquitto_sub') ? it : it.skip;

  withMosquitto("the broker's health check passes on it, and fails where no broker listens", async () => {
    const port = await demoMosquitto();
    const test = compose.services.mosquitto?.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD-SHELL');
    // Compose writes `$$` for a shell's `$`.
    const command = (test[1] ?? '').replaceAll('$$', '$');
    const check = (p: number) =>
      spawnSync('sh', ['-c', command.replace('-p 1883', `-p ${p}`)], { timeout: 20_000 }).status;
    expect(check(port)).toBe(0);
    expect(check(await freePort())).not.toBe(0);
  });

  withMosquitto(
    "the broker holds more than Mosquitto's default 1,000 messages for the hub while it is away: none is dropped",
    async () => {
      const url = `mqtt://127.0.0.1:${await demoMosquitto()}`;
      const MESSAGES = 1500;
      const events = 'tessera/v1/sites/murat/events';
      const hubLogin = {
        username: 'hub',
        password: hubPassword(),
        clientId: 'hub',
        clean: false,
        protocolVersion: 4 as const,
        reconnectPeriod: 0,
      };
      const away = await mqtt.connectAsync(url, hubLogin);
      await away.subscribeAsync('tessera/v1/sites/+/events', { qos: 1 });
      await away.endAsync();
      const murat = await mqtt.connectAsync(url, {
        username: 'murat',
        password: 'murat-demo-password',
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      for (let i = 0; i < MESSAGES; i += 100)
        await Promise.all(
          Array.from({ length: 100 }, (_, j) => murat.publishAsync(events, `batch ${i + j}`, { qos: 1 })),
        );
      await murat.endAsync();
      const received = new Set<string>();
      const back = mqtt.connect(url, { ...hubLogin, manualConnect: true });
      cleanups.push(() => back.end(true));
      back.on('message', (_topic, payload) => received.add(payload.toString()));
      back.connect();
      await eventually(() => received.size === MESSAGES, `${MESSAGES} messages held for the hub`, 20_000, 50);
    },
  );

  withMosquitto(
    'the hub logs in as the compose file has it: the URL from TESSERA_MQTT_URL, the password from its secret file, printed nowhere',
    async () => {
      const port = await demoMosquitto();
      const hub = spawnCli(['hub', '--db', join(tempDir(), 'hub.db'), '--api-port', '0'], {
        TESSERA_MQTT_URL: `mqtt://hub@127.0.0.1:${port}`,
        TESSERA_MQTT_PASSWORD_FILE: secretFile('hub-mqtt-password'),
      });
      cleanups.push(() => hub.kill('SIGKILL'));
      const api = (await waitForOutput(hub, /API:\s+(http:\/\/\S+)/, 60_000))[1] ?? '';
      await eventually(
        async () => ((await (await fetch(`${api}/health`)).json()) as { mqtt: { connected: boolean } }).mqtt.connected,
        'the hub connected to Mosquitto',
        30_000,
        100,
      );
      expect(hub.output.stdout).toContain(`MQTT broker: mqtt://hub@127.0.0.1:${port}`);
      expect(hub.output.stdout + hub.output.stderr).not.toContain(hubPassword());
    },
  );
});

describe("the compose hub's database login, on a PostgreSQL server that asks for a password", () => {
  const bin = pgServerBin();
  const withPostgres = process.env.CI === 'true' || bin !== undefined ? it : it.skip;
  withPostgres(
    'the hub opens postgres://tessera@… with the password from the secret file PostgreSQL was given, and fails without it',
    async () => {
      const cluster = await startPgCluster(bin);
      cleanups.push(() => cluster.destroy());
      const password = readFileSync(secretFile('postgres-password'), 'utf8').replace(/\n$/, '');
      // What the postgres image does with POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD_FILE.
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query(`CREATE ROLE tessera LOGIN PASSWORD '${password.replaceAll("'", "''")}'`);
      await admin.query('CREATE DATABASE tessera OWNER tessera');
      const hba = ((await admin.query('SHOW hba_file')).rows[0] as { hba_file: string }).hba_file;
      await admin.end();
      // Passwords from now on, for every user over TCP.
      writeFileSync(hba, 'host all all 127.0.0.1/32 scram-sha-256\n');
      await cluster.restart();

      const db = `postgres://tessera@127.0.0.1:${cluster.port}/tessera`;
      const args = ['hub', '--db', db, '--key', join(tempDir(), 'hub.key'), '--broker-port', '0', '--api-port', '0'];
      const hub = spawnCli(args, { TESSERA_DB_PASSWORD_FILE: secretFile('postgres-password') });
      cleanups.push(() => hub.kill('SIGKILL'));
      const api = (await waitForOutput(hub, /API:\s+(http:\/\/\S+)/, 60_000))[1] ?? '';
      const health = (await (await fetch(`${api}/health`)).json()) as { store: { available: boolean } };
      expect(health.store.available).toBe(true);
      expect(hub.output.stdout).toContain(`Database:    postgres://tessera:***@127.0.0.1:${cluster.port}/tessera`);
      expect(hub.output.stdout + hub.output.stderr).not.toContain(password);

      hub.kill('SIGTERM');
      // Without the file the server refuses the login: the hub says so, and its API never opens.
      const refused = spawnCli(args, { TESSERA_LOG_LEVEL: 'warn' });
      cleanups.push(() => refused.kill('SIGKILL'));
      await waitForOutput(refused, /password/i, 60_000);
      expect(refused.output.stdout).not.toMatch(/API:/);
    },
    180_000,
  );
});
