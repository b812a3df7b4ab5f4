import { describe, expect, it } from 'vitest';
import { lineVat, type Invoice } from '../../cloud-sync/billing/invoice.js';
import { EXAMPLE_PRICE_LIST, PriceList, unpricedRefusals } from '../../cloud-sync/billing/prices.js';
import { ratePeriod, type RatingInput } from '../../cloud-sync/billing/rate.js';
import type { Employer, Member } from '../../shared/protocol/directory.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { employer, member, SiteLog, EXAMPLE_PLANS, ratingInvoices } from './billing-fixtures.js';

const ZONES = new Map([
  ['murat', 'Europe/Paris'],
  ['reichstett', 'Europe/Paris'],
  ['strasbourg', 'Europe/Paris'],
  ['soho-solo', 'Europe/Paris'],
]);

function invoicesFor(
  members: Member[],
  employers: Employer[],
  logs: SiteLog[],
  period = '2026-11',
  prices: PriceList = EXAMPLE_PRICE_LIST,
): Invoice[] {
  const input: RatingInput = {
    period,
    prices,
    members,
    employers,
    events: logs.flatMap((l) => l.billed),
    plans: EXAMPLE_PLANS,
    zones: ZONES,
  };
  const { lines, days } = ratePeriod(input);
  return ratingInvoices(
    period,
    prices.currency,
    { lines, days },
    { members: new Map(members.map((m) => [m.id, m])), employers: new Map(employers.map((e) => [e.id, e])) },
  );
}

const only = (invoices: Invoice[], id: string): Invoice => {
  const found = invoices.find((i) => i.account.id === id);
  if (!found) throw new Error(`no invoice for ${id}`);
  return found;
};

