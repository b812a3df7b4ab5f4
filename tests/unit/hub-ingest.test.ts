import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openHubDatabase, type Tx } from '../../cloud-sync/hub/db.js';
import { HubIngest } from '../../cloud-sync/hub/ingest.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { Ack, type EventBatch } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import { startEmbeddedBroker } from '../harness/broker.js';
import { batchOf, statusOf, json } from '../harness/hub-fixtures.js';
import { refuseEventsOf, testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const t = topics('net/v1');

describe('hub ingest, message by message (no broker)', () => {
  let store: HubStore;
  let ingest: HubIngest;
  beforeEach(async () => {
    store = new HubStore(await openHubDatabase(await testHubDb()));
    ingest = new HubIngest({
      store,
      clock: new ManualClock(0),
      log: silent,
      topicPrefix: 'net/v1',
      maxPayloadBytes: 10_000,
      commitWindowMs: 0,
    });
  });
  afterEach(async () => {
    if (store.db.open) await store.db.close();
  });

  it('applies a batch and counts it', async () => {
    const ids = new Map<number, string>();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 3, ids)));
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 2, 4, ids)));
    await ingest.settled();
    expect(ingest.counters).toMatchObject({ received: 2, applied: 4, duplicates: 2, rejected: 0 });
    expect((await store.progress('murat'))?.contiguous).toBe(4);
  });

  it('tells its listener of each event stored for the first time, once, in the ingest transaction; a failing listener changes nothing', async () => {
    const told: number[] = [];
    const seen: Array<number | undefined> = [];
    let fail = false;
    const listening = new HubIngest({
      store,
      clock: new ManualClock(0),
      log: silent,
      topicPrefix: 'net/v1',
      commitWindowMs: 0,
      onApplied: async (tx, events) => {
        for (const e of events) told.push(e.seq);
        // The events are stored already, in the transaction the listener writes in.
        seen.push((await store.progress(tx, 'murat'))?.maxSeen);
        if (fail) throw new Error('listener broke');
      },
    });
    const ids = new Map<number, string>();
    listening.onMessage(t.events('murat'), json(batchOf('murat', 1, 3, ids)));
    listening.onMessage(t.events('murat'), json(batchOf('murat', 1, 3, ids)));
    await listening.settled();
    fail = true;
    listening.onMessage(t.events('murat'), json(batchOf('murat', 2, 5, ids)));
    await listening.settled();
    expect(told).toEqual([1, 2, 3, 4, 5]);
    expect(seen).toEqual([3, 5]);
    expect(listening.counters).toMatchObject({ applied: 5, duplicates: 5, storeErrors: 0 });
    expect((await store.progress('murat'))?.contiguous).toBe(5);
  });

  it('dead-letters every kind of bad message with a reason code and the zod paths', async () => {
    const cases: Array<[string, Buffer, string]> = [
      [t.events('murat'), Buffer.from('{"v":1,'), 'payload.not_json'],
      // A length zod's check cannot compare (its own toString is not a function): refused, not thrown.
      [t.events('murat'), json({ v: 1, site: 'murat', events: { length: { toString: true } } }), 'payload.invalid'],
      [t.events('murat'), json({ v: 1, site: 'murat', events: [] }), 'payload.invalid'],
      [t.events('murat'), json(batchOf('lyon', 1, 1)), 'topic.site_mismatch'],
      [t.events('murat'), Buffer.alloc(10_001, ' '), 'payload.too_large'],
      [t.status('murat'), json({ ...statusOf('murat'), online: 'yes' }), 'payload.invalid'],
      [t.status('murat'), json(statusOf('lyon')), 'topic.site_mismatch'],
      ['net/v1/sites/murat/other', json({}), 'topic.unknown'],
    ];
    for (const [topic, payload] of cases) expect(() => ingest.onMessage(topic, payload)).not.toThrow();
    await ingest.settled();
    expect(ingest.counters.rejected).toBe(cases.length);
    const dead = await store.deadLetters(100);
    expect(dead.map((d) => d.reason).reverse()).toEqual(cases.map((c) => c[2]));
    expect(dead.find((d) => d.reason === 'payload.invalid' && d.topic.endsWith('/events'))?.detail).toMatch(
      /^events: /,
    );
    expect(await store.sites()).toEqual([]);
  });

  it('dead-letters a batch with a text no database can hold (a NUL, half a surrogate pair), on both stores alike; the next batch goes through', async () => {
    const odd = ['a\u0000b', '\ud800', 'x\udc00y'];
    for (const door of odd) {
      const batch = batchOf('murat', 1, 2);
      const forced = { ...batch.events[1], data: { door } };
      ingest.onMessage(t.events('murat'), json({ ...batch, events: [batch.events[0], forced] }));
    }
    await ingest.settled();
    const dead = await store.deadLetters(100);
    expect(dead.map((d) => d.reason)).toEqual(odd.map(() => 'payload.invalid'));
    expect(dead[0]?.detail).toMatch(/^\$\.events\[1\]\.data\.door: /);
    expect(await store.sites()).toEqual([]);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(2);
  });

  it('a NUL or half a surrogate pair can only come escaped: raw, the NUL is not JSON and the encoded half pair reads as U+FFFD', async () => {
    const raw = (door: Buffer) => {
      const batch = batchOf('murat', 1, 1);
      const [before, after] = JSON.stringify({
        ...batch,
        events: [{ ...batch.events[0], type: 'door.forced', data: { door: '@' } }],
      }).split('"@"');
      return Buffer.concat([Buffer.from(`${before}"`), door, Buffer.from(`"${after}`)]);
    };
    ingest.onMessage(t.events('murat'), raw(Buffer.from([0x61, 0x00, 0x62])));
    await ingest.settled();
    expect((await store.deadLetters(1))[0]?.reason).toBe('payload.not_json');
    // The UTF-8 bytes of U+D800 (invalid UTF-8): decoded as replacement characters, stored as such.
    ingest.onMessage(t.events('murat'), raw(Buffer.from([0x78, 0xed, 0xa0, 0x80, 0x79])));
    await ingest.settled();
    const [stored] = await store.events('murat', 0, 1);
    expect(stored?.event).toMatchObject({ type: 'door.forced', data: { door: 'x\ufffd\ufffd\ufffdy' } });
  });

  it('dead-letters a consumable use whose item the price list could not name, with its reason and path; nothing of the batch is stored', async () => {
    const BAD_ITEMS = ['<img src=x onerror=alert(1)>', 'print page', 'café', '.hidden', 'a'.repeat(64) + '!'];
    for (const item of BAD_ITEMS) {
      const batch = batchOf('murat', 1, 2);
      const use = { ...batch.events[1], type: 'consumable.used', data: { memberId: 'ana', item, quantity: 1 } };
      ingest.onMessage(t.events('murat'), json({ ...batch, events: [batch.events[0], use] }));
      await ingest.settled();
      expect((await store.deadLetters(1))[0]).toMatchObject({
        topic: t.events('murat'),
        reason: 'payload.invalid',
        detail: expect.stringContaining('events[1].data.item'),
      });
    }
    expect(ingest.counters).toMatchObject({ rejected: BAD_ITEMS.length, applied: 0 });
    expect(await store.events('murat', 0, 10)).toEqual([]);
  });

  it('a conflicting seq is counted and dead-lettered; the stored event stays', async () => {
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    await ingest.settled();
    const stored = await store.events('murat', 0, 10);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 2, 3)));
    await ingest.settled();
    expect(ingest.counters).toMatchObject({ applied: 3, conflicts: 1, rejected: 0 });
    expect((await store.deadLetters(1))[0]).toMatchObject({ reason: 'seq.conflict' });
    expect(await store.events('murat', 0, 2)).toEqual(stored);
  });

  it('a last will marks the site offline; an empty retained status is ignored', async () => {
    ingest.onMessage(t.status('murat'), json(statusOf('murat')));
    ingest.onMessage(t.status('murat'), json(statusOf('murat', { online: false })));
    ingest.onMessage(t.status('murat'), Buffer.alloc(0));
    await ingest.settled();
    expect((await store.sites())[0]?.online).toBe(false);
    expect(ingest.counters.rejected).toBe(0);
  });

  it('never throws, even when the store itself fails', async () => {
    await store.db.close();
    expect(() => ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 1)))).not.toThrow();
    await ingest.settled();
    expect(ingest.counters.storeErrors).toBe(1);
    // A status, and a dead letter, the store cannot keep either: counted, logged, nothing rejects unheard.
    expect(() => ingest.onMessage(t.status('murat'), json(statusOf('murat')))).not.toThrow();
    expect(() => ingest.onMessage(t.events('murat'), Buffer.from('not json'))).not.toThrow();
    await ingest.settled();
    expect(ingest.counters).toMatchObject({ storeErrors: 3, rejected: 1 });
  });
});

