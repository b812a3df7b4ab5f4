import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from '../harness/site.js';
import { startSite, UID } from '../harness/site.js';

let site: Harness;
afterEach(async () => site?.stop());

describe('presence', () => {
  it('a granted entry checks the member in, and the exit reader checks them out with the minutes spent', async () => {
    site = await startSite();
    expect(site.tap('front-in', UID.alice)).toMatchObject({
      granted: true,
      reason: 'ok',
      presence: 'in',
      memberId: 'alice',
      door: 'front',
    });
    expect(site.store.presence.occupancy()).toBe(1);
    site.clock.advance(95 * 60_000);
    expect(site.tap('front-out', UID.alice)).toMatchObject({ granted: true, presence: 'out' });
    expect(site.store.presence.occupancy()).toBe(0);
    const out = site.events().find((e) => e.type === 'presence.out');
    expect(out?.data).toMatchObject({ memberId: 'alice', cause: 'badge', via: 'exit_reader', minutes: 95 });
  });

  it('a refused badge neither checks in nor opens the door', async () => {
    site = await startSite();
    expect(site.tap('front-in', UID.revoked)).toMatchObject({
      granted: false,
      reason: 'badge_revoked',
      presence: null,
    });
    expect(site.store.presence.occupancy()).toBe(0);
    expect(site.gpio.history(17).some((c) => c.active)).toBe(false);
    expect(site.eventTypes()).toContain('access.denied');
  });

  it('card data that is not a UID is refused, counted, and records nothing', async () => {
    site = await startSite();
    const before = site.store.events.lastSeq();
    expect(site.edge.taps.handle({ reader: 'front-in', uid: 'ZZ\u0000', atr: '' })).toBeUndefined();
    expect(site.edge.taps.handle({ reader: 'unknown reader', uid: UID.alice, atr: '' })).toBeUndefined();
    expect(site.taps()).toMatchObject({ rejectedCards: 1, unboundReaders: 1, taps: 0 });
    expect(site.store.events.lastSeq()).toBe(before);
    expect(site.tap('front-in', UID.alice).granted).toBe(true);
  });

  it('a granted tap pulses the door relay at once: the decision waits on nothing but the local store', async () => {
    site = await startSite();
    site.tap('front-in', UID.alice);
    expect(site.gpio.isActive(17)).toBe(true);
    site.clock.advance(3000);
    expect(site.gpio.isActive(17)).toBe(false);
  });

  it('a second tap at the entrance checks out when the site is configured for it', async () => {
    site = await startSite({ presence: { checkout: ['second_tap'] } });
    expect(site.tap('front-in', UID.alice).presence).toBe('in');
    site.clock.advance(60_000);
    expect(site.tap('front-in', UID.alice)).toMatchObject({ granted: true, presence: 'out' });
    expect(site.events().find((e) => e.type === 'presence.out')?.data).toMatchObject({
      via: 'second_tap',
      cause: 'badge',
    });
  });

  it('without second-tap checkout, tapping in again neither checks out nor counts twice', async () => {
    site = await startSite();
    site.tap('front-in', UID.alice);
    expect(site.tap('front-in', UID.alice)).toMatchObject({ granted: true, presence: null });
    expect(site.store.presence.occupancy()).toBe(1);
  });

  it('the exit button checks out the one person inside, the 24/7 subscriber alone at night', async () => {
    site = await startSite();
    site.tap('front-in', UID.alice);
    site.gpio.setInput(22, true);
    site.gpio.setInput(22, false);
    expect(site.store.presence.occupancy()).toBe(0);
    expect(site.events().find((e) => e.type === 'presence.out')?.data).toMatchObject({
      cause: 'exit',
      via: 'exit_button',
    });
  });

  it('the exit button checks nobody out when it cannot tell who left', async () => {
    site = await startSite();
    site.tap('front-in', UID.alice);
    site.tap('front-in', UID.dan);
    site.gpio.setInput(22, true);
    site.gpio.setInput(22, false);
    expect(site.store.presence.occupancy()).toBe(2);
    expect(site.eventTypes()).toContain('door.exit_requested');
  });

  it('members still in after the maximum stay are checked out automatically, and the event says so', async () => {
    site = await startSite({ presence: { maxStayHours: 4 } });
    site.tap('front-in', UID.alice);
    site.clock.advance(2 * 3_600_000);
    site.tap('front-in', UID.dan);
    site.clock.advance(2 * 3_600_000 + 60_000);
    expect(site.store.presence.list().map((p) => p.member)).toEqual(['dan']);
    expect(site.events().find((e) => e.type === 'presence.out')?.data).toMatchObject({
      memberId: 'alice',
      cause: 'auto',
      via: 'max_stay',
    });
  });

  it('everyone still in is checked out at closing time, in site-local time', async () => {
    site = await startSite({ presence: { closingTime: '23:00' } });
    site.tap('front-in', UID.alice);
    site.tap('front-in', UID.dan);
    site.clock.advanceTo('2026-11-23T21:59:00Z'); // 22:59 in Paris
    expect(site.store.presence.occupancy()).toBe(2);
    site.clock.advanceTo('2026-11-23T22:00:00Z'); // 23:00 in Paris
    expect(site.store.presence.occupancy()).toBe(0);
    const outs = site.events().filter((e) => e.type === 'presence.out');
    expect(outs.map((e) => e.data)).toEqual([
      expect.objectContaining({ memberId: 'alice', via: 'closing', cause: 'auto' }),
      expect.objectContaining({ memberId: 'dan', via: 'closing', cause: 'auto' }),
    ]);
    expect(outs[0]?.at).toBe('2026-11-23T23:00:00.000+01:00');
  });

  it('the site refuses entry at capacity but still lets a member out', async () => {
    site = await startSite();
    site.tap('front-in', UID.alice);
    site.tap('front-in', UID.dan);
    site.tap('front-in', UID.eve);
    expect(site.tap('front-in', UID.bob)).toMatchObject({ granted: false, reason: 'at_capacity' });
    expect(site.tap('front-out', UID.eve)).toMatchObject({ granted: true, presence: 'out' });
    expect(site.tap('front-in', UID.bob)).toMatchObject({ granted: true, presence: 'in' });
  });

  it('a 2-days-a-week member is refused on a third distinct day of the same week', async () => {
    site = await startSite();
    const day = 24 * 3_600_000;
    for (let d = 0; d < 2; d++) {
      expect(site.tap('front-in', UID.chloe).granted).toBe(true);
      site.tap('front-out', UID.chloe);
      site.clock.advance(day);
    }
    expect(site.tap('front-in', UID.chloe)).toMatchObject({ granted: false, reason: 'quota_exhausted' });
  });
});
