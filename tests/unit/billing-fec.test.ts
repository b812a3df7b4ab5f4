import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issuedDocuments } from '../../cloud-sync/billing/accounting.js';
import { billingFecCommand } from '../../cloud-sync/billing/cli.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { Seller } from '../../shared/protocol/api/hub-billing.js';
import { FAST_PASSWORD_COST, login, loginAs, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { captureIo } from '../support/io.js';
import { silent } from '../support/logger.js';
import { tempDir } from '../support/temp-dir.js';
import { SiteLog } from './billing-fixtures.js';

const SELLER: Seller = {
  name: 'Tessera Coworking',
  legalForm: 'SAS',
  siren: '123456789',
  siret: '12345678900017',
  address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  paymentTermsDays: 30,
  latePenaltyPercent: 12,
};

/** The FEC's lines as cells (the file is ISO 8859-15: each byte one character). */
const table = (bytes: Buffer, separator = '\t') =>
  bytes
    .toString('latin1')
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => l.split(separator));

describe('FEC over the billing API and the command', () => {
  let hub: Hub;
  let clock: ManualClock;
  let admin: AuthHeaders;
  let db: string;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-20T08:00:00Z');
    db = await lastingHubDb(tempDir());
    hub = await createHub({
      dbPath: db,
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    const q = hub.store.db;
    await hub.sites.upsert(q, { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
    await hub.directory.upsert(q, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
    await hub.directory.upsert(q, 'employer', { id: 'acme', name: 'Acme SA' });
    await hub.directory.upsert(q, 'member', { id: 'ana', name: 'Ana Lopez', plan: 'murat-day' });
    await hub.directory.upsert(q, 'member', { id: 'bob', name: 'Bob', plan: 'murat-day', employer: 'acme' });
    const log = new SiteLog('murat', '+01:00', clock.now())
      .visit('ana', '2026-11-02', '09:00', 480)
      .visit('bob', '2026-11-03', '09:00', 480)
      .visit('bob', '2026-11-04', '09:00', 60);
    for (const { event, receivedAt } of log.events)
      await hub.store.ingest({ v: 1, site: 'murat', events: [event] }, receivedAt);
    await hub.billing.setPrices(EXAMPLE_PRICE_LIST);
    // Closed at 00:30 on New Year's Day in Paris: its invoices are dated 1 January 2027.
    clock.advance(Date.parse('2026-12-31T23:30:00Z') - clock.now());
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    expect(
      (await hub.api.inject({ method: 'POST', url: '/billing/periods/2026-11/close', headers: admin })).statusCode,
    ).toBe(200);
  });
  afterEach(async () => hub.stop());

  const get = (url: string, headers = admin) => hub.api.inject({ method: 'GET', url, headers });

  /** A credit note of part of Acme's invoice, stored as the ledger stores them (an operator's: issued in no close). */
  async function storeCreditNote(): Promise<void> {
    const invoice = (await hub.billing.invoice('2026-000001')) as Invoice;
    const creditNote: Invoice = {
      ...invoice,
      type: 'credit-note',
      number: 'AV-2027-000001',
      corrects: { number: '2026-000001', issueDate: '2027-01-01' },
      issueDate: '2027-01-15',
      closedAt: '2027-01-15T10:00:00.000Z',
      seller: SELLER,
      vat: [{ vatPercent: 20, baseCents: 1000, vatCents: 200 }],
      subtotalCents: 1000,
      vatCents: 200,
      totalCents: 1200,
    };
    await hub.store.db.run(
      'INSERT INTO billing_credit_notes (number, year, seq, period, issued_in, corrects, account, total_cents, issued_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        'AV-2027-000001',
        2027,
        1,
        '2026-11',
        null,
        '2026-000001',
        'employer:acme',
        1200,
        Date.parse('2027-01-15T10:00:00.000Z'),
        JSON.stringify(creditNote),
      ],
    );
  }

  it('a year: its invoices and credit notes, one balanced entry each, dated in Paris; ISO 8859-15, named after the seller', async () => {
    // Acme: Bob's day (20.00) and half-day (10.00); Ana: a day (20.00); 20 % VAT.
    expect(table((await get('/billing/fec?year=2026')).rawPayload)).toHaveLength(1);
    await storeCreditNote();
    const r = await get('/billing/fec?year=2027');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=iso-8859-15');
    expect(r.headers['content-disposition']).toBe('attachment; filename="123456789FEC20271231.txt"');
    expect(r.rawPayload.includes(Buffer.from('TVA collect\u00e9e', 'latin1'))).toBe(true);
    const [header, ...rows] = table(r.rawPayload);
    expect(header).toHaveLength(18);
    expect(rows.map((c) => [c[2], c[3], c[4], c[6], c[8], c[11], c[12], c[15]])).toEqual([
      ['VE000001', '20270101', '411000', '411ACME', '2026-000001', '36,00', '0,00', '20270101'],
      ['VE000001', '20270101', '706000', '', '2026-000001', '0,00', '30,00', '20270101'],
      ['VE000001', '20270101', '445711', '', '2026-000001', '0,00', '6,00', '20270101'],
      ['VE000002', '20270101', '411000', '411ANA', '2026-000002', '24,00', '0,00', '20270101'],
      ['VE000002', '20270101', '706000', '', '2026-000002', '0,00', '20,00', '20270101'],
      ['VE000002', '20270101', '445711', '', '2026-000002', '0,00', '4,00', '20270101'],
      ['VE000003', '20270115', '411000', '411ACME', 'AV-2027-000001', '0,00', '12,00', '20270115'],
      ['VE000003', '20270115', '706000', '', 'AV-2027-000001', '10,00', '0,00', '20270115'],
      ['VE000003', '20270115', '445711', '', 'AV-2027-000001', '2,00', '0,00', '20270115'],
    ]);
    expect(rows[6]?.[10]).toBe('Avoir AV-2027-000001 Acme SA (facture 2026-000001)');
    // Read a page at a time, the same documents come out.
    const read = async (page: number) => {
      const numbers = [];
      for await (const d of issuedDocuments(hub.store.db, { from: '2027-01-01', to: '2027-12-31' }, page))
        numbers.push(d.number);
      return numbers;
    };
    expect(await read(1)).toEqual(['2026-000001', '2026-000002', 'AV-2027-000001']);
    expect(await read(2)).toEqual(await read(1));
    // One day on either side of New Year's Eve, and a range of the credit note alone, pipe-separated, another SIREN.
    expect(table((await get('/billing/fec?from=2026-12-31&to=2026-12-31')).rawPayload)).toHaveLength(1);
    expect(table((await get('/billing/fec?from=2027-01-01&to=2027-01-01')).rawPayload)).toHaveLength(7);
    const piped = await get('/billing/fec?from=2027-01-02&to=2027-06-30&separator=pipe&siren=987654321');
    expect(piped.headers['content-disposition']).toBe('attachment; filename="987654321FEC20270630.txt"');
    expect(table(piped.rawPayload, '|').map((c) => c[8])).toEqual(['PieceRef', ...Array(3).fill('AV-2027-000001')]);
  });

  it('refuses a range it cannot take and anyone but an operator', async () => {
    for (const [query, path] of [
      ['', 'year'],
      ['year=2027&from=2027-01-01&to=2027-01-31', 'year'],
      ['from=2027-01-01', 'to'],
      ['from=2027-02-30&to=2027-03-01', 'from'],
      ['from=2027-03-01&to=2027-02-01', 'to'],
      ['from=2027-01-01&to=2029-01-01', 'to'],
      ['year=2027&siren=12345', 'siren'],
      ['year=2027&separator=comma', 'separator'],
    ]) {
      const r = await get(`/billing/fec?${query}`);
      expect([query, r.statusCode, r.json<{ code: string }>().code]).toEqual([query, 400, 'request.invalid']);
      const paths = r.json<{ details: Array<{ path: string }> }>().details.map((d) => d.path);
      expect({ query, paths }).toEqual({ query, paths: expect.arrayContaining([path]) });
    }
    expect((await get('/billing/fec?from=2027-01-01&to=2028-12-31')).statusCode).toBe(200);
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
    for (const url of ['/billing/fec?year=2027', '/billing/fec', '/billing/fec/accounts'])
      expect((await get(url, manager)).json()).toMatchObject({ code: 'auth.forbidden' });
  });

  it('posts to the accounts set (the defaults until then); the command writes the same file as the API', async () => {
    const defaults = (await get('/billing/fec/accounts')).json<{ journal: object; vat: { byRate: object } }>();
    expect(defaults).toMatchObject({ journal: { code: 'VE', label: 'Ventes' }, customers: { account: '411000' } });
    expect(Object.keys(defaults.vat.byRate).sort()).toEqual(['10', '2.1', '20', '5.5']);
    const put = (payload: object) =>
      hub.api.inject({ method: 'PUT', url: '/billing/fec/accounts', headers: admin, payload });
    const bad = await put({ revenue: { account: '411000', label: 'Ventes' }, auxiliary: { acme: 'ACME' } });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['auxiliary.acme', 'revenue.account']);
    const set = await put({
      journal: { code: 'VT', label: 'Ventes de services' },
      auxiliary: { 'member:ana': 'CLANA' },
    });
    expect(set.json()).toMatchObject({ journal: { code: 'VT' }, customers: { account: '411000' } });
    expect((await get('/billing/fec/accounts')).json()).toEqual(set.json());
    const api = await get('/billing/fec?year=2027');
    expect(table(api.rawPayload).map((c) => [c[0], c[2], c[6]])).toContainEqual(['VT', 'VT000002', 'CLANA']);

    await hub.stop();
    const dir = tempDir();
    const io = captureIo();
    expect(await billingFecCommand.run(['--year', '2027', '--db', db, '--out', dir], io)).toBe(0);
    const file = join(dir, 'FEC20271231.txt');
    expect(io.outLines).toEqual([
      `wrote ${file}: 2 entries from 2027-01-01 to 2027-12-31, 6 lines; debit = credit = 60.00 EUR`,
    ]);
    expect(readFileSync(file)).toEqual(api.rawPayload);

    const usage = captureIo();
    expect(await billingFecCommand.run(['--from', '2027-01-01', '--db', db], usage)).toBe(64);
    expect(usage.errLines[0]).toMatch(
      /^tessera: --to: give to with from, but it is missing\nusage: tessera billing fec /,
    );
    expect(await billingFecCommand.run(['--year', '27', '--db', db], usage)).toBe(64);
    expect(usage.errLines[1]).toMatch(/^tessera: --year: expected a year "YYYY", got "27"\n/);
    expect(existsSync(join(dir, 'FEC20271231.txt'))).toBe(true);
  });
});