/** One batch of a site of its own, committed at once: what arrives next, within the window, waits for it to end. */
async function openWindow(ingest: HubIngest): Promise<void> {
  ingest.onMessage(t.events('warm'), json(batchOf('warm', 1, 1)));
  await ingest.settled();
}

describe('hub ingest group commit', () => {
  const setup = async () => {
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    const clock = new ManualClock(0);
    const ingest = new HubIngest({ store, clock, log: silent, topicPrefix: 'net/v1', commitWindowMs: 20 });
    return { store, ingest, clock };
  };

  it('commits a batch at once when no commit started within the window: a lone tap waits for nothing', async () => {
    const { store, ingest, clock } = await setup();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    expect(clock.pendingTimers()).toBe(0);
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(2);
    // A window later the hub is quiet again: the next batch goes at once too.
    clock.advance(20);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 3, 3)));
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(3);
    expect(ingest.counters).toMatchObject({ batches: 2, applied: 3, storeErrors: 0 });
    await store.db.close();
  });

  it('commits the batches that arrive within the window of the last commit in one go at its end, and only then counts and acknowledges them', async () => {
    const { store, ingest, clock } = await setup();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    await ingest.settled();
    clock.advance(10);
    ingest.onMessage(t.status('lyon'), json(statusOf('lyon')));
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 3, 4)));
    clock.advance(9);
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(2);
    expect(await store.progress('lyon')).toMatchObject({ contiguous: 0 });
    expect(ingest.counters.applied).toBe(2);
    clock.advance(1);
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(4);
    expect((await store.progress('lyon'))?.contiguous).toBe(1);
    expect(ingest.counters).toMatchObject({ received: 4, batches: 3, applied: 5, storeErrors: 0 });
    // The last commit started just now: the next batch waits for the window.
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 5, 5)));
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    clock.advance(19);
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(4);
    clock.advance(1);
    await ingest.settled();
    expect((await store.progress('murat'))?.contiguous).toBe(5);
    await store.db.close();
  });

  it('a group is one transaction: one batch the store cannot commit leaves every batch in it unstored and unacknowledged', async () => {
    const { store, ingest, clock } = await setup();
    await openWindow(ingest);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
    await refuseEventsOf(store.db, 'lyon');
    clock.advance(20);
    await ingest.settled();
    expect(ingest.counters).toMatchObject({ batches: 1, applied: 1, storeErrors: 2 });
    expect(await store.db.value("SELECT COUNT(*) FROM events WHERE site <> 'warm'")).toBe(0);
    await store.db.close();
  });

  it('stop() commits the group still waiting before the database closes, and leaves no timer', async () => {
    const { store, ingest, clock } = await setup();
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 3)));
    await ingest.stop();
    expect((await store.progress('murat'))?.contiguous).toBe(3);
    await store.db.close();
    expect(clock.pendingTimers()).toBe(0);
  });
});

