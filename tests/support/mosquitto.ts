import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sleep } from './sleep.js';
import { freePort } from './tcp.js';

/** A Mosquitto of our own, running. */
export interface OwnMosquitto {
  port: number;
  url: string;
  /** SIGTERM; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Liveness bound of its start (not a performance threshold). */
const START_TIMEOUT_MS = 10_000;

/**
 * Starts the `mosquitto` program on a free loopback port with the configuration `conf(port)`,
 * written as `dir/mosquitto.conf`; resolves once it says it is running, else throws with what it
 * printed. Started as root, Mosquitto reads its files as the `mosquitto` user: `dir` is made
 * readable to it, and so is every file the configuration names there.
 */
export async function runMosquitto(dir: string, conf: (port: number) => string): Promise<OwnMosquitto> {
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, 'mosquitto.conf'), conf(port), { mode: 0o644 });
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((done) => child.once('exit', done));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const start = performance.now();
  while (!output.includes(' running')) {
    if (performance.now() - start > START_TIMEOUT_MS || child.exitCode !== null) {
      await stop();
      throw new Error(`mosquitto did not start:\n${output}`);
    }
    await sleep(25);
  }
  return { port, url: `mqtt://127.0.0.1:${port}`, stop };
}

/**
 * Mosquitto with the compose broker's configuration (deploy/mosquitto/mosquitto.conf) and the
 * given password file and ACL, kept in `dir`: on our port, without its persistence folder.
 */
export function runDeployMosquitto(dir: string, files: { passwd: string; acl: string }): Promise<OwnMosquitto> {
  writeFileSync(join(dir, 'passwd'), files.passwd, { mode: 0o644 });
  writeFileSync(join(dir, 'acl'), files.acl, { mode: 0o644 });
  const deployed = readFileSync(resolve('deploy', 'mosquitto', 'mosquitto.conf'), 'utf8');
  return runMosquitto(
    dir,
    (port) =>
      `${deployed
        .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
        .replaceAll('/mosquitto/config/', `${dir}/`)
        .replace(/^persistence.*$/gm, '')}\npersistence false\n`,
  );
}
