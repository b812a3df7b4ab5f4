import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { registerEventStream } from '../../cloud-sync/dashboard/stream.js';
import { registerAuth } from '../../cloud-sync/hub/auth/index.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import type { LiveMessage } from '../../cloud-sync/hub/occupancy/live-feed.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { NetworkOccupancyPublisher } from '../../cloud-sync/hub/occupancy/network-topic.js';
import { ManualClock, systemClock } from '../../shared/platform/clock.js';
import { NetworkOccupancyMessage } from '../../shared/protocol/occupancy.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { topics } from '../../shared/protocol/topics.js';
import { FAST_PASSWORD_COST, TEST_ADMIN, loginOver } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { tempDir } from '../support/temp-dir.js';

const t = topics();
const cleanups = cleanupsAfterEach();

let seq = 0;
function batch(site: string, ...events: NewEvent[]) {
  const list = events.map(
    (e) => ({ v: 1, site, seq: ++seq, id: randomUUID(), at: new Date().toISOString(), ...e }) as SiteEvent,
  );
  return { v: 1 as const, site, events: list };
}
const checkIn = (memberId: string): NewEvent => ({ type: 'presence.in', data: { memberId } });
const send = async (hub: Hub, b: ReturnType<typeof batch>) => {
  hub.ingest.onMessage(t.events(b.site), Buffer.from(JSON.stringify(b)));
  await hub.ingest.commitGroup();
};

describe('live occupancy across a restart', () => {
  it('a restarted hub still counts the people in, including events stored just before a crash that the projection never saw', async () => {
    seq = 0;
    const dbPath = join(tempDir(), 'hub.db');
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const first = await createHub({
      dbPath,
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    await send(first, batch('murat', checkIn('alice'), checkIn('bob')));
    // A crash between the ingest commit and the projection: the events are stored, not projected.
    clock.advance(5_000);
    await first.store.ingest(batch('murat', checkIn('chloe')), clock.now());
    // Stopped, not just its database closed: its WAL checkpoint worker holds a connection of its own.
    await first.stop();

    const second = await createHub({
      dbPath,
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    cleanups.push(() => second.stop());
    expect((await second.live.projection.site('murat')).present).toBe(3);
    expect((await second.live.projection.whoIsIn('murat')).map((m) => m.memberId)).toEqual(['alice', 'bob', 'chloe']);
  });
});

describe('server-sent events: GET /events/stream over a real socket', () => {
  it('sends hello, then occupancy and events of the sites the account may see, heartbeats; ends with its session, and when the hub stops', async () => {
    seq = 0;
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    cleanups.push(() => hub.stop());
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 4 });
    await hub.sites.upsert({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 4 });
    const url = await hub.api.listen({ host: '127.0.0.1', port: 0 });
    const admin = await loginOver(url, TEST_ADMIN.username, TEST_ADMIN.password);
    await fetch(`${url}/accounts`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'manon',
        role: 'site_manager',
        sites: ['allanche'],
        password: 'manon-manages-allanche',
        mustChangePassword: false,
      }),
    });
    const manager = await loginOver(url, 'manon', 'manon-manages-allanche');

    expect((await fetch(`${url}/events/stream`)).status).toBe(401);
    const adminStream = await openStream(`${url}/events/stream`, admin.authorization);
    const managerStream = await openStream(`${url}/events/stream`, manager.cookie, 'cookie');
    expect(await adminStream.next('hello')).toMatchObject({
      account: { username: 'admin' },
      occupancy: { sites: [{ site: 'allanche' }, { site: 'murat' }] },
    });
    expect(await managerStream.next('hello')).toMatchObject({ occupancy: { sites: [{ site: 'allanche' }] } });

    await send(hub, batch('murat', checkIn('alice')));
    await send(hub, batch('allanche', checkIn('bob')));
    expect(await adminStream.next('event')).toMatchObject({ site: 'murat', type: 'presence.in' });
    expect(await adminStream.next('occupancy')).toEqual({
      site: 'murat',
      name: 'Murat',
      timeZone: 'Europe/Paris',
      capacity: 4,
      present: 1,
      rate: 0.25,
    });
    // The manager's first message after hello is about allanche: murat's never reached it.
    expect(await managerStream.next('event')).toMatchObject({ site: 'allanche' });
    expect(await managerStream.next('occupancy')).toMatchObject({ site: 'allanche', present: 1 });

    clock.advance(15_000);
    expect(await adminStream.nextComment()).toBe('heartbeat');
    // A stream ends with its session: the manager logs out, the next heartbeat closes it.
    expect((await fetch(`${url}/auth/logout`, { method: 'POST', headers: { cookie: manager.cookie } })).status).toBe(
      204,
    );
    clock.advance(15_000);
    expect(await managerStream.ended()).toBe(true);
    expect(await adminStream.nextComment()).toBe('heartbeat');
    await hub.stop();
    expect(await adminStream.ended()).toBe(true);
  });
});

