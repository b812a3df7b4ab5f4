import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { browserAvailable, cleanUp, eventually, logIn, openBrowser, screenshot, startNetwork } from './harness.js';

const UID = '04A1A1A1A1A1A1';

afterEach(cleanUp);

// The page's own types, as far as these tests use them (the test project has no DOM lib).
interface Canvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  toDataURL(): string;
}
interface Context2dPrototype {
  clearRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number, maxWidth?: number): void;
}

/** The chart's canvas, read back: its size, how many pixels are painted in the "present" series' blue (#1f6feb), and a fingerprint of the picture. */
function readChart(page: Page) {
  return page.locator('div.chart canvas').evaluate((element) => {
    const canvas = element as unknown as Canvas;
    const ctx = canvas.getContext('2d');
    if (!ctx) return { width: canvas.width, height: canvas.height, painted: 0, blue: 0, picture: '' };
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    let blue = 0;
    for (let i = 0; i < data.length; i += 4) {
      if ((data[i + 3] ?? 0) === 0) continue;
      painted++;
      if (
        Math.abs((data[i] ?? 0) - 31) < 12 &&
        Math.abs((data[i + 1] ?? 0) - 111) < 12 &&
        Math.abs((data[i + 2] ?? 0) - 235) < 12
      )
        blue++;
    }
    return { width: canvas.width, height: canvas.height, painted, blue, picture: canvas.toDataURL() };
  });
}

/** Records the text of each canvas frame (a frame starts at a clearRect of the whole canvas): the chart's axis labels are drawn, not in the DOM. */
function recordCanvasText(): void {
  const frames: string[][] = [];
  (globalThis as unknown as { canvasFrames: string[][] }).canvasFrames = frames;
  const proto = (globalThis as unknown as { CanvasRenderingContext2D: { prototype: Context2dPrototype } })
    .CanvasRenderingContext2D.prototype;
  const { clearRect, fillText } = proto;
  proto.clearRect = function (this: Context2dPrototype, ...args: Parameters<Context2dPrototype['clearRect']>) {
    if (args[0] === 0 && args[1] === 0) frames.push([]);
    clearRect.apply(this, args);
  };
  proto.fillText = function (this: Context2dPrototype, ...args: Parameters<Context2dPrototype['fillText']>) {
    frames.at(-1)?.push(args[0]);
    fillText.apply(this, args);
  };
}

const lastFrame = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { canvasFrames: string[][] }).canvasFrames.at(-1) ?? []);
const WEEKDAY = /^(lun|mar|mer|jeu|ven|sam|dim)\. \d{1,2}$/;

describe.skipIf(!browserAvailable())('a site page in a real browser (Debian chromium)', () => {
  it('draws the occupancy chart of the last 24 h on a canvas; the 7-day button asks the hub for 7 days and draws them', async () => {
    const net = await startNetwork();
    await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    await net.call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
    await net.call('PUT', `/directory/badges/${UID}`, { member: 'alice' });
    await eventually(async () => (await net.tap(UID)).granted, 'the badge opens the site');

    const { page } = await openBrowser();
    await page.addInitScript(recordCanvasText);
    const asked: string[] = [];
    page.on(
      'request',
      (r) => r.url().includes('/history') && asked.push(new URL(r.url()).pathname + new URL(r.url()).search),
    );
    await logIn(page, net.apiUrl);
    await page.locator('a.card.site[data-site="murat"]').click();
    await page.locator('div.chart canvas').waitFor();
    await expect.poll(async () => (await readChart(page)).blue, { timeout: 10_000 }).toBeGreaterThan(0);
    const day = await readChart(page);
    expect(day.width).toBeGreaterThan(200);
    expect(day.height).toBeGreaterThan(100);
    expect(asked).toEqual(['/occupancy/murat/history?range=24h']);
    expect(await page.getByRole('button', { name: '24 h' }).getAttribute('class')).toContain('current');
    // Over a day the time axis is labelled in hours.
    expect((await lastFrame(page)).filter((text) => /^\d\d:\d\d$/.test(text)).length).toBeGreaterThan(3);

    const week = page.waitForResponse(
      (r) => r.url().endsWith('/occupancy/murat/history?range=7d') && r.status() === 200,
    );
    await page.getByRole('button', { name: '7 jours' }).click();
    const points = ((await (await week).json()) as { points: unknown[] }).points;
    expect(points).toHaveLength(7 * 96 + 1);
    await expect.poll(async () => (await readChart(page)).picture, { timeout: 10_000 }).not.toBe(day.picture);
    expect((await readChart(page)).blue).toBeGreaterThan(0);
    // Over a week it is labelled in days, each day named once (uPlot may tick twice a day).
    const dayLabels = (await lastFrame(page)).filter((text) => WEEKDAY.test(text));
    expect(dayLabels.length).toBeGreaterThanOrEqual(6);
    expect(new Set(dayLabels).size, dayLabels.join(', ')).toBe(dayLabels.length);
    expect(await page.getByRole('button', { name: '7 jours' }).getAttribute('class')).toContain('current');
    expect(await page.getByRole('button', { name: '24 h' }).getAttribute('class')).not.toContain('current');
    // One chart, redrawn: not a second canvas beside the first.
    expect(await page.locator('div.chart canvas').count()).toBe(1);
    await screenshot(page, 'site-chart-7d');
  });

  it("lists the site's doors and readers from its recent events: the reader's last decision, in words", async () => {
    const net = await startNetwork();
    await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    await net.call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
    await net.call('PUT', `/directory/badges/${UID}`, { member: 'alice' });
    await eventually(async () => (await net.tap(UID)).granted, 'the badge opens the site');
    expect(await net.tap('04999999999999', 'front-out')).toMatchObject({ granted: false, reason: 'unknown_badge' });
    await eventually(async () => {
      const { json } = await net.call('GET', '/site-health/murat');
      return (json as { readers: unknown[] }).readers.length === 2;
    }, 'the hub has both taps');

    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.locator('a.card.site[data-site="murat"]').click();
    const devices = page.locator('main section.card').filter({ has: page.getByRole('heading', { name: 'Portes' }) });
    const doors = devices.locator('h2:has-text("Portes") + ul > li');
    const readers = devices.locator('h2:has-text("Lecteurs") + ul > li');
    await expect.poll(() => doors.allTextContents()).toEqual([expect.stringMatching(/^front\b/)]);
    const lines = await readers.allTextContents();
    expect(lines).toHaveLength(2);
    // Each reader ends with the operator's enrol button.
    expect(lines[0]).toMatch(/^front-in connecté · dernier passage \d\d\/\d\d\/\d{4} \d\d:\d\d \(accordé\) Enrôler$/);
    expect(lines[1]).toMatch(/^front-out connecté · dernier passage .* \(badge inconnu\) Enrôler$/);
    await screenshot(page, 'site-devices');
  });
});