describe('rating the worked examples (totals by hand)', () => {
  it('a Murat member on the day tariff pays 20 EUR a day and 10 EUR a half-day, a visit past midnight counting on its first day', () => {
    const murat = new SiteLog('murat')
      .visit('ana', '2026-11-02', '09:00', 480) // full day
      .visit('ana', '2026-11-03', '09:00', 180) // under 4 h: half-day
      .visit('ana', '2026-11-04', '08:30', 240) // exactly 4 h: a full day
      .visit('ana', '2026-11-05', '22:00', 240); // 22:00 to 02:00: counts on the 5th only
    const invoice = only(invoicesFor([member('ana', 'murat-day')], [], [murat]), 'ana');
    // 3 days × 2000 + 1 half-day × 1000 = 7000; VAT 20 %: 1200 + 200 = 1400.
    expect(invoice.lines.map((l) => [l.kind, l.quantity, l.amountCents, l.vatCents, l.dates])).toEqual([
      ['day', 3, 6000, 1200, ['2026-11-02', '2026-11-04', '2026-11-05']],
      ['half-day', 1, 1000, 200, ['2026-11-03']],
    ]);
    expect([invoice.subtotalCents, invoice.vatCents, invoice.totalCents]).toEqual([7000, 1400, 8400]);
    expect(invoice.account).toEqual({ kind: 'member', id: 'ana', name: 'Member ana' });
    expect(invoice.bySite).toEqual([{ site: 'murat', days: 4, amountCents: 7000 }]);
  });

  it('a Murat member on the week tariff pays 80 EUR for each week whose Thursday falls in the month', () => {
    const murat = new SiteLog('murat')
      .visit('ben', '2026-10-29', '09:00', 300) // week of 26 Oct: its Thursday is in October
      .visit('ben', '2026-11-02', '09:00', 300) // week of 2 Nov
      .visit('ben', '2026-11-03', '09:00', 300) // same week
      .visit('ben', '2026-11-27', '09:00', 300) // week of 23 Nov
      .visit('ben', '2026-11-30', '09:00', 300); // week of 30 Nov: Thursday 3 Dec, billed in December
    const nov = only(invoicesFor([member('ben', 'murat-week')], [], [murat]), 'ben');
    expect(nov.lines.map((l) => [l.kind, l.quantity, l.amountCents, l.dates])).toEqual([
      ['week', 2, 16000, ['2026-11-02', '2026-11-23']],
    ]);
    expect(nov.totalCents).toBe(16000 + 3200);
    const dec = only(invoicesFor([member('ben', 'murat-week')], [], [murat], '2026-12'), 'ben');
    expect(dec.lines.map((l) => [l.quantity, l.dates])).toEqual([[1, ['2026-11-30']]]);
  });

  it('a Reichstett employer gets one invoice for its staff on 2-days-a-week subscriptions, with 12 EUR per extra day, across two sites', () => {
    const reichstett = new SiteLog('reichstett')
      .visit('chloe', '2026-11-02', '08:00', 240)
      .visit('chloe', '2026-11-04', '09:00', 480)
      .visit('david', '2026-11-09', '09:00', 480)
      .visit('david', '2026-11-12', '09:00', 480);
    const strasbourg = new SiteLog('strasbourg')
      .visit('chloe', '2026-11-02', '14:00', 240) // the same day as her morning at Reichstett: still one day
      .visit('chloe', '2026-11-03', '09:00', 480)
      .visit('david', '2026-11-10', '09:00', 480)
      .visit('david', '2026-11-11', '09:00', 480);
    const members = [
      member('chloe', 'reichstett-2-days', { employer: 'acme' }),
      member('david', 'reichstett-2-days', { employer: 'acme' }),
    ];
    const invoices = invoicesFor(members, [employer('acme', 'Acme SA')], [reichstett, strasbourg]);
    expect(invoices).toHaveLength(1);
    const acme = only(invoices, 'acme');
    // chloe: 2, 3, 4 Nov = 3 days, one beyond 2 (the 4th, Reichstett). david: 9-12 Nov = 4 days, two beyond (11th Strasbourg, 12th Reichstett).
    expect(
      acme.lines
        .filter((l) => l.kind === 'extra-day')
        .map((l) => [l.member, l.site, l.quantity, l.amountCents, l.dates]),
    ).toEqual([
      ['chloe', 'reichstett', 1, 1200, ['2026-11-04']],
      ['david', 'reichstett', 1, 1200, ['2026-11-12']],
      ['david', 'strasbourg', 1, 1200, ['2026-11-11']],
    ]);
    // 2 subscriptions × 9600 + 3 extra days × 1200 = 22800; VAT 20 % on each line = 4560.
    expect([acme.subtotalCents, acme.vatCents, acme.totalCents]).toEqual([22800, 4560, 27360]);
    // Days by the site of each day's first check-in: chloe 2 Reichstett + 1 Strasbourg, david 2 + 2.
    expect(acme.bySite).toEqual([
      { site: null, days: 0, amountCents: 19200 },
      { site: 'reichstett', days: 4, amountCents: 2400 },
      { site: 'strasbourg', days: 3, amountCents: 1200 },
    ]);
    expect(acme.byMember.map((m) => [m.member, m.days, m.amountCents])).toEqual([
      ['chloe', 3, 10800],
      ['david', 4, 12000],
    ]);
  });

  it('a Soho Solo member pays only the print pages beyond the 1,000 of the month', () => {
    const soho = new SiteLog('soho-solo')
      .use('eve', '2026-11-03', 'print-page', 600)
      .use('eve', '2026-11-20', 'print-page', 550)
      .use('eve', '2026-11-20', 'coffee', 2);
    const invoice = only(invoicesFor([member('eve', 'soho-solo')], [], [soho]), 'eve');
    // 150,00 subscription (VAT 30,00); 150 pages × 0,10 = 15,00 (VAT 3,00); 2 coffees × 1,20 = 2,40 at 5.5 % (13.2 cents: 13).
    expect(invoice.lines.map((l) => [l.kind, l.item, l.quantity, l.amountCents, l.vatCents])).toEqual([
      ['subscription', null, 1, 15000, 3000],
      ['consumable', 'coffee', 2, 240, 13],
      ['consumable', 'print-page', 150, 1500, 300],
    ]);
    expect([invoice.subtotalCents, invoice.vatCents, invoice.totalCents]).toEqual([16740, 3313, 20053]);
    expect(invoice.vat).toEqual([
      { vatPercent: 5.5, baseCents: 240, vatCents: 13 },
      { vatPercent: 20, baseCents: 16500, vatCents: 3300 },
    ]);
  });
});

