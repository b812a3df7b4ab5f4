import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../../edge/store/store.js';
import { OutboxStream } from '../../cloud-sync/edge/outbox-stream.js';
import type { OutboundBatch, StreamOptions, Take } from '../../cloud-sync/edge/outbox-stream.js';
import { readAck } from '../../cloud-sync/edge/ack.js';
import { buildStatus } from '../../cloud-sync/edge/status.js';
import { syncRejectedFault } from '../../cloud-sync/edge/rejections.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import { SiteStatus } from '../../shared/protocol/sync.js';

const stores: EdgeStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function storeWith(n: number): EdgeStore {
  const store = EdgeStore.open(':memory:', 'murat', 'Europe/Paris');
  stores.push(store);
  append(store, n);
  return store;
}

function append(store: EdgeStore, n: number): void {
  store.transaction(() => {
    for (let i = 0; i < n; i++)
      store.events.append({ type: 'door.forced', data: { door: 'front' } }, Date.parse('2026-11-23T08:00:00Z') + i);
  });
}

interface Rig {
  store: EdgeStore;
  stream: OutboxStream;
  time: { now: number };
}

function rig(n: number, opts: Partial<StreamOptions> = {}, parked: Array<{ from: number; to: number }> = []): Rig {
  const store = storeWith(n);
  const time = { now: 0 };
  const stream = new OutboxStream(
    store.events,
    { batchSize: 100, window: 3, failureLimit: 3, ackTimeoutMs: 15_000, now: () => time.now, ...opts },
    parked,
  );
  return { store, stream, time };
}

function batchOf(take: Take | undefined): OutboundBatch {
  if (!take || !('batch' in take)) throw new Error(`expected a batch, got ${JSON.stringify(take)}`);
  return take.batch;
}

/** Takes batches until the window is full or nothing is left; returns their ranges. */
function drain(stream: OutboxStream): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = stream.take(); t; t = stream.take()) {
    const b = batchOf(t);
    out.push([b.from, b.to]);
  }
  return out;
}

