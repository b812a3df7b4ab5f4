import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { DirectoryUpdate } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import { statusOf, membersCsv } from '../harness/hub-fixtures.js';
import { startTestHub } from '../harness/network-hub.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventuallyWithin } from '../support/eventually.js';

const cleanups = cleanupsAfterEach();

const t = topics();
const MEMBERS = 3500; // four snapshot chunks of 1,000 changes and a bit

const eventually = eventuallyWithin(60_000, 20);

describe('directory updates to a site that keeps reconnecting', () => {
  it(
    'sends one snapshot at a time, however many statuses ask, and folds the changes made meanwhile into one delta chain after it',
    { timeout: 180_000 },
    async () => {
      const { mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
      const call = async (method: string, path: string, body: string, type = 'application/json') => {
        const res = await fetch(`${apiUrl}${path}`, {
          method,
          headers: { 'content-type': type, authorization: auth.authorization },
          body,
        });
        expect(res.status, await res.clone().text()).toBe(200);
        return (await res.json()) as { revision: number };
      };
      await call('PUT', '/directory/plans/always', JSON.stringify({ name: '24/7', access: 'always' }));
      const imported = await call('POST', '/directory/members/import', membersCsv(MEMBERS), 'text/csv');

      // The site as the broker sees it: its directory topic, and a status that says "revision 0" again and again.
      const site = await mqtt.connectAsync(mqttUrl, {
        protocolVersion: 4,
        clientId: 'tessera-edge-murat',
        reconnectPeriod: 0,
      });
      cleanups.push(() => site.endAsync());
      const received: DirectoryUpdate[] = [];
      site.on('message', (_topic, payload) =>
        received.push((JSON.parse(payload.toString()) as { body: DirectoryUpdate }).body),
      );
      await site.subscribeAsync(t.directory('murat'), { qos: 1 });
      const behind = JSON.stringify(statusOf('murat', { directory: { revision: 0, ageSeconds: 0, stale: false } }));
      for (let i = 0; i < 30; i++) await site.publishAsync(t.status('murat'), behind, { qos: 1 });
      // Changes while the snapshot goes out: each is a newer revision than the one being sent.
      let last = imported.revision;
      for (let i = 0; i < 5; i++)
        last = (await call('PUT', `/directory/members/late${i}`, JSON.stringify({ name: `Late ${i}`, plan: 'always' })))
          .revision;

      const snapshots = () => received.filter((u) => u.kind === 'snapshot');
      await eventually(() => received.at(-1)?.to === last, 'the site is sent the last revision');
      const firstSnapshot = snapshots()[0];
      expect(firstSnapshot?.kind === 'snapshot' && firstSnapshot.chunks).toBeGreaterThanOrEqual(4);
      const chunks = firstSnapshot?.kind === 'snapshot' ? firstSnapshot.chunks : 0;
      // One snapshot, its chunks in order and together, not one per status.
      expect(snapshots().map((u) => (u.kind === 'snapshot' ? `${u.issuedAt} ${u.chunk}` : ''))).toEqual(
        Array.from({ length: chunks }, (_, i) => `${firstSnapshot?.issuedAt} ${i}`),
      );
      expect(received.slice(0, chunks).every((u) => u.kind === 'snapshot')).toBe(true);
      // After it, deltas that follow on from it, each from where the one before ended.
      const deltas = received.slice(chunks);
      let at = firstSnapshot?.to ?? -1;
      for (const d of deltas) {
        expect(d.kind === 'delta' && d.from).toBe(at);
        at = d.to;
      }
      expect(at).toBe(last);
      expect(deltas.length).toBeLessThanOrEqual(5);
    },
  );
});
