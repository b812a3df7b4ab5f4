import { describe, expect, it } from 'vitest';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import type { BilledEvent } from '../../cloud-sync/billing/visits.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BILLING_DATES, billingHub, member, SiteLog, invoicesOf } from './billing-fixtures.js';

/** The rules of docs/billing.md "Rating rules, with examples", each as its example computes it. */

const invoiceOf = (invoices: Invoice[], id: string) => invoices.find((i) => i.account.id === id);

describe('which day of a week is the extra one', () => {
  it('the days beyond the first N of the ISO week by date, at the site of each, on the invoice of the month holding the Thursday', () => {
    const chloe = member('chloe', 'reichstett-2-days');
    const reichstett = new SiteLog('reichstett')
      .visit('chloe', '2026-11-02', '09:00', 480)
      .visit('chloe', '2026-11-06', '09:00', 480)
      // A week across two months: Thursday 29 October, so October's; its Sunday is 1 November.
      .visit('chloe', '2026-10-29', '09:00', 480)
      .visit('chloe', '2026-10-30', '09:00', 480);
    const murat = new SiteLog('murat')
      .visit('chloe', '2026-11-04', '09:00', 480)
      .visit('chloe', '2026-11-01', '09:00', 480)
      // Thursday 3 December: the week of 30 November is December's, its Monday too.
      .visit('chloe', '2026-11-30', '09:00', 480)
      .visit('chloe', '2026-12-01', '09:00', 480)
      .visit('chloe', '2026-12-02', '09:00', 480);
    const events = [...reichstett.billed, ...murat.billed];
    const extra = (period: string) =>
      invoiceOf(invoicesOf({ period, members: [chloe], events }), 'chloe')
        ?.lines.filter((l) => l.kind === 'extra-day')
        .map((l) => [l.site, l.dates, l.amountCents]);
    // Week of 2 November: Monday and Wednesday are covered, Friday 6 is the third: extra, at Reichstett.
    expect(extra('2026-11')).toEqual([['reichstett', ['2026-11-06'], 1200]]);
    // October's invoice carries Sunday 1 November, the third day of a week it holds.
    expect(extra('2026-10')).toEqual([['murat', ['2026-11-01'], 1200]]);
    expect(extra('2026-12')).toEqual([['murat', ['2026-12-02'], 1200]]);
  });
});

describe('where a week pass is billed, and what the breakdowns count', () => {
  const ben = member('ben', 'murat-week');
  const log = () =>
    new SiteLog('reichstett')
      .visit('ben', '2026-11-16', '09:00', 480)
      .visit('ben', '2026-11-23', '09:00', 120)
      .visit('ben', '2026-11-30', '09:00', 480);

  it("at the site of the week's first day, itself the site of that day's first check-in", () => {
    const murat = new SiteLog('murat')
      .visit('ben', '2026-11-17', '08:00', 480)
      // The 23rd: Murat at 14:00, after Reichstett at 09:00: the day is Reichstett's.
      .visit('ben', '2026-11-23', '14:00', 240);
    const nov = invoiceOf(
      invoicesOf({ period: '2026-11', members: [ben], events: [...log().billed, ...murat.billed] }),
      'ben',
    );
    expect(nov?.lines.map((l) => [l.site, l.dates, l.amountCents])).toEqual([
      ['reichstett', ['2026-11-16', '2026-11-23'], 16000],
    ]);
    // Every day of the month counts at its own site, the pass's amount at the site it is billed at.
    expect(nov?.bySite).toEqual([
      { site: 'murat', days: 1, amountCents: 0 },
      { site: 'reichstett', days: 3, amountCents: 16000 },
    ]);
  });

  it("a day counts in the month of its date, a week's amount in the month of its Thursday", () => {
    const events = log().visit('ben', '2026-12-01', '09:00', 480).billed;
    const nov = invoiceOf(invoicesOf({ period: '2026-11', members: [ben], events }), 'ben');
    const dec = invoiceOf(invoicesOf({ period: '2026-12', members: [ben], events }), 'ben');
    // Monday 30 November: a day of November's breakdown, of a week December bills.
    expect([nov?.byMember[0]?.days, nov?.byMember[0]?.amountCents]).toEqual([3, 16000]);
    expect([dec?.byMember[0]?.days, dec?.byMember[0]?.amountCents]).toEqual([1, 8000]);
    // Whoever came only on a day of a week the next month bills has no invoice that month: the day is counted nowhere.
    const only30 = new SiteLog('murat').visit('ben', '2026-11-30', '09:00', 480).billed;
    expect(invoicesOf({ period: '2026-11', members: [ben], events: only30 })).toEqual([]);
  });
});

