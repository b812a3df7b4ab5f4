import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { runMosquitto } from '../tests/support/mosquitto.js';
import { tcpReachable } from '../tests/support/tcp.js';

/** The Mosquitto a benchmark runs on, and how its report names it. */
export interface BenchMosquitto {
  url: string;
  label: string;
  stop(): Promise<void>;
}

/**
 * Messages Mosquitto may hold for one client. Its default, 1,000, drops QoS 1 messages already
 * acknowledged to their publishers when a subscriber's PUBACKs fall behind, and they do under
 * the benches' load: Mosquitto reads one packet per socket per turn of its loop, so a hundred
 * publishers' sockets bring it a hundred messages for each PUBACK it reads from the one
 * subscriber, whatever the subscriber has already taken. The bare subscribers lost messages that
 * way in some runs ("Outgoing messages are being dropped" in its log). A deployment raises the
 * limit too (docs/scaling.md).
 */
const QUEUE = 1_000_000;

/**
 * A Mosquitto of the bench's own, on a free loopback port, with the queue above and no
 * persistence, when the `mosquitto` program is installed; else the machine's on 127.0.0.1:1883
 * with whatever configuration it has (its report says so); else undefined.
 */
export async function benchMosquitto(): Promise<BenchMosquitto | undefined> {
  const version = /version (\S+)/.exec(spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  if (version !== undefined) return startOwn(version);
  if (await mosquittoReachable())
    return {
      url: 'mqtt://127.0.0.1:1883',
      label:
        "Mosquitto at 127.0.0.1:1883, the machine's own (its configuration as it is: by default a queue of 1,000 messages a client)",
      stop: () => Promise.resolve(),
    };
  return undefined;
}

async function startOwn(version: string): Promise<BenchMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-mosquitto-'));
  try {
    const own = await runMosquitto(dir, (port) =>
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        `max_queued_messages ${QUEUE}`,
        'persistence false',
        'log_dest stderr',
      ].join('\n'),
    );
    return {
      url: own.url,
      label: `Mosquitto ${version} started by the bench on 127.0.0.1:${own.port} (max_queued_messages ${QUEUE.toLocaleString('en')}, no persistence)`,
      stop: async () => {
        await own.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The machine's Mosquitto, if it runs one. */
const MACHINE = { host: '127.0.0.1', port: 1883 };

/** A TCP connect to Mosquitto, then a real MQTT CONNECT; false if either fails within `ms`. */
async function mosquittoReachable(ms = 1000): Promise<boolean> {
  if (!(await tcpReachable(MACHINE.host, MACHINE.port, ms))) return false;
  const client = mqtt.connect(`mqtt://${MACHINE.host}:${MACHINE.port}`, {
    clientId: `bench-probe-${randomUUID().slice(0, 8)}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: ms,
  });
  const ok = await new Promise<boolean>((resolve) => {
    client.once('connect', () => resolve(true));
    client.once('error', () => resolve(false));
    client.once('close', () => resolve(false));
  });
  await client.endAsync(true);
  return ok;
}
