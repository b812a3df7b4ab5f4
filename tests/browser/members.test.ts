import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { browserAvailable, cleanUp, eventually, logIn, openBrowser, screenshot, startNetwork } from './harness.js';

const UID = '04C3C3C3C3C3C3';

afterEach(cleanUp);

/** One of the page's forms, by its heading. */
const formOf = (page: Page, title: string) =>
  page.locator('form').filter({ has: page.getByRole('heading', { name: title, exact: true }) });

describe.skipIf(!browserAvailable())('the members page in a real browser (Debian chromium)', () => {
  it('a member added in the page, then a badge for them: both listed, both in the directory, and the badge opens the door at the edge', async () => {
    const net = await startNetwork();
    await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Membres' }).click();

    const member = formOf(page, 'Ajouter un membre');
    const id = member.getByLabel('Identifiant', { exact: true });
    // The id's pattern is checked by the browser before anything is sent.
    await id.fill('zoé faure');
    expect(
      await id.evaluate((el) => (el as unknown as { validity: { patternMismatch: boolean } }).validity.patternMismatch),
    ).toBe(true);
    await id.fill('zoe');
    expect(await id.evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid)).toBe(true);
    await member.getByLabel('Nom', { exact: true }).fill('Zoé Faure');
    await expect.poll(() => member.getByLabel('Formule').locator('option').allTextContents()).toEqual(['24/7']);
    await member.getByRole('button', { name: 'Enregistrer' }).click();
    const row = page.locator('tr[data-member="zoe"]');
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['Zoé Faure', 'zoe', 'always', 'actif', 'Inviter']);
    expect(await id.inputValue()).toBe('');
    expect((await net.call('GET', '/directory/members/zoe')).json).toMatchObject({
      item: { id: 'zoe', name: 'Zoé Faure', plan: 'always' },
    });

    const badge = formOf(page, 'Ajouter un badge');
    await badge.getByLabel('UID du badge').fill(UID);
    await badge.getByLabel('Membre').fill('zoe');
    await badge.getByRole('button', { name: 'Enregistrer' }).click();
    const badgeRow = page.locator(`tr[data-badge="${UID}"]`);
    await badgeRow.waitFor();
    expect((await badgeRow.locator('td').allTextContents()).slice(0, 3)).toEqual([UID, 'zoe', 'actif']);
    expect((await net.call('GET', `/directory/badges/${UID}`)).json).toMatchObject({
      item: { uid: UID, member: 'zoe' },
    });
    await eventually(async () => (await net.tap(UID)).granted, 'the new badge opens the door at the edge');
    await screenshot(page, 'members-added');
  });

  it('a badge for a member who does not exist is refused with the reason, and nothing is added', async () => {
    const net = await startNetwork();
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Membres' }).click();
    const badge = formOf(page, 'Ajouter un badge');
    await badge.getByLabel('UID du badge').fill(UID);
    await badge.getByLabel('Membre').fill('nobody');
    await badge.getByRole('button', { name: 'Enregistrer' }).click();
    await page
      .locator('#toast.error')
      .filter({ hasText: /^Erreur : .*"nobody"/ })
      .waitFor();
    expect(await page.locator('ul.errors li').allTextContents()).toEqual(['member: no member with this id']);
    expect((await net.call('GET', `/directory/badges/${UID}`)).status).toBe(404);
    expect(await page.locator(`tr[data-badge="${UID}"]`).count()).toBe(0);
  });

  it('the search narrows members and badges to what matches a name, an id or a UID; emptied, it shows them all again', async () => {
    const net = await startNetwork();
    await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    for (const [id, name, uid] of [
      ['alice', 'Alice Martin', '04A1A1A1A1A1A1'],
      ['bob', 'Bob Durand', '04B2B2B2B2B2B2'],
      ['chloe', 'Chloé Martin', '04C3C3C3C3C3C3'],
    ] as const) {
      expect((await net.call('PUT', `/directory/members/${id}`, { name, plan: 'always' })).status).toBe(200);
      expect((await net.call('PUT', `/directory/badges/${uid}`, { member: id })).status).toBe(200);
    }
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Membres' }).click();
    const members = () =>
      page
        .locator('tr[data-member]')
        .evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { member: string } }).dataset.member));
    const badges = () =>
      page
        .locator('tr[data-badge]')
        .evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { badge: string } }).dataset.badge));
    await expect.poll(members).toEqual(['alice', 'bob', 'chloe']);

    const search = page.getByRole('searchbox');
    await search.fill('Martin');
    await expect.poll(members).toEqual(['alice', 'chloe']);
    await search.fill('bob');
    await expect.poll(members).toEqual(['bob']);
    await expect.poll(badges).toEqual(['04B2B2B2B2B2B2']);
    await search.fill('C3C3');
    await expect.poll(badges).toEqual(['04C3C3C3C3C3C3']);
    await expect.poll(members).toEqual([]);
    await page.locator('tr td.muted').filter({ hasText: 'Aucun résultat.' }).first().waitFor();
    await search.fill('');
    await expect.poll(members).toEqual(['alice', 'bob', 'chloe']);
    await expect.poll(badges).toHaveLength(3);
  });

  it('the CSV export link downloads the members as CSV, header first', async () => {
    const net = await startNetwork();
    await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    await net.call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
    await net.call('PUT', '/directory/badges/04A1A1A1A1A1A1', { member: 'alice' });
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Membres' }).click();
    const link = page.getByRole('link', { name: 'Exporter en CSV' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('members.csv');
    const lines = readFileSync(await download.path(), 'utf8')
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    expect(lines[0]).toBe('member_id,name,plan,role,employer,status,valid_from,valid_until,badges,badge_type');
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^alice,Alice Martin,always,.*04A1A1A1A1A1A1/)]);
    // The same link, fetched by the page with its session: CSV, not a JSON error.
    const href = await link.getAttribute('href');
    const type = await page.evaluate(async (url) => (await fetch(url ?? '')).headers.get('content-type'), href);
    expect(type).toMatch(/^text\/csv/);
    // For Excel in French: semicolons after a byte order mark.
    const excel = page.getByRole('link', { name: 'Exporter pour Excel' });
    const [forExcel] = await Promise.all([page.waitForEvent('download'), excel.click()]);
    const text = readFileSync(await forExcel.path(), 'utf8');
    expect(text.startsWith('\uFEFFmember_id;name;plan;')).toBe(true);
    expect(text).toMatch(/\r\nalice;Alice Martin;always;.*04A1A1A1A1A1A1/);
  });
});
