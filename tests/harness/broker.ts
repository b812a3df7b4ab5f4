import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { startBroker } from '../../cloud-sync/broker/embedded.js';
import { silent } from '../support/logger.js';

/**
 * Brokers for tests: the embedded Aedes on a free loopback port, and the machine's Mosquitto on
 * 127.0.0.1:1883 (required under CI=true). Tests sharing the machine's Mosquitto must use a
 * unique topic prefix (`uniquePrefix()`) and unique client ids, and clear what they retain.
 */
export interface TestBroker {
  /** e.g. `mqtt://127.0.0.1:40123`. */
  url: string;
  port: number;
  /** Stops an embedded broker; for the machine's Mosquitto it does nothing. */
  stop(): Promise<void>;
}

export type BrokerName = 'aedes' | 'mosquitto';

export interface BrokerUnderTest {
  name: BrokerName;
  /** Set when this broker is unavailable outside CI: the suite should be skipped with this reason. */
  skip?: string;
  start(): Promise<TestBroker>;
}

export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';
const MOSQUITTO_PORT = 1883;
const MISSING_UNDER_CI = 'Mosquitto must be reachable on 127.0.0.1:1883 under CI: apt-get install mosquitto';
const MISSING_LOCALLY =
  'Mosquitto is not reachable on 127.0.0.1:1883: tests against it are skipped (apt-get install mosquitto, or brew install mosquitto, and start it)';

/** An embedded Aedes broker on 127.0.0.1 and a free port, silent. */
export async function startEmbeddedBroker(): Promise<TestBroker> {
  const broker = await startBroker({ host: '127.0.0.1', port: 0, log: silent });
  return { url: `mqtt://127.0.0.1:${broker.port}`, port: broker.port, stop: () => broker.close() };
}

let probe: Promise<string | undefined> | undefined;

/** `mqtt://127.0.0.1:1883` if the machine's Mosquitto accepts an MQTT CONNECT, else undefined. Probed once per process. */
export function mosquittoUrl(): Promise<string | undefined> {
  probe ??= (async () => {
    try {
      const client = await mqtt.connectAsync(MOSQUITTO_URL, {
        protocolVersion: 4,
        clientId: `probe-${randomUUID().slice(0, 8)}`,
        connectTimeout: 1500,
        reconnectPeriod: 0,
      });
      await client.endAsync();
      return MOSQUITTO_URL;
    } catch {
      return undefined;
    }
  })();
  return probe;
}

/**
 * The machine's Mosquitto URL. Under `CI=true` a missing Mosquitto throws; elsewhere it resolves
 * undefined after saying what to install, and the caller skips (`describe.skipIf(!url)`).
 */
export async function requireMosquitto(): Promise<string | undefined> {
  const url = await mosquittoUrl();
  if (url !== undefined) return url;
  if (process.env.CI === 'true') throw new Error(MISSING_UNDER_CI);
  console.warn(MISSING_LOCALLY);
  return undefined;
}

/**
 * The brokers to run a suite against: Aedes always, Mosquitto when reachable (required under
 * CI). Use: `for (const b of await brokers()) describe.skipIf(b.skip !== undefined)(b.name, ...)`.
 */
export async function brokers(): Promise<BrokerUnderTest[]> {
  const mosquitto = await requireMosquitto();
  const list: BrokerUnderTest[] = [{ name: 'aedes', start: startEmbeddedBroker }];
  if (mosquitto !== undefined) {
    list.push({
      name: 'mosquitto',
      start: () => Promise.resolve({ url: mosquitto, port: MOSQUITTO_PORT, stop: () => Promise.resolve() }),
    });
  } else {
    list.push({ name: 'mosquitto', skip: MISSING_LOCALLY, start: () => Promise.reject(new Error(MISSING_LOCALLY)) });
  }
  return list;
}

/** A topic prefix no other test uses, e.g. `test/3f2a…/v1`. */
export function uniquePrefix(): string {
  return `test/${randomUUID()}/v1`;
}

/** A client id no other test uses (at most 23 characters, the MQTT 3.1.1 guaranteed length). */
export function uniqueClientId(role: string): string {
  return `${role.slice(0, 10)}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/**
 * Clears retained messages: every topic given, and every retained topic under each `prefix/#`
 * that arrives within `settleMs` of subscribing. Call it at the end of a test on a shared broker.
 */
export async function clearRetained(
  url: string,
  opts: { topics?: string[]; prefixes?: string[]; settleMs?: number },
): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: uniqueClientId('clear'),
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  try {
    const found = new Set(opts.topics ?? []);
    const prefixes = opts.prefixes ?? [];
    if (prefixes.length > 0) {
      client.on('message', (topic, payload, packet) => {
        if (packet.retain && payload.length > 0) found.add(topic);
      });
      await client.subscribeAsync(
        prefixes.map((p) => `${p}/#`),
        { qos: 0 },
      );
      await new Promise((r) => setTimeout(r, opts.settleMs ?? 150));
    }
    for (const topic of found) await client.publishAsync(topic, '', { qos: 1, retain: true });
  } finally {
    await client.endAsync();
  }
}

/** Discards a persistent (clean: false) session: connects once with its client id and clean: true. */
export async function endSession(url: string, clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  await client.endAsync();
}

/** How a connection attempt ends: 'connected', the error's message, or 'closed' (hung up before CONNACK). */
export function connectOutcome(url: string, opts: mqtt.IClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    const done = (outcome: string) => {
      c.end(true);
      resolve(outcome);
    };
    c.once('connect', () => done('connected'));
    c.once('error', (err) => done(err.message));
    c.once('close', () => done('closed'));
  });
}
