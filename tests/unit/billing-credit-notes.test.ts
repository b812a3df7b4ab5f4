import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingLedger } from '../../cloud-sync/billing/ledger.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod } from '../../cloud-sync/billing/rate.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { Invoice } from '../../shared/protocol/api/hub-billing.js';
import type { Member } from '../../shared/protocol/directory.js';
import { login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { HUB_DB_KIND, lastingHubDb, storeRuns } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { BILLING_DATES, billingHub, EXAMPLE_PLANS, employer, member, muratHub, SiteLog } from './billing-fixtures.js';

const { NOV_2, DEC_2, JAN_2 } = BILLING_DATES;
const HOUR = 3_600_000;
const sum = <T>(list: readonly T[], f: (x: T) => number) => list.reduce((s, x) => s + f(x), 0);
const accountOf = (i: Invoice) => `${i.account.kind}:${i.account.id}`;

/** Each error code or result of calls run at once. */
async function outcomes<T>(calls: Array<Promise<T>>): Promise<Array<T | string>> {
  return Promise.all(
    calls.map((c) =>
      c.catch((err: unknown) => {
        if (err instanceof TesseraError) return err.code;
        throw err;
      }),
    ),
  );
}

/** Every invoice and credit note of the ledger, by number. */
async function documents(db: HubDb) {
  const parse = (bodies: string[]) => bodies.map((b) => JSON.parse(b) as Invoice);
  return {
    invoices: parse(await db.column<string>('SELECT body FROM billing_invoices ORDER BY year, seq')),
    creditNotes: parse(await db.column<string>('SELECT body FROM billing_credit_notes ORDER BY year, seq')),
  };
}

/** Credit note numbers are gapless per year: AV-YYYY-000001 onwards, none twice. */
function expectGapless(numbers: readonly string[]) {
  const byYear = new Map<string, number[]>();
  for (const n of numbers) {
    const m = /^AV-(\d{4})-(\d{6})$/.exec(n);
    expect(m, n).not.toBeNull();
    byYear.set(m?.[1] ?? '', [...(byYear.get(m?.[1] ?? '') ?? []), Number(m?.[2])]);
  }
  for (const seqs of byYear.values()) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
}

// ---------------------------------------------------------------------------------------------
// The property: nothing counted twice or lost, whoever the corrections go to.

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
const EMPLOYERS = [employer('acme', 'Acme SA'), employer('beta', 'Beta SARL')];
const PERIODS = ['2026-10', '2026-11', '2026-12'];
/** The three closes, each at the start of the month after its own. */
const CLOSES = [NOV_2, DEC_2, JAN_2];

interface Use {
  member: number;
  site: number;
  /** Days from 1 October 2026 (92: to 31 December). */
  day: number;
  hour: number;
  minutes: number;
  consumable: 'print-page' | 'coffee' | null;
  /** How many closes after its own month's the event reaches the hub (0: in time). */
  late: number;
  /** How many closes later still the check-out comes (a visit open at a close: a full day then). */
  outLater: number;
}

const uses = fc.array(
  fc.record({
    member: fc.nat({ max: MEMBERS.length - 1 }),
    site: fc.nat({ max: SITES.length - 1 }),
    day: fc.nat({ max: 91 }),
    hour: fc.integer({ min: 6, max: 20 }),
    minutes: fc.integer({ min: 30, max: 600 }),
    consumable: fc.constantFrom<Use['consumable']>(null, null, null, 'print-page', 'coffee'),
    late: fc.constantFrom(0, 0, 1, 2),
    outLater: fc.constantFrom(0, 1, 1, 2),
  }),
  // Enough uses that most runs correct a closed month both ways (a month's own visits make no correction).
  { minLength: 15, maxLength: 60 },
);

/** Members moving to another employer (or to none) before the second or third close. */
const moves = fc.array(
  fc.record({
    member: fc.nat({ max: MEMBERS.length - 1 }),
    to: fc.constantFrom<string | undefined>(undefined, 'acme', 'beta'),
    beforeClose: fc.constantFrom(1, 2),
  }),
  { maxLength: 3 },
);

const dateOf = (day: number) => new Date(Date.UTC(2026, 9, 1 + day)).toISOString().slice(0, 10);
const monthIndex = (day: number) => PERIODS.indexOf(dateOf(day).slice(0, 7));
/** An hour before close `k`: its events are on it; past the last close, never billed (not generated). */
const beforeClose = (k: number) => (CLOSES[Math.min(k, CLOSES.length - 1)] as number) - HOUR;

function logsOf(list: readonly Use[]): SiteLog[] {
  const logs = SITES.map((s) => new SiteLog(s));
  for (const u of [...list].sort((a, b) => a.day - b.day || a.hour - b.hour)) {
    const log = logs[u.site] as SiteLog;
    const id = (MEMBERS[u.member] as Member).id;
    const arrives = monthIndex(u.day) + u.late;
    const at = beforeClose(arrives);
    if (u.consumable) log.use(id, dateOf(u.day), u.consumable, Math.ceil(u.minutes / 60), at);
    else
      log.visit(
        id,
        dateOf(u.day),
        `${String(u.hour).padStart(2, '0')}:00`,
        u.minutes,
        at,
        beforeClose(arrives + u.outLater),
      );
  }
  return logs;
}

describe('credit notes (fast-check)', () => {
  it('for every month: its invoices, plus the later adjustments of it, less the credit notes of it, are the rating of all its events', async () => {
    await fc.assert(
      fc.asyncProperty(uses, moves, async (list, moved) => {
        const hub = await billingHub();
        try {
          for (const e of EMPLOYERS) await hub.directory.upsert(hub.db, 'employer', e);
          for (const [plan, days] of [['murat-week'], ['soho-solo', 5], ['murat-2-days', 2]] as const)
            await hub.directory.upsert(hub.db, 'plan', { id: plan, name: plan, access: 'staffed', daysPerWeek: days });
          for (const m of MEMBERS) await hub.directory.upsert(hub.db, 'member', m);
          await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
          await hub.ledger.parties.setBuyer(undefined, 'employer:acme', {
            kind: 'business',
            name: 'Acme SA',
            siren: '542107651',
            address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
            language: 'en',
          });
          const logs = logsOf(list);
          for (const log of logs) await hub.ingest(log);
          const frozen: string[] = [];
          for (const [k, period] of PERIODS.entries()) {
            for (const m of moved.filter((x) => x.beforeClose === k)) {
              const { employer: _, ...rest } = (await hub.directory.get(
                hub.db,
                'member',
                MEMBERS[m.member]?.id ?? '',
              )) as Member;
              await hub.directory.upsert(hub.db, 'member', m.to === undefined ? rest : { ...rest, employer: m.to });
            }
            hub.clock.now = CLOSES[k] as number;
            await hub.ledger.close(period);
            // The directory is as the close rated with: its invoices and credit notes re-issue byte for byte.
            expect(await hub.ledger.verify(period)).toMatchObject({ identical: true });
            frozen.push(JSON.stringify(await hub.ledger.invoices(period)));
          }
          const { invoices, creditNotes } = await documents(hub.db);
          // A closed invoice is never changed.
          for (const [k, period] of PERIODS.entries())
            expect(JSON.stringify(await hub.ledger.invoices(period))).toBe(frozen[k]);
          const members = await hub.directory.list(hub.db, 'member');
          const employers = await hub.directory.list(hub.db, 'employer');
          const all = logs.flatMap((l) => l.billed);
          for (const period of PERIODS) {
            const rated = ratePeriod({
              period,
              prices: EXAMPLE_PRICE_LIST,
              plans: EXAMPLE_PLANS,
              members,
              employers,
              events: all,
              zones: ZONES,
            });
            const invoiced = sum(
              invoices.flatMap((i) => i.lines.filter((l) => (l.adjusts ?? i.period) === period)),
              (l) => l.amountCents,
            );
            const credited = sum(
              creditNotes.flatMap((c) => c.lines.filter((l) => l.adjusts === period)),
              (l) => l.amountCents,
            );
            expect(invoiced - credited, period).toBe(sum(rated.lines, (l) => l.amountCents));
          }
          expectGapless(creditNotes.map((c) => c.number ?? ''));
          for (const note of creditNotes) {
            // A credit note credits (positive amounts), and only what its invoice's customer was billed for the member.
            expect(note).toMatchObject({ type: 'credit-note', issueDate: expect.any(String) as string });
            expect(note.lines.every((l) => l.amountCents > 0)).toBe(true);
            const corrected = invoices.find((i) => i.number === note.corrects?.number) as Invoice;
            expect(accountOf(note)).toBe(accountOf(corrected));
            expect(note.corrects?.issueDate).toBe(corrected.issueDate);
            for (const l of note.lines)
              expect(
                corrected.lines.some((c) => c.member === l.member && (c.adjusts ?? corrected.period) === l.adjusts),
              ).toBe(true);
          }
          // What a late event adds goes to the customer first invoiced for the member's month, wherever the member is now.
          for (const inv of invoices)
            for (const l of inv.lines.filter((x) => x.adjusts !== null && x.amountCents > 0)) {
              const first = invoices.find(
                (o) => o.period === l.adjusts && o.lines.some((x) => x.member === l.member && x.adjusts === null),
              );
              if (first) expect(accountOf(inv)).toBe(accountOf(first));
            }
          // No invoice credits: a line taking off a month's charge of a member invoiced for it is on a credit note.
          for (const inv of invoices)
            for (const l of inv.lines.filter((x) => x.adjusts !== null && x.amountCents < 0))
              expect(
                invoices.some(
                  (o) =>
                    o.period < inv.period &&
                    o.lines.some((x) => x.member === l.member && (x.adjusts ?? o.period) === l.adjusts),
                ),
              ).toBe(false);
        } finally {
          await hub.close();
        }
      }),
      // A hub each run: on PostgreSQL a fresh schema with every migration, so fewer runs there.
      { numRuns: storeRuns({ sqlite: 40, postgres: 8 }) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Examples.

describe('late corrections of a closed month', () => {
  let hub: Awaited<ReturnType<typeof billingHub>>;
  beforeEach(async () => {
    hub = await billingHub();
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
  });
  afterEach(() => hub.close());

  it('credits what a late check-out took off, on a credit note naming the invoice; what it adds is on the next invoice', async () => {
    // Ana checked in on 30 November; her check-out (3 h: a half day) reaches the hub on 10 December.
    await hub.ingest(
      new SiteLog('murat', '+01:00', NOV_2)
        .visit('ana', '2026-11-02', '09:00', 480)
        .visit('ana', '2026-11-30', '09:00', 180, NOV_2, Date.parse('2026-12-10T08:00:00Z')),
    );
    hub.clock.now = DEC_2;
    await hub.ledger.close('2026-11');
    const november = (await hub.ledger.invoices('2026-11')).find((i) => i.account.id === 'ana') as Invoice;
    expect(november.lines.map((l) => [l.kind, l.quantity, l.dates])).toEqual([
      ['day', 2, ['2026-11-02', '2026-11-30']], // the open visit of the 30th: a full day
    ]);
    hub.clock.now = JAN_2;
    expect(await hub.ledger.close('2026-12')).toMatchObject({ creditNotes: 1, invoices: 2 });
    const [note, ...others] = await hub.ledger.creditNotesIssuedIn('2026-12');
    expect(others).toEqual([]);
    expect(note).toMatchObject({
      type: 'credit-note',
      number: 'AV-2027-000001', // numbered in the year of its issue, 2 January 2027
      corrects: { number: november.number, issueDate: '2026-12-02' },
      issueDate: '2027-01-02',
      servicePeriod: { from: '2026-11-01', to: '2026-11-30' },
      period: '2026-11',
      account: { kind: 'member', id: 'ana' },
      subtotalCents: 2000,
      vatCents: 400,
      totalCents: 2400,
      mentions: [
        `Avoir sur la facture n° ${november.number ?? ''} du 2 décembre 2026.`,
        'Motif : correction de novembre 2026 après la réception d’événements tardifs.',
      ],
    });
    expect(note?.dueDate).toBeUndefined();
    expect(note?.lines.map((l) => [l.adjusts, l.kind, l.quantity, l.amountCents, l.description])).toEqual([
      ['2026-11', 'day', 1, 2000, 'Journées : 30 novembre 2026'],
    ]);
    const december = (await hub.ledger.invoices('2026-12')).find((i) => i.account.id === 'ana');
    expect(december?.lines.map((l) => [l.adjusts, l.kind, l.amountCents])).toEqual([['2026-11', 'half-day', 1000]]);
    expect(await hub.ledger.invoice('AV-2027-000001')).toEqual(note);
    expect(await hub.ledger.creditNotesOf('2026-11')).toEqual([note]);
    expect(await hub.ledger.verify('2026-12')).toEqual({ period: '2026-12', identical: true, differing: [] });
    // Once the note is stored, verify compares it too: a changed byte is reported by its number.
    await hub.db.run("UPDATE billing_credit_notes SET body = replace(body, 'Motif', 'Raison')");
    expect(await hub.ledger.verify('2026-12')).toEqual({
      period: '2026-12',
      identical: false,
      differing: ['AV-2027-000001'],
    });
  });

  it("addresses a month's corrections to the customer invoiced for it after the member changed employer", async () => {
    await hub.directory.upsert(hub.db, 'employer', { id: 'beta', name: 'Beta SARL' });
    await hub.directory.upsert(hub.db, 'member', { id: 'dan', name: 'Dan', plan: 'murat-day', employer: 'acme' });
    await hub.ledger.parties.setBuyer(undefined, 'employer:acme', {
      kind: 'business',
      name: 'Acme SA',
      siren: '542107651',
      address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
      language: 'en',
    });
    const murat = new SiteLog('murat', '+01:00', NOV_2)
      .visit('dan', '2026-11-02', '09:00', 480)
      .visit('dan', '2026-11-30', '09:00', 120, NOV_2, Date.parse('2026-12-05T08:00:00Z'));
    await hub.ingest(murat);
    hub.clock.now = DEC_2;
    await hub.ledger.close('2026-11');
    const acmeNovember = (await hub.ledger.invoices('2026-11')).find((i) => i.account.id === 'acme') as Invoice;
    // Dan works for Beta from December; the site's November visit of the 16th and his 30th's check-out come late.
    await hub.directory.upsert(hub.db, 'member', { id: 'dan', name: 'Dan', plan: 'murat-day', employer: 'beta' });
    await hub.ingest(
      new SiteLog('reichstett', '+01:00', Date.parse('2026-12-05T08:00:00Z'))
        .visit('dan', '2026-11-16', '09:00', 480)
        .visit('dan', '2026-12-07', '09:00', 480),
    );
    hub.clock.now = JAN_2;
    await hub.ledger.close('2026-12');
    const [note] = await hub.ledger.creditNotesIssuedIn('2026-12');
    expect(note).toMatchObject({
      account: { kind: 'employer', id: 'acme', name: 'Acme SA' },
      corrects: { number: acmeNovember.number },
      language: 'en', // the corrected invoice's
      buyer: { name: 'Acme SA' },
      lines: [{ member: 'dan', kind: 'day', amountCents: 2000, description: 'Days: 30 November 2026' }],
    });
    const december = await hub.ledger.invoices('2026-12');
    const acme = december.find((i) => i.account.id === 'acme');
    const beta = december.find((i) => i.account.id === 'beta');
    // What November's late events add is Acme's, on its December invoice, in its language.
    expect(
      acme?.lines.filter((l) => l.member === 'dan').map((l) => [l.adjusts, l.kind, l.site, l.description]),
    ).toEqual([
      ['2026-11', 'half-day', 'murat', 'Half days (under 240 min): 30 November 2026'],
      ['2026-11', 'day', 'reichstett', 'Days: 16 November 2026'],
    ]);
    // December's own visit is Beta's.
    expect(beta?.lines.map((l) => [l.adjusts, l.member, l.kind, l.dates])).toEqual([
      [null, 'dan', 'day', ['2026-12-07']],
    ]);
    expect(await hub.ledger.verify('2026-12')).toMatchObject({ identical: true });
  });
});

describe("an operator's credit note", () => {
  let hub: Hub;
  let clock: ManualClock;
  let headers: AuthHeaders;
  beforeEach(async () => {
    clock = new ManualClock('2026-12-02T09:00:00Z');
    ({ hub, headers } = await muratHub(clock, [{ id: 'ana', name: 'Ana' }]));
    await hub.billing.setPrices(EXAMPLE_PRICE_LIST);
    const log = new SiteLog('murat', '+01:00', NOV_2)
      .visit('ana', '2026-11-02', '09:00', 480)
      .visit('ana', '2026-11-03', '09:00', 60)
      .visit('ana', '2026-11-30', '09:00', 120, NOV_2, Date.parse('2026-12-10T08:00:00Z'));
    for (const { event, receivedAt } of log.events)
      await hub.store.ingest({ v: 1, site: 'murat', events: [event] }, receivedAt);
    await hub.billing.close('2026-11');
  });
  afterEach(async () => hub.stop());

  /** Moves the clock, and logs in again (the session has expired meanwhile). */
  const moveTo = async (ms: number) => {
    clock.advanceTo(ms);
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  };
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
    hub.api.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('cancels what is left of an invoice, once; a later close credits it no more', async () => {
    await moveTo(Date.parse('2026-12-12T10:00:00Z'));
    const invoice = (await call('GET', '/billing/invoices/2026-000001')).json<Invoice>();
    expect((await call('POST', '/billing/invoices/2026-000001/credit-note', { reason: ' ' })).statusCode).toBe(400);
    expect((await call('POST', '/billing/invoices/2026-000009/credit-note', { reason: 'x' })).statusCode).toBe(404);
    const r = await call('POST', '/billing/invoices/2026-000001/credit-note', { reason: 'Geste commercial' });
    expect(r.statusCode).toBe(201);
    const note = r.json<Invoice>();
    expect(note).toMatchObject({
      type: 'credit-note',
      number: 'AV-2026-000001',
      corrects: { number: '2026-000001', issueDate: '2026-12-02' },
      issueDate: '2026-12-12',
      period: '2026-11',
      account: invoice.account,
      subtotalCents: invoice.subtotalCents,
      vatCents: invoice.vatCents,
      totalCents: invoice.totalCents,
      mentions: ['Avoir sur la facture n° 2026-000001 du 2 décembre 2026.', 'Motif : Geste commercial'],
    });
    expect(note.lines.map((l) => [l.adjusts, l.kind, l.quantity, l.description])).toEqual(
      invoice.lines.map((l) => ['2026-11', l.kind, l.quantity, l.description]),
    );
    const again = await call('POST', '/billing/invoices/2026-000001/credit-note', { reason: 'twice' });
    expect([again.statusCode, again.json<{ code: string }>().code]).toEqual([409, 'conflict']);
    expect((await call('GET', '/billing/invoices/AV-2026-000001')).json()).toEqual(note);
    expect((await call('GET', '/billing/periods/2026-11/credit-notes')).json()).toEqual({ creditNotes: [note] });
    // A member's export lists the credit notes naming them after their invoices.
    const exported = (await call('GET', '/directory/members/ana/export')).json<{
      invoices: Array<{ number: string }>;
    }>();
    expect(exported.invoices.map((i) => i.number)).toEqual(['2026-000001', 'AV-2026-000001']);
    // Its check-out of the 30th (2 h: a half day) came late: the day it took off is credited already.
    await moveTo(JAN_2);
    const closed = await call('POST', '/billing/periods/2026-12/close');
    expect(closed.json()).toMatchObject({ creditNotes: 0 });
    const view = (await call('GET', '/billing/periods/2026-12')).json<{
      invoices: unknown[];
      creditNotes: unknown[];
    }>();
    expect(view.creditNotes).toEqual([]);
    // What it adds is still billed: the half day, on December's invoice.
    const [december] = (await call('GET', '/billing/periods/2026-12/invoices')).json<{ invoices: Invoice[] }>()
      .invoices;
    expect(december?.lines.map((l) => [l.adjusts, l.kind, l.amountCents])).toEqual([['2026-11', 'half-day', 1000]]);
    expect((await call('GET', '/billing/periods/2026-12/verify')).json()).toMatchObject({ identical: true });
    const audit = await hub.store.db.all<{ entity: string; entity_id: string }>(
      "SELECT entity, entity_id FROM audit_log WHERE entity = 'credit-note'",
    );
    expect(audit).toEqual([{ entity: 'credit-note', entity_id: 'AV-2026-000001' }]);
  });

  it("a close's credit note that settles an overdue invoice lifts the account's hold in the same request", async () => {
    await moveTo(Date.parse('2026-12-20T10:00:00Z'));
    const invoice = (await call('GET', '/billing/invoices/2026-000001')).json<Invoice>();
    const paid = await call('POST', '/billing/payments', {
      invoice: '2026-000001',
      date: '2026-12-20',
      amountCents: invoice.totalCents - 1, // all but a cent
      method: 'card',
    });
    expect(paid.statusCode).toBe(201);
    expect((await call('PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: 0 })).statusCode).toBe(200);
    // Due on 1 January: the cent left is a day overdue on the 2nd; the hourly check holds Ana.
    await moveTo(JAN_2);
    await hub.payments.checkHolds();
    const held = () => hub.store.db.column<string>('SELECT account FROM access_holds');
    expect(await held()).toEqual(['member:ana']);
    const before = await hub.directory.revision(hub.store.db);
    // December's close credits the day her late check-out took off November's invoice.
    expect((await call('POST', '/billing/periods/2026-12/close')).json()).toMatchObject({ creditNotes: 1 });
    expect(await held()).toEqual([]);
    expect(await hub.directory.revision(hub.store.db)).toBe(before + 1);
    const sent = await hub.directory.changesFor(hub.store.db, 'murat', before);
    expect(sent).toEqual([
      expect.objectContaining({ entity: 'member', op: 'upsert', value: expect.objectContaining({ id: 'ana' }) }),
    ]);
    expect(JSON.stringify(sent)).not.toContain('billingHold');
  });

  it('credits only what the credit notes of late corrections left', async () => {
    // The late check-out is credited at December's close first: the day of the 30th.
    await moveTo(JAN_2);
    await hub.billing.close('2026-12');
    const [late] = await hub.billing.creditNotesIssuedIn('2026-12');
    expect(late).toMatchObject({ number: 'AV-2027-000001', subtotalCents: 2000 });
    const invoice = (await hub.billing.invoice('2026-000001')) as Invoice;
    const r = await call('POST', '/billing/invoices/2026-000001/credit-note', { reason: 'Contestation' });
    expect(r.json()).toMatchObject({
      number: 'AV-2027-000002',
      subtotalCents: invoice.subtotalCents - 2000,
    });
    expect(r.json<Invoice>().lines.map((l) => [l.kind, l.quantity, l.dates])).toEqual([
      ['day', 1, ['2026-11-02', '2026-11-30']],
      ['half-day', 1, ['2026-11-03']],
    ]);
  });
});

describe('credit notes numbered at once by two hub instances', () => {
  let dir: string;
  let hub: Awaited<ReturnType<typeof billingHub>>;
  let other: BillingLedger;
  let otherDb: HubDb | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-credit-race-'));
    const path = await lastingHubDb(dir);
    hub = await billingHub(silent, path);
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    // On PostgreSQL a second instance with its own pool; a hub on SQLite is one process, one connection.
    otherDb = HUB_DB_KIND === 'postgres' ? await openHubDatabase(path) : undefined;
    const db = otherDb ?? hub.db;
    other = new BillingLedger({
      db,
      directory: new HubDirectory(db),
      sites: new HubSites(db, () => hub.clock.now),
      now: () => hub.clock.now,
      log: silent,
    });
  });
  afterEach(async () => {
    await otherDb?.close();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('number every credit note once, without gaps, and never credit an invoice beyond what it billed', async () => {
    const people = ['ana', 'e1', 'e2', 'e3', 'e4'];
    for (const id of people.slice(1)) await hub.directory.upsert(hub.db, 'member', member(id, 'murat-day'));
    const late = Date.parse('2026-11-10T08:00:00Z');
    const log = new SiteLog('murat', '+01:00', Date.parse('2026-10-31T08:00:00Z'));
    // Each checked in on 30 October; the check-outs of ana, e1 and e4 (2 h) come after October closed.
    // e1 and e4 also have a day in time: the close credits part of their invoices, the operator the rest.
    for (const id of ['e1', 'e4']) log.visit(id, '2026-10-29', '09:00', 480);
    for (const id of people)
      log.visit(id, '2026-10-30', '09:00', 120, undefined, ['ana', 'e1', 'e4'].includes(id) ? late : undefined);
    await hub.ingest(log);
    await hub.ledger.close('2026-10');
    const october = await hub.ledger.invoices('2026-10');
    const numberOf = (id: string) => october.find((i) => i.account.id === id)?.number ?? '';
    hub.clock.now = DEC_2;
    // Two of the operator's credit notes start as a close is about to store its own (it has rated and issued them).
    let racing: Promise<unknown[]> | undefined;
    const race = () =>
      (racing ??= outcomes<unknown>([
        other.creditInvoice(undefined, numberOf('e1'), 'dispute'),
        hub.ledger.creditInvoice(undefined, numberOf('e4'), 'dispute'),
      ]));
    const results = await outcomes<unknown>([
      hub.ledger.close('2026-11', (phase) => {
        if (phase === 'writing invoices') void race();
      }),
      other.close('2026-11'),
      hub.ledger.creditInvoice(undefined, numberOf('e2'), 'double billing'),
      other.creditInvoice(undefined, numberOf('e3'), 'gesture'),
      hub.ledger.creditInvoice(undefined, numberOf('e2'), 'double billing, again'),
    ]);
    // (Had the other close stored before this one read anything, they run now.)
    const raced = await race();
    expect(results.filter((r) => r === 'billing.period_closed')).toHaveLength(1);
    expect([results[2], results[4]].filter((r) => r === 'conflict')).toHaveLength(1);
    expect([...results, ...raced].filter((r) => typeof r === 'string')).toHaveLength(2);
    const { invoices, creditNotes } = await documents(hub.db);
    expectGapless(creditNotes.map((c) => c.number ?? ''));
    const credited = (number: string) =>
      sum(
        creditNotes.filter((c) => c.corrects?.number === number),
        (c) => c.subtotalCents,
      );
    const billed = (number: string) => invoices.find((i) => i.number === number)?.subtotalCents ?? 0;
    // Ana's late check-out: her full day (the open visit) became a half day: the day credited once,
    // the half day billed on November's invoice.
    expect(credited(numberOf('ana'))).toBe(2000);
    // Credited by hand: all of it, whichever stored first, the close or the operator.
    for (const id of ['e1', 'e2', 'e3', 'e4']) expect(credited(numberOf(id)), id).toBe(billed(numberOf(id)));
    expect(await hub.ledger.verify('2026-11')).toMatchObject({ identical: true });
  });
});
