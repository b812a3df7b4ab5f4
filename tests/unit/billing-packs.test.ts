import { describe, expect, it } from 'vitest';
import { packChain, packDraws, type PackPurchase } from '../../cloud-sync/billing/pack-rating.js';
import { BillingPacks } from '../../cloud-sync/billing/packs.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod, type PackInput } from '../../cloud-sync/billing/rate.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BILLING_DATES, billingHub, EXAMPLE_PLANS, member, SiteLog } from './billing-fixtures.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

const { NOV_2, DEC_2, JAN_2 } = BILLING_DATES;
const ZONES = new Map([
  ['murat', 'Europe/Paris'],
  ['reichstett', 'Europe/Paris'],
]);

let ids = 0;
/** A pack as the sale records it: `days` days for 180 EUR from `date`, `validDays` long. */
const pack = (date: string, days = 10, validUntil = '2027-11-09', member_ = 'ana'): PackPurchase => ({
  id: `p${++ids}`,
  member: member_,
  pack: 'murat-10-days',
  name: 'Carnet de 10 jours',
  days,
  cents: 18000,
  vatPercent: 20,
  date,
  validUntil,
  recordedAt: '2026-11-01T00:00:00.000Z',
});

/** Ana's visits at Murat on `dates` (full days), received at `receivedAt`. */
const visits = (dates: string[], receivedAt = 1) => {
  const log = new SiteLog('murat', '+01:00', receivedAt);
  for (const d of dates) log.visit('ana', d, '09:00', 480);
  return log.billed;
};

/** Kind, quantity, amount and dates of each of Ana's lines. */
function linesOf(period: string, events: ReturnType<typeof visits>, packs: PackInput) {
  return ratePeriod({
    period,
    prices: EXAMPLE_PRICE_LIST,
    members: [member('ana', 'murat-day')],
    employers: [],
    plans: EXAMPLE_PLANS,
    events,
    zones: ZONES,
    packs,
  }).lines.map((l) => [l.kind, l.item, l.quantity, l.amountCents, l.dates]);
}

