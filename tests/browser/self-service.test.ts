import { DateTime } from 'luxon';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  browserAvailable,
  cleanUp,
  eventually,
  openBrowser,
  PHONE,
  screenshot,
  startHub,
  startSite,
  type OperatorHub,
} from './harness.js';

afterEach(cleanUp);

const UID = '04D4D4D4D4D4D4';
const ZONE = 'Europe/Paris';
const ROOM = { reader: 'aubrac-in', door: 'aubrac', resource: 'aubrac' };

/**
 * The next quarter hour at the sites (Paris) and an hour after, capped at midnight: a booking
 * that starts then is within the reader's grace at once (at most 15 minutes before its start).
 */
function nextQuarter() {
  const now = DateTime.now().setZone(ZONE);
  const start = now.startOf('hour').plus({ minutes: 15 * (Math.floor(now.minute / 15) + 1) });
  const end = DateTime.min(start.plus({ hours: 1 }), start.endOf('day').plus({ milliseconds: 1 }));
  return {
    date: start.toISODate() ?? '',
    from: start.toFormat('HH:mm'),
    to: end.day === start.day ? end.toFormat('HH:mm') : '24:00',
  };
}

/** Léa, whose home is Murat, on a plan that opens every site; the room Aubrac at Reichstett, its reader at its door. */
async function network(net: OperatorHub): Promise<void> {
  const ok = async (method: string, path: string, body: unknown) => {
    const res = await net.call(method, path, body);
    expect(res.status, JSON.stringify(res.json)).toBeLessThan(300);
    return res.json;
  };
  await ok('PUT', '/directory/plans/network', { name: 'Réseau', access: 'always' });
  await ok('PUT', '/directory/members/lea', { name: 'Léa Garnier', plan: 'network' });
  await ok('PUT', `/directory/badges/${UID}`, { member: 'lea' });
  await ok('PUT', `/resources/${ROOM.resource}`, {
    site: 'reichstett',
    kind: 'room',
    name: 'Salle Aubrac',
    capacity: 6,
    reader: ROOM.reader,
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }],
  });
}

/** The invitation's one-time link, as the operator hands it over: its token. */
async function inviteLea(net: OperatorHub): Promise<string> {
  const { status, json } = await net.call('POST', '/invitations', { role: 'member', member: 'lea' });
  expect(status).toBe(201);
  const token = /#\/invite\/(.+)$/.exec((json as { link: string }).link)?.[1];
  if (!token) throw new Error(`no token in ${JSON.stringify(json)}`);
  return token;
}

/** The nav entries a user sees, by their page. */
const visibleNav = (page: Page) =>
  page
    .locator('#nav a:not([hidden])')
    .evaluateAll((links) => links.map((a) => (a as unknown as { dataset: { nav: string } }).dataset.nav));

describe.skipIf(!browserAvailable())('self-service on a phone (Debian chromium, 390×844)', () => {
  it('a member on a phone-sized screen books a room at another site and opens its door with their badge', async () => {
    const net = await startHub();
    await startSite(net, 'murat', 'Télécentre de Murat');
    const reichstett = await startSite(net, 'reichstett', 'Bureau-Mobile Reichstett', [ROOM]);
    await network(net);
    // Before any booking the room's reader knows Léa and refuses her: she holds no booking of it.
    await eventually(
      async () => (await reichstett.tap(UID, ROOM.reader)).reason === 'no_booking',
      'the room refuses a member without a booking',
    );
    const token = await inviteLea(net);

    const { page } = await openBrowser({ viewport: PHONE });
    await page.goto(`${net.apiUrl}/#/invite/${token}`);
    await page.getByRole('heading', { name: 'Bienvenue, Léa Garnier' }).waitFor();
    await page.getByLabel('Identifiant').fill('lea.garnier');
    await page.getByLabel('Nouveau mot de passe').fill('aubrac-le-mardi-matin');
    await page.getByLabel('Le même, à nouveau').fill('aubrac-le-mardi-matin');
    await page.getByRole('button', { name: 'Créer mon compte' }).click();
    await page.getByRole('heading', { name: 'Bonjour Léa Garnier' }).waitFor();
    expect(await visibleNav(page)).toEqual(['me', 'book', 'bookings']);
    await screenshot(page, 'self-me-phone');

    await page.getByRole('link', { name: 'Réserver' }).click();
    const when = nextQuarter();
    await page.getByLabel('Date').fill(when.date);
    await page.getByLabel('De', { exact: true }).fill(when.from);
    await page.getByLabel('À', { exact: true }).fill(when.to);
    await page.getByRole('button', { name: 'Voir les disponibilités' }).click();
    const book = page.getByRole('button', { name: 'Réserver Salle Aubrac à Bureau-Mobile Reichstett' });
    await book.click();
    await page.locator('#toast').filter({ hasText: 'Salle Aubrac réservé.' }).waitFor();
    await screenshot(page, 'self-book-phone');

    await page.getByRole('link', { name: 'Mes réservations' }).click();
    const booking = page.locator('li.booking[data-resource="aubrac"]');
    await booking.waitFor();
    expect(await booking.textContent()).toContain('Bureau-Mobile Reichstett');
    const [stored] = ((await net.call('GET', '/bookings?member=lea')).json as { items: Array<{ start: string }> })
      .items;
    expect(DateTime.fromISO(stored?.start ?? '', { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm')).toBe(
      `${when.date} ${when.from}`,
    );
    await eventually(
      async () => (await reichstett.tap(UID, ROOM.reader)).granted,
      "the booking reaches the site and the room's door opens for Léa's badge",
    );
    await screenshot(page, 'self-bookings-phone');

    // Cancelled within the free-cancellation hours: the page says it will be billed, then the door knows.
    await booking.getByRole('button', { name: 'Annuler la réservation de Salle Aubrac' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText(/^Annulation tardive/).waitFor();
    await dialog.getByRole('button', { name: 'Oui, annuler' }).click();
    await page.locator('#toast').filter({ hasText: 'annulation tardive, facturée' }).waitFor();
    await page.getByText('Aucune réservation à venir.').waitFor();
    await eventually(
      async () => (await reichstett.tap(UID, ROOM.reader)).reason === 'no_booking',
      'the cancellation reaches the door',
    );
  });
});
