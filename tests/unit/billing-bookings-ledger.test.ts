import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBilledBookings } from '../../cloud-sync/billing/booking-source.js';
import { EXAMPLE_PRICE_LIST, type PlanTariff, type PriceList } from '../../cloud-sync/billing/prices.js';
import { BookingStore, type BookingRow } from '../../cloud-sync/hub/bookings/store.js';
import { UPSERT_ENTITY } from '../../cloud-sync/hub/directory.js';
import { Resource } from '../../shared/protocol/bookings.js';
import type { Invoice } from '../../shared/protocol/api/hub-billing.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';

const { NOV_2, DEC_2, JAN_2 } = BILLING_DATES;
const HOURS = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }];

const PRICES: PriceList = {
  ...EXAMPLE_PRICE_LIST,
  plans: {
    ...EXAMPLE_PRICE_LIST.plans,
    'reichstett-2-days': {
      ...(EXAMPLE_PRICE_LIST.plans['reichstett-2-days'] as PlanTariff),
      bookings: { includedRoomHoursPerMonth: 2, noShowCents: 2500 },
    },
  },
};

const room = (hourCents: number) =>
  Resource.parse({
    id: 'vosges',
    site: 'reichstett',
    kind: 'room',
    name: 'Salle Vosges',
    capacity: 8,
    hours: HOURS,
    prices: { hourCents, halfDayCents: 10000 },
  });

let ids = 0;
const booking = (start: string, end: string, over: Partial<BookingRow> = {}): BookingRow => ({
  id: `bk-${String(++ids).padStart(4, '0')}`,
  resource: 'vosges',
  site: 'reichstett',
  member: 'chloe',
  startMs: Date.parse(start),
  endMs: Date.parse(end),
  status: 'confirmed',
  createdBy: 'acc-chloe',
  createdAt: Date.parse(start) - 86_400_000,
  updatedAt: Date.parse(start) - 86_400_000,
  cancelledAt: null,
  lateCancellation: false,
  ...over,
});

const bookingLines = (invoice: Invoice | undefined) =>
  (invoice?.lines ?? [])
    .filter((l) => l.item === 'vosges')
    .map((l) => [l.adjusts, l.kind, l.quantity, l.unitCents, l.amountCents, l.dates]);

describe('billing lines for a month with bookings', () => {
  let hub: Awaited<ReturnType<typeof billingHub>>;
  const store = new BookingStore();
  const setRoom = (hourCents: number) =>
    hub.db.run(UPSERT_ENTITY, ['resource', 'vosges', JSON.stringify(room(hourCents)), 1]);

  beforeEach(async () => {
    hub = await billingHub();
    await hub.ledger.setPrices(PRICES);
    await setRoom(3000);
    for (const b of [
      booking('2026-11-03T09:00:00+01:00', '2026-11-03T12:00:00+01:00'), // 3 h: 2 included, 1 at 30 EUR
      booking('2026-11-05T09:00:00+01:00', '2026-11-05T10:00:00+01:00', { status: 'no_show' }), // 25 EUR
      booking('2026-11-09T09:00:00+01:00', '2026-11-09T10:00:00+01:00', { status: 'cancelled', cancelledAt: 1 }), // free
      booking('2026-11-30T23:30:00Z', '2026-12-01T03:00:00Z'), // 1 December in Reichstett: December's
      // Made after November's close: on no November invoice, re-rated or not.
      booking('2026-11-20T09:00:00+01:00', '2026-11-20T10:00:00+01:00', { createdAt: DEC_2 + 1 }),
    ])
      await store.insert(hub.db, b);
  });
  afterEach(() => hub.close());

  it('puts them on the employer invoice at the close, re-rates byte-identical with the prices closed with, and leaves them out of adjustments', async () => {
    const reichstett = new SiteLog('reichstett', '+01:00', NOV_2).visit('chloe', '2026-11-03', '09:00', 480);
    await hub.ingest(reichstett);
    hub.clock.now = DEC_2;
    const preview = await hub.ledger.preview('2026-11');
    const summary = await hub.ledger.close('2026-11');
    const [acme] = await hub.ledger.invoices('2026-11');
    expect(acme?.account).toEqual({ kind: 'employer', id: 'acme', name: 'Acme SA' });
    expect(bookingLines(acme)).toEqual([
      [null, 'no-show', 1, 2500, 2500, ['2026-11-05']],
      [null, 'room-hours', 1, 3000, 3000, ['2026-11-03']],
    ]);
    // Subscription 96 + 30 + 25 EUR, VAT 20 %.
    expect(summary.subtotalCents).toBe(9600 + 3000 + 2500);
    expect(summary.totalCents).toBe((9600 + 3000 + 2500) * 1.2);
    expect((await hub.ledger.invoices('2026-11')).map((i) => ({ ...i, number: null, closedAt: null }))).toEqual(
      preview.invoices,
    );
    // The room's price changes after the close: November still re-rates as it was billed.
    await setRoom(4500);
    expect(await hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });

    // Two November visits arrive late, a third day in a 2-days week: December adjusts November's
    // visits (one extra day), never its bookings again.
    const late = Date.parse('2026-12-10T08:00:00Z');
    await hub.ingest(
      reichstett.visit('chloe', '2026-11-04', '09:00', 480, late).visit('chloe', '2026-11-06', '09:00', 480, late),
    );
    hub.clock.now = JAN_2;
    await hub.ledger.close('2026-12');
    const [december] = await hub.ledger.invoices('2026-12');
    expect(december?.lines.filter((l) => l.adjusts !== null).map((l) => [l.kind, l.amountCents])).toEqual([
      ['extra-day', 1200],
    ]);
    // December's own booking, at the room's new price: 3 h 30 is 4 started hours, 2 of them included.
    expect(bookingLines(december)).toEqual([[null, 'room-hours', 2, 4500, 9000, ['2026-12-01']]]);
    expect(await hub.ledger.verify('2026-12')).toEqual({ period: '2026-12', identical: true, differing: [] });
  });

  it('reads the bookings of a month page by page, the same as in one page', async () => {
    for (let i = 0; i < 7; i++)
      await store.insert(hub.db, booking(`2026-11-1${i}T14:00:00+01:00`, `2026-11-1${i}T15:00:00+01:00`));
    const whole = await readBilledBookings(hub.db, '2026-11', DEC_2);
    const paged = await readBilledBookings(hub.db, '2026-11', DEC_2, { pageRows: 2 });
    expect(paged).toEqual(whole);
    expect(whole.map((b) => b.startMs)).toEqual([...whole.map((b) => b.startMs)].sort((a, b) => a - b));
    // The window reaches 14 hours into December (another site's November); the late-made one is left out.
    expect(whole).toHaveLength(11);
  });
});
