import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { SiteStatus } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import { FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { statusOf } from '../harness/hub-fixtures.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const t = topics();
const cleanups = cleanupsAfterEach();

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-liveness-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = await lastingHubDb(dir);
  const clock = new ManualClock('2026-11-23T08:00:00Z');
  const open = async () => {
    const hub = await createHub({
      dbPath,
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    cleanups.push(() => hub.stop());
    return hub;
  };
  /** Moves the hub's clock, then waits for the looks at the sites its watch began. */
  const advance = async (hub: Hub, ms: number) => {
    clock.advance(ms);
    await hub.live.settled();
  };
  return { clock, open, advance };
}

/** A status as a current edge sends it: every 8 s, offline after 24 s without one. */
const beat = (overrides: Partial<SiteStatus> = {}) =>
  statusOf('murat', { heartbeat: { seconds: 8, offlineAfterSeconds: 24 }, ...overrides });
/** A status received, recorded and judged. */
const deliver = async (hub: Hub, status: SiteStatus) => {
  hub.ingest.onMessage(t.status(status.site), Buffer.from(JSON.stringify(status)));
  await hub.ingest.settled();
  await hub.live.settled();
};
const offlineAlarms = async (hub: Hub) =>
  (await hub.live.alarms.list({ open: true, site: 'murat' })).filter((a) => a.kind === 'site.offline');

describe('a site is offline when its heartbeat stops, as the hub sees it', () => {
  it('a frozen site (no last will, no status) shows offline with an alarm within 30 s of its last status', async () => {
    const { open, advance } = await world();
    const hub = await open();
    await deliver(hub, beat());
    await advance(hub, 23_000);
    expect(await hub.live.health('murat')).toMatchObject({ online: true, state: 'ok' });
    expect(await offlineAlarms(hub)).toEqual([]);
    await advance(hub, 2_000);
    expect(await hub.live.health('murat')).toMatchObject({ online: false, state: 'offline' });
    expect(await offlineAlarms(hub)).toMatchObject([
      { subject: 'murat', detail: expect.stringMatching(/no status for 2[45] s/) },
    ]);
    // The site speaks again: online, the alarm cleared (and left for someone to acknowledge).
    await deliver(hub, beat({ at: '2026-11-23T09:00:30+01:00' }));
    expect(await hub.live.health('murat')).toMatchObject({ online: true });
    expect(await hub.live.alarms.list({ site: 'murat' })).toMatchObject([
      { kind: 'site.offline', clearedBy: 'site.online' },
    ]);
  });

  it('a site that died while the hub was down shows offline within 30 s of its last status after the hub restarts, even if the broker hands the hub its old retained status again', async () => {
    const { clock, open, advance } = await world();
    const first = await open();
    await deliver(first, beat());
    await first.stop();
    clock.advance(10_000);
    const second = await open();
    expect(await second.live.health('murat')).toMatchObject({ online: true });
    await advance(second, 15_000);
    expect(await second.live.health('murat')).toMatchObject({ online: false, state: 'offline' });
    expect(await offlineAlarms(second)).toHaveLength(1);
    // The broker's retained copy of that same status is not a new heartbeat.
    await deliver(second, beat());
    await advance(second, 1_000);
    expect(await second.live.health('murat')).toMatchObject({ online: false, state: 'offline' });
    expect(await offlineAlarms(second)).toHaveLength(1);
  });

  it('a site that does not say its heartbeat (an older edge) is held to the old 30 s heartbeat: offline after 90 s', async () => {
    const { open, advance } = await world();
    const hub = await open();
    await deliver(hub, statusOf('murat'));
    await advance(hub, 89_000);
    expect((await hub.live.health('murat')).online).toBe(true);
    await advance(hub, 2_000);
    expect((await hub.live.health('murat')).online).toBe(false);
  });
});

describe('a site whose directory nears the age at which its doors refuse badges', () => {
  it('raises an alarm at 75 % of the bound the site reported, counting the time the site has been silent, cleared once the hub confirms the directory', async () => {
    const { open, advance } = await world();
    const hub = await open();
    const directory = (ageSeconds: number) => ({ revision: 3, ageSeconds, stale: false, maxAgeSeconds: 4 * 3600 });
    await deliver(hub, beat({ directory: directory(2 * 3600) }));
    // The site is cut off: no status comes, the hub counts the hours itself.
    await advance(hub, 3600_000 - 60_000);
    const aging = async () =>
      (await hub.live.alarms.list({ open: true, site: 'murat' })).filter((a) => a.kind === 'directory.stale_soon');
    expect(await aging()).toEqual([]);
    await advance(hub, 2 * 60_000);
    expect(await aging()).toMatchObject([
      { subject: 'murat', clearedAt: null, detail: 'directory not confirmed for 3 h: the site refuses badges at 4 h' },
    ]);
    await deliver(hub, beat({ at: '2026-11-23T10:01:00+01:00', directory: directory(5) }));
    expect(await aging()).toMatchObject([{ clearedBy: 'directory.confirmed' }]);
  });
});

describe("a site's capacity has one source: the site's config file, as its status reports it", () => {
  it('the hub shows the capacity the door enforces, not the one declared at the hub', async () => {
    const { open } = await world();
    const hub = await open();
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
    await deliver(hub, beat({ capacity: 2 }));
    expect(await hub.live.projection.site('murat')).toMatchObject({ capacity: 2 });
    expect((await hub.live.projection.network()).total.capacity).toBe(2);
    // A site declared without a capacity is accepted: the site says its own.
    await hub.sites.upsert({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris' });
    expect(await hub.sites.get('allanche')).toEqual({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris' });
    expect((await hub.live.projection.site('allanche')).capacity).toBeNull();
    await deliver(hub, statusOf('allanche', { capacity: 6 }));
    expect((await hub.live.projection.site('allanche')).capacity).toBe(6);
  });
});
