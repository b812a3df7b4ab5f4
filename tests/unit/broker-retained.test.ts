import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type TestBroker } from '../harness/broker.js';

/** The topic retained last, subscribed to last: once it arrives, every retained message before it has. */
const MARKER = 'end/of/retained';

const connect = (url: string, clientId: string) =>
  mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, clean: true });

/** The retained messages a new subscriber to `filters` is handed, in the order handed, as `topic=payload`. */
async function handed(url: string, filters: string[]): Promise<string[]> {
  const client = await connect(url, `reader-${filters.join(',')}`);
  try {
    const got: string[] = [];
    const done = new Promise<void>((resolve) =>
      client.on('message', (topic, payload, packet) => {
        if (topic === MARKER) resolve();
        else got.push(`${topic}=${payload.toString()}${packet.retain ? '' : ' (not retained)'}`);
      }),
    );
    await client.subscribeAsync([...filters, MARKER], { qos: 1 });
    await done;
    return got;
  } finally {
    await client.endAsync();
  }
}

describe('retained messages on the embedded broker', () => {
  let broker: TestBroker;
  let writer: MqttClient;
  const retain = (topic: string, payload: string) => writer.publishAsync(topic, payload, { qos: 1, retain: true });
  beforeEach(async () => {
    broker = await startEmbeddedBroker();
    writer = await connect(broker.url, 'writer');
    await retain('net/sites/a/status', 'a1');
    await retain('net/sites/b/status', 'b1');
    await retain('net/sites/a/days', 'days-a');
    await retain('net/sites/a/status', 'a2'); // replaces a1
    await retain('net/sites/c/status', 'c1');
    await retain('net/sites/c/status', ''); // clears c
    await retain(MARKER, 'end');
  });
  afterEach(async () => {
    await writer.endAsync();
    await broker.stop();
  });

  it('a subscriber to exact topics gets the last message retained on each, filter by filter; none for a cleared or never retained topic', async () => {
    expect(
      await handed(broker.url, [
        'net/sites/b/status',
        'net/sites/a/status',
        'net/sites/c/status',
        'net/sites/d/status',
      ]),
    ).toEqual(['net/sites/b/status=b1', 'net/sites/a/status=a2']);
    expect(await handed(broker.url, ['net/sites/a/days'])).toEqual(['net/sites/a/days=days-a']);
  });

  it('a subscriber to wildcards gets every retained topic they match, the cleared one left out', async () => {
    expect((await handed(broker.url, ['net/sites/+/status'])).sort()).toEqual([
      'net/sites/a/status=a2',
      'net/sites/b/status=b1',
    ]);
    expect((await handed(broker.url, ['net/sites/a/#', 'net/sites/b/status'])).sort()).toEqual([
      'net/sites/a/days=days-a',
      'net/sites/a/status=a2',
      'net/sites/b/status=b1',
    ]);
  });

  it('a topic retained again after it was cleared is handed again', async () => {
    await retain('net/sites/c/status', 'c2');
    expect(await handed(broker.url, ['net/sites/c/status'])).toEqual(['net/sites/c/status=c2']);
    expect(await handed(broker.url, ['net/sites/+/status'])).toContain('net/sites/c/status=c2');
  });
});
