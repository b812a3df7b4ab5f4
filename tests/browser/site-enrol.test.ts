import { afterEach, describe, expect, it } from 'vitest';
import {
  browserAvailable,
  cleanUp,
  eventually,
  openSitePage,
  openSiteAsSiteManager,
  relayEnergised,
  screenshot,
  seedAlice,
  startNetwork,
  type Network,
} from './harness.js';
import { expectAccessible } from './axe.js';

const ALICE = '04A1A1A1A1A1A1';
const NEW_CARD = '04ABCDEF012345';

afterEach(cleanUp);

/** A network whose site has sent taps (the hub lists its readers) and named its readers in its status, with Bob on a plan and no badge. */
async function networkWithReaders(): Promise<Network> {
  const net = await startNetwork();
  await seedAlice(net, ALICE);
  await net.call('PUT', '/directory/members/bob', { name: 'Bob Durand', plan: 'always' });
  await eventually(
    async () =>
      (await net.hub.store.sites()).find((s) => s.site === 'murat')?.status?.readers?.includes('front-in') === true,
    'the hub knows the readers of the site',
  );
  await eventually(
    async () =>
      ((await net.call('GET', '/site-health/murat')).json as { readers: Array<{ reader: string }> }).readers.some(
        (r) => r.reader === 'front-in',
      ),
    'the hub lists the reader',
  );
  await eventually(() => !relayEnergised(net), 'the pulse of the taps is over');
  return net;
}

describe.skipIf(!browserAvailable())('enrolling a badge at a site reader from the dashboard (Debian chromium)', () => {
  it('operator puts front-in in enrol mode, a new card tapped there opens nothing and is offered, given to Bob, and then opens the door', async () => {
    const net = await networkWithReaders();
    const page = await openSitePage(net, 'Lecteurs');

    await page.getByRole('button', { name: 'Enrôler un badge sur le lecteur front-in' }).click();
    await expect.poll(() => page.locator('.enrol-panel').textContent()).toContain('Lecteur front-in en enrôlement');
    await eventually(() => net.site.edge.commands.enrolling('front-in'), 'the reader is in enrol mode at the site');

    expect(await net.tap(NEW_CARD)).toMatchObject({ granted: false, reason: 'enrolment' });
    expect(relayEnergised(net)).toBe(false);
    expect(net.site.edge.commands.enrolling('front-in')).toBe(false);

    const offer = page.getByRole('group', { name: 'Badge présenté sur front-in' });
    await offer.waitFor({ timeout: 15_000 });
    expect(await offer.textContent()).toContain(NEW_CARD);
    await expect.poll(() => offer.locator('option[value="bob"]').count()).toBe(1);
    await offer.getByLabel('Membre').selectOption('bob');
    await screenshot(page, 'site-enrol-offer');
    await expectAccessible(page, 'a site page offering a presented card');
    await offer.getByRole('button', { name: 'Attribuer le badge' }).click();
    await expect.poll(() => offer.textContent()).toContain('Badge …2345 attribué à Bob Durand (bob)');

    const badge = await net.call('GET', `/directory/badges/${NEW_CARD}`);
    expect(badge.json).toMatchObject({ item: { uid: NEW_CARD, member: 'bob', status: 'active', type: 'uid' } });
    // The directory update reaches the site: the same card now opens the door, as a cloneable badge.
    await eventually(async () => (await net.tap(NEW_CARD)).granted, 'the new badge opens the door');
    expect(relayEnergised(net)).toBe(true);
    const granted = net.site.edge.store.events
      .list(0, 1_000_000)
      .filter((e) => e.type === 'access.granted')
      .at(-1);
    expect(granted?.data).toMatchObject({ memberId: 'bob', cloneable: true, badge: '…2345' });
  });

  it("a card that is already a member's badge is offered without a picker: it is not taken from her", async () => {
    const net = await networkWithReaders();
    const page = await openSitePage(net, 'Lecteurs');

    await page.getByRole('button', { name: 'Enrôler un badge sur le lecteur front-in' }).click();
    await eventually(() => net.site.edge.commands.enrolling('front-in'), 'the reader is in enrol mode at the site');
    expect(await net.tap(ALICE)).toMatchObject({ granted: false, reason: 'enrolment' });
    expect(relayEnergised(net)).toBe(false);

    const offer = page.getByRole('group', { name: 'Badge présenté sur front-in' });
    await offer.waitFor({ timeout: 15_000 });
    expect(await offer.textContent()).toContain('déjà celui de alice');
    expect(await offer.locator('select').count()).toBe(0);
    expect((await net.call('GET', `/directory/badges/${ALICE}`)).json).toMatchObject({ item: { member: 'alice' } });
    expect(await net.tap(ALICE)).toMatchObject({ granted: true });
  });

  it('a site manager of the site gets no enrol button', async () => {
    const net = await networkWithReaders();
    const page = await openSiteAsSiteManager(net, 'Lecteurs');
    expect(await page.locator('h2:has-text("Lecteurs") + ul > li').count()).toBeGreaterThan(0);
    expect(await page.locator('button[data-enrol]').count()).toBe(0);
  });
});
