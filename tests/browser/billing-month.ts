import { DateTime } from 'luxon';
import { expect } from 'vitest';
import { periodOf, previousPeriod } from '../../cloud-sync/billing/period.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { SiteLog } from '../unit/billing-fixtures.js';
import type { OperatorHub } from './harness.js';
import { TEST_SELLER } from '../harness/billing-parties.js';

/** The latest month a close accepts now (the 2nd of the next month has begun everywhere). */
export const PERIOD = previousPeriod(periodOf(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)));
export const ZONE = 'Europe/Paris';
export const offsetOn = (date: string) => DateTime.fromISO(`${date}T09:00`, { zone: ZONE }).toFormat('ZZ');
/** The period's first Monday: its ISO week has its Thursday in the period, so it is billed there. */
const MONDAY = DateTime.fromISO(`${PERIOD}-01`, { zone: 'utc' }).plus({
  days: (8 - DateTime.fromISO(`${PERIOD}-01`).weekday) % 7,
});
const day = (n: number) => MONDAY.plus({ days: n }).toISODate() ?? '';
export const dayOfMonth = (n: number) => `${PERIOD}-${String(n).padStart(2, '0')}`;

const BUYERS = {
  'employer:acme': {
    kind: 'business',
    name: 'Acme SA',
    siren: '542107651',
    vatNumber: 'FR13542107651',
    address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  },
  'member:ana': {
    kind: 'consumer',
    name: 'Ana Lopez',
    address: { lines: ['4 rue du Port'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  },
};

/**
 * The month below closed; `lawful`: with the seller and the buyers set first, so that its invoices
 * have their legal documents (PDF, Factur-X, UBL, CII).
 */
export async function closedMonth(net: OperatorHub, { lawful = false } = {}): Promise<void> {
  if (lawful) {
    expect((await net.call('PUT', '/billing/seller', TEST_SELLER)).status).toBe(200);
    for (const [account, buyer] of Object.entries(BUYERS))
      expect((await net.call('PUT', `/billing/buyers/${account}`, buyer)).status).toBe(200);
  }
  await closeTheMonth(net);
}

/**
 * Acme's two staff and one member on her own, stored as the sites sent them, then the month closed:
 * - Chloé, Reichstett 2 days a week (96 EUR) + 12 EUR a day beyond: 3 days in one week = 108.00
 * - David, Murat by the day: a full day 20.00 + a half day 10.00 = 30.00
 * - Acme: 138.00 excl. VAT, 27.60 VAT (20 %), 165.60 in all. Ana alone: 20.00 + 4.00 = 24.00.
 */
async function closeTheMonth(net: OperatorHub): Promise<void> {
  const { hub } = net;
  await hub.sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: ZONE, capacity: 20 });
  await hub.sites.upsert({ id: 'reichstett', name: 'Bureau-Mobile Reichstett', timeZone: ZONE, capacity: 20 });
  await hub.directory.upsert(hub.store.db, 'plan', { id: 'murat-day', name: 'Journée à Murat', access: 'staffed' });
  await hub.directory.upsert(hub.store.db, 'plan', {
    id: 'reichstett-2-days',
    name: 'Reichstett, 2 jours par semaine',
    access: 'staffed',
    // The tariff rents lockers: the plan opens them (PUT /billing/prices checks).
    lockers: true,
  });
  await hub.directory.upsert(hub.store.db, 'employer', { id: 'acme', name: 'Acme SA' });
  await hub.directory.upsert(hub.store.db, 'member', {
    id: 'chloe',
    name: 'Chloé Weber',
    plan: 'reichstett-2-days',
    employer: 'acme',
  });
  await hub.directory.upsert(hub.store.db, 'member', {
    id: 'david',
    name: 'David Roux',
    plan: 'murat-day',
    employer: 'acme',
  });
  await hub.directory.upsert(hub.store.db, 'member', { id: 'ana', name: 'Ana Lopez', plan: 'murat-day' });
  const plans = {
    'murat-day': EXAMPLE_PRICE_LIST.plans['murat-day'],
    'reichstett-2-days': EXAMPLE_PRICE_LIST.plans['reichstett-2-days'],
  };
  expect((await net.call('PUT', '/billing/prices', { currency: 'EUR', plans })).status).toBe(200);
  const received = Date.now() - 3_600_000;
  const reichstett = new SiteLog('reichstett', offsetOn(day(0)), received)
    .visit('chloe', day(0), '09:00', 480)
    .visit('chloe', day(1), '09:00', 480)
    .visit('chloe', day(2), '09:00', 480);
  const murat = new SiteLog('murat', offsetOn(dayOfMonth(15)), received)
    .visit('david', dayOfMonth(15), '09:00', 480)
    .visit('david', dayOfMonth(16), '09:00', 60)
    .visit('ana', dayOfMonth(20), '09:00', 480);
  for (const log of [reichstett, murat])
    for (const { event, receivedAt } of log.events)
      await hub.store.ingest({ v: 1, site: event.site, events: [event] }, receivedAt);
  const close = await net.call('POST', `/billing/periods/${PERIOD}/close`);
  expect(close).toMatchObject({
    status: 200,
    json: { invoices: 2, subtotalCents: 15800, vatCents: 3160, totalCents: 18960 },
  });
}
