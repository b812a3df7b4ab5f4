import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { login, signedInHub, TEST_ADMIN } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, seedNetwork } from './hub-bookings-fixtures.js';

const ofKind = (changes: DirectoryChange[], entity: 'resource' | 'booking') =>
  changes
    .filter((c) => c.entity === entity)
    .map((c) => (c.op === 'delete' ? `-${c.id}` : c.op === 'upsert' ? `+${(c.value as { id: string }).id}` : c.op));

describe("a site's view of resources and bookings", () => {
  let hub: Hub | undefined;
  afterEach(async () => hub?.stop());

  it('holds only its own; a cancellation is a delete in the next delta; old bookings leave', async () => {
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const s = await signedInHub(silent, clock);
    hub = s.hub;
    await seedNetwork(hub, s.admin);
    const book = (resource: string, member: string, date: string) =>
      call(hub!, s.admin, 'POST', '/bookings', { resource, member, date, from: '10:00', to: '11:00' });
    const murat = (await book('room-a', 'ana', '2026-11-24')).body.item.id;
    const lyon = (await book('desk-7', 'leo', '2026-11-24')).body.item.id;
    const { directory } = hub;
    const db = hub.store.db;
    expect(ofKind(await directory.snapshotFor('murat'), 'resource')).toEqual(['+pool', '+room-a']);
    expect(ofKind(await directory.snapshotFor('murat'), 'booking')).toEqual([`+${murat}`]);
    expect(ofKind(await directory.snapshotFor('lyon'), 'booking')).toEqual([`+${lyon}`]);
    const delta = await directory.changesFor(db, 'lyon', 0);
    expect(ofKind(delta, 'resource')).toEqual(['+desk-7']);
    expect(ofKind(delta, 'booking')).toEqual([`+${lyon}`]);
    // Resources come before the bookings that name them.
    expect(delta.findIndex((c) => c.entity === 'resource')).toBeLessThan(
      delta.findIndex((c) => c.entity === 'booking'),
    );

    const before = await directory.revision(db);
    expect((await call(hub, s.admin, 'POST', `/bookings/${murat}/cancel`)).status).toBe(200);
    expect(ofKind(await directory.changesFor(db, 'murat', before), 'booking')).toEqual([`-${murat}`]);
    expect(await directory.changesFor(db, 'lyon', before)).toEqual([]);
    expect(ofKind(await directory.snapshotFor('murat'), 'booking')).toEqual([]);

    // A day after its end, a booking is no longer sent.
    clock.advance(3 * 86_400_000);
    expect(ofKind(await directory.snapshotFor('lyon'), 'booking')).toEqual([]);
    expect(ofKind(await directory.changesFor(db, 'lyon', 0), 'booking')).toEqual([`-${lyon}`]);

    // A resource removed: its delete reaches its own site only, after its bookings'.
    const removedAt = await directory.revision(db);
    const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    expect((await call(hub, admin, 'DELETE', '/resources/desk-7')).status).toBe(204);
    expect(await directory.changesFor(db, 'murat', removedAt)).toEqual([]);
    expect(ofKind(await directory.changesFor(db, 'lyon', removedAt), 'resource')).toEqual(['-desk-7']);
  });
});
