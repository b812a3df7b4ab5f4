import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod } from '../../cloud-sync/billing/rate.js';
import type { BilledEvent } from '../../cloud-sync/billing/visits.js';
import type { Employer, Member } from '../../shared/protocol/directory.js';
import { storeRuns } from '../harness/hub-db.js';
import {
  BILLING_DATES,
  billingHub,
  employer,
  member,
  SiteLog,
  EXAMPLE_PLANS,
  ratingInvoices,
} from './billing-fixtures.js';

const SITES = ['murat', 'reichstett'];
const ZONES = new Map(SITES.map((s) => [s, 'Europe/Paris']));
const MEMBERS: Member[] = [
  member('m1', 'murat-day'),
  member('m2', 'murat-week', { employer: 'acme' }),
  member('m3', 'reichstett-2-days', { employer: 'acme', locker: { bank: 'b', number: 1 } }),
  member('m4', 'soho-solo'),
  member('m5', 'murat-2-days', { employer: 'beta' }),
  member('m6', 'murat-day', { employer: 'beta' }),
];
const EMPLOYERS: Employer[] = [employer('acme', 'Acme SA'), employer('beta', 'Beta SARL')];

interface Use {
  member: number;
  site: number;
  day: number;
  hour: number;
  minutes: number;
  consumable: 'print-page' | 'coffee' | null;
  late: boolean;
}

/** Visits and consumable uses on the 61 days from 1 October 2026 (all at UTC+01:00 after 25 October; fine for rating). */
const uses = fc.array(
  fc.record({
    member: fc.nat({ max: MEMBERS.length - 1 }),
    site: fc.nat({ max: SITES.length - 1 }),
    day: fc.nat({ max: 60 }),
    hour: fc.integer({ min: 6, max: 22 }),
    minutes: fc.integer({ min: 1, max: 700 }),
    consumable: fc.constantFrom<Use['consumable']>(null, null, 'print-page', 'coffee'),
    late: fc.boolean(),
  }),
  { maxLength: 60 },
);

const dateOf = (day: number) => new Date(Date.UTC(2026, 9, 1 + day)).toISOString().slice(0, 10);

/** The site logs for `list`, each event received at `receivedAt(use)`. */
function logsOf(list: readonly Use[], receivedAt: (u: Use) => number): SiteLog[] {
  const logs = SITES.map((s) => new SiteLog(s));
  const ordered = [...list].sort((a, b) => a.day - b.day || a.hour - b.hour);
  for (const u of ordered) {
    const log = logs[u.site] as SiteLog;
    const id = (MEMBERS[u.member] as Member).id;
    if (u.consumable) log.use(id, dateOf(u.day), u.consumable, u.minutes, receivedAt(u));
    else log.visit(id, dateOf(u.day), `${String(u.hour).padStart(2, '0')}:00`, u.minutes, receivedAt(u));
  }
  return logs;
}

function invoices(period: string, events: readonly BilledEvent[]): Invoice[] {
  const { lines, days } = ratePeriod({
    period,
    prices: EXAMPLE_PRICE_LIST,
    members: MEMBERS,
    employers: EMPLOYERS,
    events,
    plans: EXAMPLE_PLANS,
    zones: ZONES,
  });
  return ratingInvoices(
    period,
    'EUR',
    { lines, days },
    { members: new Map(MEMBERS.map((m) => [m.id, m])), employers: new Map(EMPLOYERS.map((e) => [e.id, e])) },
  );
}

const sum = <T>(list: readonly T[], f: (x: T) => number) => list.reduce((s, x) => s + f(x), 0);

