import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { systemClock } from '../../shared/platform/clock.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { Ack } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import type { TestBroker } from '../harness/broker.js';
import { brokers, clearRetained, endSession, uniqueClientId, uniquePrefix } from '../harness/broker.js';
import { batchOf, statusOf } from '../harness/hub-fixtures.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { silent as quiet } from '../support/logger.js';

const SITE = 'murat';
const waitUp = { timeout: 5000, interval: 20 };

/** A site as the edge would be: a plain mqtt.js client that publishes batches and watches its ack. */
async function connectSite(
  url: string,
  prefix: string,
  site = SITE,
  will?: mqtt.IClientOptions['will'],
): Promise<{ client: MqttClient; acks: Ack[] }> {
  const acks: Ack[] = [];
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: uniqueClientId('site'),
    reconnectPeriod: 0,
    manualConnect: true,
    ...(will ? { will } : {}),
  });
  client.on('message', (_topic, payload) => {
    if (payload.length > 0) acks.push(Ack.parse(JSON.parse(payload.toString())));
  });
  client.connect();
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics(prefix).ack(site), { qos: 1 });
  return { client, acks };
}

function publish(client: MqttClient, prefix: string, batch: EventBatch | string | Buffer, site = SITE) {
  const payload = typeof batch === 'string' || Buffer.isBuffer(batch) ? batch : JSON.stringify(batch);
  return client.publishAsync(topics(prefix).events(site), payload, { qos: 1 });
}

async function eventCount(hub: Hub): Promise<number> {
  return (await hub.store.db.value<number>('SELECT COUNT(*) AS n FROM events')) ?? 0;
}

