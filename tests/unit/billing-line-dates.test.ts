import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod, rulesOf, type RatingInput } from '../../cloud-sync/billing/rate.js';
import { Resource } from '../../shared/protocol/bookings.js';
import type { Member } from '../../shared/protocol/directory.js';
import { Invoice as InvoiceSchema } from '../../shared/protocol/api/hub-billing.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BILLING_DATES, billingHub, member, SiteLog, invoicesOf, RATING_ZONES } from './billing-fixtures.js';
import { closeScenario, lateDay, scenarioHub } from './billing-frozen-scenario.js';

/** Kind, item, dates, from and to of each line of the member's invoice. */
const spans = (invoices: Invoice[], id: string) =>
  (invoices.find((i) => i.account.id === id)?.lines ?? []).map((l) => [l.kind, l.item, l.dates, l.from, l.to]);

describe('every line carries the first and last day it covers', () => {
  it('a subscription and a locker their month, days their first and last date, a week pass Monday to Sunday, consumables their first and last use', () => {
    const members: Member[] = [
      member('ana', 'murat-day'),
      member('ben', 'murat-week'),
      member('chloe', 'reichstett-2-days', { locker: { bank: 'b', number: 2 } }),
      member('eve', 'soho-solo'),
    ];
    const murat = new SiteLog('murat')
      .visit('ana', '2026-11-03', '09:00', 480)
      .visit('ana', '2026-11-05', '09:00', 60)
      .visit('ana', '2026-11-19', '09:00', 480)
      .visit('ben', '2026-11-04', '09:00', 480)
      .visit('ben', '2026-11-18', '09:00', 480)
      // The week of 30 November is billed in December (its Thursday is 3 December), and runs to 6 December.
      .visit('ben', '2026-11-30', '09:00', 480)
      .use('eve', '2026-11-02', 'print-page', 700)
      .use('eve', '2026-11-12', 'print-page', 400)
      .use('eve', '2026-11-25', 'print-page', 10);
    const reichstett = new SiteLog('reichstett')
      .visit('chloe', '2026-11-02', '09:00', 480)
      .visit('chloe', '2026-11-03', '09:00', 480)
      .visit('chloe', '2026-11-04', '09:00', 480)
      .visit('chloe', '2026-11-10', '09:00', 480)
      .visit('chloe', '2026-11-11', '09:00', 480)
      .visit('chloe', '2026-11-12', '09:00', 480);
    const events = [...murat.billed, ...reichstett.billed];
    const nov = invoicesOf({ period: '2026-11', members, events });
    expect(spans(nov, 'ana')).toEqual([
      ['day', null, ['2026-11-03', '2026-11-19'], '2026-11-03', '2026-11-19'],
      ['half-day', null, ['2026-11-05'], '2026-11-05', '2026-11-05'],
    ]);
    expect(spans(nov, 'ben')).toEqual([['week', null, ['2026-11-02', '2026-11-16'], '2026-11-02', '2026-11-22']]);
    expect(spans(nov, 'chloe')).toEqual([
      ['locker', null, [], '2026-11-01', '2026-11-30'],
      ['subscription', null, [], '2026-11-01', '2026-11-30'],
      // The third day of each week is the extra one: the 4th and the 12th.
      ['extra-day', null, ['2026-11-04', '2026-11-12'], '2026-11-04', '2026-11-12'],
    ]);
    // The first 1000 pages are included: the 2nd's 700, 300 of the 12th's; the rest of the 12th and the 25th are charged.
    expect(spans(nov, 'eve')).toEqual([
      ['subscription', null, [], '2026-11-01', '2026-11-30'],
      ['consumable', 'print-page', ['2026-11-12', '2026-11-25'], '2026-11-12', '2026-11-25'],
    ]);
    expect(spans(invoicesOf({ period: '2026-12', members, events }), 'ben')).toEqual([
      ['week', null, ['2026-11-30'], '2026-11-30', '2026-12-06'],
    ]);
    // The wire schema takes them.
    for (const invoice of nov) expect(InvoiceSchema.parse(invoice)).toEqual(invoice);
  });

  it('a booking its date, a desk booked over two days both', () => {
    const hours = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }];
    const resources = new Map(
      [
        { id: 'vosges', site: 'reichstett', kind: 'room', name: 'Vosges', capacity: 8, prices: { hourCents: 3000 } },
        { id: 'desk-7', site: 'reichstett', kind: 'desk', name: 'Desk 7', prices: { dayCents: 1500 } },
      ].map((r) => [r.id, Resource.parse({ ...r, hours })]),
    );
    const booking = (id: string, resource: string, start: string, end: string) => ({
      id,
      resource,
      site: 'reichstett',
      member: 'chloe',
      startMs: Date.parse(start),
      endMs: Date.parse(end),
      status: 'confirmed' as const,
      lateCancellation: false,
    });
    const invoices = invoicesOf({
      period: '2026-11',
      members: [member('chloe', 'reichstett-2-days')],
      events: [],
      resources,
      bookings: [
        booking('b1', 'vosges', '2026-11-05T09:00:00+01:00', '2026-11-05T11:00:00+01:00'),
        booking('b2', 'desk-7', '2026-11-09T08:00:00+01:00', '2026-11-10T18:00:00+01:00'),
      ],
    });
    expect(spans(invoices, 'chloe')).toEqual([
      ['subscription', null, [], '2026-11-01', '2026-11-30'],
      ['desk-booking', 'desk-7', ['2026-11-09', '2026-11-10'], '2026-11-09', '2026-11-10'],
      ['room-hours', 'vosges', ['2026-11-05'], '2026-11-05', '2026-11-05'],
    ]);
  });

  it('an adjustment the days it corrects: those that appeared or went, else those of the line it corrects', async () => {
    const hub = await billingHub();
    try {
      await hub.directory.upsert(hub.db, 'plan', { id: 'soho-solo', name: 'Soho', access: 'always', daysPerWeek: 5 });
      await hub.directory.upsert(hub.db, 'member', { id: 'eve', name: 'Eve', plan: 'soho-solo' });
      await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
      const onTime = BILLING_DATES.DEC_2 - 86_400_000;
      const late = BILLING_DATES.DEC_2 + 86_400_000;
      await hub.ingest(
        new SiteLog('murat', '+01:00', onTime)
          .visit('ana', '2026-11-03', '09:00', 480)
          .visit('ana', '2026-11-10', '09:00', 480)
          .use('eve', '2026-11-04', 'print-page', 1100)
          // Late: a day between two billed ones, and more pages on a day already billed.
          .visit('ana', '2026-11-06', '09:00', 480, late)
          .use('eve', '2026-11-04', 'print-page', 5, late),
      );
      hub.clock.now = BILLING_DATES.DEC_2;
      await hub.ledger.close('2026-11');
      hub.clock.now = BILLING_DATES.JAN_2;
      await hub.ledger.close('2026-12');
      const adjustments = (await hub.ledger.invoices('2026-12'))
        .flatMap((i) => i.lines)
        .filter((l) => l.adjusts !== null)
        .map((l) => [l.member, l.kind, l.adjusts, l.quantity, l.dates, l.from, l.to]);
      expect(adjustments).toEqual([
        ['ana', 'day', '2026-11', 1, ['2026-11-06'], '2026-11-06', '2026-11-06'],
        ['eve', 'consumable', '2026-11', 5, [], '2026-11-04', '2026-11-04'],
      ]);
      expect(await hub.ledger.verify('2026-12')).toEqual({ period: '2026-12', identical: true, differing: [] });
    } finally {
      await hub.close();
    }
  });
});

