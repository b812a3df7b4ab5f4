import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { NoShowSweeper } from '../../cloud-sync/hub/bookings/no-show.js';
import { BookingStore } from '../../cloud-sync/hub/bookings/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { call, seedNetwork } from './hub-bookings-fixtures.js';

describe('no-show release of rooms', () => {
  let hub: Hub | undefined;
  afterEach(async () => hub?.stop());

  it('releases a room nobody tapped for after its delay, keeps one whose holder came, and leaves desks', async () => {
    const clock = new ManualClock('2026-11-23T08:00:00Z');
    const s = await signedInHub(silent, clock);
    hub = s.hub;
    await seedNetwork(hub, s.admin);
    const book = async (resource: string, member: string, from: string, to: string) =>
      (await call(hub!, s.admin, 'POST', '/bookings', { resource, member, date: '2026-11-23', from, to })).body.item.id;
    // 10:00-11:00 Paris = 09:00-10:00Z. room-a has the default 15-minute delay.
    const ghost = await book('room-a', 'ana', '10:00', '10:30');
    const honoured = await book('room-a', 'leo', '10:30', '11:00');
    const desk = await book('pool', 'nina', '10:00', '11:00');
    // leo taps at murat 10 minutes before his booking (inside the grace).
    await hub.store.db.run(
      "INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ('murat', 1, 'e1', '2026-11-23T10:20:00.000+01:00', 'access.granted', ?, 0)",
      [JSON.stringify({ type: 'access.granted', data: { memberId: 'leo', reader: 'front' } })],
    );
    const sweeper = new NoShowSweeper({
      db: hub.store.db,
      directory: hub.directory,
      clock,
      log: silent,
      onDirectoryChange: () => undefined,
    });
    sweeper.start();
    clock.advance(74 * 60_000); // 09:14Z: not yet 15 minutes
    await sweeper.stop();
    const store = new BookingStore();
    expect((await store.get(hub.store.db, ghost))?.status).toBe('confirmed');
    sweeper.start();
    clock.advance(50 * 60_000); // 10:04Z: both rooms past their delay
    await sweeper.stop();
    expect((await store.get(hub.store.db, ghost))?.status).toBe('no_show');
    expect(await hub.directory.get(hub.store.db, 'booking', ghost)).toBeUndefined();
    expect((await store.get(hub.store.db, honoured))?.status).toBe('confirmed');
    expect((await store.get(hub.store.db, desk))?.status).toBe('confirmed');
    expect(await sweeper.sweep()).toEqual([]);
  });
});
