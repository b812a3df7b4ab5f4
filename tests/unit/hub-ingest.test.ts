import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubIngest } from '../../cloud-sync/hub/ingest.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { topics } from '../../shared/protocol/topics.js';
import { batchOf, statusOf, json } from '../harness/hub-fixtures.js';
import { refuseEventsOf, testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const t = topics('net/v1');

describe('hub ingest, message by message (no broker)', () => {
  let store: HubStore;
  let ingest: HubIngest;
  beforeEach(() => {
    store = new HubStore(openHubDatabase(testHubDb()));
    ingest = new HubIngest({
      store,
      clock: new ManualClock(0),
      log: silent,
      topicPrefix: 'net/v1',
      maxPayloadBytes: 10_000,
      commitWindowMs: 0,
    });
  });
  afterEach(() => {
    if (store.db.open) store.db.close();
  });

  it('applies a batch and counts it', () => {
    const ids = new Map<number, string>();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 3, ids)));
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 2, 4, ids)));
    expect(ingest.counters).toMatchObject({ received: 2, applied: 4, duplicates: 2, rejected: 0 });
    expect(store.progress('murat')?.contiguous).toBe(4);
  });

  it('tells its listener of each event stored for the first time, once, after the commit; a failing listener changes nothing', () => {
    const told: number[] = [];
    let fail = false;
    const listening = new HubIngest({
      store,
      clock: new ManualClock(0),
      log: silent,
      topicPrefix: 'net/v1',
      commitWindowMs: 0,
      onApplied: (events) => {
        for (const e of events) told.push(e.seq);
        expect(store.progress('murat')?.maxSeen).toBe(events[events.length - 1]?.seq);
        if (fail) throw new Error('listener broke');
      },
    });
    const ids = new Map<number, string>();
    listening.onMessage(t.events('murat'), json(batchOf('murat', 1, 3, ids)));
    listening.onMessage(t.events('murat'), json(batchOf('murat', 1, 3, ids)));
    fail = true;
    listening.onMessage(t.events('murat'), json(batchOf('murat', 2, 5, ids)));
    expect(told).toEqual([1, 2, 3, 4, 5]);
    expect(listening.counters).toMatchObject({ applied: 5, duplicates: 5, storeErrors: 0 });
    expect(store.progress('murat')?.contiguous).toBe(5);
  });

  it('dead-letters every kind of bad message with a reason code and the zod paths', () => {
    const cases: Array<[string, Buffer, string]> = [
      [t.events('murat'), Buffer.from('{"v":1,'), 'payload.not_json'],
      [t.events('murat'), json({ v: 1, site: 'murat', events: [] }), 'payload.invalid'],
      [t.events('murat'), json(batchOf('lyon', 1, 1)), 'topic.site_mismatch'],
      [t.events('murat'), Buffer.alloc(10_001, ' '), 'payload.too_large'],
      [t.status('murat'), json({ ...statusOf('murat'), online: 'yes' }), 'payload.invalid'],
      [t.status('murat'), json(statusOf('lyon')), 'topic.site_mismatch'],
      ['net/v1/sites/murat/other', json({}), 'topic.unknown'],
    ];
    for (const [topic, payload] of cases) expect(() => ingest.onMessage(topic, payload)).not.toThrow();
    expect(ingest.counters.rejected).toBe(cases.length);
    expect(
      store
        .deadLetters(100)
        .map((d) => d.reason)
        .reverse(),
    ).toEqual(cases.map((c) => c[2]));
    expect(
      store.deadLetters(100).find((d) => d.reason === 'payload.invalid' && d.topic.endsWith('/events'))?.detail,
    ).toMatch(/^events: /);
    expect(store.sites()).toEqual([]);
  });

  it('dead-letters a consumable use whose item the price list could not name, with its reason and path; nothing of the batch is stored', () => {
    const BAD_ITEMS = ['<img src=x onerror=alert(1)>', 'print page', 'café', '.hidden', 'a'.repeat(64) + '!'];
    for (const item of BAD_ITEMS) {
      const batch = batchOf('murat', 1, 2);
      const use = { ...batch.events[1], type: 'consumable.used', data: { memberId: 'ana', item, quantity: 1 } };
      ingest.onMessage(t.events('murat'), json({ ...batch, events: [batch.events[0], use] }));
      expect(store.deadLetters(1)[0]).toMatchObject({
        topic: t.events('murat'),
        reason: 'payload.invalid',
        detail: expect.stringContaining('events[1].data.item'),
      });
    }
    expect(ingest.counters).toMatchObject({ rejected: BAD_ITEMS.length, applied: 0 });
    expect(store.events('murat', 0, 10)).toEqual([]);
  });

  it('a conflicting seq is counted and dead-lettered; the stored event stays', () => {
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    const stored = store.events('murat', 0, 10);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 2, 3)));
    expect(ingest.counters).toMatchObject({ applied: 3, conflicts: 1, rejected: 0 });
    expect(store.deadLetters(1)[0]).toMatchObject({ reason: 'seq.conflict' });
    expect(store.events('murat', 0, 2)).toEqual(stored);
  });

  it('a last will marks the site offline; an empty retained status is ignored', () => {
    ingest.onMessage(t.status('murat'), json(statusOf('murat')));
    ingest.onMessage(t.status('murat'), json(statusOf('murat', { online: false })));
    ingest.onMessage(t.status('murat'), Buffer.alloc(0));
    expect(store.sites()[0]?.online).toBe(false);
    expect(ingest.counters.rejected).toBe(0);
  });

  it('never throws, even when the store itself fails', () => {
    store.db.close();
    expect(() => ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 1)))).not.toThrow();
    expect(ingest.counters.storeErrors).toBe(1);
  });
});