describe('the outbox stream', () => {
  it('sends consecutive events in batches of batchSize, the last one short', () => {
    const { stream } = rig(250, { window: 10 });
    const batches: OutboundBatch[] = [];
    for (let t = stream.take(); t; t = stream.take()) batches.push(batchOf(t));
    expect(batches.map((b) => [b.from, b.to])).toEqual([
      [1, 100],
      [101, 200],
      [201, 250],
    ]);
    for (const b of batches)
      expect(b.events.map((e) => e.seq)).toEqual(Array.from({ length: b.to - b.from + 1 }, (_, i) => b.from + i));
    expect(stream.take()).toBeUndefined();
  });

  it('never has more than `window` batches awaiting a PUBACK, and a PUBACK frees one slot', () => {
    const { stream } = rig(1000, { batchSize: 10, window: 3 });
    expect(drain(stream)).toEqual([
      [1, 10],
      [11, 20],
      [21, 30],
    ]);
    expect(stream.inFlightCount).toBe(3);
    const first = stream.inFlightBatches()[0];
    stream.settled(first?.id ?? -1);
    expect(drain(stream)).toEqual([[31, 40]]);
    expect(stream.inFlightCount).toBe(3);
  });

  it('starts after what the hub acknowledged, and picks up events appended later', () => {
    const store = storeWith(30);
    store.events.markAcked(12);
    const stream = new OutboxStream(store.events, {
      batchSize: 100,
      window: 5,
      failureLimit: 3,
      ackTimeoutMs: 1000,
      now: () => 0,
    });
    expect(drain(stream)).toEqual([[13, 30]]);
    append(store, 5);
    expect(drain(stream)).toEqual([[31, 35]]);
  });

  it('a reported gap rewinds to the ack + 1, once per ack level', () => {
    const { store, stream } = rig(300, { batchSize: 100, window: 3 });
    drain(stream);
    for (const b of stream.inFlightBatches()) stream.settled(b.id);
    expect(stream.nextSeq).toBe(301);
    store.events.markAcked(100);
    expect(stream.acknowledged([[101, 150]])).toBe(true);
    expect(drain(stream)).toEqual([
      [101, 200],
      [201, 300],
    ]);
    // The same ack level again (the retained ack, a late duplicate): no second rewind storm.
    expect(stream.acknowledged([[101, 150]])).toBe(false);
    store.events.markAcked(180);
    expect(stream.acknowledged([[181, 181]])).toBe(true);
    expect(stream.nextSeq).toBe(181);
  });

  it('a gap the stream has not reached yet causes no rewind', () => {
    const { store, stream } = rig(300, { batchSize: 100, window: 1 });
    drain(stream);
    store.events.markAcked(50);
    expect(stream.acknowledged([[150, 160]])).toBe(false);
    expect(stream.nextSeq).toBe(101);
  });

  it('without ack progress for ackTimeout, sent events are re-sent; progress restarts the wait', () => {
    const { store, stream, time } = rig(300, { batchSize: 100, window: 3, ackTimeoutMs: 15_000 });
    expect(stream.checkAckTimeout()).toBe(false);
    drain(stream);
    for (const b of stream.inFlightBatches()) stream.settled(b.id);
    time.now = 14_999;
    expect(stream.checkAckTimeout()).toBe(false);
    store.events.markAcked(100);
    stream.acknowledged([]);
    time.now = 29_998;
    expect(stream.checkAckTimeout()).toBe(false);
    time.now = 29_999;
    expect(stream.checkAckTimeout()).toBe(true);
    expect(stream.nextSeq).toBe(101);
    store.events.markAcked(300);
    stream.acknowledged([]);
    time.now = 100_000;
    expect(stream.checkAckTimeout()).toBe(false);
  });

  it('a reconnect rewinds to the ack + 1 but skips batches the client is still re-sending', () => {
    const { store, stream } = rig(500, { batchSize: 100, window: 3 });
    drain(stream);
    const [first] = stream.inFlightBatches();
    stream.settled(first?.id ?? -1);
    store.events.markAcked(50);
    stream.rewind();
    // 51..100 was PUBACKed but not acked by the hub; 101..300 are still queued in the client.
    expect(drain(stream)).toEqual([[51, 100]]);
  });

  it('a batch that fails failureLimit times in a row is split; a single event that does is parked', () => {
    const { stream } = rig(30, { batchSize: 10, window: 3, failureLimit: 3 });
    drain(stream);
    const bad = stream.inFlightBatches()[1];
    if (!bad) throw new Error('no batch');
    expect(stream.failed(bad.id, true)).toEqual({ action: 'retry' });
    expect(stream.failed(bad.id, true)).toEqual({ action: 'retry' });
    expect(stream.inFlightCount).toBe(3);
    expect(stream.failed(bad.id, true)).toEqual({ action: 'split', range: { from: 11, to: 20 } });
    expect(stream.inFlightCount).toBe(2);
    expect(drain(stream)).toEqual([[11, 11]]);
    const single = stream.inFlightBatches().find((b) => b.from === 11);
    stream.settled(single?.id ?? -1);
    expect(drain(stream)).toEqual([[12, 12]]);
    const poison = stream.inFlightBatches().find((b) => b.from === 12);
    if (!poison) throw new Error('no single');
    expect(stream.failed(poison.id, true)).toEqual({ action: 'retry' });
    expect(stream.failed(poison.id, true)).toEqual({ action: 'retry' });
    expect(stream.failed(poison.id, true)).toEqual({ action: 'park', seq: 12 });
    stream.parkedRange({ from: 12, to: 12 });
    expect(drain(stream)).toEqual([[13, 13]]);
  });

  it('a PUBACK between failures resets the count: only failures in a row split a batch', () => {
    const { stream } = rig(10, { batchSize: 10, window: 1, failureLimit: 2 });
    const b = batchOf(stream.take());
    expect(stream.failed(b.id, false)).toEqual({ action: 'retry' });
    const again = batchOf(stream.take());
    expect([again.from, again.to]).toEqual([1, 10]);
    stream.settled(again.id);
    stream.rewind();
    const third = batchOf(stream.take());
    expect(stream.failed(third.id, false)).toEqual({ action: 'retry' });
  });

  it('skips parked ranges, and a batch stops before one', () => {
    const { stream } = rig(40, { batchSize: 100, window: 5 }, [{ from: 11, to: 12 }]);
    expect(drain(stream)).toEqual([
      [1, 10],
      [13, 40],
    ]);
  });

  it('an event that cannot be sent is handed back to be parked, never sent nor skipped silently', () => {
    const { stream } = rig(20, { batchSize: 100, window: 5, problem: (e) => (e.seq === 8 ? 'broken row' : undefined) });
    expect(batchOf(stream.take())).toMatchObject({ from: 1, to: 7 });
    expect(stream.take()).toEqual({ unsendable: 8, reason: 'broken row' });
    stream.parkedRange({ from: 8, to: 8 });
    expect(batchOf(stream.take())).toMatchObject({ from: 9, to: 20 });
  });

  it('under any sequence of PUBACKs, failures, acks, gaps, timeouts and rewinds: window kept, batches consecutive and disjoint', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('take' as const) }),
      fc.record({ kind: fc.constant('settle' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('fail' as const), pick: fc.nat(), queued: fc.boolean() }),
      fc.record({ kind: fc.constant('ack' as const), by: fc.nat({ max: 40 }), gap: fc.boolean() }),
      fc.record({ kind: fc.constant('time' as const), ms: fc.nat({ max: 20_000 }) }),
      fc.record({ kind: fc.constant('rewind' as const) }),
      fc.record({ kind: fc.constant('append' as const), n: fc.nat({ max: 30 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(op, { maxLength: 80 }),
        (batchSize, window, ops) => {
          const { store, stream, time } = rig(100, { batchSize, window, failureLimit: 2, ackTimeoutMs: 15_000 });
          const parked: number[] = [];
          for (const o of ops) {
            const flying = stream.inFlightBatches();
            switch (o.kind) {
              case 'take': {
                const t = stream.take();
                if (t && 'batch' in t) {
                  const b = t.batch;
                  expect(b.events.map((e) => e.seq)).toEqual(
                    Array.from({ length: b.to - b.from + 1 }, (_, i) => b.from + i),
                  );
                  expect(b.events.length).toBeLessThanOrEqual(batchSize);
                  expect(b.from).toBeGreaterThan(store.events.ackedSeq());
                  expect(parked.some((p) => p >= b.from && p <= b.to)).toBe(false);
                }
                break;
              }
              case 'settle':
                if (flying.length) stream.settled(flying[o.pick % flying.length]?.id ?? -1);
                break;
              case 'fail':
                if (flying.length) {
                  const v = stream.failed(flying[o.pick % flying.length]?.id ?? -1, o.queued);
                  if (v.action === 'park') {
                    parked.push(v.seq);
                    stream.parkedRange({ from: v.seq, to: v.seq });
                  }
                }
                break;
              case 'ack': {
                store.events.markAcked(Math.min(store.events.lastSeq(), store.events.ackedSeq() + o.by));
                const a = store.events.ackedSeq();
                stream.acknowledged(o.gap ? [[a + 1, a + 1]] : []);
                break;
              }
              case 'time':
                time.now += o.ms;
                stream.checkAckTimeout();
                break;
              case 'rewind':
                stream.rewind();
                break;
              case 'append':
                append(store, o.n);
                break;
            }
            const now = stream.inFlightBatches().sort((a, b) => a.from - b.from);
            expect(now.length).toBeLessThanOrEqual(window);
            now.forEach((b, i) => expect(i === 0 || b.from > (now[i - 1]?.to ?? 0)).toBe(true));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('acks, status and faults', () => {
  const ack = (body: unknown) => Buffer.from(JSON.stringify(body));
  const at = '2026-11-23T09:00:00.000+01:00';

  it('reads a valid ack of its own site, and refuses garbage, another site or a bad range with a reason', () => {
    expect(readAck(ack({ v: 1, site: 'murat', seq: 12, at }), 'murat')).toEqual({
      ok: true,
      ack: { v: 1, site: 'murat', seq: 12, missing: [], at },
    });
    expect(readAck(Buffer.alloc(0), 'murat')).toEqual({ ok: 'cleared' });
    expect(readAck(Buffer.from('{"v":1,'), 'murat')).toEqual({ ok: false, reason: 'not JSON' });
    expect(readAck(ack({ v: 1, site: 'allanche', seq: 12, at }), 'murat')).toMatchObject({
      ok: false,
      reason: 'an ack for site allanche',
    });
    expect(readAck(ack({ v: 1, site: 'murat', seq: 12, missing: [[20, 14]], at }), 'murat')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/missing/),
    });
    expect(readAck(ack({ v: 1, site: 'murat', seq: -1, at }), 'murat').ok).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(readAck(Buffer.from(bytes), 'murat').ok).not.toBe(true);
      }),
    );
  });

  it('the status passes the protocol schema, with the directory age, parked ranges and the site-local time', () => {
    const store = storeWith(7);
    store.events.markAcked(3);
    store.parked.park(5, 5, 'refused', 0);
    const now = Date.parse('2026-11-23T08:00:00Z');
    const status = buildStatus(store, { site: 'murat', online: true, version: '0.1.0', nowMs: now, clockSynced: true });
    expect(SiteStatus.parse(status)).toMatchObject({
      online: true,
      lastSeq: 7,
      ackedSeq: 3,
      parked: [[5, 5]],
      directory: { revision: 0, ageSeconds: null, stale: false },
      clock: { synced: true },
    });
    expect(status.at).toBe('2026-11-23T09:00:00.000+01:00');
  });

  it('the sync.rejected fault is recorded only in a form the event catalog accepts', () => {
    const fault = syncRejectedFault('murat', 12, 'the broker closed the connection on this publish', 0);
    const accepted = SiteEvent.safeParse({
      v: 1,
      site: 'murat',
      seq: 1,
      id: '0190b6d2-0000-7000-8000-000000000000',
      at: '2026-11-23T09:00:00.000+01:00',
      type: 'device.fault',
      data: { device: 'sync', kind: 'sync.rejected' },
    }).success;
    expect(fault !== undefined).toBe(accepted);
    if (fault)
      expect(fault).toMatchObject({
        type: 'device.fault',
        data: { kind: 'sync.rejected', detail: expect.stringContaining('seq 12') },
      });
  });
});