describe('a live client that stops reading', () => {
  it('is cut off once its unread messages pile up past the bound, and holds no listener after', async () => {
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    cleanups.push(() => hub.stop());
    // The stream as the hub registers it, on its own app, with a small bound.
    const app = createJsonApi(silent);
    registerAuth(app, hub.auth);
    registerEventStream(app, {
      live: hub.live,
      clock,
      log: silent,
      sessionValid: async () => true,
      maxBufferedBytes: 64 * 1024,
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const { authorization } = await loginOver(url, TEST_ADMIN.username, TEST_ADMIN.password);
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    socket.write(`GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n\r\n`);
    const start = Date.now();
    while (hub.live.feed.size === 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(hub.live.feed.size).toBe(1);
    socket.pause();

    const big = { kind: 'event', site: 'murat', data: { padding: 'x'.repeat(10_000) } } as unknown as LiveMessage;
    // Bounded: at most 50 MB offered; the kernel's socket buffers fill first, then the bound trips.
    for (let i = 0; i < 5000 && hub.live.feed.size > 0; i++) {
      hub.live.feed.publish(big);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(hub.live.feed.size).toBe(0);
  });
});

/** A minimal SSE reader over fetch: messages by event name, comments, end of stream. */
async function openStream(url: string, credential: string, header: 'authorization' | 'cookie' = 'authorization') {
  const res = await fetch(url, { headers: { [header]: credential } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const frame = async (): Promise<string | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const f = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return f;
      }
      if (done) return undefined;
      const r = await reader.read();
      if (r.done) done = true;
      else buffer += decoder.decode(r.value, { stream: true });
    }
  };
  return {
    async next(kind: string): Promise<unknown> {
      for (;;) {
        const f = await frame();
        if (f === undefined) throw new Error(`stream ended before a ${kind} message`);
        const event = /^event: (.*)$/m.exec(f)?.[1];
        if (event === undefined) continue;
        if (event !== kind) throw new Error(`expected a ${kind} message, got ${event}`);
        return JSON.parse(/^data: (.*)$/m.exec(f)?.[1] ?? 'null');
      }
    },
    async nextComment(): Promise<string | undefined> {
      for (;;) {
        const f = await frame();
        if (f === undefined) return undefined;
        if (f.startsWith(': ')) return f.slice(2);
      }
    },
    async ended(): Promise<boolean> {
      while ((await frame()) !== undefined);
      return true;
    },
  };
}

describe('the retained network occupancy topic', () => {
  it('is published at most once a second with the latest state, retained, QoS 0; a failed publication is retried', async () => {
    const clock = new ManualClock(0);
    const sent: Array<{ topic: string; payload: { total: { present: number } }; qos: number; retain: boolean }> = [];
    let present = 0;
    let failing = false;
    const publisher = new NetworkOccupancyPublisher({
      publish: (topic, payload, o) => {
        if (failing) return Promise.reject(new Error('broker away'));
        sent.push({ topic, payload: JSON.parse(payload) as { total: { present: number } }, ...o });
        return Promise.resolve();
      },
      snapshot: async () => ({ sites: [], total: { present, capacity: 10, rate: present / 10 } }),
      clock,
      log: silent,
      topicPrefix: 'acme/v1',
    });
    // The snapshot is read when the publication starts; it is sent once read.
    const settled = () => new Promise((r) => setImmediate(r));
    present = 1;
    publisher.changed();
    await settled();
    for (present = 2; present <= 5; present++) publisher.changed();
    await settled();
    expect(sent.map((s) => s.payload.total.present)).toEqual([1]);
    present = 5;
    clock.advance(1000);
    await settled();
    expect(sent.map((s) => [s.topic, s.payload.total.present, s.qos, s.retain])).toEqual([
      ['acme/v1/network/occupancy', 1, 0, true],
      ['acme/v1/network/occupancy', 5, 0, true],
    ]);
    failing = true;
    clock.advance(1000);
    publisher.changed();
    await settled();
    failing = false;
    present = 6;
    clock.advance(1000);
    await settled();
    expect(sent.at(-1)?.payload.total.present).toBe(6);
    // Started, it publishes at once and then every refresh interval without a change.
    const count = sent.length;
    publisher.start();
    await settled();
    clock.advance(60_000);
    await settled();
    expect(sent.length).toBe(count + 2);
    publisher.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a hub with Home Assistant discovery publishes, on its embedded broker, each site as a retained device and the retained occupancy', async () => {
    seq = 0;
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock: systemClock,
      log: silent,
      brokerPort: 0,
      apiPort: 0,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
      homeAssistant: {},
    });
    await hub.sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 4 });
    const { mqttUrl } = await hub.start();
    cleanups.push(() => hub.stop());
    await send(hub, batch('murat', checkIn('alice')));
    // What a display connecting now is given: the retained messages only.
    const retained = async () => {
      const display = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, clientId: `display-${randomUUID()}` });
      const got = new Map<string, unknown>();
      display.on(
        'message',
        (topic, payload, packet) => packet.retain && got.set(topic, JSON.parse(payload.toString())),
      );
      await display.subscribeAsync(['tessera/v1/network/occupancy', 'homeassistant/device/#']);
      await new Promise((r) => setTimeout(r, 200));
      await display.endAsync();
      return got;
    };
    let got = await retained();
    const start = Date.now();
    // The change is published within a second of the one published at start (0 present).
    while (
      (got.get('tessera/v1/network/occupancy') as { total?: { present: number } } | undefined)?.total?.present !== 1 &&
      Date.now() - start < 10_000
    )
      got = await retained();
    // What a display reads parses with the protocol's schema.
    expect(NetworkOccupancyMessage.safeParse(got.get('tessera/v1/network/occupancy')).success).toBe(true);
    expect(got.get('tessera/v1/network/occupancy')).toMatchObject({
      v: 1,
      total: { present: 1, capacity: 4 },
      sites: { murat: { name: 'Télécentre de Murat', present: 1, rate: 0.25 } },
    });
    expect(got.get('homeassistant/device/tessera/murat/config')).toMatchObject({
      dev: { ids: ['tessera_murat'], name: 'Télécentre de Murat' },
      state_topic: 'tessera/v1/home-assistant/murat/state',
      cmps: {
        occupancy: {
          p: 'sensor',
          unique_id: 'tessera_murat_occupancy',
          default_entity_id: 'sensor.tessera_murat_occupancy',
          value_template: '{{ value_json.present }}',
          state_class: 'measurement',
        },
      },
    });
  });
});