describe('hub ingest group commit', () => {
  const setup = () => {
    const store = new HubStore(openHubDatabase(testHubDb()));
    const clock = new ManualClock(0);
    const ingest = new HubIngest({ store, clock, log: silent, topicPrefix: 'net/v1', commitWindowMs: 20 });
    return { store, ingest, clock };
  };

  it('commits the batches that arrive within the window in one go, and only then counts and acknowledges them', () => {
    const { store, ingest, clock } = setup();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    clock.advance(10);
    ingest.onMessage(t.status('lyon'), json(statusOf('lyon')));
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 3, 4)));
    clock.advance(9);
    expect(store.progress('murat')).toBeUndefined();
    expect(ingest.counters.applied).toBe(0);
    clock.advance(1);
    expect(store.progress('murat')?.contiguous).toBe(4);
    expect(store.progress('lyon')?.contiguous).toBe(1);
    expect(ingest.counters).toMatchObject({ received: 4, batches: 3, applied: 5, storeErrors: 0 });
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 5, 5)));
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    clock.advance(20);
    expect(store.progress('murat')?.contiguous).toBe(5);
  });

  it('a group is one transaction: one batch the store cannot commit leaves every batch in it unstored and unacknowledged', () => {
    const { store, ingest, clock } = setup();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
    refuseEventsOf(store.db, 'lyon');
    clock.advance(20);
    expect(ingest.counters).toMatchObject({ batches: 0, applied: 0, storeErrors: 2, acksPublished: 0 });
    expect(store.db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(0);
  });

  it('stop() commits the group still waiting before the database closes, and leaves no timer', async () => {
    const { store, ingest, clock } = setup();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 3)));
    await ingest.stop();
    expect(store.progress('murat')?.contiguous).toBe(3);
    store.db.close();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('hub ingest while stopping', () => {
  it('stores nothing and sets no ack timer once stop() has begun, so nothing touches the closed database', async () => {
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const store = new HubStore(openHubDatabase(testHubDb()));
    const ingest = new HubIngest({ store, clock, log: silent });
    const stopped = ingest.stop();
    ingest.onMessage('tessera/v1/sites/murat/events', Buffer.from(JSON.stringify(batchOf('murat', 1, 3))));
    await stopped;
    store.db.close();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(1000);
    expect(ingest.counters.received).toBe(0);
  });
});
