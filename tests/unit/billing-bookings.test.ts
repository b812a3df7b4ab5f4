import { describe, expect, it } from 'vitest';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import type { BilledBooking } from '../../cloud-sync/billing/booking-rating.js';
import { EXAMPLE_PRICE_LIST, type PlanTariff, type PriceList } from '../../cloud-sync/billing/prices.js';
import { ratePeriod } from '../../cloud-sync/billing/rate.js';
import { Resource } from '../../shared/protocol/bookings.js';
import type { Member } from '../../shared/protocol/directory.js';
import { employer, member, EXAMPLE_PLANS, ratingInvoices } from './billing-fixtures.js';

const ZONES = new Map([
  ['murat', 'Europe/Paris'],
  ['reichstett', 'Europe/Paris'],
]);
const HOURS = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }];

const ROOMS = [
  Resource.parse({
    id: 'vosges',
    site: 'reichstett',
    kind: 'room',
    name: 'Salle Vosges',
    capacity: 8,
    hours: HOURS,
    prices: { hourCents: 3000, halfDayCents: 10000 },
  }),
  Resource.parse({
    id: 'desk-7',
    site: 'reichstett',
    kind: 'desk',
    name: 'Desk 7',
    hours: HOURS,
    prices: { dayCents: 1500 },
  }),
  Resource.parse({ id: 'open-space', site: 'murat', kind: 'desk-pool', name: 'Open space', size: 20, hours: HOURS }),
];
const RESOURCES = new Map(ROOMS.map((r) => [r.id, r]));

/** Reichstett's subscription with 3 room hours a month, a 20 EUR late cancellation, no no-show fee. */
const withTerms = (terms: PlanTariff['bookings']): PriceList => ({
  ...EXAMPLE_PRICE_LIST,
  plans: {
    ...EXAMPLE_PRICE_LIST.plans,
    'reichstett-2-days': { ...(EXAMPLE_PRICE_LIST.plans['reichstett-2-days'] as PlanTariff), bookings: terms },
  },
});
const PRICES = withTerms({ includedRoomHoursPerMonth: 3, lateCancellationCents: 2000 });

let ids = 0;
/** A booking from `start` to `end`, ISO instants with their offsets. */
function booking(who: string, resource: string, start: string, end: string, extra: Partial<BilledBooking> = {}) {
  const site = RESOURCES.get(resource)?.site ?? 'reichstett';
  return {
    id: `b${String(++ids).padStart(3, '0')}`,
    resource,
    site,
    member: who,
    startMs: Date.parse(start),
    endMs: Date.parse(end),
    status: 'confirmed',
    lateCancellation: false,
    ...extra,
  } satisfies BilledBooking;
}

const chloe = member('chloe', 'reichstett-2-days', { employer: 'acme' });

function invoicesFor(bookings: BilledBooking[], members: Member[] = [chloe], prices = PRICES, period = '2026-11') {
  const rating = ratePeriod({
    period,
    prices,
    members,
    employers: [employer('acme', 'Acme SA')],
    events: [],
    plans: EXAMPLE_PLANS,
    zones: ZONES,
    bookings,
    resources: RESOURCES,
  });
  const dir = {
    members: new Map(members.map((m) => [m.id, m])),
    employers: new Map([['acme', employer('acme', 'Acme SA')]]),
  };
  return { rating, invoices: ratingInvoices(period, 'EUR', rating, dir) };
}

/** The booking lines of an invoice: kind, resource, quantity, unit, amount, VAT, dates. */
const bookingRows = (invoice: Invoice | undefined) =>
  (invoice?.lines ?? [])
    .filter((l) => l.item !== null)
    .map((l) => [l.kind, l.item, l.quantity, l.unitCents, l.amountCents, l.vatCents, l.dates]);

