import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { PACKAGE_ROOT } from '../shared/platform/package-root.js';
import { BrokerLink } from './link-cut.js';
import type { DemoSite } from './network.js';

/**
 * The demo's centres: each the example config of firmware-config/examples/, turned into a
 * networked site (hub-fed directory, the hub's key pinned, its own broker identity, simulated hardware), run as its own
 * `tessera edge` process whose broker link goes through a BrokerLink the demo can cut.
 */

export interface SiteFacts {
  name: string;
  timeZone: string;
  capacity: number;
  heldOpenSeconds: number;
}

export interface RunningSite {
  site: DemoSite;
  facts: SiteFacts;
  url: string;
  pid: number;
  link: BrokerLink;
  /** SIGTERM, then SIGKILL past `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now, for an exit path that cannot wait. */
  kill(): void;
}

type Yaml = Record<string, unknown>;

/** A site's own credentials on the hub's embedded broker (`hub.brokerIdentities.provision`). */
export interface BrokerCredentials {
  username: string;
  password: string;
}

/** The example's YAML as a networked, simulated site whose files live in `dir`, with its broker identity. */
export function networkedSiteYaml(
  exampleText: string,
  opts: { brokerUrl: string; hubPublicKeyPem: string; dir: string; id: string; identity: BrokerCredentials },
): { yaml: string; facts: SiteFacts } {
  const doc = YAML.parse(exampleText) as Yaml;
  const site = doc.site as { name: string; timeZone: string; capacity: number };
  const door = (doc.doors as Array<{ heldOpenSeconds?: number }> | undefined)?.[0];
  doc.directory = { source: 'hub' };
  doc.broker = {
    url: opts.brokerUrl,
    username: opts.identity.username,
    password: opts.identity.password,
    hubPublicKey: opts.hubPublicKeyPem,
    heartbeatSeconds: 5,
    ackTimeoutSeconds: 5,
  };
  doc.storage = { path: join(opts.dir, `${opts.id}.db`) };
  doc.api = { host: '127.0.0.1', port: 0 };
  doc.hardware = { readers: 'simulated', gpio: 'simulated' };
  const facts = {
    name: site.name,
    timeZone: site.timeZone,
    capacity: site.capacity,
    heldOpenSeconds: door?.heldOpenSeconds ?? 30,
  };
  return {
    yaml: `# The demo's copy of firmware-config/examples, joined to the demo hub.\n${YAML.stringify(doc)}`,
    facts,
  };
}

/** Starts one site's edge process and waits until its local API listens (bounded). */
export async function startSite(
  site: DemoSite,
  opts: { brokerPort: number; hubPublicKeyPem: string; dir: string; identity: BrokerCredentials },
): Promise<RunningSite> {
  const link = new BrokerLink(opts.brokerPort);
  const brokerUrl = await link.start();
  const example = readFileSync(join(PACKAGE_ROOT, 'firmware-config', 'examples', `${site.example}.yaml`), 'utf8');
  const { yaml, facts } = networkedSiteYaml(example, {
    brokerUrl,
    hubPublicKeyPem: opts.hubPublicKeyPem,
    dir: opts.dir,
    id: site.id,
    identity: opts.identity,
  });
  const configPath = join(opts.dir, `${site.id}.yaml`);
  // It holds the site's broker password: for its owner only.
  writeFileSync(configPath, yaml, { mode: 0o600 });
  // Its own process group: the terminal's Ctrl-C reaches the demo only, which stops the sites
  // itself, in order (a second signal would make an edge skip its graceful stop).
  const child = spawn(
    process.execPath,
    [join(PACKAGE_ROOT, 'bin', 'tessera.js'), 'edge', '--config', configPath, '--simulate'],
    {
      env: { ...process.env, TESSERA_LOG_LEVEL: process.env.TESSERA_LOG_LEVEL ?? 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const logFile = createWriteStream(join(opts.dir, `${site.id}.log`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = await listeningUrl(child, logFile, site.id);
    return {
      site,
      facts,
      url,
      pid: child.pid ?? 0,
      link,
      stop: (graceMs = 8000) => stopChild(child, exited, graceMs),
      kill: () => void child.kill('SIGKILL'),
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await link.stop();
    throw err;
  }
}

function listeningUrl(
  child: ChildProcess,
  logFile: NodeJS.WritableStream,
  id: string,
  timeoutMs = 30_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let found = false;
    const timer = setTimeout(
      () => reject(new Error(`site ${id} did not start within ${timeoutMs / 1000} s; see its log`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      logFile.write(chunk);
      if (found) return;
      seen += chunk.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*local API listening/.exec(seen);
      if (m?.[1]) {
        found = true;
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`site ${id} exited with code ${code} before it listened; see its log`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
