import { afterEach, describe, expect, it } from 'vitest';
import { holderFor, mayActFor, visibleBookings } from '../../cloud-sync/hub/bookings/access.js';
import { peakOverlap, wallInstant, wallSpan, withinHours } from '../../cloud-sync/hub/bookings/rules.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import type { Account } from '../../shared/protocol/api/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';

const PARIS = 'Europe/Paris';
const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);

describe('booking rules', () => {
  it('turns wall times into instants, refusing skipped and repeated ones', () => {
    expect(wallInstant('2026-03-29', '01:30', PARIS, 'from')).toBe(at('2026-03-29T00:30:00Z'));
    expect(wallInstant('2026-03-29', '03:00', PARIS, 'from')).toBe(at('2026-03-29T01:00:00Z'));
    expect(() => wallInstant('2026-03-29', '02:00', PARIS, 'from')).toThrow(/does not exist/);
    expect(() => wallInstant('2026-10-25', '02:30', PARIS, 'to')).toThrow(/happens twice/);
    expect(wallInstant('2026-10-25', '03:00', PARIS, 'to')).toBe(at('2026-10-25T02:00:00Z'));
    expect(wallSpan({ date: '2026-10-25', from: '00:00', to: '24:00' }, PARIS)).toEqual({
      startMs: at('2026-10-24T22:00:00Z'),
      endMs: at('2026-10-25T23:00:00Z'),
    });
    expect(() => wallSpan({ date: '2026-10-25', from: '10:00', to: '10:00' }, PARIS)).toThrow(/ends after/);
  });

  it('keeps a booking inside its windows, windows past midnight included', () => {
    const week = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
    const nights = [{ days: [...week], from: '20:00', to: '02:00' }];
    const span = (from: string, to: string) => ({ startMs: at(from), endMs: at(to) });
    expect(withinHours(nights, span('2026-11-24T22:00:00Z', '2026-11-25T01:00:00Z'), PARIS)).toBe(true);
    expect(withinHours(nights, span('2026-11-24T22:00:00Z', '2026-11-25T01:30:00Z'), PARIS)).toBe(false);
    const days = [{ days: ['mon' as const], from: '09:00', to: '18:00' }];
    // Monday 2026-11-23 09:00-18:00 Paris = 08:00-17:00Z; Tuesday is not bookable.
    expect(withinHours(days, span('2026-11-23T08:00:00Z', '2026-11-23T17:00:00Z'), PARIS)).toBe(true);
    expect(withinHours(days, span('2026-11-24T08:00:00Z', '2026-11-24T09:00:00Z'), PARIS)).toBe(false);
    // Two touching windows count as one.
    const split = [
      { days: ['mon' as const], from: '09:00', to: '12:00' },
      { days: ['mon' as const], from: '12:00', to: '18:00' },
    ];
    expect(withinHours(split, span('2026-11-23T10:00:00Z', '2026-11-23T12:00:00Z'), PARIS)).toBe(true);
  });

  it('finds the peak of overlapping bookings, end exclusive', () => {
    const s = (a: number, b: number) => ({ startMs: a * H, endMs: b * H });
    expect(peakOverlap([s(0, 2), s(2, 4), s(1, 3)], s(0, 4))).toBe(2);
    expect(peakOverlap([s(0, 2), s(2, 4)], s(0, 4))).toBe(1);
    expect(peakOverlap([s(0, 10), s(1, 9), s(2, 8)], s(9, 10))).toBe(1);
    expect(peakOverlap([], s(0, 1))).toBe(0);
  });
});

describe('who books for whom', () => {
  let db: HubDb | undefined;
  afterEach(async () => db?.close());

  async function directory(): Promise<{ q: HubDb; dir: HubDirectory }> {
    db = await openHubDatabase(await testHubDb());
    const dir = new HubDirectory(db);
    await dir.upsert(db, 'plan', { id: 'murat-only', name: 'Murat', access: 'always', sites: ['murat'] });
    await dir.upsert(db, 'employer', { id: 'acme', name: 'Acme' });
    await dir.upsert(db, 'member', { id: 'ana', name: 'Ana', plan: 'murat-only', employer: 'acme' });
    await dir.upsert(db, 'member', { id: 'eve', name: 'Eve', plan: 'murat-only' });
    return { q: db, dir };
  }
  const account = (over: Partial<Account>): Account => ({ id: 'a', username: 'u', role: 'member', sites: [], ...over });

  it('a member for themselves, a manager for their employer, a site manager at their sites', async () => {
    const { q, dir } = await directory();
    const ana = (await dir.get(q, 'member', 'ana'))!;
    const eve = (await dir.get(q, 'member', 'eve'))!;
    const may = (a: Account, m = ana, site = 'murat') => mayActFor(q, dir, a, m, site);
    expect(await may(account({ member: 'ana' }))).toBe(true);
    expect(await may(account({ member: 'ana' }), eve)).toBe(false);
    expect(await may(account({}))).toBe(false);
    expect(await may(account({ role: 'employer_manager', employer: 'acme' }))).toBe(true);
    expect(await may(account({ role: 'employer_manager', employer: 'acme' }), eve)).toBe(false);
    expect(await may(account({ role: 'employer_manager' }), eve)).toBe(false);
    expect(await may(account({ role: 'site_manager', sites: ['murat'] }))).toBe(true);
    expect(await may(account({ role: 'site_manager', sites: ['lyon'] }))).toBe(false);
    expect(await may(account({ role: 'operator' }), eve, 'lyon')).toBe(true);
    // A member's own account books without naming the member, and not for another.
    expect((await holderFor(q, dir, account({ member: 'ana' }), undefined, 'murat')).id).toBe('ana');
    await expect(holderFor(q, dir, account({ member: 'ana' }), 'eve', 'murat')).rejects.toThrow(/no member "eve"/);
  });

  it('lists a member their own bookings, a manager their staff, whatever they ask for', async () => {
    const { q } = await directory();
    const sites = ['murat', 'lyon'];
    const own = await visibleBookings(q, account({ member: 'ana' }), sites, { member: 'eve' });
    expect(own.by).toEqual({ members: [] });
    expect((await visibleBookings(q, account({ member: 'ana' }), sites, {})).by).toEqual({ members: ['ana'] });
    const staff = await visibleBookings(q, account({ role: 'employer_manager', employer: 'acme' }), sites, {});
    expect(staff.by).toEqual({ members: ['ana'] });
    const mgr = await visibleBookings(q, account({ role: 'site_manager', sites: ['lyon'] }), sites, { member: 'ana' });
    expect(mgr.keeps({ site: 'murat', member: 'ana' })).toBe(false);
    expect(mgr.keeps({ site: 'lyon', member: 'ana' })).toBe(true);
  });
});