describe('adjustments in the breakdowns', () => {
  it('count in the amounts, at the site and member of the line they correct, and not in the days', async () => {
    const hub = await billingHub();
    try {
      await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
      await hub.ingest(
        new SiteLog('murat', '+01:00', BILLING_DATES.DEC_2 - 86_400_000)
          .visit('ana', '2026-11-03', '09:00', 480)
          .visit('ana', '2026-12-07', '09:00', 60)
          .visit('ana', '2026-11-25', '09:00', 480, BILLING_DATES.DEC_2 + 86_400_000),
      );
      hub.clock.now = BILLING_DATES.DEC_2;
      await hub.ledger.close('2026-11');
      hub.clock.now = BILLING_DATES.JAN_2;
      await hub.ledger.close('2026-12');
      const dec = (await hub.ledger.invoices('2026-12')).find((i) => i.account.id === 'ana');
      expect(dec?.lines.map((l) => [l.kind, l.adjusts, l.amountCents])).toEqual([
        ['half-day', null, 1000],
        ['day', '2026-11', 2000],
      ]);
      // 1 day in December (the half-day of the 7th); 10 + 20 EUR at Murat.
      expect(dec?.bySite).toEqual([{ site: 'murat', days: 1, amountCents: 3000 }]);
      expect(dec?.byMember).toEqual([{ member: 'ana', name: 'Ana', days: 1, amountCents: 3000 }]);
    } finally {
      await hub.close();
    }
  });
});

/** A visit as the edge records it across a change of the clocks: offsets as they were at each end, elapsed minutes. */
function visitAcross(seq: number, inAt: string, outAt: string): BilledEvent[] {
  const minutes = Math.floor((Date.parse(outAt) - Date.parse(inAt)) / 60_000);
  const base = { site: 'murat', member: 'ana', receivedAt: 1 };
  return [
    { ...base, type: 'presence.in', seq, at: inAt },
    { ...base, type: 'presence.out', seq: seq + 1, at: outAt, minutes },
  ];
}

describe('the half-day threshold across a change of the clocks', () => {
  it('counts elapsed minutes, not the difference of the wall clocks', () => {
    const events = [
      // 25 October 2026, clocks back at 03:00: 00:30 to 04:00 on the wall is 3 h 30, but 4 h 30 passed: a full day.
      ...visitAcross(1, '2026-10-25T00:30:00.000+02:00', '2026-10-25T04:00:00.000+01:00'),
      // 29 March 2026, clocks forward at 02:00: 00:30 to 04:30 on the wall is 4 h, but 3 h passed: a half-day.
      ...visitAcross(3, '2026-03-29T00:30:00.000+01:00', '2026-03-29T04:30:00.000+02:00'),
    ];
    expect(
      events.filter((e) => e.type === 'presence.out').map((e) => (e.type === 'presence.out' ? e.minutes : 0)),
    ).toEqual([270, 180]);
    const kinds = (period: string) =>
      invoiceOf(invoicesOf({ period, members: [member('ana', 'murat-day')], events }), 'ana')?.lines.map((l) => [
        l.kind,
        l.dates,
      ]);
    expect(kinds('2026-10')).toEqual([['day', ['2026-10-25']]]);
    expect(kinds('2026-03')).toEqual([['half-day', ['2026-03-29']]]);
  });
});

describe('members whose plan has no tariff', () => {
  it('rates nothing, and throws nothing, for one with no usage and no day of validity in the month (fixed: it failed the whole rating)', () => {
    const gone = member('gone', 'retired-plan', { validUntil: '2026-09-30' });
    expect(invoicesOf({ period: '2026-11', members: [gone, member('ana', 'murat-day')], events: [] })).toEqual([]);
  });

  it('names a plan called like a member of every object ("constructor") as unpriced instead of failing (fixed)', () => {
    const err = (() => {
      try {
        invoicesOf({ period: '2026-11', members: [member('odd', 'constructor')], events: [] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as TesseraError).details.map((d) => d.path)).toEqual(['plans.constructor']);
  });
});
