import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { accessibilityViolations, expectAccessible } from './axe.js';
import { PERIOD, closedMonth } from './billing-month.js';
import {
  browserAvailable,
  cleanUp,
  eventually,
  logIn,
  openBrowser,
  seedAlice,
  startFreshHub,
  startHub,
  startNetwork,
} from './harness.js';

afterEach(cleanUp);

const UID = '04A1A1A1A1A1A1';
const LANGUAGES = ['fr', 'en'] as const;
const SCHEMES = ['light', 'dark'] as const;

/** A page of the dashboard: where it is, and what shows once its data is in. */
interface View {
  name: string;
  hash: string;
  ready: string;
  /** What to do once it is drawn, before the check (open a panel the check must see too). */
  then?: (page: Page) => Promise<void>;
}

/** Switches the page's language with the header's selector, as a user does. */
async function chooseLanguage(page: Page, language: (typeof LANGUAGES)[number]): Promise<void> {
  await page.locator('#locale').selectOption(language);
  await expect.poll(() => page.locator('html').getAttribute('lang')).toBe(language);
}

/** Every view, in each language and each colour scheme, passes WCAG 2.1 A and AA (all failures shown at once). */
async function checkViews(page: Page, views: readonly View[]): Promise<void> {
  const found: string[] = [];
  for (const language of LANGUAGES) {
    await chooseLanguage(page, language);
    for (const view of views) {
      await page.evaluate(
        (hash) => ((globalThis as unknown as { location: { hash: string } }).location.hash = hash),
        view.hash,
      );
      await page.locator(view.ready).first().waitFor();
      await view.then?.(page);
      for (const colorScheme of SCHEMES) {
        await page.emulateMedia({ colorScheme });
        found.push(await accessibilityViolations(page, `${view.name} (${language}, ${colorScheme})`));
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  expect(found.filter(Boolean).join('\n\n')).toBe('');
}

describe.skipIf(!browserAvailable())('every page of the dashboard passes axe-core, WCAG 2.1 A and AA', () => {
  it('the login page and the one-time password change, in French and English, light and dark', async () => {
    const { apiUrl, oneTimePassword } = await startFreshHub();
    const { page } = await openBrowser();
    await page.goto(`${apiUrl}/`);
    for (const language of LANGUAGES) {
      await chooseLanguage(page, language);
      await page.locator('form.login').waitFor();
      for (const colorScheme of SCHEMES) {
        await page.emulateMedia({ colorScheme });
        await expectAccessible(page, `login (${language}, ${colorScheme})`);
      }
    }
    // A refused login shows its message: the page with it must pass too.
    await logIn(page, apiUrl, 'not-the-password');
    await page
      .getByRole('alert')
      .filter({ hasText: /Wrong|incorrect/ })
      .waitFor();
    await expectAccessible(page, 'login refused');
    await logIn(page, apiUrl, oneTimePassword);
    await page.locator('input[name="new-password"]').waitFor();
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      await expectAccessible(page, `password change (${colorScheme})`);
    }
  });

  it("an operator's overview, site page with its commands, alarms and members, in French and English, light and dark", async () => {
    const net = await startNetwork();
    await seedAlice(net, UID);
    await eventually(
      async () => ((await net.call('GET', '/site-health/murat')).json as { doors: unknown[] }).doors.length === 1,
      'the hub lists the door',
    );
    // The taps pulsed the door: opened during the pulse it would not be forced.
    await eventually(() => net.site.edge.doors.get('front')?.state().mode !== 'unlocked', 'the pulse is over');
    await net.door(true);
    await eventually(
      async () => ((await net.call('GET', '/alarms')).json as { alarms: unknown[] }).alarms.length === 1,
      'the forced door is an alarm',
    );
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.locator('a.card.site[data-site="murat"]').waitFor();
    await checkViews(page, [
      { name: 'overview', hash: '#/', ready: 'a.card.site[data-site="murat"] .gauge' },
      { name: 'site', hash: '#/sites/murat', ready: 'button[data-command="unlock"]' },
      {
        name: 'site command confirmation',
        hash: '#/sites/murat',
        ready: '.commands button[data-command="lockdown"]',
        then: (p) => p.locator('.commands button[data-command="lockdown"]').click(),
      },
      { name: 'alarms', hash: '#/alarms', ready: 'li.alarm button' },
      { name: 'members', hash: '#/members', ready: 'tr[data-badge]' },
    ]);
  });

  it('the billing pages: the months and an invoice, in French and English, light and dark', async () => {
    const net = await startHub();
    await closedMonth(net);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.locator('#nav').waitFor();
    const month = `details.period[data-period="${PERIOD}"]`;
    await checkViews(page, [
      {
        name: 'billing',
        hash: '#/billing',
        ready: `${month} summary`,
        then: async (p) => {
          await p.locator(`${month} summary`).click();
          await p.locator(`${month} tr[data-invoice]`).first().waitFor();
        },
      },
      {
        name: 'invoice',
        hash: `#/billing/invoices/${PERIOD.slice(0, 4)}-000001`,
        ready: 'section.summary .totals .total',
      },
    ]);
  });
});