describe('billing properties (fast-check)', () => {
  it('every total is the sum of its lines, by line, site, member and VAT rate', () => {
    fc.assert(
      fc.property(uses, (list) => {
        for (const invoice of invoices(
          '2026-10',
          logsOf(list, () => 1).flatMap((l) => l.billed),
        )) {
          expect(invoice.subtotalCents).toBe(sum(invoice.lines, (l) => l.amountCents));
          expect(invoice.vatCents).toBe(sum(invoice.lines, (l) => l.vatCents));
          expect(invoice.totalCents).toBe(invoice.subtotalCents + invoice.vatCents);
          for (const l of invoice.lines) expect(l.amountCents).toBe(l.quantity * l.unitCents);
          expect(sum(invoice.bySite, (s) => s.amountCents)).toBe(invoice.subtotalCents);
          expect(sum(invoice.byMember, (m) => m.amountCents)).toBe(invoice.subtotalCents);
          expect(sum(invoice.byMember, (m) => m.days)).toBe(sum(invoice.bySite, (s) => s.days));
          expect(sum(invoice.vat, (v) => v.baseCents)).toBe(invoice.subtotalCents);
          expect(sum(invoice.vat, (v) => v.vatCents)).toBe(invoice.vatCents);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rating the same events again, in any order, gives byte-identical invoices', () => {
    fc.assert(
      fc.property(
        uses.chain((list) => {
          const events = logsOf(list, () => 1).flatMap((l) => l.billed);
          return fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
          );
        }),
        ([events, shuffled]) => {
          for (const period of ['2026-10', '2026-11'])
            expect(JSON.stringify(invoices(period, shuffled))).toBe(JSON.stringify(invoices(period, events)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('an event received after its period closed becomes an adjustment on the next period (or a credit note), never a change to the closed invoice', async () => {
    const { NOV_2, DEC_2 } = BILLING_DATES;
    const onTime = NOV_2 - 3_600_000;
    const late = NOV_2 + 10 * 86_400_000;
    await fc.assert(
      fc.asyncProperty(uses, async (list) => {
        const hub = await billingHub();
        try {
          for (const e of EMPLOYERS) await hub.directory.upsert(hub.db, 'employer', e);
          // The doors of the plans whose tariffs refuse a day beyond the quota refuse it too (docs/billing.md "Prices").
          for (const [plan, days] of [['murat-week'], ['soho-solo', 5], ['murat-2-days', 2]] as const)
            await hub.directory.upsert(hub.db, 'plan', { id: plan, name: plan, access: 'staffed', daysPerWeek: days });
          for (const m of MEMBERS) await hub.directory.upsert(hub.db, 'member', m);
          await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
          // October's late uses reach the hub after October closed; November's all come in November.
          const arrival = (u: Use) => (u.day < 31 && !u.late ? onTime : late);
          const logs = logsOf(list, arrival);
          const all = logs.flatMap((l) => l.billed);
          for (const log of logs) await hub.ingest(log);
          hub.clock.now = NOV_2;
          await hub.ledger.close('2026-10');
          const frozen = JSON.stringify(await hub.ledger.invoices('2026-10'));
          hub.clock.now = DEC_2;
          await hub.ledger.close('2026-11');

          const members = await hub.directory.list(hub.db, 'member');
          const employers = await hub.directory.list(hub.db, 'employer');
          const rate = (period: string, events: BilledEvent[]) =>
            ratePeriod({
              period,
              prices: EXAMPLE_PRICE_LIST,
              members,
              employers,
              plans: EXAMPLE_PLANS,
              events,
              zones: ZONES,
            }).lines;
          const octOnTime = rate(
            '2026-10',
            all.filter((e) => e.receivedAt === onTime),
          );
          const octAll = rate('2026-10', all);
          expect(JSON.stringify(await hub.ledger.invoices('2026-10'))).toBe(frozen);
          expect(sum(await hub.ledger.invoices('2026-10'), (i) => i.subtotalCents)).toBe(
            sum(octOnTime, (l) => l.amountCents),
          );
          const nov = (await hub.ledger.invoices('2026-11')).flatMap((i) => i.lines);
          // What the late events took off is on credit notes (tests/unit/billing-credit-notes.test.ts).
          const credited = (await hub.ledger.creditNotesOf('2026-10')).flatMap((c) => c.lines);
          expect(
            sum(
              nov.filter((l) => l.adjusts === '2026-10'),
              (l) => l.amountCents,
            ) - sum(credited, (l) => l.amountCents),
          ).toBe(sum(octAll, (l) => l.amountCents) - sum(octOnTime, (l) => l.amountCents));
          expect(
            sum(
              nov.filter((l) => l.adjusts === null),
              (l) => l.amountCents,
            ),
          ).toBe(sum(rate('2026-11', all), (l) => l.amountCents));
        } finally {
          await hub.close();
        }
      }),
      // A hub each run: on PostgreSQL a fresh schema with every migration, so fewer runs there.
      { numRuns: storeRuns({ sqlite: 40, postgres: 10 }) },
    );
  });
});
