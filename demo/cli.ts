import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Command, Io } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { openHubSession } from '../shared/platform/hub-client.js';
import { createHub, type Hub } from '../cloud-sync/hub-process/hub.js';
import { systemClock } from '../shared/platform/clock.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { demoCommand as standaloneDemo } from '../edge/cli.js';
import type { SiteId } from './day-plan.js';
import { demoBanner } from './banner.js';
import { choosePort, inviteMember, seedHub, simulatorAccount } from './hub-setup.js';
import { DEMO_SITES } from './network.js';
import { DemoSimulator } from './simulator.js';
import { startSite, type RunningSite } from './sites.js';

const USAGE = 'demo [--hour-seconds N] [--api-port N] [--broker-port N] [--dir DIR] | demo --standalone [--port N]';
const OPTIONS = {
  'hour-seconds': { type: 'string' },
  'api-port': { type: 'string' },
  'broker-port': { type: 'string' },
  dir: { type: 'string' },
} as const;

interface DemoArgs {
  hourMs: number;
  apiPort: number | undefined;
  brokerPort: number | undefined;
  dir: string | undefined;
}

function parseDemoArgs(args: string[]): DemoArgs | string {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS }));
  } catch (err) {
    return (err as Error).message;
  }
  const hourSeconds = Number(values['hour-seconds'] ?? 60);
  if (!Number.isFinite(hourSeconds) || hourSeconds < 1 || hourSeconds > 3600)
    return `--hour-seconds expects 1-3600, got "${values['hour-seconds']}"`;
  const port = (flag: 'api-port' | 'broker-port'): number | string | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= 65535 && v.trim() !== '' ? n : `--${flag} expects 0-65535, got "${v}"`;
  };
  const apiPort = port('api-port');
  const brokerPort = port('broker-port');
  if (typeof apiPort === 'string') return apiPort;
  if (typeof brokerPort === 'string') return brokerPort;
  return {
    hourMs: hourSeconds * 1000,
    apiPort,
    brokerPort,
    dir: values.dir === undefined ? undefined : resolve(values.dir),
  };
}

/**
 * `npm start`: a living network on one machine with nothing but Node. The hub (embedded broker,
 * SQLite, dashboard) runs in this process; the three example centres each run as their own
 * `tessera edge` process over MQTT; a simulator plays compressed days against them.
 */
export const networkDemoCommand: Command = {
  name: 'demo',
  summary:
    'Runs a network: the hub and its dashboard, and the three example centres as edge processes over MQTT, with simulated members over a compressed day. --standalone runs one centre alone.',
  usage: USAGE,
  async run(args, io) {
    if (args.includes('--standalone'))
      return standaloneDemo.run(
        args.filter((a) => a !== '--standalone'),
        io,
      );
    const opts = parseDemoArgs(args);
    if (typeof opts === 'string') {
      io.err(`tessera: ${opts}\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    return runNetworkDemo(opts, io);
  },
};

interface Running {
  hub: Hub;
  sites: RunningSite[];
  simulator?: DemoSimulator;
}

async function runNetworkDemo(opts: DemoArgs, io: Io): Promise<number> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tessera-demo-'));
  mkdirSync(dir, { recursive: true });
  const ports = { api: await choosePort(opts.apiPort, 8080), broker: await choosePort(opts.brokerPort, 1883) };
  // The hub's log goes to a file: the console tells the story.
  const log = pino(
    { name: 'tessera-hub', level: process.env.TESSERA_LOG_LEVEL ?? 'info' },
    pino.destination({ dest: join(dir, 'hub.log'), sync: true }),
  );
  const hub = await createHub({
    dbPath: join(dir, 'hub.db'),
    clock: systemClock,
    log,
    brokerPort: ports.broker.port,
    apiPort: ports.api.port,
    privateKeyPem: generateHubKeys().privateKeyPem,
    brokerIdentities: true,
  });
  const running: Running = { hub, sites: [] };
  const shutdown = stopper(running, io, opts.dir === undefined ? dir : undefined);
  try {
    const simulator = await simulatorAccount(hub);
    const { mqttUrl, apiUrl } = await hub.start();
    const brokerPort = Number(new URL(mqttUrl).port);
    // The secure way, as `tessera hub` runs: each site has its own broker identity (a kept --dir gets new passwords).
    const started = await Promise.allSettled(
      DEMO_SITES.map(async (site) =>
        startSite(site, {
          brokerPort,
          hubPublicKeyPem: hub.publicKeyPem,
          dir,
          identity: await hub.brokerIdentities.provision(site.id),
        }),
      ),
    );
    running.sites = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const session = await openHubSession(apiUrl, simulator.username, simulator.password);
    await seedHub(session, running.sites);
    const invitation = await inviteMember(session);
    io.out(
      demoBanner({
        oneTimeAdmin: hub.oneTimeAdmin,
        invitation,
        apiUrl,
        mqttUrl,
        ports,
        sites: running.sites,
        dir,
        hourMs: opts.hourMs,
      }),
    );
    running.simulator = new DemoSimulator({
      sites: new Map(running.sites.map((s) => [s.site.id as SiteId, s])),
      hub: session,
      hourMs: opts.hourMs,
      out: io.out,
      clock: systemClock,
    });
    running.simulator.start();
  } catch (err) {
    io.err(`tessera: the demo could not start: ${(err as Error).message}`);
    await shutdown.stop();
    return EXIT.FAILURE;
  }
  return shutdown.done;
}

/**
 * Each site's last "offline" status is on its way through the broker when its process exits: the
 * hub is stopped once it recorded every one (bounded: a site killed hard sends none).
 */
async function hubSawOffline(running: Running, boundMs = 3000): Promise<void> {
  const ids = new Set<string>(running.sites.map((s) => s.site.id));
  const allOffline = async () =>
    (await running.hub.store.sites()).filter((v) => ids.has(v.site) && v.online === false).length === ids.size;
  for (const start = Date.now(); !(await allOffline()) && Date.now() - start < boundMs;)
    await new Promise((r) => setTimeout(r, 25));
}

/** Ctrl-C: the simulator, then the sites (each flushes and says offline), then the hub. A second Ctrl-C kills. */
function stopper(
  running: Running,
  io: Io,
  tempDir: string | undefined,
): { stop: () => Promise<void>; done: Promise<number> } {
  let stopping: Promise<void> | undefined;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (finish = r));
  const killAll = () => running.sites.forEach((s) => s.kill());
  const stop = () =>
    (stopping ??= (async () => {
      await running.simulator?.stop();
      await Promise.all(running.sites.map((s) => s.stop()));
      await hubSawOffline(running);
      await Promise.all(running.sites.map((s) => s.link.stop()));
      await running.hub.stop();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    })());
  const onSignal = () => {
    if (stopping) {
      killAll();
      process.exit(130);
    }
    io.out('\nstopping: the sites first, then the hub...');
    void stop().then(
      () => {
        io.out('demo stopped');
        finish(EXIT.OK);
      },
      (err: unknown) => {
        io.err(`tessera: the demo did not stop cleanly: ${(err as Error).message}`);
        killAll();
        finish(EXIT.FAILURE);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whatever ends this process, no site is left running without its hub.
  process.on('exit', killAll);
  return { stop, done };
}