describe('which days draw from which pack (pure)', () => {
  it('the days from the purchase on, in date order, from the earliest-bought pack valid that day with days left', () => {
    const first = pack('2026-11-10', 2, '2026-11-30');
    const second = pack('2026-11-12', 3);
    const chain = packChain([first, second], '2026-11');
    expect(chain).toEqual({ purchases: [first, second], from: '2026-11-10' });
    const dates = ['2026-11-09', '2026-11-10', '2026-11-12', '2026-11-13', '2026-11-16', '2026-11-17', '2026-11-18'];
    const draws = packDraws(chain ?? { purchases: [], from: '' }, dates, new Set(dates));
    // The 9th is before any pack; the first pack's two days, then the second's three; the 18th is beyond both.
    expect([...draws.entries()].map(([d, p]) => [d, p.id])).toEqual([
      ['2026-11-10', first.id],
      ['2026-11-12', first.id],
      ['2026-11-13', second.id],
      ['2026-11-16', second.id],
      ['2026-11-17', second.id],
    ]);
    // A day the hub had not by its month's close draws none, and leaves the pack's days to the next.
    const late = packDraws(
      chain ?? { purchases: [], from: '' },
      dates,
      new Set(dates.filter((d) => d !== '2026-11-12')),
    );
    expect([...late.keys()]).toEqual(['2026-11-10', '2026-11-13', '2026-11-16', '2026-11-17', '2026-11-18']);
  });

  it("a month's chain reaches back to every earlier pack still valid when one counting in it was bought", () => {
    const old = pack('2025-12-01', 10, '2026-11-30');
    const older = pack('2025-06-01', 10, '2025-12-15');
    const expired = pack('2025-01-01', 10, '2025-05-31');
    const bought = pack('2026-12-05');
    expect(packChain([expired, older, old, bought], '2026-12')).toEqual({ purchases: [bought], from: '2026-12-05' });
    expect(packChain([expired, older, old, bought], '2026-11')).toEqual({
      purchases: [older, old],
      from: '2025-06-01',
    });
    expect(packChain([expired], '2026-11')).toBeUndefined();
  });

  it('a 10-day pack bought on the 10th: Ana pays her days before it and after it, 180 EUR for it, and its days across two months', () => {
    const nov = ['2026-11-02', '2026-11-03', '2026-11-10', '2026-11-12', '2026-11-16', '2026-11-17', '2026-11-18'];
    const dec = ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-07', '2026-12-08', '2026-12-09'];
    const p = pack('2026-11-10');
    const cutoffs = new Map([['2026-11', 10]]);
    expect(linesOf('2026-11', visits(nov), { purchases: [p], history: [], cutoffs: new Map() })).toEqual([
      ['pack', 'murat-10-days', 1, 18000, ['2026-11-10']],
      ['day', null, 2, 4000, ['2026-11-02', '2026-11-03']],
      ['pack-day', 'murat-10-days', 5, 0, ['2026-11-10', '2026-11-12', '2026-11-16', '2026-11-17', '2026-11-18']],
    ]);
    // December's window starts on 24 November: the days before it are the history.
    const all = visits([...nov, ...dec]);
    const history = all.filter((e) => e.at < '2026-11-24');
    const window = all.filter((e) => e.at >= '2026-11-24');
    expect(linesOf('2026-12', window, { purchases: [p], history, cutoffs })).toEqual([
      ['day', null, 1, 2000, ['2026-12-09']],
      ['pack-day', 'murat-10-days', 5, 0, ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-07', '2026-12-08']],
    ]);
    // Without the history the pack would look full in December: the history is what tells.
    expect(linesOf('2026-12', window, { purchases: [p], history: [], cutoffs })[0]).toEqual([
      'pack-day',
      'murat-10-days',
      6,
      0,
      dec,
    ]);
  });
});

describe('packs sold and billed at the hub', () => {
  async function packHub() {
    const hub = await billingHub();
    const packs = new BillingPacks({
      db: hub.db,
      directory: hub.directory,
      ledger: hub.ledger,
      now: () => hub.clock.now,
    });
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    return { ...hub, packs };
  }

  it('bills the pack with its month, draws its days across the close, a late day at the plan price; both months verify', async () => {
    const hub = await packHub();
    try {
      hub.clock.now = Date.parse('2026-11-09T17:00:00Z');
      const sold = await hub.packs.sell({ member: 'ana', pack: 'murat-10-days', date: '2026-11-09' });
      expect(sold).toMatchObject({
        member: 'ana',
        days: 10,
        cents: 18000,
        date: '2026-11-09',
        validUntil: '2027-11-08',
      });
      expect(await hub.packs.list('ana')).toEqual([sold]);
      const onTime = DEC_2 - 86_400_000;
      const log = new SiteLog('murat', '+01:00', onTime);
      for (const d of ['2026-11-03', '2026-11-09', '2026-11-10', '2026-11-16', '2026-11-23', '2026-11-24'])
        log.visit('ana', d, '09:00', 480);
      log.visit('ana', '2026-11-25', '09:00', 480, DEC_2 + 86_400_000); // late: reaches the hub after November closed
      for (const d of ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-08', '2026-12-09'])
        log.visit('ana', d, '09:00', 480, JAN_2 - 86_400_000);
      await hub.ingest(log);
      hub.clock.now = DEC_2;
      await hub.ledger.close('2026-11');
      const nov = (await hub.ledger.invoices('2026-11')).find((i) => i.account.id === 'ana');
      expect(nov?.lines.map((l) => [l.kind, l.quantity, l.amountCents, l.from, l.to])).toEqual([
        ['pack', 1, 18000, '2026-11-09', '2027-11-08'],
        ['day', 1, 2000, '2026-11-03', '2026-11-03'],
        ['pack-day', 5, 0, '2026-11-09', '2026-11-24'],
      ]);
      // 180 + 20 = 200 EUR, 240 with VAT; the breakdown counts every day she came.
      expect([nov?.totalCents, nov?.byMember[0]?.days]).toEqual([24000, 6]);
      hub.clock.now = JAN_2;
      await hub.ledger.close('2026-12');
      const dec = (await hub.ledger.invoices('2026-12')).find((i) => i.account.id === 'ana');
      // The late 25 November is charged at the day price; December draws the pack's other 5 days, nothing beyond.
      expect(dec?.lines.map((l) => [l.kind, l.adjusts, l.quantity, l.amountCents, l.dates])).toEqual([
        ['pack-day', null, 5, 0, ['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-08', '2026-12-09']],
        ['day', '2026-11', 1, 2000, ['2026-11-25']],
      ]);
      for (const period of ['2026-11', '2026-12'])
        expect(await hub.ledger.verify(period)).toEqual({ period, identical: true, differing: [] });
    } finally {
      await hub.close();
    }
  });

  it('a sale recorded after the cutoff of the month it is dated in lands on the next invoice with the days it would have drawn; a credit note takes those days off the month', async () => {
    const hub = await packHub();
    try {
      await hub.ingest(
        new SiteLog('murat', '+01:00', NOV_2)
          .visit('ana', '2026-11-20', '09:00', 480)
          .visit('ana', '2026-11-27', '09:00', 480),
      );
      // In the last minute before November's close: after its cutoff, before it is stored.
      hub.clock.now = DEC_2 - 30_000;
      await hub.packs.sell({ member: 'ana', pack: 'murat-10-days', date: '2026-11-20' });
      hub.clock.now = DEC_2;
      await hub.ledger.close('2026-11');
      const nov = (await hub.ledger.invoices('2026-11')).find((i) => i.account.id === 'ana');
      expect(nov?.lines.map((l) => [l.kind, l.quantity, l.amountCents])).toEqual([['day', 2, 4000]]);
      hub.clock.now = JAN_2;
      await hub.ledger.close('2026-12');
      const dec = (await hub.ledger.invoices('2026-12')).find((i) => i.account.id === 'ana');
      expect(dec?.lines.map((l) => [l.kind, l.adjusts, l.quantity, l.amountCents])).toEqual([
        ['pack', '2026-11', 1, 18000],
        ['pack-day', '2026-11', 2, 0],
      ]);
      // The two days November billed at the day's price are taken off by a credit note of its invoice.
      const credits = await hub.ledger.creditNotesOf('2026-11');
      expect(credits.map((c) => [c.corrects?.number, c.account.id])).toEqual([[nov?.number, 'ana']]);
      expect(credits[0]?.lines.map((l) => [l.kind, l.adjusts, l.quantity, l.amountCents])).toEqual([
        ['day', '2026-11', 2, 4000],
      ]);
      expect(await hub.ledger.verify('2026-12')).toEqual({ period: '2026-12', identical: true, differing: [] });
    } finally {
      await hub.close();
    }
  });

  it('refuses a sale in a closed month, of a pack not on sale, to a member not on a per-day plan, to nobody, on no date', async () => {
    const hub = await packHub();
    try {
      hub.clock.now = DEC_2;
      await hub.ledger.close('2026-11');
      const refusal = async (sale: { member: string; pack: string; date: string }) => {
        const err = await hub.packs.sell(sale).catch((e: unknown) => e);
        if (!(err instanceof TesseraError)) throw new Error(`sold: ${JSON.stringify(sale)}`);
        return [err.code, ...err.details.map((d) => d.path)];
      };
      expect(await refusal({ member: 'ana', pack: 'murat-10-days', date: '2026-11-30' })).toEqual([
        'billing.period_closed',
      ]);
      expect(await refusal({ member: 'ana', pack: 'gold', date: '2026-12-01' })).toEqual(['request.invalid', 'pack']);
      expect(await refusal({ member: 'chloe', pack: 'murat-10-days', date: '2026-12-01' })).toEqual([
        'request.invalid',
        'member',
      ]);
      expect(await refusal({ member: 'zoe', pack: 'murat-10-days', date: '2026-12-01' })).toEqual(['not_found']);
      expect(await refusal({ member: 'ana', pack: 'murat-10-days', date: '2026-02-30' })).toEqual([
        'request.invalid',
        'date',
      ]);
      expect(await hub.packs.list()).toEqual([]);
      expect(await hub.packs.sell({ member: 'ana', pack: 'murat-10-days', date: '2026-12-01' })).toMatchObject({
        validUntil: '2027-11-30',
      });
    } finally {
      await hub.close();
    }
  });

  it('refuses to rate a month whose packs count days from a month the retention pruned', async () => {
    const hub = await packHub();
    try {
      hub.clock.now = Date.parse('2026-10-05T09:00:00Z');
      await hub.packs.sell({ member: 'ana', pack: 'murat-10-days', date: '2026-10-05' });
      hub.clock.now = NOV_2;
      await hub.ledger.close('2026-10');
      hub.clock.now = DEC_2;
      await hub.ledger.close('2026-11');
      await hub.db.run(
        'INSERT INTO retention (id, pruned_through) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET pruned_through = excluded.pruned_through',
        [NOV_2],
      );
      hub.clock.now = JAN_2;
      const err = await hub.ledger.close('2026-12').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TesseraError);
      expect((err as TesseraError).code).toBe('billing.pruned');
      expect((err as TesseraError).message).toContain('the pack days of member ana count from 2026-10-05');
    } finally {
      await hub.close();
    }
  });
});

describe('POST and GET /billing/packs', () => {
  it('records a sale (201, the terms as sold), lists them by member, and answers a bad one with every problem', async () => {
    const clock = new ManualClock('2026-11-20T08:00:00Z');
    const { hub, admin: headers } = await signedInHub(silent, clock);
    try {
      const db = hub.store.db;
      await hub.directory.upsert(db, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
      await hub.directory.upsert(db, 'member', { id: 'ana', name: 'Ana', plan: 'murat-day' });
      const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
        hub.api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      const sale = { member: 'ana', pack: 'murat-10-days', date: '2026-11-20' };
      expect((await inject('POST', '/billing/packs', sale)).json()).toMatchObject({ code: 'billing.unpriced' });
      expect((await inject('PUT', '/billing/prices', EXAMPLE_PRICE_LIST)).statusCode).toBe(200);
      const sold = await inject('POST', '/billing/packs', sale);
      expect(sold.statusCode).toBe(201);
      expect(sold.json()).toEqual({
        id: expect.any(String),
        member: 'ana',
        pack: 'murat-10-days',
        name: 'Carnet de 10 jours',
        days: 10,
        cents: 18000,
        vatPercent: 20,
        date: '2026-11-20',
        validUntil: '2027-11-19',
        recordedAt: '2026-11-20T08:00:00.000Z',
      });
      expect((await inject('GET', '/billing/packs?member=ana')).json()).toEqual({ purchases: [sold.json()] });
      expect((await inject('GET', '/billing/packs?member=bob')).json()).toEqual({ purchases: [] });
      const bad = await inject('POST', '/billing/packs', { member: 'ana', pack: 'not a pack', date: '20/11/2026' });
      expect(bad.statusCode).toBe(400);
      expect(
        bad
          .json<{ details: Array<{ path: string }> }>()
          .details.map((d) => d.path)
          .sort(),
      ).toEqual(['date', 'pack']);
      // On the month's preview: 180 EUR for the pack.
      const preview = await inject('GET', '/billing/periods/2026-11/invoices');
      expect(
        preview.json<{ invoices: Invoice[] }>().invoices[0]?.lines.map((l) => [l.kind, l.amountCents, l.from, l.to]),
      ).toEqual([['pack', 18000, '2026-11-20', '2027-11-19']]);
    } finally {
      await hub.stop();
    }
  });
});
