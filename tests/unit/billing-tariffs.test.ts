import { describe, expect, it } from 'vitest';
import { doorContradictions } from '../../cloud-sync/billing/door-consistency.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { EXAMPLE_PRICE_LIST, PriceList } from '../../cloud-sync/billing/prices.js';
import { prorated } from '../../cloud-sync/billing/rate.js';
import { coverage } from '../../cloud-sync/billing/period.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { Plan, type Member } from '../../shared/protocol/directory.js';
import { billingHub, EXAMPLE_PLANS, member, SiteLog, invoicesOf } from './billing-fixtures.js';

const linesOf = (invoices: Invoice[], id: string) =>
  (invoices.find((i) => i.account.id === id)?.lines ?? []).map((l) => [
    l.kind,
    l.description,
    l.amountCents,
    l.from,
    l.to,
  ]);

const UNLIMITED = PriceList.parse({
  plans: {
    ...EXAMPLE_PRICE_LIST.plans,
    'murat-libre': { kind: 'subscription', monthlyCents: 25000, vatPercent: 20, lockerMonthlyCents: 600 },
  },
});

describe('an unlimited subscription', () => {
  it('charges its month and no day beyond any quota, six days a week included', () => {
    const murat = new SiteLog('murat');
    for (const date of ['2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07'])
      murat.visit('lou', date, '09:00', 480);
    const invoices = invoicesOf({
      period: '2026-11',
      prices: UNLIMITED,
      members: [member('lou', 'murat-libre')],
      events: murat.billed,
    });
    expect(linesOf(invoices, 'lou')).toEqual([
      ['subscription', 'Subscription, unlimited days, 2026-11', 25000, '2026-11-01', '2026-11-30'],
    ]);
    expect(invoices[0]?.bySite).toEqual([
      { site: null, days: 0, amountCents: 25000 },
      { site: 'murat', days: 6, amountCents: 0 },
    ]);
  });

  it('is a subscription without daysPerWeek and extraDay; one without the other is refused', () => {
    const refused = (tariff: object) =>
      PriceList.safeParse({
        plans: { x: { kind: 'subscription', monthlyCents: 1, vatPercent: 20, ...tariff } },
      }).error?.issues.map((i) => [i.path.join('.'), i.message]);
    const both = 'a subscription gives daysPerWeek and extraDay together, or neither (unlimited days)';
    expect(refused({})).toBeUndefined();
    expect(refused({ daysPerWeek: 2 })).toEqual([['plans.x.extraDay', both]]);
    expect(refused({ extraDay: { cents: 100 } })).toEqual([['plans.x.extraDay', both]]);
    expect(refused({ daysPerWeek: 2, extraDay: { cents: 100 } })).toBeUndefined();
  });

  it('needs a door without a limit: a directory plan with daysPerWeek contradicts it', () => {
    const plan = (daysPerWeek?: number) =>
      Plan.parse({
        id: 'murat-libre',
        name: 'Libre',
        access: 'always',
        lockers: true,
        ...(daysPerWeek ? { daysPerWeek } : {}),
      });
    expect(doorContradictions(UNLIMITED, [plan()])).toEqual([]);
    expect(doorContradictions(UNLIMITED, [plan(5)])).toEqual([
      {
        path: 'plans.murat-libre.daysPerWeek',
        message: expect.stringMatching(
          /^plan "murat-libre": the tariff covers every day of the week \(no daysPerWeek\), but the door refuses every day beyond 5 /,
        ),
      },
    ]);
  });
});

