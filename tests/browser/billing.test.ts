import { afterEach, describe, expect, it } from 'vitest';
import { nextPeriod } from '../../cloud-sync/billing/period.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { PERIOD, ZONE, closedMonth, dayOfMonth, offsetOn } from './billing-month.js';
import { browserAvailable, cleanUp, logIn, openBrowser, screenshot, startHub } from './harness.js';

afterEach(cleanUp);

/** Text as shown, with the no-break spaces of French number formats as plain spaces. */
const plain = (s: string | null) => (s ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim();
const YEAR = PERIOD.slice(0, 4);

describe.skipIf(!browserAvailable())('the billing pages of the dashboard in a real browser (Debian chromium)', () => {
  it('an operator sees the closed month and what closes next, opens an invoice whose lines and totals are those of the API, and downloads its CSV', async () => {
    const net = await startHub();
    await closedMonth(net);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    const month = page.locator(`details.period[data-period="${PERIOD}"][data-status="closed"]`);
    await month.waitFor();
    expect(plain(await month.locator('summary').textContent())).toContain('2 facture(s)');
    const next = new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
      new Date(`${nextPeriod(PERIOD)}-01T00:00:00Z`),
    );
    await page.getByText(`Prochaine période à clôturer : ${next}`).waitFor();

    // The open month, rated only when asked: no visit yet, only Chloé's subscription, 96.00 + 19.20, on an invoice without a number.
    await page.getByRole('button', { name: `Aperçu de ${next}` }).click();
    const preview = page.locator(`details.period[data-period="${nextPeriod(PERIOD)}"][data-status="open"]`);
    await preview.locator('tr[data-invoice=""]').filter({ hasText: 'Acme SA' }).waitFor();
    expect(await preview.locator('.totals .total').getAttribute('data-cents')).toBe('11520');

    await month.locator('summary').click();
    expect(await month.locator('.totals .total').getAttribute('data-cents')).toBe('18960');
    expect(plain(await month.locator('.totals .total').textContent())).toBe('Total TTC 189,60 €');
    await screenshot(page, 'billing-periods');
    await month.locator(`tr[data-invoice="${YEAR}-000001"] a`).click();

    const api = (await net.call('GET', `/billing/invoices/${YEAR}-000001`)).json as {
      totalCents: number;
      account: { id: string };
      lines: unknown[];
    };
    expect(api).toMatchObject({ account: { id: 'acme' }, totalCents: 16560 });
    const total = page.locator('section.summary .totals .total');
    await total.waitFor();
    expect(await total.getAttribute('data-cents')).toBe(String(api.totalCents));
    expect(plain(await total.textContent())).toBe('Total TTC 165,60 €');
    expect(plain(await page.locator('section.summary .totals .vat').textContent())).toBe('TVA 27,60 €');
    expect(await page.locator('section.card tr[data-kind]').count()).toBe(api.lines.length);
    const extra = page.locator('tr[data-kind="extra-day"]');
    expect(plain(await extra.textContent())).toContain('Bureau-Mobile Reichstett');
    expect(plain(await extra.locator('td.num').nth(2).textContent())).toBe('12,00 €');
    const bySite = async (site: string) =>
      page.locator(`tr[data-site="${site}"] td.num[data-cents]`).getAttribute('data-cents');
    expect([await bySite(''), await bySite('murat'), await bySite('reichstett')]).toEqual(['9600', '3000', '1200']);
    const byMember = async (member: string) =>
      (await page.locator(`tr[data-member="${member}"] td`).allTextContents()).map(plain);
    expect([await byMember('chloe'), await byMember('david')]).toEqual([
      ['Chloé Weber', '3', '108,00 €'],
      ['David Roux', '2', '30,00 €'],
    ]);
    await screenshot(page, 'billing-invoice');

    const csv = await page.request.get(
      new URL((await page.getByRole('link', { name: 'CSV' }).getAttribute('href')) ?? '', net.apiUrl).href,
    );
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect(await csv.text()).toContain(
      `${YEAR}-000001,${PERIOD},employer,acme,Acme SA,chloe,Chloé Weber,reichstett,extra-day,,Jours au-delà de 2 par semaine`,
    );
    const json = await page.request.get(
      new URL((await page.getByRole('link', { name: 'JSON' }).getAttribute('href')) ?? '', net.apiUrl).href,
    );
    expect(await json.json()).toEqual(api);
  });

  it('a month with uses of an item without a price lists them under the month, as text even when the name holds markup', async () => {
    const net = await startHub();
    const item = '<img src=x onerror="document.title=1">';
    // A use an older hub stored before item names were checked at ingest.
    const at = `${dayOfMonth(21)}T10:00:00.000${offsetOn(dayOfMonth(21))}`;
    const event = {
      v: 1,
      site: 'murat',
      seq: 100,
      id: '0190a000-0000-7000-8000-000000000100',
      at,
      type: 'consumable.used',
      data: { memberId: 'ana', item, quantity: 3 },
    };
    await net.hub.store.ingest(
      { v: 1, site: 'murat', events: [event as EventBatch['events'][number]] },
      Date.now() - 3_600_000,
    );
    await closedMonth(net);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    const month = page.locator(`details.period[data-period="${PERIOD}"][data-status="closed"]`);
    await month.locator('summary').click();
    const use = month.locator('.unpriced li');
    await use.waitFor();
    const monthName = new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
      new Date(`${PERIOD}-01T00:00:00Z`),
    );
    expect(await use.getAttribute('data-item')).toBe(item);
    expect(plain(await use.textContent())).toBe(`« ${item} » à murat, ${monthName} : 1 usage(s), 3 unité(s)`);
    expect(plain(await month.locator('.unpriced p.error').textContent())).toContain('1 article(s) sans prix');
    expect(await month.locator('.unpriced img').count()).toBe(0);
    expect(await page.title()).not.toBe('1');
  });

  it('a site manager is not offered billing; its address leads them to their home, and the API refuses them', async () => {
    const net = await startHub();
    await net.hub.sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: ZONE, capacity: 20 });
    const account = {
      username: 'manager',
      role: 'site_manager',
      sites: ['murat'],
      password: 'manager-password',
      mustChangePassword: false,
    };
    expect((await net.call('POST', '/accounts', account)).status).toBe(201);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl, account.password, account.username);
    await page.getByText('Total du réseau').waitFor();
    expect(await page.getByRole('link', { name: 'Membres' }).isVisible()).toBe(true);
    expect(await page.locator('[data-nav="billing"]').isHidden()).toBe(true);
    // Typed in the address bar, another role's page leads to this account's home (the API refuses it anyway).
    await page.goto(`${net.apiUrl}/#/billing`);
    await page.getByText('Total du réseau').waitFor();
    expect(new URL(page.url()).hash).toBe('#/');
    expect(await page.locator('details.period').count()).toBe(0);
    const refused = await page.evaluate(async () => (await fetch('/billing/periods')).status);
    expect(refused).toBe(403);
  });
});