describe('locker rental and the half-day threshold (totals by hand)', () => {
  it("a member with her own locker on a subscription pays the tariff's monthly locker price in each month her membership overlaps, and nothing after", () => {
    // Reichstett 2 days a week: 96 EUR a month, locker 5 EUR a month. Léa is a member from 15 October to 30 November.
    const lea = member('lea', 'reichstett-2-days', {
      locker: { bank: 'main', number: 7 },
      validFrom: '2026-10-15',
      validUntil: '2026-11-30',
    });
    const noLocker = member('max', 'reichstett-2-days');
    const reichstett = new SiteLog('reichstett')
      .visit('lea', '2026-11-03', '09:00', 480)
      .visit('lea', '2026-11-05', '09:00', 480)
      .visit('max', '2026-11-03', '09:00', 480);
    const nov = invoicesFor([lea, noLocker], [], [reichstett]);
    expect(
      only(nov, 'lea').lines.map((l) => [
        l.kind,
        l.site,
        l.description,
        l.quantity,
        l.unitCents,
        l.amountCents,
        l.vatCents,
      ]),
    ).toEqual([
      ['locker', null, 'Locker rental 2026-11', 1, 500, 500, 100],
      ['subscription', null, 'Subscription, 2 day(s) a week, 2026-11', 1, 9600, 9600, 1920],
    ]);
    // 9600 + 500 = 10100 excl. VAT; 20 %: 1920 + 100 = 2020; 12120 in all. Both lines are network-wide (no site).
    expect([only(nov, 'lea').subtotalCents, only(nov, 'lea').vatCents, only(nov, 'lea').totalCents]).toEqual([
      10100, 2020, 12120,
    ]);
    expect(only(nov, 'lea').bySite).toEqual([
      { site: null, days: 0, amountCents: 10100 },
      { site: 'reichstett', days: 2, amountCents: 0 },
    ]);
    expect(only(nov, 'max').lines.map((l) => l.kind)).toEqual(['subscription']);
    // October: the membership starts on the 15th, 17 of the month's 31 days: pro rata, 9600 × 17 / 31 = 5264.52
    // and 500 × 17 / 31 = 274.19, rounded to the cent.
    expect(only(invoicesFor([lea], [], [], '2026-10'), 'lea').lines.map((l) => [l.kind, l.amountCents])).toEqual([
      ['locker', 274],
      ['subscription', 5265],
    ]);
    // December: the membership is over: no rental, no fee, so no invoice at all.
    expect(invoicesFor([lea], [], [], '2026-12')).toEqual([]);
  });

  it("with underMinutes 300, a day of 299 minutes is a half day and one of 300 a full day, the minutes of a day's visits summed", () => {
    const prices = PriceList.parse({
      plans: {
        'murat-day': { kind: 'per-day', dayCents: 2000, halfDay: { cents: 1000, underMinutes: 300 }, vatPercent: 20 },
      },
    });
    const murat = new SiteLog('murat')
      .visit('ana', '2026-11-02', '09:00', 299) // one minute short: half day
      .visit('ana', '2026-11-03', '09:00', 300) // exactly 5 h: full day
      .visit('ana', '2026-11-04', '08:00', 180)
      .visit('ana', '2026-11-04', '14:00', 120) // 180 + 120 = 300: full day
      .visit('ana', '2026-11-05', '09:00', 240); // 4 h: a full day under the default threshold, a half day under this one
    const invoice = only(invoicesFor([member('ana', 'murat-day')], [], [murat], '2026-11', prices), 'ana');
    // 2 days × 2000 + 2 half days × 1000 = 6000; VAT 20 % = 1200; 7200 in all.
    expect(invoice.lines.map((l) => [l.kind, l.description, l.quantity, l.amountCents, l.dates])).toEqual([
      ['day', 'Day visits', 2, 4000, ['2026-11-03', '2026-11-04']],
      ['half-day', 'Half-day visits (under 300 min)', 2, 2000, ['2026-11-02', '2026-11-05']],
    ]);
    expect([invoice.subtotalCents, invoice.vatCents, invoice.totalCents]).toEqual([6000, 1200, 7200]);
    // Without underMinutes the threshold is 4 h.
    expect(
      PriceList.parse({ plans: { d: { kind: 'per-day', dayCents: 1, halfDay: { cents: 1 }, vatPercent: 0 } } }).plans.d,
    ).toMatchObject({ halfDay: { underMinutes: 240 } });
  });
});

