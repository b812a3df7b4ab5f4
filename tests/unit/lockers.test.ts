import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from '../harness/site.js';
import { BASE_DIRECTORY, startSite, UID } from '../harness/site.js';
import { Directory } from '../../shared/protocol/directory.js';

let site: Harness;
afterEach(async () => site?.stop());

describe('lockers', () => {
  it('in a free bank, the first tap claims the first free locker and opens it; the next tap opens the same one', async () => {
    site = await startSite();
    expect(site.tap('lockers', UID.alice)).toMatchObject({ granted: true, locker: { bank: 'bank-a', number: 1 } });
    expect(site.gpio.isActive(5)).toBe(true);
    site.clock.advance(1000);
    expect(site.gpio.isActive(5)).toBe(false);
    expect(site.tap('lockers', UID.alice)).toMatchObject({ granted: true, locker: { bank: 'bank-a', number: 1 } });
    const tapEvents = site
      .events()
      .filter((e) => e.type.startsWith('access.') || ('bank' in e.data && e.data.bank === 'bank-a'));
    expect(tapEvents.map((e) => e.type)).toEqual([
      'access.granted',
      'locker.assigned',
      'locker.opened',
      'access.granted',
      'locker.opened',
    ]);
  });

  it('a free bank refuses a plan without lockers, and refuses when every locker is taken', async () => {
    site = await startSite();
    expect(site.tap('lockers', UID.bob)).toMatchObject({ granted: false, reason: 'locker_not_entitled' });
    site.tap('lockers', UID.alice);
    site.tap('lockers', UID.dan);
    expect(site.tap('lockers', UID.eve)).toMatchObject({ granted: false, reason: 'no_locker_available' });
    expect(site.gpio.history(5).filter((c) => c.active)).toHaveLength(1);
  });

  it('a free locker is released when its holder checks out, and can be claimed again', async () => {
    site = await startSite();
    site.tap('front-in', UID.alice);
    site.tap('lockers', UID.alice);
    site.tap('lockers', UID.dan);
    site.tap('front-out', UID.alice);
    const released = site.events().find((e) => e.type === 'locker.released');
    expect(released?.data).toEqual({ bank: 'bank-a', locker: 1, memberId: 'alice', cause: 'checkout' });
    expect(site.tap('lockers', UID.eve)).toMatchObject({ granted: true, locker: { bank: 'bank-a', number: 1 } });
  });

  it('a site manager can release a free locker on request', async () => {
    site = await startSite();
    site.tap('lockers', UID.alice);
    expect(site.edge.lockers.release('bank-a', 1, site.clock.now())).toBe(true);
    expect(site.edge.lockers.release('bank-a', 1, site.clock.now())).toBe(false);
    expect(site.events().find((e) => e.type === 'locker.released')?.data).toMatchObject({ cause: 'request' });
  });

  it('in an assigned bank, the subscriber opens only their own locker and others are refused', async () => {
    site = await startSite();
    expect(site.tap('own-lockers', UID.alice)).toMatchObject({ granted: true, locker: { bank: 'bank-b', number: 2 } });
    expect(site.gpio.isActive(13)).toBe(true);
    expect(site.gpio.isActive(12)).toBe(false);
    expect(site.tap('own-lockers', UID.dan)).toMatchObject({ granted: false, reason: 'locker_not_entitled' });
  });

  it('assigned lockers follow the directory: a change is recorded as released and assigned', async () => {
    site = await startSite();
    expect(
      site
        .events()
        .filter((e) => e.type === 'locker.assigned')
        .map((e) => e.data),
    ).toEqual([{ bank: 'bank-b', locker: 2, memberId: 'alice', mode: 'assigned' }]);
    const moved = structuredClone(BASE_DIRECTORY);
    moved.members = (moved.members ?? []).map((m) =>
      m.id === 'alice' ? { ...m, locker: { bank: 'bank-b', number: 1 } } : m,
    );
    site.edge.applyDirectory(Directory.parse(moved), 'test');
    const lockerEvents = site
      .events()
      .filter((e) => e.type.startsWith('locker.'))
      .map((e) => [e.type, e.data]);
    expect(lockerEvents.slice(1)).toEqual([
      ['locker.assigned', { bank: 'bank-b', locker: 1, memberId: 'alice', mode: 'assigned' }],
      ['locker.released', { bank: 'bank-b', locker: 2, memberId: 'alice', cause: 'request' }],
    ]);
    expect(site.tap('own-lockers', UID.alice)).toMatchObject({ locker: { bank: 'bank-b', number: 1 } });
  });

  it('stopping the site leaves every locker relay de-energised', async () => {
    site = await startSite();
    site.tap('lockers', UID.alice);
    expect(site.gpio.isActive(5)).toBe(true);
    await site.edge.stop();
    expect(site.gpio.raw(5)).toBe(false);
    expect(site.clock.pendingTimers()).toBe(0);
  });
});
