import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { storeRuns, testHubDb } from '../harness/hub-db.js';
import { HubStore, type IngestResult } from '../../cloud-sync/hub/store.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { batchOf, siteEvent, statusOf } from '../harness/hub-fixtures.js';

const NOW = Date.UTC(2026, 10, 23, 9);

async function snapshot(store: HubStore) {
  const all = (table: string) => store.db.all(`SELECT * FROM ${table} ORDER BY 1, 2`);
  return { events: await all('events'), progress: await all('site_progress'), dead: await all('dead_letters') };
}

describe('hub store', () => {
  let store: HubStore;
  beforeEach(async () => {
    store = new HubStore(await openHubDatabase(await testHubDb()));
  });
  afterEach(() => store.db.close());

  it('applies each (site, seq) once and ignores a re-sent batch', async () => {
    const ids = new Map<number, string>();
    const first = await store.ingest(batchOf('murat', 1, 3, ids), NOW);
    expect(first).toMatchObject({ applied: 3, duplicates: 0, conflicts: [], contiguous: 3, maxSeen: 3, missing: [] });
    const again = await store.ingest(batchOf('murat', 1, 3, ids), NOW + 1);
    expect(again).toMatchObject({ applied: 0, duplicates: 3, conflicts: [], contiguous: 3 });
    expect((await store.events('murat', 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await store.events('murat', 0, 100))[0]?.receivedAt).toBe(NOW);
  });

  it('keeps sites apart', async () => {
    await store.ingest(batchOf('murat', 1, 2), NOW);
    await store.ingest(batchOf('reichstett', 1, 5), NOW);
    expect((await store.progress('murat'))?.contiguous).toBe(2);
    expect((await store.progress('reichstett'))?.contiguous).toBe(5);
  });

  it('reports a conflict and keeps the event it already holds', async () => {
    const ids = new Map<number, string>();
    await store.ingest(batchOf('murat', 1, 2, ids), NOW);
    const other = batchOf('murat', 2, 3);
    const r = await store.ingest(other, NOW);
    expect(r.applied).toBe(1);
    expect(r.conflicts).toEqual([{ site: 'murat', seq: 2, storedId: ids.get(2), receivedId: other.events[0]?.id }]);
    expect((await store.events('murat', 1, 1))[0]?.event.id).toBe(ids.get(2));
    expect(r.contiguous).toBe(3);
  });

  it('knows the highest contiguous seq and the missing ranges', async () => {
    await store.ingest(batchOf('murat', 1, 2), NOW);
    let r = await store.ingest(batchOf('murat', 5, 6), NOW);
    expect(r).toMatchObject({ contiguous: 2, maxSeen: 6, missing: [[3, 4]] });
    r = await store.ingest(batchOf('murat', 9, 9), NOW);
    expect(r.missing).toEqual([
      [3, 4],
      [7, 8],
    ]);
    r = await store.ingest(batchOf('murat', 3, 4), NOW);
    expect(r).toMatchObject({ contiguous: 6, missing: [[7, 8]] });
  });

  it('a first batch that does not start at 1 leaves the start missing', async () => {
    const r = await store.ingest(batchOf('murat', 4, 5), NOW);
    expect(r).toMatchObject({ contiguous: 0, maxSeen: 5, missing: [[1, 3]] });
  });

  it('skips ranges the site declared parked, whether the status comes before or after', async () => {
    await store.ingest(batchOf('murat', 1, 2), NOW);
    await store.ingest(batchOf('murat', 6, 7), NOW);
    expect(await store.progress('murat')).toMatchObject({ contiguous: 2, missing: [[3, 5]] });
    const p = await store.recordStatus(statusOf('murat', { parked: [[4, 4]] }), NOW);
    expect(p).toMatchObject({
      contiguous: 2,
      missing: [
        [3, 3],
        [5, 5],
      ],
    });
    expect(await store.recordStatus(statusOf('murat', { parked: [[3, 5]] }), NOW)).toMatchObject({
      contiguous: 7,
      missing: [],
    });

    await store.recordStatus(
      statusOf('lyon', {
        parked: [
          [1, 2],
          [4, 4],
        ],
      }),
      NOW,
    );
    expect(await store.ingest(batchOf('lyon', 3, 3), NOW)).toMatchObject({ contiguous: 4 });
    expect(await store.ingest(batchOf('lyon', 5, 6), NOW)).toMatchObject({ contiguous: 6 });
  });

  it('lists sites with their status; the last will marks a site offline', async () => {
    await store.ingest(batchOf('murat', 1, 3), NOW);
    await store.recordStatus(statusOf('murat', { lastSeq: 10, ackedSeq: 3 }), NOW);
    expect(await store.sites()).toMatchObject([
      { site: 'murat', online: true, contiguous: 3, maxSeen: 3, statusAt: NOW, status: { lastSeq: 10 } },
    ]);
    await store.recordStatus(statusOf('murat', { online: false }), NOW + 5);
    expect((await store.sites())[0]).toMatchObject({
      online: false,
      statusAt: NOW + 5,
      lastEventAt: siteEvent('murat', 3).at,
    });
  });

  it('reads one site as the listing shows it, gaps included, nothing for a site never heard from, and the ids alone', async () => {
    await store.ingest(batchOf('murat', 1, 2), NOW);
    await store.ingest(batchOf('murat', 5, 5), NOW);
    await store.recordStatus(statusOf('lyon', { lastSeq: 4 }), NOW);
    const listed = await store.sites();
    expect(await store.site('murat')).toEqual(listed.find((s) => s.site === 'murat'));
    expect(await store.site('murat')).toMatchObject({ contiguous: 2, missing: [[3, 4]], status: null });
    expect(await store.site('lyon')).toEqual(listed.find((s) => s.site === 'lyon'));
    expect(await store.site('lyon')).toMatchObject({ online: true, statusAt: NOW, status: { lastSeq: 4 } });
    expect(await store.site('reichstett')).toBeUndefined();
    expect(await store.siteIds()).toEqual(['lyon', 'murat']);
  });

  it('keeps dead letters with the payload cut to 4 KB, newest first', async () => {
    await store.deadLetter('t/a', 'payload.not_json', 'x', 'garbage', NOW);
    await store.deadLetter('t/b', 'payload.too_large', 'y', Buffer.alloc(100_000, 'a'), NOW + 1);
    const dead = await store.deadLetters(10);
    expect(dead.map((d) => d.topic)).toEqual(['t/b', 't/a']);
    expect(dead[0]?.payload.length).toBe(4096);
  });

  it('keeps the whole of a dead letter holding NUL bytes, each shown as U+FFFD', async () => {
    await store.deadLetter('t/nul', 'payload.not_json', 'binary', Buffer.from([0x7b, 0x00, 0x41, 0x00, 0x7d]), NOW);
    expect((await store.deadLetters(1))[0]?.payload).toBe('{\ufffdA\ufffd}');
  });

  it('a batch that breaks the batch rules changes nothing', async () => {
    await store.ingest(batchOf('murat', 1, 2), NOW);
    const before = await snapshot(store);
    const foreign = batchOf('murat', 3, 4);
    foreign.events[1] = siteEvent('lyon', 4);
    await expect(store.ingest(foreign, NOW)).rejects.toThrow(/breaks the batch rules/);
    const holed = batchOf('murat', 3, 5);
    holed.events.splice(1, 1);
    await expect(store.ingest(holed, NOW)).rejects.toThrow(/breaks the batch rules/);
    expect(await snapshot(store)).toEqual(before);
  });

  it('a batch that fails half-way is rolled back whole', async () => {
    await store.ingest(batchOf('murat', 1, 2), NOW);
    const before = await snapshot(store);
    const broken = batchOf('murat', 3, 6);
    (broken.events[2] as { at: unknown }).at = undefined; // NOT NULL fails on the third insert
    await expect(store.ingest(broken, NOW)).rejects.toThrow();
    expect(await snapshot(store)).toEqual(before);
  });

  it('moves contiguous through thousands of stored seqs, read in pages, and stops at the first gap', async () => {
    await store.ingest(batchOf('murat', 2, 3000), NOW);
    await store.ingest(batchOf('lyon', 2, 2000), NOW);
    await store.ingest(batchOf('lyon', 2002, 4500), NOW);
    expect(await store.ingest(batchOf('murat', 1, 1), NOW)).toMatchObject({ contiguous: 3000, missing: [] });
    expect(await store.ingest(batchOf('lyon', 1, 1), NOW)).toMatchObject({
      contiguous: 2000,
      maxSeen: 4500,
      missing: [[2001, 2001]],
    });
  });

  it("stores a group in the caller's transaction, telling its announcer there: rolled back, nothing of it stays", async () => {
    const told: Array<[string, readonly number[]]> = [];
    const announcing = new HubStore(store.db, async (tx, site, seqs) => {
      told.push([site, seqs]);
      // The announcer writes through the transaction's handle: its write goes with the group.
      await tx.run("INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES ('told', 'r', ?, '', 0)", [
        site,
      ]);
    });
    const ids = new Map<number, string>();
    const results = await store.db.transaction((tx) =>
      announcing.ingestIn(tx, [batchOf('murat', 3, 4, ids), batchOf('lyon', 1, 1), batchOf('murat', 1, 4, ids)], NOW),
    );
    expect(results.map((r) => [r.site, r.applied, r.duplicates, r.contiguous])).toEqual([
      ['murat', 2, 0, 4],
      ['lyon', 1, 0, 1],
      ['murat', 2, 2, 4],
    ]);
    expect(told).toEqual([
      ['lyon', [1]],
      ['murat', [3, 4, 1, 2]],
    ]);
    expect((await store.deadLetters()).map((d) => d.detail).sort()).toEqual(['lyon', 'murat']);

    const before = await snapshot(store);
    await expect(
      store.db.transaction(async (tx) => {
        await announcing.ingestIn(tx, [batchOf('murat', 5, 6), batchOf('allanche', 1, 2)], NOW);
        throw new Error('the caller gives up');
      }),
    ).rejects.toThrow('the caller gives up');
    expect(await snapshot(store)).toEqual(before);
    expect(await store.progress('allanche')).toBeUndefined();
  });

  it('counts the sites it knows of without reading the database again', async () => {
    expect(store.knownSites).toBe(0);
    await store.ingest(batchOf('murat', 1, 1), NOW);
    await store.recordStatus(statusOf('lyon'), NOW);
    expect(store.knownSites).toBe(2);
    // Another store on the same database (another hub instance) learns them from a listing.
    const other = new HubStore(store.db);
    expect(other.knownSites).toBe(0);
    expect((await other.sites()).map((s) => s.site)).toEqual(['lyon', 'murat']);
    expect(other.knownSites).toBe(2);
  });

  it('property: any interleaving of batches and duplicates ends with every seq once and contiguous = max', async () => {
    const plan = fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: Math.max(0, n - 1) }),
        extra: fc.array(fc.nat(), { maxLength: 20 }),
        seed: fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
      }),
    );
    // One store for the whole property, each run on a site of its own (sites are kept apart, as
    // tested above): on PostgreSQL a fresh schema per run, every migration applied, cost more than the run.
    let run = 0;
    await fc.assert(
      fc.asyncProperty(plan, async ({ n, cuts, extra, seed }) => {
        const site = `site-${++run}`;
        const ids = new Map<number, string>();
        const bounds = [0, ...cuts.filter((c) => c < n).sort((a, b) => a - b), n];
        const batches: EventBatch[] = [];
        for (let i = 1; i < bounds.length; i++)
          batches.push(batchOf(site, (bounds[i - 1] ?? 0) + 1, bounds[i] ?? n, ids));
        const deliveries = [...batches, ...extra.map((k) => batches[k % batches.length] as EventBatch)];
        for (let i = deliveries.length - 1; i > 0; i--) {
          const j = (seed[i % seed.length] ?? 0) % (i + 1);
          [deliveries[i], deliveries[j]] = [deliveries[j] as EventBatch, deliveries[i] as EventBatch];
        }
        const delivered = new Set<number>();
        let applied = 0;
        for (const b of deliveries) {
          const r = await store.ingest(b, NOW);
          applied += r.applied;
          for (const e of b.events) delivered.add(e.seq);
          let expected = 0;
          while (delivered.has(expected + 1)) expected++;
          expect(r.contiguous).toBe(expected);
          expect(r.conflicts).toEqual([]);
        }
        expect(applied).toBe(n);
        expect(await store.progress(site)).toEqual({ contiguous: n, maxSeen: n, missing: [] });
        const rows = await store.db.all<{ seq: number; c: number }>(
          'SELECT seq, COUNT(*) AS c FROM events WHERE site = ? GROUP BY seq',
          [site],
        );
        expect(rows.length).toBe(n);
        expect(rows.every((r) => r.c === 1)).toBe(true);
      }),
      { numRuns: storeRuns({ sqlite: 200, postgres: 40 }) },
    );
  });

  it('property: a group commit of any batches, several sites, re-sends and conflicts among them, gives what storing them one after the other gives', async () => {
    const delivery = fc.record({
      site: fc.constantFrom('a', 'b', 'c'),
      from: fc.integer({ min: 1, max: 12 }),
      size: fc.integer({ min: 1, max: 4 }),
      // Another event id for the same seqs: a conflict, unless that seq was never stored.
      other: fc.boolean(),
    });
    const plan = fc.record({
      deliveries: fc.array(delivery, { minLength: 1, maxLength: 16 }),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: 15 }), { maxLength: 5 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(plan, async ({ deliveries, cuts }) => {
        run++;
        const ids = new Map<string, Map<number, string>>();
        const batchesFor = (prefix: string) =>
          deliveries.map((d) => {
            const site = `${prefix}${run}-${d.site}`;
            const key = `${d.site}${d.other ? '*' : ''}`;
            if (!ids.has(key)) ids.set(key, new Map());
            const batch = batchOf(site, d.from, d.from + d.size - 1, ids.get(key));
            return batch;
          });
        const single = batchesFor('one-');
        const grouped = batchesFor('group-');
        const one: IngestResult[] = [];
        for (const b of single) one.push(await store.ingest(b, NOW));
        const groups: IngestResult[] = [];
        const bounds = [0, ...cuts.filter((c) => c < grouped.length).sort((x, y) => x - y), grouped.length];
        for (let i = 1; i < bounds.length; i++)
          groups.push(...(await store.ingestAll(grouped.slice(bounds[i - 1], bounds[i]), NOW)));
        const shape = (r: IngestResult) => ({
          applied: r.appliedEvents.map((e) => e.seq),
          duplicates: r.duplicates,
          conflicts: r.conflicts.map((c) => c.seq),
        });
        expect(groups.map(shape)).toEqual(one.map(shape));
        for (const site of ['a', 'b', 'c'])
          expect(await store.progress(`group-${run}-${site}`)).toEqual(await store.progress(`one-${run}-${site}`));
      }),
      { numRuns: storeRuns({ sqlite: 150, postgres: 30 }) },
    );
  });
});