describe('pro rata: a membership starting or ending within the month', () => {
  it('charges the days of the month covered, rounded half up to the cent, with their first and last day', () => {
    const withLocker = { locker: { bank: 'casiers', number: 4 } };
    const members: Member[] = [
      // Reichstett: 96 EUR a month and 5 EUR of locker; from the 16th: 15 of 30 days, half.
      member('ada', 'reichstett-2-days', { ...withLocker, validFrom: '2026-11-16' }),
      // Until the 10th of February 2027: 10 of 28 days, 9600 × 10 / 28 = 3428.57.
      member('bea', 'reichstett-2-days', { ...withLocker, validUntil: '2027-02-10' }),
      // From the 10th to the 19th: 10 of 30 days, a third.
      member('cyd', 'reichstett-2-days', { validFrom: '2026-11-10', validUntil: '2026-11-19' }),
      // The whole month: the price itself, named by the month.
      member('dan', 'reichstett-2-days', { validFrom: '2026-11-01', validUntil: '2026-11-30' }),
    ];
    const nov = invoicesOf({ period: '2026-11', members, events: [] });
    expect(linesOf(nov, 'ada')).toEqual([
      ['locker', 'Locker rental 2026-11-16 to 2026-11-30 (15/30 days)', 250, '2026-11-16', '2026-11-30'],
      [
        'subscription',
        'Subscription, 2 day(s) a week, 2026-11-16 to 2026-11-30 (15/30 days)',
        4800,
        '2026-11-16',
        '2026-11-30',
      ],
    ]);
    expect(linesOf(nov, 'bea')).toEqual([
      ['locker', 'Locker rental 2026-11', 500, '2026-11-01', '2026-11-30'],
      ['subscription', 'Subscription, 2 day(s) a week, 2026-11', 9600, '2026-11-01', '2026-11-30'],
    ]);
    expect(linesOf(nov, 'cyd')).toEqual([
      [
        'subscription',
        'Subscription, 2 day(s) a week, 2026-11-10 to 2026-11-19 (10/30 days)',
        3200,
        '2026-11-10',
        '2026-11-19',
      ],
    ]);
    expect(linesOf(nov, 'dan')).toEqual([
      ['subscription', 'Subscription, 2 day(s) a week, 2026-11', 9600, '2026-11-01', '2026-11-30'],
    ]);
    const feb = invoicesOf({ period: '2027-02', members, events: [] });
    // 500 × 10 / 28 = 178.57: 179.
    expect(linesOf(feb, 'bea').map((l) => l[2])).toEqual([179, 3429]);
    expect(invoicesOf({ period: '2027-03', members, events: [] }).map((i) => i.account.id)).toEqual(['ada']);
  });

  it('rounds half a cent up: 1001 cents for 15 days of 30 is 500.5, charged 501', () => {
    const half = coverage('2026-11', '2026-11-16', undefined);
    expect(half).toEqual({ from: '2026-11-16', to: '2026-11-30', days: 15, monthDays: 30 });
    expect(prorated(1001, half ?? { from: '', to: '', days: 0, monthDays: 1 })).toBe(501);
    expect(prorated(1001, { from: '2026-11-17', to: '2026-11-30', days: 14, monthDays: 30 })).toBe(467); // 467.13
    expect(coverage('2026-11', '2026-12-01', undefined)).toBeUndefined();
    expect(coverage('2026-11', undefined, '2026-10-31')).toBeUndefined();
    expect(coverage('2026-11', '2026-11-20', '2026-11-10')).toBeUndefined();
  });
});

describe("a member's locker is billed only when her plan opens it at the door", () => {
  it('charges the rent on a plan with lockers, none on a plan without or one the directory no longer holds', () => {
    const locker = { locker: { bank: 'casiers', number: 1 } };
    const members = [member('eli', 'reichstett-2-days', locker), member('fay', 'reichstett-2-days')];
    const kinds = (plans: Plan[]) =>
      invoicesOf({ period: '2026-11', members, plans, events: [] }).map((i) => [
        i.account.id,
        i.lines.map((l) => l.kind),
      ]);
    expect(kinds(EXAMPLE_PLANS)).toEqual([
      ['eli', ['locker', 'subscription']],
      ['fay', ['subscription']],
    ]);
    const closed = EXAMPLE_PLANS.map((p) => (p.id === 'reichstett-2-days' ? { ...p, lockers: false } : p));
    expect(kinds(closed)).toEqual([
      ['eli', ['subscription']],
      ['fay', ['subscription']],
    ]);
    expect(kinds(EXAMPLE_PLANS.filter((p) => p.id !== 'reichstett-2-days'))).toEqual([
      ['eli', ['subscription']],
      ['fay', ['subscription']],
    ]);
  });

  it('refuses a price list that rents lockers on a plan whose door refuses them (409), and takes it once the plan opens them', async () => {
    const hub = await billingHub();
    try {
      await hub.directory.upsert(hub.db, 'plan', { id: 'reichstett-2-days', name: 'R', access: 'staffed' });
      const err = await hub.ledger.setPrices(EXAMPLE_PRICE_LIST).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TesseraError);
      expect((err as TesseraError).code).toBe('billing.contradicts_directory');
      expect((err as TesseraError).details).toEqual([
        {
          path: 'plans.reichstett-2-days.lockerMonthlyCents',
          message: expect.stringContaining('the directory plan does not open lockers (lockers: false)'),
        },
      ]);
      expect(await hub.ledger.prices()).toBeUndefined();
      await hub.directory.upsert(hub.db, 'plan', {
        id: 'reichstett-2-days',
        name: 'R',
        access: 'staffed',
        lockers: true,
      });
      expect(await hub.ledger.setPrices(EXAMPLE_PRICE_LIST)).toEqual(EXAMPLE_PRICE_LIST);
    } finally {
      await hub.close();
    }
  });
});
