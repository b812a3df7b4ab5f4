import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../cloud-sync/hub/occupancy/alarms.js';
import type { SiteHealth } from '../../cloud-sync/hub/occupancy/health.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { alive, eventually, hubGet, logInAsVisitor, startDemo } from '../harness/demo.js';
import type { AuthHeaders } from '../harness/hub-auth.js';

const SITES = ['murat', 'allanche', 'reichstett'] as const;

/** Every event the hub holds from a site, read page by page through its API. */
async function hubEvents(apiUrl: string, site: string, auth: AuthHeaders): Promise<SiteEvent[]> {
  const all: SiteEvent[] = [];
  for (;;) {
    const page = await hubGet<{ events: Array<{ seq: number; event: SiteEvent }> }>(
      apiUrl,
      `/sites/${site}/events?after=${all.length}&limit=1000`,
      auth,
    );
    all.push(...page.events.map((e) => e.event));
    if (page.events.length < 1000) return all;
  }
}

const alarmsOf = (apiUrl: string, site: string, auth: AuthHeaders) =>
  hubGet<{ alarms: Alarm[] }>(apiUrl, `/alarms?site=${site}`, auth).then((r) => r.alarms);

/**
 * The demo's scripted incidents (demo/day-plan.ts INCIDENTS), seen where an operator sees them:
 * at the hub's API. Two real seconds per simulated hour: the revocations come 8 s into the day,
 * Allanche's cut from 10 s to 16 s; the held door alarms after the example's 30 real seconds.
 */
describe('the network demo plays its incidents (npm start)', () => {
  it(
    'a revoked badge refused (its holder leaves by the exit button), lockers used, pages printed, a held door alarmed and cleared, Allanche cut off and caught up',
    { timeout: 80_000 },
    async () => {
      const demo = await startDemo(['--hour-seconds', '2', '--api-port', '0', '--broker-port', '0']);
      const { apiUrl } = demo;
      try {
        const auth = await logInAsVisitor(demo);
        const health = (site: string) => hubGet<SiteHealth>(apiUrl, `/site-health/${site}`, auth);
        await eventually(
          async () => (await Promise.all(SITES.map(health))).every((h) => h.online === true),
          'all three sites online at the hub',
        );

        await eventually(
          async () => (await health('allanche')).online === false,
          'Allanche offline at the hub once its link is cut',
          30_000,
          100,
        );
        const offline = (await alarmsOf(apiUrl, 'allanche', auth)).find((a) => a.kind === 'site.offline');
        expect(offline, 'a site.offline alarm for Allanche').toMatchObject({ subject: 'allanche', clearedAt: null });
        await eventually(
          async () => {
            const h = await health('allanche');
            return h.online === true && h.backlog === 0 && h.missing === 0;
          },
          'Allanche online again, its backlog sent',
          30_000,
        );
        expect((await alarmsOf(apiUrl, 'allanche', auth)).find((a) => a.id === offline?.id)).toMatchObject({
          clearedBy: 'site.online',
        });

        // The door held open at 10:00 alarms after 30 real seconds, and closes 10 s later.
        await eventually(
          async () =>
            (await alarmsOf(apiUrl, 'reichstett', auth)).some((a) => a.kind === 'door.held' && a.clearedAt !== null),
          'the held door alarmed at the hub, then cleared',
          50_000,
          500,
        );
        expect((await alarmsOf(apiUrl, 'reichstett', auth)).find((a) => a.kind === 'door.held')).toMatchObject({
          subject: 'entrance',
          clearedBy: 'door.secured',
        });

        const events = (await Promise.all(SITES.map((s) => hubEvents(apiUrl, s, auth)))).flat();
        const types = new Set(events.map((e) => e.type));
        expect(
          events.some((e) => e.type === 'access.denied' && e.data.reason === 'badge_revoked'),
          'a revoked badge refused',
        ).toBe(true);
        for (const type of ['locker.assigned', 'locker.opened', 'consumable.used'] as const)
          expect(types, type).toContain(type);
        expect(demo.stdout()).toMatch(/refused \(badge_revoked\)/);
        // Paul Meyer, in at Reichstett when his badge was revoked, leaves by the exit button, not by a refused tap.
        expect(demo.stdout()).toMatch(/reichstett +Paul Meyer leaves by the exit button/);
        expect(demo.stdout()).not.toMatch(/leaves: refused/);
        expect(
          events.some((e) => e.site === 'reichstett' && e.type === 'door.exit_requested' && e.data.door === 'entrance'),
          'the exit button pressed at the hub',
        ).toBe(true);
      } finally {
        const end = await demo.stop();
        expect(end.code).toBe(0);
        for (const pid of demo.pids) expect(alive(pid), `site process ${pid} left running`).toBe(false);
      }
    },
  );
});