/** Ingest committing each batch as it comes (no window), telling `pseudonymise` of each batch in its group's transaction. */
const committingAtOnce = (store: HubStore, pseudonymise: (tx: Tx, batch: EventBatch) => Promise<EventBatch>) =>
  new HubIngest({
    store,
    clock: new ManualClock(0),
    log: silent,
    topicPrefix: 'net/v1',
    commitWindowMs: 0,
    pseudonymise,
  });

describe('hub ingest group commit, one transaction with its listeners', () => {
  it('the listener is told once per group, of every event it stored; a failing listener is rolled back to its savepoint and the group is still committed; its after-commit function runs after the commit', async () => {
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    const clock = new ManualClock(0);
    const told: string[][] = [];
    const afterCommit: Array<{ sites: string[]; events: Promise<unknown> }> = [];
    const ingest = new HubIngest({
      store,
      clock,
      log: silent,
      topicPrefix: 'net/v1',
      commitWindowMs: 20,
      onApplied: async (tx, events) => {
        const sites = [...new Set(events.map((e) => e.site))];
        told.push(events.map((e) => `${e.site} ${e.seq}`));
        for (const site of sites)
          await tx.run(
            "INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES ('listener', 'wrote', ?, '', 0)",
            [site],
          );
        if (sites.includes('lyon')) throw new Error('listener broke');
        // Read outside the transaction: inside it, this would be refused.
        return () => afterCommit.push({ sites, events: store.db.value('SELECT COUNT(*) FROM events') });
      },
    });
    await openWindow(ingest);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
    ingest.onMessage(t.events('allanche'), json(batchOf('allanche', 1, 3)));
    clock.advance(20);
    await ingest.settled();
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
    clock.advance(20);
    await ingest.settled();
    expect(told).toEqual([['warm 1'], ['murat 1', 'murat 2', 'allanche 1', 'allanche 2', 'allanche 3'], ['lyon 1']]);
    expect(ingest.counters).toMatchObject({ batches: 4, applied: 7, storeErrors: 0 });
    expect((await store.progress('lyon'))?.contiguous).toBe(1);
    expect((await store.deadLetters()).map((d) => d.detail).sort()).toEqual(['allanche', 'murat', 'warm']);
    expect(afterCommit.map((a) => a.sites)).toEqual([['warm'], ['murat', 'allanche']]);
    expect(await Promise.all(afterCommit.map((a) => a.events))).toEqual([1, 6]);
    await store.db.close();
  });

  it('batches arriving while a commit is in flight go in the next group, stored in the order they came', async () => {
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    const groups: Array<{ tx: Tx; batches: string[]; muratBefore: number | undefined }> = [];
    // Told each batch in its group's transaction: which transaction says which group it went in.
    const ingest = committingAtOnce(store, async (tx, batch) => {
      let group = groups.at(-1);
      if (group?.tx !== tx) {
        group = { tx, batches: [], muratBefore: (await store.progress(tx, 'murat'))?.contiguous };
        groups.push(group);
      }
      group.batches.push(`${batch.site} ${batch.events[0]?.seq}-${batch.events.at(-1)?.seq}`);
      return batch;
    });
    const ids = new Map<number, string>();
    const first = batchOf('murat', 5, 5);
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2, ids))); // committed at once, alone
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 3, 4, ids)));
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
    ingest.onMessage(t.events('murat'), json(first));
    ingest.onMessage(t.events('murat'), json(batchOf('murat', 5, 5)));
    await ingest.settled();
    expect(groups.map((g) => g.batches)).toEqual([['murat 1-2'], ['murat 3-4', 'lyon 1-1', 'murat 5-5', 'murat 5-5']]);
    // The second group began once the first was committed.
    expect(groups.map((g) => g.muratBefore)).toEqual([undefined, 2]);
    // Stored in arrival order: the first seq 5 is kept, the second one is the conflict.
    expect(ingest.counters).toMatchObject({ batches: 5, applied: 6, conflicts: 1, storeErrors: 0 });
    expect((await store.events('murat', 4, 1))[0]?.event.id).toBe(first.events[0]?.id);
    await store.db.close();
  });
  it('what arrives during a long commit is committed in groups of at most 20,000 events', async () => {
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    const groups: Array<{ tx: Tx; batches: number }> = [];
    const ingest = committingAtOnce(store, (tx, batch) => {
      const group = groups.at(-1);
      if (group?.tx === tx) group.batches++;
      else groups.push({ tx, batches: 1 });
      return Promise.resolve(batch);
    });
    ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1))); // committed at once, alone
    for (let i = 0; i < 25; i++)
      ingest.onMessage(t.events('murat'), json(batchOf('murat', i * 1000 + 1, (i + 1) * 1000)));
    await ingest.settled();
    expect(groups.map((g) => g.batches)).toEqual([1, 20, 5]);
    expect(ingest.counters).toMatchObject({ batches: 26, applied: 25_001, storeErrors: 0 });
    expect(await store.progress('murat')).toEqual({ contiguous: 25_000, maxSeen: 25_000, missing: [] });
    await store.db.close();
  });
});