for (const b of await brokers()) {
  describe.skipIf(b.skip !== undefined)(`hub ingest over ${b.name}`, () => {
    let broker: TestBroker;
    let dir: string;
    let dbPath: string;
    let prefix: string;
    let hubClientId: string;
    const hubs: Hub[] = [];
    const clients: MqttClient[] = [];

    const startHub = async () => {
      const hub = await createHub({
        dbPath,
        clock: systemClock,
        log: quiet,
        mqttUrl: broker.url,
        apiPort: 0,
        topicPrefix: prefix,
        clientId: hubClientId,
        initialAdmin: TEST_ADMIN,
        passwordCost: FAST_PASSWORD_COST,
      });
      hubs.push(hub);
      await hub.start();
      return hub;
    };
    const site = async (name = SITE, will?: mqtt.IClientOptions['will']) => {
      const s = await connectSite(broker.url, prefix, name, will);
      clients.push(s.client);
      return s;
    };

    beforeAll(async () => {
      broker = await b.start();
    });
    afterAll(async () => broker.stop());
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-hub-'));
      dbPath = await lastingHubDb(dir);
      prefix = uniquePrefix();
      hubClientId = uniqueClientId('hub');
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.endAsync(true);
      for (const h of hubs.splice(0)) await h.stop();
      await endSession(broker.url, hubClientId);
      await clearRetained(broker.url, { prefixes: [prefix] });
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores a batch once and the retained ack says the highest contiguous seq', async () => {
      const hub = await startHub();
      const { client, acks } = await site();
      await publish(client, prefix, batchOf(SITE, 1, 3));
      await vi.waitFor(() => expect(acks.at(-1)).toMatchObject({ site: SITE, seq: 3, missing: [] }), waitUp);
      expect(await eventCount(hub)).toBe(3);

      // A site that connects later finds the ack retained.
      const later = await site();
      await vi.waitFor(() => expect(later.acks.at(-1)?.seq).toBe(3), waitUp);
    });

    it('ignores duplicates and takes batches in any order', async () => {
      const hub = await startHub();
      const { client, acks } = await site();
      const ids = new Map<number, string>();
      await publish(client, prefix, batchOf(SITE, 4, 6, ids));
      await vi.waitFor(() => expect(acks.at(-1)).toMatchObject({ seq: 0, missing: [[1, 3]] }), waitUp);
      for (const [from, to] of [
        [1, 3],
        [1, 3],
        [4, 6],
        [2, 5],
      ] as const)
        await publish(client, prefix, batchOf(SITE, from, to, ids));
      await vi.waitFor(() => expect(acks.at(-1)).toMatchObject({ seq: 6, missing: [] }), waitUp);
      await vi.waitFor(
        () =>
          expect(hub.ingest.counters).toMatchObject({
            received: 5,
            applied: 6,
            duplicates: 10,
            conflicts: 0,
            rejected: 0,
          }),
        waitUp,
      );
      expect(await eventCount(hub)).toBe(6);
    });

    it('a gap is acked with the missing range, and closes when it is re-sent', async () => {
      await startHub();
      const { client, acks } = await site();
      await publish(client, prefix, batchOf(SITE, 1, 2));
      await publish(client, prefix, batchOf(SITE, 5, 6));
      await vi.waitFor(() => expect(acks.at(-1)).toMatchObject({ seq: 2, missing: [[3, 4]] }), waitUp);
      await publish(client, prefix, batchOf(SITE, 3, 4));
      await vi.waitFor(() => expect(acks.at(-1)).toMatchObject({ seq: 6, missing: [] }), waitUp);
    });

    it('coalesces acks: a burst of batches gets a few acks, the last one up to date', async () => {
      const hub = await startHub();
      const { client, acks } = await site();
      await Promise.all(Array.from({ length: 50 }, (_, i) => publish(client, prefix, batchOf(SITE, i + 1, i + 1))));
      await vi.waitFor(() => expect(acks.at(-1)?.seq).toBe(50), waitUp);
      await new Promise((r) => setTimeout(r, 120));
      expect(acks.length).toBeLessThan(25);
      expect(hub.ingest.counters.acksPublished).toBe(acks.length);
    });

    it('dead-letters garbage, counts it, changes nothing and keeps ingesting', async () => {
      const hub = await startHub();
      const { client, acks } = await site();
      await publish(client, prefix, batchOf(SITE, 1, 2));
      await vi.waitFor(() => expect(acks.at(-1)?.seq).toBe(2), waitUp);
      const before = await hub.store.db.all('SELECT * FROM events ORDER BY site, seq');

      await publish(client, prefix, 'this is not JSON {');
      const wrong = batchOf(SITE, 3, 3) as unknown as { events: Array<{ seq: unknown }> };
      (wrong.events[0] as { seq: unknown }).seq = 'three';
      await publish(client, prefix, JSON.stringify(wrong));
      await publish(client, prefix, batchOf('lyon', 3, 3)); // another site's batch on murat's topic
      // Just over the ingest's 4 MiB payload limit, yet under the embedded broker's packet limit.
      await publish(client, prefix, Buffer.alloc(4 * 1024 * 1024 + 1, 'x'));
      await client.publishAsync(topics(prefix).status(SITE), '{"online": "maybe"}', { qos: 1 });
      // A text no store can hold: a NUL escaped (JSON's only way to carry one), then a raw one (not JSON).
      const nul = batchOf(SITE, 3, 3);
      const escaped = JSON.stringify({
        ...nul,
        events: [{ ...nul.events[0], type: 'door.forced', data: { door: 'a\u0000b' } }],
      });
      await publish(client, prefix, escaped);
      await publish(client, prefix, Buffer.from(escaped.replace('\\u0000', '\u0000')));
      await vi.waitFor(() => expect(hub.ingest.counters.rejected).toBe(7), waitUp);
      // Counted when refused; kept once the store work begun before it is done.
      await hub.ingest.settled();

      const dead = await hub.store.deadLetters(10);
      expect(dead.map((d) => d.reason).sort()).toEqual([
        'payload.invalid',
        'payload.invalid',
        'payload.invalid',
        'payload.not_json',
        'payload.not_json',
        'payload.too_large',
        'topic.site_mismatch',
      ]);
      const invalidEvents = dead.filter((d) => d.reason === 'payload.invalid' && d.topic.endsWith('/events'));
      expect(invalidEvents.map((d) => d.detail)).toEqual([
        expect.stringMatching(/^\$\.events\[0\]\.data\.door: a text holding a NUL/),
        expect.stringContaining('events[0].seq'),
      ]);
      expect(dead.find((d) => d.reason === 'payload.too_large')?.payload.length).toBe(4096);
      expect(await hub.store.db.all('SELECT * FROM events ORDER BY site, seq')).toEqual(before);
      expect(await hub.store.progress('lyon')).toBeUndefined();

      await publish(client, prefix, batchOf(SITE, 3, 4));
      await vi.waitFor(() => expect(acks.at(-1)?.seq).toBe(4), waitUp);
    });

    it('dead-letters a batch holding a consumable use whose item no price can name, stores none of it, and keeps ingesting', async () => {
      const hub = await startHub();
      const { client, acks } = await site();
      const batch = batchOf(SITE, 1, 2);
      const use = {
        ...batch.events[1],
        type: 'consumable.used',
        data: { memberId: 'ana', item: '<img src=x onerror=alert(1)>', quantity: 1 },
      };
      await publish(client, prefix, JSON.stringify({ ...batch, events: [batch.events[0], use] }));
      await vi.waitFor(() => expect(hub.ingest.counters.rejected).toBe(1), waitUp);
      await hub.ingest.settled();
      expect((await hub.store.deadLetters(1))[0]).toMatchObject({
        reason: 'payload.invalid',
        detail: expect.stringContaining('events[1].data.item'),
      });
      expect(await eventCount(hub)).toBe(0);
      await publish(client, prefix, batchOf(SITE, 1, 2));
      await vi.waitFor(() => expect(acks.at(-1)?.seq).toBe(2), waitUp);
    });

    it('a restarted hub gets what was published while it was down (persistent session, handler before connect)', async () => {
      const first = await startHub();
      const { client, acks } = await site();
      await publish(client, prefix, batchOf(SITE, 1, 1));
      await vi.waitFor(() => expect(acks.at(-1)?.seq).toBe(1), waitUp);
      await first.stop();

      // 100 single-event batches while the hub is away: the broker queues them for its session.
      for (let seq = 2; seq <= 101; seq++) await publish(client, prefix, batchOf(SITE, seq, seq));
      const second = await startHub();
      await vi.waitFor(() => expect(acks.at(-1)).toMatchObject({ seq: 101, missing: [] }), waitUp);
      expect(second.ingest.counters.received).toBe(100);
      expect(await eventCount(second)).toBe(101);
    });

    it("a site's status is recorded, and its last will marks it offline", async () => {
      const hub = await startHub();
      const statusTopic = topics(prefix).status(SITE);
      const will = {
        topic: statusTopic,
        payload: Buffer.from(JSON.stringify(statusOf(SITE, { online: false }))),
        qos: 1 as const,
        retain: true,
      };
      const { client } = await site(SITE, will);
      await client.publishAsync(statusTopic, JSON.stringify(statusOf(SITE, { lastSeq: 12, ackedSeq: 4 })), {
        qos: 1,
        retain: true,
      });
      await vi.waitFor(
        async () => expect(await hub.store.sites()).toMatchObject([{ site: SITE, online: true }]),
        waitUp,
      );

      client.stream.destroy(); // no DISCONNECT: the broker publishes the will
      await vi.waitFor(
        async () => expect(await hub.store.sites()).toMatchObject([{ site: SITE, online: false }]),
        waitUp,
      );
      expect(hub.ingest.counters.rejected).toBe(0);
    });

    it('answers its API over a real socket', async () => {
      const hub = await startHub();
      const address = hub.api.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const { client, acks } = await site();
      await publish(client, prefix, batchOf(SITE, 1, 2));
      await vi.waitFor(() => expect(acks.at(-1)?.seq).toBe(2), waitUp);
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string };
      expect(health.status).toBe('ok');
      const { authorization } = await loginOver(`http://127.0.0.1:${port}`, TEST_ADMIN.username, TEST_ADMIN.password);
      const headers = { authorization };
      expect((await fetch(`http://127.0.0.1:${port}/sites`)).status).toBe(401);
      const sites = (await (await fetch(`http://127.0.0.1:${port}/sites`, { headers })).json()) as {
        sites: Array<{ site: string; contiguous: number }>;
      };
      expect(sites.sites).toMatchObject([{ site: SITE, contiguous: 2, maxSeen: 2, missing: [] }]);
      const events = (await (
        await fetch(`http://127.0.0.1:${port}/sites/${SITE}/events?after=1`, { headers })
      ).json()) as { events: Array<{ seq: number }> };
      expect(events.events.map((e) => e.seq)).toEqual([2]);
    });
  });
}
