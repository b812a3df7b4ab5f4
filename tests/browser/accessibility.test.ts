import { afterEach, describe, expect, it } from 'vitest';
import { LANGUAGES, SCHEMES, checkViews, chooseLanguage, expectAccessible } from './axe.js';
import { PERIOD, closedMonth } from './billing-month.js';
import {
  ShiftedClock,
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

  it('the billing pages: the months with their credit notes, an invoice with its payment and a refused one, a credit note, the receivables with a hold, the seller refused, the buyers, an employer manager’s invoices, in French and English, light and dark', async () => {
    const clock = new ShiftedClock();
    const net = await startHub({ clock });
    await closedMonth(net, { lawful: true });
    const year = PERIOD.slice(0, 4);
    const credit = await net.call('POST', `/billing/invoices/${year}-000002/credit-note`, { reason: 'Erreur' });
    const note = (credit.json as { number: string }).number;
    // 50 days on, Acme's invoice is overdue and its doors closed: the receivables page has a reminder and a hold.
    clock.shiftMs = 50 * 86_400_000;
    await net.logInAgain();
    await net.call('PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: 10 });
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
          await p.locator(`${month} tr[data-credit-note]`).waitFor();
        },
      },
      {
        name: 'invoice',
        hash: `#/billing/invoices/${year}-000001`,
        ready: 'section.payment .state strong.status',
        then: async (p) => {
          // A refused payment: its errors must pass too.
          await p.locator('section.payment input[name="amount"]').fill('10');
          await p.locator('section.payment input[name="date"]').fill('2999-01-01');
          await p.locator('section.payment button[type="submit"]').click();
          await p.locator('section.payment li[data-path="date"]').waitFor();
        },
      },
      {
        name: 'credited invoice',
        hash: `#/billing/invoices/${year}-000002`,
        ready: 'section.credit-notes tr[data-credit-note]',
        then: async (p) => {
          // The question asked before a credit note is issued.
          await p.locator('form.credit-form input[name="reason"]').fill('Erreur');
          await p.locator('form.credit-form button[type="submit"]').click();
          await p.getByRole('alertdialog').waitFor();
        },
      },
      { name: 'credit note', hash: `#/billing/invoices/${note}`, ready: '.invoice .corrects a' },
      { name: 'receivables', hash: '#/billing/receivables', ready: 'li.hold[data-held="true"] form' },
      {
        name: 'seller',
        hash: '#/billing/seller',
        ready: 'form.seller-form input[name="siret"]',
        then: async (p) => {
          // A refused seller: its errors must pass too.
          await p.locator('form.seller-form input[name="siret"]').fill('73282932000075');
          await p.locator('form.seller-form button[type="submit"]').click();
          await p.locator('form.seller-form li[data-path="siret"]').waitFor();
        },
      },
      {
        name: 'buyers, one being deleted (confirmation)',
        hash: '#/billing/buyers',
        ready: 'table.buyers tr[data-account="employer:acme"] button',
        then: async (p) => {
          await p.locator('table.buyers tr[data-account="member:ana"] button').last().click();
          await p.getByRole('alertdialog').waitFor();
        },
      },
    ]);
    // Acme's manager: their invoices with their documents, and one in full.
    const manager = { username: 'acme-rh', role: 'employer_manager', employer: 'acme', password: 'acme-rh-password' };
    expect((await net.call('POST', '/accounts', { ...manager, mustChangePassword: false })).status).toBe(201);
    const other = await openBrowser();
    await logIn(other.page, net.apiUrl, manager.password, manager.username);
    await other.page.locator('#nav').waitFor();
    await checkViews(other.page, [
      { name: 'employer invoices', hash: '#/invoices', ready: 'tr[data-invoice] .documents a' },
      { name: 'employer invoice', hash: `#/invoices/${year}-000001`, ready: '.invoice .documents a' },
    ]);
  });
});
