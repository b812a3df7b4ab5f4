import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { topics } from '../../shared/protocol/topics.js';
import { statusOf } from '../harness/hub-fixtures.js';
import { browserAvailable, cleanUp, eventually, logIn, openBrowser, screenshot, startHub } from './harness.js';

afterEach(cleanUp);

/** 14 July 2026, 09:30 in Montréal (UTC-4 in summer): 13:30 UTC, 15:30 in Paris, 22:30 in Tokyo. */
const AT = '2026-07-14T09:30:00-04:00';
/** What the page may show instead if it formatted that instant in the wrong zone. */
const WRONG_ZONES = ['13:30', '15:30', '22:30'];

/** A site's events as they reach the hub over MQTT, through its real ingest. */
function deliver(hub: Hub, site: string, events: NewEvent[]): void {
  const batch = events.map((e, i) => ({ v: 1, site, seq: i + 1, id: randomUUID(), at: AT, ...e }) as SiteEvent);
  hub.ingest.onMessage(topics().events(site), Buffer.from(JSON.stringify({ v: 1, site, events: batch })));
  hub.ingest.onMessage(
    topics().status(site),
    Buffer.from(JSON.stringify(statusOf(site, { at: AT, lastSeq: batch.length, ackedSeq: batch.length }))),
  );
}

/** The text of the site page's parts: its gauge, who is in, and the health row of the last event. */
async function sitePage(page: Page) {
  const main = page.locator('main');
  return {
    gauge: (await main.locator('section.card .gauge').first().textContent()) ?? '',
    people: await main.locator('ul.people li').allTextContents(),
    lastEvent: (await main.locator('table.facts tr').first().locator('td').textContent()) ?? '',
  };
}

describe.skipIf(!browserAvailable())(
  'dates and numbers in French and English, in the site time zone (Debian chromium)',
  () => {
    it("a Montréal site's times show in Montréal time whatever the browser's zone, formatted for French then English; its rate as a percentage of each", async () => {
      const { hub, apiUrl, call } = await startHub();
      await hub.sites.upsert({ id: 'montreal', name: 'Espace Montréal', timeZone: 'America/Montreal', capacity: 4 });
      await call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
      await call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
      deliver(hub, 'montreal', [
        {
          type: 'access.granted',
          data: { reader: 'front-in', role: 'entry', door: 'front', badge: '…A1A1', memberId: 'alice', reason: 'ok' },
        },
        { type: 'presence.in', data: { memberId: 'alice' } },
        { type: 'presence.in', data: { memberId: 'bob' } },
      ]);
      await eventually(
        async () => ((await call('GET', '/occupancy/montreal')).json as { present: number }).present === 2,
        'the hub has the events',
      );

      const { context, page } = await openBrowser();
      // The browser sits in Tokyo: neither the site's zone, nor UTC, nor the hub's.
      await (await context.newCDPSession(page)).send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Tokyo' });
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('Asia/Tokyo');
      await logIn(page, apiUrl);
      const card = page.locator('a.card.site[data-site="montreal"]');
      await expect.poll(() => card.locator('.gauge').textContent()).toMatch(/^2 \/ 4 · 50[\u00a0\u202f]%$/);
      await card.click();
      await page.locator('ul.people li').first().waitFor();
      await page.locator('table.facts').waitFor();

      const fr = await sitePage(page);
      // French: a no-break space before the percent sign (plain or narrow, by ICU version); day/month/year then the time.
      expect(fr.gauge).toMatch(/^2 \/ 4 · 50[\u00a0\u202f]%$/);
      expect(fr.people).toEqual(['Alice Martin depuis 14/07/2026 09:30', 'bob depuis 14/07/2026 09:30']);
      expect(fr.lastEvent).toBe('14/07/2026 09:30');
      await screenshot(page, 'site-montreal-fr');

      await page.locator('#locale').selectOption('en');
      await page.getByText('Who is in').waitFor();
      await page.locator('table.facts').waitFor();
      const en = await sitePage(page);
      expect(en.gauge).toBe('2 / 4 · 50%');
      expect(en.people).toEqual(['Alice Martin since 14/07/2026, 09:30', 'bob since 14/07/2026, 09:30']);
      expect(en.lastEvent).toBe('14/07/2026, 09:30');
      for (const shown of [fr, en]) for (const wrong of WRONG_ZONES) expect(JSON.stringify(shown)).not.toContain(wrong);
      await screenshot(page, 'site-montreal-en');
    });
  },
);