describe('hub ingest acks, through a broker', () => {
  it('acks only what is committed: a group the store refuses gets no ack, and is acked once sent again', async () => {
    const broker = await startEmbeddedBroker();
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    const clock = new ManualClock(0);
    const ingest = new HubIngest({ store, clock, log: silent, topicPrefix: 'net/v1', commitWindowMs: 20 });
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'ack-watcher', protocolVersion: 4 });
    try {
      await ingest.start(broker.url);
      const acks: Ack[] = [];
      watcher.on('message', (_topic, payload) => {
        const ack = payload.length > 0 ? Ack.parse(JSON.parse(payload.toString())) : undefined;
        if (ack && ack.site !== 'warm') acks.push(ack);
      });
      await watcher.subscribeAsync('net/v1/sites/+/ack', { qos: 1 });

      await openWindow(ingest);
      await refuseEventsOf(store.db, 'lyon');
      ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
      ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
      clock.advance(20);
      await ingest.settled();
      expect(ingest.counters).toMatchObject({ batches: 1, storeErrors: 2 });
      expect(await store.db.value("SELECT COUNT(*) FROM events WHERE site <> 'warm'")).toBe(0);
      // Another site's ack, published after: had the refused group been acked, its acks would come first.
      ingest.onMessage(t.events('allanche'), json(batchOf('allanche', 1, 1)));
      clock.advance(20);
      await vi.waitFor(() => expect(acks.map((a) => a.site)).toEqual(['allanche']));

      await store.db.exec(store.db.dialect === 'sqlite' ? 'DROP TRIGGER refuse' : 'DROP TRIGGER refuse ON events');
      ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 2)));
      ingest.onMessage(t.events('lyon'), json(batchOf('lyon', 1, 1)));
      clock.advance(20);
      await vi.waitFor(() =>
        expect(acks.slice(1).sort((a, b) => (a.site < b.site ? -1 : 1))).toMatchObject([
          { site: 'lyon', seq: 1, missing: [] },
          { site: 'murat', seq: 2, missing: [] },
        ]),
      );
      await vi.waitFor(() => expect(ingest.counters).toMatchObject({ batches: 4, storeErrors: 2, acksPublished: 4 }));
    } finally {
      await watcher.endAsync();
      await ingest.stop();
      await broker.stop();
      await store.db.close();
    }
  });
});

describe('hub ingest while stopping', () => {
  it('stores nothing and sets no ack timer once stop() has begun, so nothing touches the closed database', async () => {
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    const ingest = new HubIngest({ store, clock, log: silent });
    const stopped = ingest.stop();
    ingest.onMessage('tessera/v1/sites/murat/events', Buffer.from(JSON.stringify(batchOf('murat', 1, 3))));
    await stopped;
    await store.db.close();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(1000);
    expect(ingest.counters.received).toBe(0);
  });
});
