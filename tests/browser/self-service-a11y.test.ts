import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { checkViews, expectAccessible } from './axe.js';
import {
  browserAvailable,
  cleanUp,
  logIn,
  openBrowser,
  PHONE,
  startHub,
  startSite,
  type OperatorHub,
} from './harness.js';

afterEach(cleanUp);

const PASSWORD = 'un-mot-de-passe-assez-long';
/** Tomorrow at the sites: a booking then is still to come, and free to cancel for some hours more. */
const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

/** A call as the operator, which must succeed. */
async function ok(net: OperatorHub, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await net.call(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBeLessThan(300);
  return res.json;
}

/** An invitation's token, accepted or not. */
async function invitation(net: OperatorHub, body: object): Promise<string> {
  const { link } = (await ok(net, 'POST', '/invitations', body)) as { link: string };
  return /#\/invite\/(.+)$/.exec(link)?.[1] ?? '';
}

/** An account made from an invitation, as its holder does it, through the public API. */
async function accepted(net: OperatorHub, body: object, username: string): Promise<void> {
  const token = await invitation(net, body);
  const res = await fetch(`${net.apiUrl}/invitations/${token}/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  expect(res.status).toBe(200);
}

/** Léa (Acme's) with a badge and a booking of the room tomorrow; Acme's manager; Max not yet invited. */
async function seed(net: OperatorHub): Promise<void> {
  await ok(net, 'PUT', '/directory/plans/network', { name: 'Réseau', access: 'always' });
  await ok(net, 'PUT', '/directory/employers/acme', { name: 'Acme SA' });
  await ok(net, 'PUT', '/directory/members/lea', { name: 'Léa Garnier', plan: 'network', employer: 'acme' });
  await ok(net, 'PUT', '/directory/members/max', { name: 'Max Roux', plan: 'network' });
  await ok(net, 'PUT', '/directory/badges/04E5E5E5E5E5E5', { member: 'lea' });
  await ok(net, 'PUT', '/resources/cantal', {
    site: 'murat',
    kind: 'room',
    name: 'Salle Cantal',
    capacity: 8,
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '07:00', to: '21:00' }],
    prices: { hourCents: 1500 },
  });
  await ok(net, 'PUT', '/resources/open-space', {
    site: 'murat',
    kind: 'desk-pool',
    name: 'Open space',
    size: 12,
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '19:00' }],
  });
  await ok(net, 'POST', '/bookings', { resource: 'cantal', member: 'lea', date: TOMORROW, from: '10:00', to: '11:00' });
  await accepted(net, { role: 'member', member: 'lea' }, 'lea');
  await accepted(net, { role: 'employer_manager', employer: 'acme' }, 'acme-rh');
}

/** Opens a phone-sized browser logged in as `username`, its home page drawn. */
async function phoneAs(net: OperatorHub, username?: string): Promise<Page> {
  const { page } = await openBrowser({ viewport: PHONE });
  if (username) await logIn(page, net.apiUrl, PASSWORD, username);
  else await logIn(page, net.apiUrl);
  await page.locator('#nav').waitFor();
  return page;
}

describe.skipIf(!browserAvailable())('the self-service and booking pages pass axe-core at phone size', () => {
  it("a member's, an employer's manager's and an operator's new pages, and the invitation page, in French and English, light and dark", async () => {
    const net = await startHub();
    await startSite(net, 'murat', 'Télécentre de Murat');
    await seed(net);

    const invite = await openBrowser({ viewport: PHONE });
    await invite.page.goto(`${net.apiUrl}/#/invite/${await invitation(net, { role: 'member', member: 'max' })}`);
    await invite.page.getByRole('heading', { name: 'Bienvenue, Max Roux' }).waitFor();
    await expectAccessible(invite.page, 'invitation page');
    await invite.page.goto(`${net.apiUrl}/#/invite/not-a-token`);
    await invite.page.getByRole('alert').waitFor();
    await expectAccessible(invite.page, 'invitation page, invalid link');

    const member = await phoneAs(net, 'lea');
    await checkViews(member, [
      { name: 'my space', hash: '#/me', ready: 'section.week' },
      {
        name: 'my space, a badge declared lost (confirmation)',
        hash: '#/me',
        ready: 'li[data-badge] button',
        then: (p) => p.locator('li[data-badge] button').click(),
      },
      {
        name: 'book',
        hash: '#/book',
        ready: 'form.when',
        then: async (p) => {
          await p.locator('input[name="date"]').fill(TOMORROW);
          await p.locator('input[name="from"]').fill('14:00');
          await p.locator('input[name="to"]').fill('15:00');
          await p.locator('form.when button[type="submit"]').click();
          await p.locator('section.site-availability').first().waitFor();
        },
      },
      {
        name: 'my bookings, one being moved and cancelled',
        hash: '#/bookings',
        ready: 'li.booking button.link',
        then: async (p) => {
          await p.locator('li.booking button.link').first().click();
          await p.locator('li.booking button.danger').first().click();
          await p.getByRole('alertdialog').waitFor();
        },
      },
    ]);

    const manager = await phoneAs(net, 'acme-rh');
    await checkViews(manager, [
      { name: 'staff', hash: '#/staff', ready: 'tr[data-member="lea"]' },
      { name: 'staff bookings', hash: '#/staff/bookings', ready: 'li.booking .holder' },
      { name: 'employer invoices', hash: '#/invoices', ready: 'section.card p.muted, section.card table' },
    ]);

    const operator = await phoneAs(net);
    await checkViews(operator, [
      { name: 'resources', hash: '#/resources', ready: 'li.resource[data-resource="cantal"]' },
      {
        name: 'resources, one being edited',
        hash: '#/resources',
        ready: 'li.resource[data-resource="cantal"] button.link',
        then: (p) => p.locator('li.resource[data-resource="cantal"] button.link').click(),
      },
      {
        name: "members, a member's invitation link",
        hash: '#/members',
        ready: 'tr[data-member="max"] button',
        then: async (p) => {
          await p.locator('tr[data-member="max"] button').click();
          await p.locator('form.invitation button[type="submit"]').click();
          await p.locator('input.link-value').waitFor();
        },
      },
    ]);
  });
});
