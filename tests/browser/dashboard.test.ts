import { afterEach, describe, expect, it } from 'vitest';
import {
  browserAvailable,
  cleanUp,
  eventually,
  logIn,
  openBrowser,
  PHONE,
  screenshot,
  seedAlice,
  startFreshHub,
  startHub,
  startNetwork,
} from './harness.js';

const UID = '04A1A1A1A1A1A1';
const UID_2 = '04B2B2B2B2B2B2';

afterEach(cleanUp);

describe.skipIf(!browserAvailable())('the operator dashboard in a real browser (Debian chromium)', () => {
  it('an operator logs in (a wrong password is refused first) and sees the network overview with the site', async () => {
    const net = await startNetwork();
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl, 'not-the-password');
    await page
      .getByRole('alert')
      .filter({ hasText: /incorrect|Wrong/ })
      .waitFor();
    await logIn(page, net.apiUrl);
    const card = page.locator('a.card.site[data-site="murat"]');
    await card.waitFor();
    expect(await card.textContent()).toContain('Télécentre de Murat');
    await page.locator('.live:not(.off)').waitFor();
    await screenshot(page, 'overview');
  });

  it('the overview is drawn from what came with the page while the live stream is not open yet, and goes live when it opens', async () => {
    const { hub, apiUrl } = await startHub();
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 50 });
    const { page } = await openBrowser();
    await logIn(page, apiUrl);
    await page.locator('a.card.site[data-site="murat"]').waitFor();
    // The stream of the next load is held at the browser until the overview is seen without it.
    let open = () => {};
    const opened = new Promise<void>((resolve) => (open = resolve));
    await page.route('**/events/stream', async (route) => {
      await opened;
      await route.continue();
    });
    await page.reload();
    await page.locator('a.card.site[data-site="murat"]').waitFor();
    expect(await page.locator('.live.off').count()).toBe(1);
    open();
    await page.locator('.live:not(.off)').waitFor();
  });

  it('the first load fetches one script and no read before the overview is drawn; a page opened later fetches its own modules, which run', async () => {
    const { hub, apiUrl } = await startHub();
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 50 });
    const { page } = await openBrowser();
    await logIn(page, apiUrl);
    await page.locator('a.card.site[data-site="murat"]').waitFor();
    const files: string[] = [];
    const asked: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/ui/')) files.push(path);
      else asked.push(path);
    });
    // The live stream is held, so that the overview below is drawn from what came with the page.
    let open = () => {};
    const opened = new Promise<void>((resolve) => (open = resolve));
    await page.route('**/events/stream', async (route) => {
      await opened;
      await route.continue();
    });
    // Logged in by its cookie: a load as the staff's every visit starts, the browser's cache bypassed.
    await page.reload({ waitUntil: 'load' });
    await page.locator('a.card.site[data-site="murat"]').waitFor();
    expect(files.sort()).toEqual(['/ui/app.js']);
    // The page itself, and the live stream (held): who is signed in and the sites came with the page.
    expect(asked).toEqual(['/', '/events/stream']);
    open();
    files.length = 0;
    await page.locator('a.card.site[data-site="murat"]').click();
    await page.locator('a.card.site[data-site="murat"]').waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'Murat' }).waitFor();
    expect(files).toContain('/ui/views/site.js');
    expect(files).not.toContain('/ui/app.js');
  });

  it("on a hub's first start, admin logs in with the one-time password and must choose their own before anything else", async () => {
    const { apiUrl, oneTimePassword } = await startFreshHub();
    const { page } = await openBrowser();
    await logIn(page, apiUrl, oneTimePassword);
    await page.getByLabel('Nouveau mot de passe').fill('my-own-password-1');
    await page.getByLabel('Le même, à nouveau').fill('my-own-password-2');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Les deux mots de passe diffèrent.').waitFor();
    await page.getByLabel('Le même, à nouveau').fill('my-own-password-1');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Total du réseau').waitFor();
    await page.reload();
    await page.getByText('Total du réseau').waitFor();
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await logIn(page, apiUrl, oneTimePassword);
    await page.getByRole('alert').filter({ hasText: 'incorrect' }).waitFor();
    await logIn(page, apiUrl, 'my-own-password-1');
    await page.getByText('Total du réseau').waitFor();
  });

  it("a site's occupancy rises on its page as badges are tapped at the edge, without reloading", async () => {
    const net = await startNetwork();
    expect((await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' })).status).toBe(200);
    for (const [id, name, uid] of [
      ['alice', 'Alice Martin', UID],
      ['bob', 'Bob Durand', UID_2],
    ] as const) {
      expect((await net.call('PUT', `/directory/members/${id}`, { name, plan: 'always' })).status).toBe(200);
      expect((await net.call('PUT', `/directory/badges/${uid}`, { member: id })).status).toBe(200);
    }
    await eventually(
      async () => (await net.tap(UID, 'front-out')).reason !== 'unknown_badge',
      'the site has the directory',
    );
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.locator('a.card.site[data-site="murat"]').click();
    const figure = page.locator('main section.card .figure').first();
    await expect.poll(() => figure.getAttribute('data-present')).toBe('0');
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));

    expect(await net.tap(UID)).toMatchObject({ granted: true });
    await expect.poll(() => figure.getAttribute('data-present'), { timeout: 10_000 }).toBe('1');
    expect(await net.tap(UID_2)).toMatchObject({ granted: true });
    await expect.poll(() => figure.getAttribute('data-present'), { timeout: 10_000 }).toBe('2');
    await page.getByText('Bob Durand').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, 'site-occupancy');
  });

  it('a badge revoked in the dashboard is refused at the next tap at the edge', async () => {
    const net = await startNetwork();
    await seedAlice(net, UID);

    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: /Membres|Members/ }).click();
    await page.getByRole('searchbox').fill('A1A1');
    const row = page.locator(`tr[data-badge="${UID}"]`);
    await row.getByRole('button', { name: /Révoquer|Revoke/ }).click();
    await row.getByText(/révoqué|revoked/).waitFor();
    await eventually(async () => (await net.tap(UID)).reason === 'badge_revoked', 'the edge refuses the revoked badge');
    await screenshot(page, 'badge-revoked');
    // The refusal reaches the live feed of the overview, in words.
    await page.getByRole('link', { name: 'Réseau' }).click();
    await page
      .locator('ol.feed li.access-denied')
      .filter({ hasText: 'Accès refusé (badge révoqué)' })
      .first()
      .waitFor();
    await screenshot(page, 'feed');
  });

  it('a door forced at the edge shows up live on the alarms page, ends when the door closes, and is acknowledged there (in English, on a phone)', async () => {
    const net = await startNetwork();
    const { page } = await openBrowser();
    await page.setViewportSize(PHONE);
    await logIn(page, net.apiUrl);
    await page.locator('#locale').selectOption('en');
    await page.getByRole('link', { name: 'Alarms' }).click();
    await page.getByText('No alarm.').waitFor();

    await net.door(true);
    const alarm = page.locator('li.alarm').filter({ hasText: 'Door forced' });
    await alarm.getByText('active').waitFor();
    await net.door(false);
    await alarm.getByText(/^.*ended .*$/).waitFor();
    await screenshot(page, 'alarm-phone-en');
    await alarm.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('No alarm.').waitFor();
    const { json } = await net.call('GET', '/alarms');
    expect(json).toMatchObject({
      alarms: [{ kind: 'door.forced', site: 'murat', clearedBy: 'door.secured', acknowledgedBy: 'admin', open: false }],
    });
    await page.getByRole('link', { name: 'Network' }).click();
    await page.locator('a.card.site[data-site="murat"]').getByText('no alarm').waitFor();
    await screenshot(page, 'overview-phone-en');
  });

  it('a members CSV imported in the dashboard: a bad row is refused with its line number and nothing is imported; the corrected file is', async () => {
    const net = await startNetwork();
    await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: /Membres|Members/ }).click();
    const header = 'member_id,name,plan,badges';
    const file = (rows: string[]) => ({
      name: 'members.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from([header, ...rows].join('\n')),
    });
    await page
      .locator('input[type=file]')
      .setInputFiles(file(['zoe,Zoé Faure,always,04C3C3C3C3C3C3', 'yann,Yann Morel,no-such-plan,']));
    await page.getByRole('button', { name: /Importer un CSV|Import a CSV/ }).click();
    await page.locator('ul.errors li').filter({ hasText: 'line 3' }).waitFor();
    expect((await net.call('GET', '/directory/members/zoe')).status).toBe(404);

    await page
      .locator('input[type=file]')
      .setInputFiles(file(['zoe,Zoé Faure,always,04C3C3C3C3C3C3', 'yann,Yann Morel,always,']));
    await page.getByRole('button', { name: /Importer un CSV|Import a CSV/ }).click();
    await page.locator('tr[data-member="zoe"]').waitFor();
    await page.locator('tr[data-badge="04C3C3C3C3C3C3"]').waitFor();
    expect(await page.locator('ul.errors li').count()).toBe(0);
    await screenshot(page, 'members-imported');

    // As Excel's plain "CSV" saves it on a French Windows: semicolons, Windows-1252, CRLF.
    await page.locator('input[type=file]').setInputFiles({
      name: 'membres.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('member_id;name;plan\r\nxavier;Xavier Lefèvre;always\r\n', 'latin1'),
    });
    await page.getByRole('button', { name: /Importer un CSV|Import a CSV/ }).click();
    await page.locator('tr[data-member="xavier"]').waitFor();
    expect((await net.call('GET', '/directory/members/xavier')).json).toMatchObject({
      item: { name: 'Xavier Lefèvre' },
    });
  });
});
