import { afterEach, describe, expect, it } from 'vitest';
import { SiteConfig } from '../../firmware-config/schema.js';
import type { Harness } from '../harness/site.js';
import { BASE_CONFIG, BASE_DIRECTORY, startSite, UID } from '../harness/site.js';

const HOUR = 3_600_000;
let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

const hubFed = (directory: Record<string, unknown> = {}) => ({
  directory: { source: 'hub', ...directory } as never,
  broker: {
    url: 'mqtt://127.0.0.1:1',
    hubPublicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
  },
});

/** alice is a member, bob staff, dan a cleaner, eve a visitor; all on plans open at every hour. */
const roles = {
  ...BASE_DIRECTORY,
  members: [
    { id: 'alice', name: 'Alice Martin', plan: 'always' },
    { id: 'bob', name: 'Bob Durand', plan: 'always', role: 'staff' },
    { id: 'dan', name: 'Dan Roux', plan: 'always', role: 'cleaner' },
    { id: 'eve', name: 'Eve Blanc', plan: 'always', role: 'visitor' },
    { id: 'chloe', name: 'Chloé Petit', plan: 'always' },
  ],
} as typeof BASE_DIRECTORY;

/** Who gets in now, each tapping in then out. */
function admitted(s: Harness): string[] {
  const who = { alice: UID.alice, bob: UID.bob, dan: UID.dan, eve: UID.eve };
  return Object.entries(who).flatMap(([name, uid]) => {
    const r = s.tap('front-in', uid);
    if (r.granted) s.tap('front-out', uid);
    else expect(r).toMatchObject({ reason: 'directory_stale' });
    return r.granted ? [name] : [];
  });
}

describe('a hub-fed directory the hub has not confirmed', () => {
  it('by default refuses members and visitors after 24 h, and staff and cleaners after 72 h', async () => {
    site = await startSite(hubFed(), roles, '2026-11-23T07:00:00Z');
    site.clock.advance(24 * HOUR - 60_000);
    expect(admitted(site)).toEqual(['alice', 'bob', 'dan', 'eve']);
    site.clock.advance(2 * 60_000);
    expect(admitted(site)).toEqual(['bob', 'dan']);
    site.clock.advance(48 * HOUR);
    expect(admitted(site)).toEqual([]);
  });

  it('takes a bound per role from the site config; one number bounds every role', async () => {
    site = await startSite(hubFed({ maxAgeHours: { staff: 2 } }), roles, '2026-11-23T07:00:00Z');
    site.clock.advance(3 * HOUR);
    expect(admitted(site)).toEqual(['alice', 'dan', 'eve']);
    await site.stop();
    site = await startSite(hubFed({ maxAgeHours: 5 }), roles, '2026-11-23T07:00:00Z');
    site.clock.advance(5 * HOUR + 60_000);
    expect(admitted(site)).toEqual([]);
  });

  it('a confirmation from the hub (an empty delta) makes it fresh again for every role', async () => {
    site = await startSite(hubFed(), roles, '2026-11-23T07:00:00Z');
    site.clock.advance(80 * HOUR);
    expect(admitted(site)).toEqual([]);
    site.edge.applyDirectoryChanges([], 1, 'hub', site.clock.now());
    expect(admitted(site)).toEqual(['alice', 'bob', 'dan', 'eve']);
  });

  it('the config documents its defaults: 24 h for members and visitors, 72 h for staff and cleaners', () => {
    const cfg = SiteConfig.parse({ ...BASE_CONFIG, ...hubFed() });
    expect(cfg.directory).toMatchObject({ maxAgeHours: { member: 24, visitor: 24, staff: 72, cleaner: 72 } });
    const refused = SiteConfig.safeParse({ ...BASE_CONFIG, ...hubFed({ maxAgeHours: { members: 3 } }) });
    expect(refused.success).toBe(false);
  });

  it('refuses staleRoles, which version 1 ignored: `config migrate` takes it out (config-migrate.test.ts)', () => {
    const stale = SiteConfig.safeParse({ ...BASE_CONFIG, ...hubFed({ staleRoles: ['member', 'staff'] }) });
    expect(stale.success).toBe(false);
  });
});
