import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { brokers, clearRetained, uniqueClientId, uniquePrefix } from '../harness/broker.js';

for (const b of await brokers()) {
  describe.skipIf(b.skip !== undefined)(`test broker harness: ${b.name}`, () => {
    const prefix = uniquePrefix();
    let stop: (() => Promise<void>) | undefined;
    afterAll(async () => stop?.());

    it('gives a broker that carries a retained QoS 1 message, and clears it', async () => {
      const broker = await b.start();
      stop = broker.stop;
      const topic = `${prefix}/retained`;
      const pub = await mqtt.connectAsync(broker.url, {
        protocolVersion: 4,
        clientId: uniqueClientId('pub'),
        reconnectPeriod: 0,
      });
      await pub.publishAsync(topic, 'hello', { qos: 1, retain: true });
      await pub.endAsync();

      const read = async () => {
        const sub = mqtt.connect(broker.url, {
          protocolVersion: 4,
          clientId: uniqueClientId('sub'),
          reconnectPeriod: 0,
        });
        const seen: string[] = [];
        sub.on('message', (_t, p) => seen.push(p.toString()));
        await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
        await sub.subscribeAsync(topic, { qos: 1 });
        await new Promise((r) => setTimeout(r, 150));
        await sub.endAsync();
        return seen;
      };
      expect(await read()).toEqual(['hello']);
      await clearRetained(broker.url, { prefixes: [prefix] });
      expect(await read()).toEqual([]);
    });
  });
}
