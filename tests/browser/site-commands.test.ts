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

const UID = '04A1A1A1A1A1A1';

afterEach(cleanUp);

/** A network whose site has sent a tap, so that the hub lists its door `front`. */
async function networkWithDoor(): Promise<Network> {
  const net = await startNetwork();
  await seedAlice(net, UID);
  await eventually(
    async () => ((await net.call('GET', '/site-health/murat')).json as { doors: unknown[] }).doors.length === 1,
    'the hub lists the door',
  );
  // The taps pulsed the door: the pulse must be over before the test looks for its own.
  await eventually(() => !relayEnergised(net), 'the pulse of the taps is over');
  return net;
}

const commandsSent = async (net: Network) =>
  ((await net.call('GET', '/audit?entity=command')).json as { items: Array<{ after: { kind: string } }> }).items.map(
    (i) => i.after.kind,
  );

describe.skipIf(!browserAvailable())('commands from the site page in a real browser (Debian chromium)', () => {
  it('an operator unlocks a door after confirming, and the relay pulses at the simulated edge; cancel sends nothing', async () => {
    const net = await networkWithDoor();
    const page = await openSitePage(net, 'Portes');
    const unlock = page.locator('li', { hasText: 'front' }).getByRole('button', { name: 'Déverrouiller' });

    await unlock.click();
    const dialog = page.getByRole('alertdialog');
    await expect.poll(() => dialog.textContent()).toContain('Déverrouiller la porte front de Télécentre de Murat');
    await dialog.getByRole('button', { name: 'Annuler' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await commandsSent(net)).toEqual([]);
    expect(relayEnergised(net)).toBe(false);

    await unlock.click();
    await screenshot(page, 'site-command-confirm');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Confirmer' }).click();
    await eventually(() => relayEnergised(net), 'the relay pulses at the site');
    await expect.poll(() => page.locator('#toast').textContent()).toContain('Commande envoyée : Déverrouiller');
    await eventually(() => !relayEnergised(net), 'the pulse ends');
    expect(await commandsSent(net)).toEqual(['unlock']);
  });

  it('an operator puts the site in lockdown (a badge is refused, the door shows it) and lifts it', async () => {
    const net = await networkWithDoor();
    const page = await openSitePage(net, 'Portes');

    await page.getByRole('button', { name: 'Verrouillage général' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Confirmer' }).click();
    await eventually(async () => (await net.tap(UID)).reason === 'lockdown', 'the badge refused for the lockdown');
    await expect
      .poll(() => page.locator('h2:has-text("Portes") + ul > li').first().textContent(), { timeout: 15_000 })
      .toContain('verrouillage général');
    await screenshot(page, 'site-lockdown');

    await page.getByRole('button', { name: 'Lever le verrouillage' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Confirmer' }).click();
    await eventually(async () => (await net.tap(UID)).granted, 'the badge opens again');
    expect(await commandsSent(net)).toEqual(['lift_lockdown', 'lockdown']);
  });

  it('a site manager of the site sees its doors but no command button', async () => {
    const net = await networkWithDoor();
    const page = await openSiteAsSiteManager(net, 'Portes');
    expect(await page.locator('h2:has-text("Portes") + ul > li').allTextContents()).toEqual([
      expect.stringMatching(/^front\b/),
    ]);
    expect(await page.locator('button[data-command]').count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Commandes' }).count()).toBe(0);
  });
});