/** The rows a hub stored for the scenario's two closes, before lines carried their dates. */
const FROZEN = JSON.parse(
  readFileSync(new URL('./billing-frozen-before-line-dates.json', import.meta.url), 'utf8'),
) as {
  periods: Array<Record<string, string | number | null>>;
  invoices: Array<Record<string, string | number>>;
};

async function restoreFrozen(hub: Awaited<ReturnType<typeof scenarioHub>>): Promise<void> {
  for (const rows of [FROZEN.periods, FROZEN.invoices]) {
    const table = rows === FROZEN.periods ? 'billing_periods' : 'billing_invoices';
    for (const row of rows) {
      const columns = Object.keys(row);
      await hub.db.run(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        columns.map((c) => row[c] ?? null),
      );
    }
  }
}

describe('months closed before lines carried their dates', () => {
  it('verify as identical: re-rated by the rules they were closed with, whole months, a locker the plan does not open', async () => {
    const hub = await scenarioHub();
    try {
      await lateDay(hub);
      await restoreFrozen(hub);
      const frozen = await hub.ledger.invoices('2026-11');
      expect(rulesOf(frozen)).toBe('before-line-dates');
      expect(frozen.flatMap((i) => i.lines).some((l) => 'from' in l)).toBe(false);
      expect(await hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
      expect(await hub.ledger.verify('2026-12')).toEqual({ period: '2026-12', identical: true, differing: [] });

      // Not because nothing differs: today's rules give Chloé half a month and no locker, and every line its dates.
      const members = await hub.directory.list(hub.db, 'member');
      const input = {
        period: '2026-11',
        prices: EXAMPLE_PRICE_LIST,
        members,
        employers: await hub.directory.list(hub.db, 'employer'),
        plans: await hub.directory.list(hub.db, 'plan'),
        events: [...hub.murat.billed, ...hub.reichstett.billed],
        zones: RATING_ZONES,
      };
      const chloe = (rules: RatingInput['rules']) =>
        ratePeriod({ ...input, rules })
          .lines.filter((l) => l.member === 'chloe' && l.kind !== 'extra-day')
          .map((l) => [l.kind, l.amountCents, l.from, l.to]);
      expect(chloe('before-line-dates')).toEqual([
        ['locker', 500, undefined, undefined],
        ['subscription', 9600, undefined, undefined],
      ]);
      // 15 of November's 30 days: 9600 × 15 / 30 = 4800; the plan opens no locker.
      expect(chloe('current')).toEqual([['subscription', 4800, '2026-11-16', '2026-11-30']]);

      // And a change since is still found: Ben moved to the day tariff.
      await hub.directory.upsert(hub.db, 'member', { id: 'ben', name: 'Ben', plan: 'murat-day' });
      expect(await hub.ledger.verify('2026-11')).toEqual({
        period: '2026-11',
        identical: false,
        differing: ['2026-000003'],
      });
    } finally {
      await hub.close();
    }
  });

  it('the price list they were closed with would be refused today: its locker rent buys nothing at a door that refuses the locker', async () => {
    const hub = await scenarioHub();
    try {
      const refused = await closeScenario(hub).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TesseraError);
      expect((refused as TesseraError).code).toBe('billing.contradicts_directory');
      expect((refused as TesseraError).details.map((d) => d.path)).toEqual([
        'plans.reichstett-2-days.lockerMonthlyCents',
      ]);
    } finally {
      await hub.close();
    }
  });
});
