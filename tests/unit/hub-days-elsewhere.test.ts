import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaysElsewherePublisher } from '../../cloud-sync/hub/days-elsewhere.js';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, verifyBody } from '../../shared/protocol/signing.js';
import { SignedDaysElsewhere } from '../../shared/protocol/sync.js';
import { lastingHubDb, testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const KEYS = generateHubKeys();
const SITES = ['allanche', 'murat', 'reichstett'];
const stores: HubStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A hub database with a directory: two members on a 2-days plan (one for murat and allanche only), one without a limit. */
async function hubWithDirectory(path?: string) {
  const store = new HubStore(await openHubDatabase(path ?? (await testHubDb())));
  stores.push(store);
  const directory = new HubDirectory(store.db);
  if ((await directory.revision(store.db)) === 0) {
    await directory.upsert(store.db, 'plan', { id: 'two-days', name: '2 days', access: 'always', daysPerWeek: 2 });
    await directory.upsert(store.db, 'plan', {
      id: 'two-days-east',
      name: '2 days, east',
      access: 'always',
      daysPerWeek: 2,
      sites: ['murat', 'allanche'],
    });
    await directory.upsert(store.db, 'plan', { id: 'always', name: '24/7', access: 'always' });
    await directory.upsert(store.db, 'member', { id: 'chloe', name: 'Chloé', plan: 'two-days' });
    await directory.upsert(store.db, 'member', { id: 'ida', name: 'Ida', plan: 'two-days-east' });
    await directory.upsert(store.db, 'member', { id: 'alice', name: 'Alice', plan: 'always' });
  }
  return { store, directory };
}

type Hub = Awaited<ReturnType<typeof hubWithDirectory>>;

function publisherOn(hub: Hub, clock: ManualClock) {
  const published: Array<{ topic: string; payload: string }> = [];
  const publisher = new DaysElsewherePublisher({
    db: hub.store.db,
    directory: hub.directory,
    publish: (topic, payload) => {
      published.push({ topic, payload });
      return Promise.resolve();
    },
    key: hubPrivateKey(KEYS.privateKeyPem),
    clock,
    log: silent,
    sites: () => Promise.resolve(SITES),
  });
  return { publisher, published };
}

/** Each site's last seq, across the hubs of a test. */
const seqs = new Map<string, number>();
afterEach(() => seqs.clear());
function checkIn(site: string, member: string, at: string): SiteEvent {
  const seq = (seqs.get(site) ?? 0) + 1;
  seqs.set(site, seq);
  return { v: 1, site, seq, id: randomUUID(), at, type: 'presence.in', data: { memberId: member } };
}

/** Stores the events as the hub's ingest does, telling the publisher in the transaction; what it returned runs after the commit. */
async function ingest(hub: Hub, publisher: DaysElsewherePublisher, events: SiteEvent[], clock: ManualClock) {
  const afterCommit = await hub.store.db.transaction(async (tx) => {
    await hub.store.ingestIn(
      tx,
      events.map((e) => ({ v: 1, site: e.site, events: [e] })),
      clock.now(),
    );
    return publisher.onApplied(tx, events);
  });
  afterCommit();
}

describe('the days each member came to the other sites, as the hub tells each site', () => {
  it('tells each site the days its quota members came elsewhere this week and last, signed, once per change', async () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z'); // Wednesday
    const hub = await hubWithDirectory();
    const { publisher, published } = publisherOn(hub, clock);
    await ingest(
      hub,
      publisher,
      [
        checkIn('murat', 'chloe', '2026-11-23T09:00:00+01:00'),
        checkIn('murat', 'chloe', '2026-11-24T09:00:00+01:00'),
        checkIn('allanche', 'chloe', '2026-11-24T14:00:00+01:00'),
        checkIn('murat', 'ida', '2026-11-23T09:00:00+01:00'),
        checkIn('murat', 'alice', '2026-11-23T09:00:00+01:00'),
        checkIn('murat', 'chloe', '2026-11-02T09:00:00+01:00'), // three weeks ago: no longer counts
      ],
      clock,
    );
    expect(await publisher.entriesFor('allanche')).toEqual([
      { member: 'chloe', days: ['2026-11-23', '2026-11-24'] },
      { member: 'ida', days: ['2026-11-23'] },
    ]);
    // murat is told only of allanche's day; reichstett does not open to ida's plan.
    expect(await publisher.entriesFor('murat')).toEqual([{ member: 'chloe', days: ['2026-11-24'] }]);
    expect(await publisher.entriesFor('reichstett')).toEqual([{ member: 'chloe', days: ['2026-11-23', '2026-11-24'] }]);

    clock.advance(1000);
    await publisher.settled();
    expect(published.map((p) => p.topic).sort()).toEqual(SITES.map((s) => `tessera/v1/sites/${s}/days`));
    for (const { topic, payload } of published) {
      const json: unknown = JSON.parse(payload);
      const signed = SignedDaysElsewhere.parse(json);
      expect(verifyBody((json as { body: unknown }).body, signed.signature, hubPublicKey(KEYS.publicKeyPem))).toBe(
        true,
      );
      expect(topic).toBe(`tessera/v1/sites/${signed.body.site}/days`);
      expect(signed.body.members).toEqual(await publisher.entriesFor(signed.body.site));
    }
    // The same check-in again changes nothing, so nothing is sent.
    publisher.applied([checkIn('murat', 'chloe', '2026-11-23T12:00:00+01:00')]);
    clock.advance(1000);
    await publisher.settled();
    expect(published).toHaveLength(3);
    // A new day at murat: murat's view does not change, the others' do.
    await ingest(hub, publisher, [checkIn('murat', 'chloe', '2026-11-25T09:00:00+01:00')], clock);
    clock.advance(1000);
    await publisher.settled();
    expect(
      published
        .slice(3)
        .map((p) => p.topic)
        .sort(),
    ).toEqual(['tessera/v1/sites/allanche/days', 'tessera/v1/sites/reichstett/days']);
  });

  it('after a restart, reads the days back from the events it stored', async () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-hub-days-'));
    dirs.push(dir);
    const path = await lastingHubDb(dir);
    const first = await hubWithDirectory(path);
    await ingest(
      first,
      publisherOn(first, clock).publisher,
      [checkIn('murat', 'chloe', '2026-11-23T09:00:00+01:00'), checkIn('murat', 'chloe', '2026-11-24T09:00:00+01:00')],
      clock,
    );
    const again = await hubWithDirectory(path);
    const { publisher } = publisherOn(again, clock);
    expect(await publisher.entriesFor('allanche')).toEqual([]);
    await publisher.load();
    expect(await publisher.entriesFor('allanche')).toEqual([{ member: 'chloe', days: ['2026-11-23', '2026-11-24'] }]);
  });

  it('a member suspended or moved to a plan without a limit is no longer listed', async () => {
    const clock = new ManualClock('2026-11-25T10:00:00Z');
    const hub = await hubWithDirectory();
    const { publisher, published } = publisherOn(hub, clock);
    await ingest(
      hub,
      publisher,
      [checkIn('murat', 'chloe', '2026-11-23T09:00:00+01:00'), checkIn('murat', 'ida', '2026-11-23T09:00:00+01:00')],
      clock,
    );
    clock.advance(1000);
    await publisher.settled();
    await hub.directory.upsert(hub.store.db, 'member', { id: 'chloe', name: 'Chloé', plan: 'always' });
    await hub.directory.upsert(hub.store.db, 'member', {
      id: 'ida',
      name: 'Ida',
      plan: 'two-days-east',
      status: 'suspended',
    });
    publisher.onDirectoryChange();
    clock.advance(1000);
    await publisher.settled();
    expect(await publisher.entriesFor('allanche')).toEqual([]);
    const last = SignedDaysElsewhere.parse(
      JSON.parse(published.filter((p) => p.topic.endsWith('/allanche/days')).at(-1)?.payload ?? '{}'),
    );
    expect(last.body.members).toEqual([]);
  });
});