describe('rating rules', () => {
  it('rounds VAT per line half away from zero, alike for an amount and its reversal', () => {
    expect(lineVat(250, 500)).toBe(13); // 12.5 cents
    expect(lineVat(-250, 500)).toBe(-13);
    expect(lineVat(225, 550)).toBe(12); // 12.375 cents
    expect(lineVat(0, 2000)).toBe(0);
  });

  it('refuses to rate a member whose plan has no tariff, naming each; a consumable without a price is no reason to refuse', () => {
    const soho = new SiteLog('soho-solo').use('eve', '2026-11-03', 'scan-page', 3);
    const input: RatingInput = {
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members: [member('eve', 'soho-solo'), member('fay', 'gold')],
      employers: [],
      events: soho.billed,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    };
    const err = (() => {
      try {
        ratePeriod(input);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as TesseraError).code).toBe('billing.unpriced');
    expect((err as TesseraError).details.map((d) => d.path)).toEqual(['plans.gold']);
  });

  it('lists the uses of a consumable without a price by site and item, and charges none of them', () => {
    // Names of the object prototype's members fit the pattern too: they must not read as prices.
    const soho = new SiteLog('soho-solo')
      .use('eve', '2026-11-03', 'scan-page', 3)
      .use('eve', '2026-11-04', 'scan-page', 4)
      .use('eve', '2026-11-04', 'coffee', 1)
      .use('eve', '2026-11-05', 'toString', 2)
      .use('eve', '2026-11-05', 'constructor', 1);
    const r = ratePeriod({
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members: [member('eve', 'soho-solo')],
      employers: [],
      events: soho.billed,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    expect(r.unpriced).toEqual([
      { period: '2026-11', site: 'soho-solo', item: 'constructor', uses: 1, quantity: 1 },
      { period: '2026-11', site: 'soho-solo', item: 'scan-page', uses: 2, quantity: 7 },
      { period: '2026-11', site: 'soho-solo', item: 'toString', uses: 1, quantity: 2 },
    ]);
    expect(r.lines.filter((l) => l.kind === 'consumable').map((l) => [l.item, l.quantity, l.amountCents])).toEqual([
      ['coffee', 1, 120],
    ]);
  });

  it('lists the usage of a member missing from the directory as unbilled instead of dropping it', () => {
    const murat = new SiteLog('murat')
      .visit('ghost', '2026-11-02', '09:00', 60)
      .use('ghost', '2026-11-02', 'coffee', 1);
    const r = ratePeriod({
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members: [],
      employers: [],
      events: murat.billed,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    expect(r.lines).toEqual([]);
    expect(r.unbilled).toEqual([{ member: 'ghost', reason: 'not_in_directory', days: 1, consumables: 1 }]);
  });

  it('bills no staff or cleaner, and a subscription only for a month its validity overlaps', () => {
    const murat = new SiteLog('murat').visit('sam', '2026-11-02', '09:00', 480);
    const members = [
      member('sam', 'murat-day', { role: 'staff' }),
      member('old', 'murat-2-days', { validUntil: '2026-10-31' }),
      member('new', 'murat-2-days', { validFrom: '2026-11-30' }),
    ];
    const r = ratePeriod({
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members,
      employers: [],
      events: murat.billed,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    // From the 30th: 1 day of November's 30, 10000 × 1 / 30 = 333.33, 333 (pro rata, docs/billing.md).
    expect(r.lines.map((l) => [l.member, l.kind, l.amountCents])).toEqual([['new', 'subscription', 333]]);
  });

  it("charges a day a site let in beyond a refusing plan's quota at the plan's price for it, never 0, and lists it for the operator", () => {
    const a = new SiteLog('murat').visit('ida', '2026-11-02', '09:00', 60).visit('ida', '2026-11-03', '09:00', 60);
    const b = new SiteLog('reichstett').visit('ida', '2026-11-04', '09:00', 60);
    const r = ratePeriod({
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members: [member('ida', 'murat-2-days')],
      employers: [],
      events: [...a.billed, ...b.billed],
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    expect(
      r.lines.filter((l) => l.kind === 'extra-day').map((l) => [l.site, l.quantity, l.amountCents, l.description]),
    ).toEqual([['reichstett', 1, 2000, 'Days beyond 2 a week, let in although the plan refuses them']]);
    expect(r.admittedBeyondQuota).toEqual([
      {
        member: 'ida',
        account: 'member:ida',
        plan: 'murat-2-days',
        site: 'reichstett',
        date: '2026-11-04',
        unitCents: 2000,
      },
    ]);
  });

  it('a day beyond the quota of a plan that lets it in is charged, not listed as let in against the plan', () => {
    const a = new SiteLog('reichstett')
      .visit('ida', '2026-11-02', '09:00', 60)
      .visit('ida', '2026-11-03', '09:00', 60)
      .visit('ida', '2026-11-04', '09:00', 60);
    const r = ratePeriod({
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members: [member('ida', 'reichstett-2-days')],
      employers: [],
      events: a.billed,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    expect(r.lines.filter((l) => l.kind === 'extra-day').map((l) => [l.quantity, l.amountCents])).toEqual([[1, 1200]]);
    expect(r.admittedBeyondQuota).toEqual([]);
  });

  it('refuses a plan that refuses extra days without the price of one let in anyway; a list from before that price keeps rating as it did', () => {
    const refusing = { kind: 'subscription', monthlyCents: 10000, daysPerWeek: 2, vatPercent: 20 };
    expect(
      unpricedRefusals(
        PriceList.parse({
          plans: { a: { ...refusing, extraDay: 'refuse' }, b: { ...refusing, extraDay: { refuse: true, cents: 1 } } },
        }),
      ).map((d) => d.path),
    ).toEqual(['plans.a.extraDay']);
    const bad = PriceList.safeParse({
      plans: {
        a: { ...refusing, extraDay: { refuse: true } },
        b: { ...refusing, extraDay: { refuse: false, cents: 5 } },
      },
    });
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['plans.a.extraDay', 'plans.b.extraDay']);
    const old = PriceList.parse({ plans: { 'murat-2-days': { ...refusing, extraDay: 'refuse' } } });
    const a = new SiteLog('murat')
      .visit('ida', '2026-11-02', '09:00', 60)
      .visit('ida', '2026-11-03', '09:00', 60)
      .visit('ida', '2026-11-04', '09:00', 60);
    const r = ratePeriod({
      period: '2026-11',
      prices: old,
      members: [member('ida', 'murat-2-days')],
      employers: [],
      events: a.billed,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    expect(r.lines.filter((l) => l.kind === 'extra-day').map((l) => [l.amountCents, l.description])).toEqual([
      [0, 'Days beyond 2 a week (refused by the plan: not charged)'],
    ]);
  });

  it('counts a visit whose check-in was not read on the site-local day it started, and an open visit as a full day', () => {
    const log = new SiteLog('murat').visit('jo', '2026-11-02', '22:00', 180).visit('jo', '2026-11-05', '09:00', 60);
    // seq 1, the check-in of the 2nd, fell outside what was read; seq 4, the check-out of the 5th, has not arrived.
    const events = log.billed.filter((e) => e.seq !== 1 && e.seq !== 4);
    const r = ratePeriod({
      period: '2026-11',
      prices: EXAMPLE_PRICE_LIST,
      members: [member('jo', 'murat-day')],
      employers: [],
      events,
      plans: EXAMPLE_PLANS,
      zones: ZONES,
    });
    expect(r.lines.map((l) => [l.kind, l.dates])).toEqual([
      ['day', ['2026-11-05']],
      ['half-day', ['2026-11-02']],
    ]);
  });

  it('validates the price list: VAT with at most two decimals, integer cents, a known tariff kind', () => {
    const bad = PriceList.safeParse({
      plans: { a: { kind: 'per-day', dayCents: 12.5, vatPercent: 20.001 }, b: { kind: 'monthly' } },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['plans.a.dayCents', 'plans.a.vatPercent', 'plans.b.kind']);
    expect(PriceList.safeParse(EXAMPLE_PRICE_LIST).success).toBe(true);
  });
});
