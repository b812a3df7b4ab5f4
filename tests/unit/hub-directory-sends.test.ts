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

describe('a site that missed an update', () => {
  it(
    'is sent again at once when its status says it refused the last send as out of order, not after the wait for one in transit',
    { timeout: 120_000 },
    async () => {
      const { mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
      const put = async (path: string, body: unknown) => {
        const res = await fetch(`${apiUrl}${path}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', authorization: auth.authorization },
          body: JSON.stringify(body),
        });
        expect(res.status, await res.clone().text()).toBe(200);
        return ((await res.json()) as { revision: number }).revision;
      };
      await put('/directory/plans/always', { name: '24/7', access: 'always' });
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
      const status = (revision: number, missed?: number) =>
        JSON.stringify(
          statusOf('murat', {
            directory: { revision, ageSeconds: 0, stale: false, ...(missed !== undefined ? { missed } : {}) },
          }),
        );
      await site.publishAsync(t.status('murat'), status(0), { qos: 1 });
      const first = await put('/directory/members/ana', { name: 'Ana', plan: 'always' });
      await eventually(() => received.at(-1)?.to === first, 'the site is sent the directory');
      const at = received.length;
      const second = await put('/directory/members/bea', { name: 'Bea', plan: 'always' });
      await eventually(() => received.at(-1)?.to === second, 'the site is sent the change');
      expect(received.at(-1)).toMatchObject({ kind: 'delta', from: first, to: second });

      // The site lost the first and refuses the delta: a status that only says it is behind is
      // taken as the first still in transit; one that names the refused revision is answered now.
      await site.publishAsync(t.status('murat'), status(0), { qos: 1 });
      await site.publishAsync(t.status('murat'), status(0, second), { qos: 1 });
      // Within half the 60 s a status behind is taken as in transit.
      await eventuallyWithin(30_000, 20)(() => received.length > at + 1, 'the site is sent the directory again');
      expect(received.slice(at + 1).map((u) => [u.kind, u.to])).toEqual([['snapshot', second]]);
    },
  );
});