describe('billing bookings (the rules of docs/billing.md, totals by hand)', () => {
  it('bills the worked example on the employer invoice: included hours first in start order, half-day when cheaper, desk days, fees', () => {
    // Given out of order: the included hours still go to the earliest bookings.
    const { invoices } = invoicesFor([
      booking('chloe', 'vosges', '2026-11-10T13:00:00+01:00', '2026-11-10T17:00:00+01:00'), // 4 h: half-day 100 < 4 × 30
      booking('chloe', 'vosges', '2026-11-03T09:00:00+01:00', '2026-11-03T11:00:00+01:00'), // 2 h, included
      booking('chloe', 'vosges', '2026-11-05T09:00:00+01:00', '2026-11-05T10:30:00+01:00'), // 2 started h: 1 included, 1 charged
      booking('chloe', 'desk-7', '2026-11-12T08:00:00+01:00', '2026-11-12T18:00:00+01:00'), // a desk day
      booking('chloe', 'vosges', '2026-11-20T09:00:00+01:00', '2026-11-20T10:00:00+01:00', {
        status: 'cancelled',
        lateCancellation: true,
      }), // the plan's 20 EUR fee
      booking('chloe', 'vosges', '2026-11-24T09:00:00+01:00', '2026-11-24T11:00:00+01:00', { status: 'cancelled' }), // free
      booking('chloe', 'vosges', '2026-11-26T09:00:00+01:00', '2026-11-26T11:00:00+01:00', { status: 'no_show' }), // own price: 2 × 30
    ]);
    const acme = invoices.find((i) => i.account.id === 'acme');
    expect(bookingRows(acme)).toEqual([
      ['desk-booking', 'desk-7', 1, 1500, 1500, 300, ['2026-11-12']],
      ['late-cancellation', 'vosges', 1, 2000, 2000, 400, ['2026-11-20']],
      ['no-show', 'vosges', 1, 6000, 6000, 1200, ['2026-11-26']],
      ['room-half-day', 'vosges', 1, 10000, 10000, 2000, ['2026-11-10']],
      ['room-hours', 'vosges', 1, 3000, 3000, 600, ['2026-11-05']],
    ]);
    expect(acme?.lines.find((l) => l.kind === 'room-hours')?.description).toBe(
      'Salle Vosges: hours beyond the 3 included a month',
    );
    // Subscription 96 + locker none + bookings 15 + 20 + 60 + 100 + 30 = 321 EUR, VAT 20 %.
    expect(acme?.subtotalCents).toBe(9600 + 22500);
    expect(acme?.totalCents).toBe(Math.round((9600 + 22500) * 1.2));
  });

  it('charges every started hour, and the half-day only up to its length and when it is cheaper', () => {
    const { invoices } = invoicesFor(
      [
        booking('ana', 'vosges', '2026-11-03T09:00:00+01:00', '2026-11-03T09:01:00+01:00'), // 1 started hour: 30 < 100
        booking('ana', 'vosges', '2026-11-04T09:00:00+01:00', '2026-11-04T13:00:00+01:00'), // exactly 240 min: half-day
        booking('ana', 'vosges', '2026-11-05T09:00:00+01:00', '2026-11-05T13:01:00+01:00'), // 241 min: 5 hours
      ],
      [member('ana', 'murat-day')],
    );
    expect(bookingRows(invoices[0])).toEqual([
      ['room-half-day', 'vosges', 1, 10000, 10000, 2000, ['2026-11-04']],
      ['room-hours', 'vosges', 6, 3000, 18000, 3600, ['2026-11-03', '2026-11-05']],
    ]);
    expect(invoices[0]?.lines.find((l) => l.kind === 'room-hours')?.description).toBe('Salle Vosges: hours');
  });

  it('bills a no-show and a late cancellation at their fees when the plan sets them, else at their own price', () => {
    const late = { status: 'cancelled', lateCancellation: true } as const;
    const list = () => [
      booking('chloe', 'desk-7', '2026-11-03T09:00:00+01:00', '2026-11-03T17:00:00+01:00', { status: 'no_show' }),
      booking('chloe', 'vosges', '2026-11-04T09:00:00+01:00', '2026-11-04T14:00:00+01:00', late),
    ];
    const fees = invoicesFor(
      list(),
      [chloe],
      withTerms({ includedRoomHoursPerMonth: 0, noShowCents: 500, lateCancellationCents: 0 }),
    );
    expect(bookingRows(fees.invoices[0])).toEqual([['no-show', 'desk-7', 1, 500, 500, 100, ['2026-11-03']]]);
    const own = invoicesFor(list(), [chloe], withTerms(undefined));
    expect(bookingRows(own.invoices[0])).toEqual([
      ['late-cancellation', 'vosges', 1, 15000, 15000, 3000, ['2026-11-04']],
      ['no-show', 'desk-7', 1, 1500, 1500, 300, ['2026-11-03']],
    ]);
  });

  it('bills nothing for a desk without a day price (the visit is the plan’s) nor for a free cancellation', () => {
    const { invoices } = invoicesFor(
      [
        booking('ana', 'open-space', '2026-11-03T09:00:00+01:00', '2026-11-03T18:00:00+01:00'),
        booking('ana', 'vosges', '2026-11-04T09:00:00+01:00', '2026-11-04T11:00:00+01:00', { status: 'cancelled' }),
      ],
      [member('ana', 'murat-day')],
    );
    expect(invoices).toEqual([]);
  });

  it('bills a booking in the month its start falls in at the site, and a desk for every site-local day it covers', () => {
    const bookings = [
      // 31 October 23:30 UTC is 1 November 00:30 in Paris: November's.
      booking('ana', 'vosges', '2026-10-31T23:30:00Z', '2026-11-01T00:30:00Z'),
      // 30 November 23:30 in Paris, ending in December: November's.
      booking('ana', 'vosges', '2026-11-30T23:30:00+01:00', '2026-12-01T00:30:00+01:00'),
      // 1 December 00:30 in Paris: December's, although still 30 November in UTC.
      booking('ana', 'vosges', '2026-11-30T23:30:00Z', '2026-12-01T00:30:00Z'),
      booking('ana', 'desk-7', '2026-11-16T08:00:00+01:00', '2026-11-18T18:00:00+01:00'),
    ];
    const nov = invoicesFor(bookings, [member('ana', 'murat-day')]);
    expect(bookingRows(nov.invoices[0])).toEqual([
      ['desk-booking', 'desk-7', 3, 1500, 4500, 900, ['2026-11-16', '2026-11-17', '2026-11-18']],
      ['room-hours', 'vosges', 2, 3000, 6000, 1200, ['2026-11-01', '2026-11-30']],
    ]);
    const dec = invoicesFor(bookings, [member('ana', 'murat-day')], PRICES, '2026-12');
    expect(bookingRows(dec.invoices[0])).toEqual([['room-hours', 'vosges', 1, 3000, 3000, 600, ['2026-12-01']]]);
    const oct = invoicesFor(bookings, [member('ana', 'murat-day')], PRICES, '2026-10');
    expect(oct.invoices).toEqual([]);
  });

  it('measures a booking across the October clock change in elapsed time, not on the wall clock', () => {
    // Paris, 25 October 2026: 01:30 (+02:00) to 03:30 (+01:00) reads 2 h on the wall and lasts 3 h.
    const start = '2026-10-25T01:30:00+02:00';
    const end = '2026-10-25T03:30:00+01:00';
    expect((Date.parse(end) - Date.parse(start)) / 3_600_000).toBe(3);
    const { invoices } = invoicesFor(
      [booking('ana', 'vosges', start, end)],
      [member('ana', 'murat-day')],
      PRICES,
      '2026-10',
    );
    expect(bookingRows(invoices[0])).toEqual([['room-hours', 'vosges', 3, 3000, 9000, 1800, ['2026-10-25']]]);
  });

  it('lists the bookings of a member not in the directory as unbilled, and bills none of the staff’s', () => {
    const { rating, invoices } = invoicesFor(
      [
        booking('gone', 'vosges', '2026-11-03T09:00:00+01:00', '2026-11-03T10:00:00+01:00'),
        booking('sam', 'vosges', '2026-11-04T09:00:00+01:00', '2026-11-04T10:00:00+01:00'),
      ],
      [member('sam', 'murat-day', { role: 'staff' })],
    );
    expect(invoices).toEqual([]);
    expect(rating.unbilled).toEqual([
      { member: 'gone', reason: 'not_in_directory', days: 0, consumables: 0, bookings: 1 },
    ]);
  });

  it('rates the same bookings in any order to the same lines', () => {
    const list = [
      booking('chloe', 'vosges', '2026-11-03T09:00:00+01:00', '2026-11-03T11:00:00+01:00'),
      booking('chloe', 'vosges', '2026-11-03T09:00:00+01:00', '2026-11-03T12:00:00+01:00'),
      booking('chloe', 'vosges', '2026-11-05T09:00:00+01:00', '2026-11-05T10:00:00+01:00'),
    ];
    const a = JSON.stringify(invoicesFor(list).invoices);
    expect(JSON.stringify(invoicesFor([...list].reverse()).invoices)).toBe(a);
  });
});
