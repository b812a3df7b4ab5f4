import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { runPhase } from '../../bench/ingest.js';
import { baselineShortfall, failedMeasurement, measurementFailures } from '../../bench/failures.js';
import type { FromWorker, PublisherConfig, ToWorker } from '../../bench/sync-publishers.js';
import { startBroker, type EmbeddedBroker } from '../../cloud-sync/broker/embedded.js';
import { silent } from '../support/logger.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The benches' publisher worker (dist/, built by tests/build-once.ts): `sites` sites, `batches` messages each. */
async function publishers(url: string, sites: string[], batches: number): Promise<Worker> {
  const cfg: PublisherConfig = { url, sites, batchesPerSite: batches, eventsPerBatch: [2], window: 1000 };
  const worker = new Worker(new URL('../../dist/bench/sync-publishers.js', import.meta.url), { workerData: cfg });
  cleanups.push(async () => {
    worker.postMessage({ close: true } satisfies ToWorker);
    await worker.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => ('ready' in m ? resolve() : 'error' in m && reject(new Error(m.error))));
    worker.once('error', reject);
  });
  return worker;
}

describe('a bench baseline that loses messages', () => {
  it(
    'is a failed measurement, told apart from one that ran out of time, and never a ratio',
    { timeout: 60_000 },
    async () => {
      const broker: EmbeddedBroker = await startBroker({ host: '127.0.0.1', port: 0, log: silent });
      cleanups.push(() => broker.close());
      const url = `mqtt://127.0.0.1:${broker.port}`;
      const sites = ['s0', 's1', 's2', 's3'];
      const worker = await publishers(url, sites, 10);
      const prefix = `bench/${randomUUID()}/v1`;
      // A subscriber that never sees site s1's messages: what a broker dropping them looks like from here.
      let counted = 0;
      const sub = await mqtt.connectAsync(url, { clientId: `bare-${randomUUID().slice(0, 8)}`, protocolVersion: 4 });
      cleanups.push(() => sub.endAsync(true));
      sub.on('message', (topic) => {
        if (!topic.includes('/sites/s1/')) counted++;
      });
      await sub.subscribeAsync(`${prefix}/sites/+/events`, { qos: 1 });

      const phase = await runPhase(worker, prefix, 40, () => counted);
      expect(phase).toMatchObject({ complete: false, published: true, consumedMessages: 30 });
      const why = baselineShortfall(phase, 40);
      expect(why).toBe('the baseline lost 10 of 40 messages (the broker acknowledged every publish)');
      expect(baselineShortfall({ consumedMessages: 12, complete: false, published: false }, 40)).toBe(
        'the baseline did not finish in time (28 of 40 messages missing)',
      );
      expect(baselineShortfall({ consumedMessages: 40, complete: true, published: true }, 40)).toBeUndefined();

      const before = measurementFailures().length;
      const line = failedMeasurement('sync: live traffic', why ?? '');
      expect(line).toMatch(/^\*\*FAILED measurement: the baseline lost 10 of 40 messages.*; no ratio\*\*$/);
      expect(line).not.toMatch(/×|%/);
      expect(measurementFailures().slice(before)).toEqual([`sync: live traffic: ${why}`]);
    },
  );
});
