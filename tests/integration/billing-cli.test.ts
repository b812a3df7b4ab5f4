import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingLedger } from '../../cloud-sync/billing/ledger.js';
import { invoicesCsv } from '../../cloud-sync/billing/export.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { systemClock } from '../../shared/platform/clock.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { runCli } from '../harness/process.js';
import { SiteLog } from '../unit/billing-fixtures.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

/** A hub database with October 2026 visits of two members of Acme and one on her own, received long ago. */
async function seedHubDb(path: string, prices = true): Promise<void> {
  const db = await openHubDatabase(path);
  const directory = new HubDirectory(db);
  await new HubSites(db, Date.now).upsert(db, { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
  await directory.upsert(db, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
  await directory.upsert(db, 'employer', { id: 'acme', name: 'Acme SA' });
  for (const id of ['ana', 'bob'])
    await directory.upsert(db, 'member', { id, name: id, plan: 'murat-day', employer: 'acme' });
  await directory.upsert(db, 'member', { id: 'eve', name: 'Eve', plan: 'murat-day' });
  const receivedAt = Date.parse('2026-11-01T12:00:00Z');
  const log = new SiteLog('murat', '+01:00', receivedAt)
    .visit('ana', '2026-10-27', '09:00', 480)
    .visit('bob', '2026-10-28', '09:00', 120)
    .visit('eve', '2026-10-29', '09:00', 300);
  const store = new HubStore(db);
  for (const { event } of log.events) await store.ingest({ v: 1, site: 'murat', events: [event] }, receivedAt);
  if (prices)
    await new BillingLedger({ db, directory, sites: new HubSites(db, Date.now), now: Date.now, log: silent }).setPrices(
      EXAMPLE_PRICE_LIST,
    );
  await db.close();
}

describe('tessera billing (the commands)', () => {
  let dir: string;
  let db: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-billing-'));
    db = await lastingHubDb(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('closes a month with progress on stderr, then exports its invoices as CSV and JSON', async () => {
    await seedHubDb(db);
    const close = await runCli(['billing', 'close', '2026-10', '--db', db]);
    expect([close.code, close.stderr]).toEqual([0, expect.any(String)]);
    // acme: a day (20.00) and a half-day (10.00) + 20 % VAT = 36.00; eve: a day, 24.00.
    expect(close.stdout).toContain(
      'closed 2026-10: 2 invoice(s) (2026-000001 to 2026-000002); subtotal 50.00 EUR, VAT 10.00 EUR, total 60.00 EUR',
    );
    expect(close.stderr).toContain('billing: reading events: 0% (0/6)');
    expect(close.stderr).toContain('billing: reading events: 100% (6/6)');
    expect(close.stderr).toContain('billing: writing invoices: 100% (2/2)');

    const csv = await runCli(['billing', 'export', '2026-10', '--db', db]);
    expect(csv.code).toBe(0);
    // Every row ends with CRLF, the last one too: the bytes the API serves (export.ts).
    const handle = await openHubDatabase(db);
    const ledger = new BillingLedger({
      db: handle,
      directory: new HubDirectory(handle),
      sites: new HubSites(handle, Date.now),
      now: Date.now,
      log: silent,
    });
    expect(csv.stdout).toBe(invoicesCsv(await ledger.invoices('2026-10')));
    await handle.close();
    expect(csv.stdout.endsWith('\r\n')).toBe(true);
    expect(csv.stdout.split('\r\n').some((row) => row.includes('\n'))).toBe(false);
    const rows = csv.stdout.trim().split('\r\n');
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatch(
      /^2026-000001,2026-10,employer,acme,Acme SA,ana,ana,murat,day,,Journées : 27 octobre 2026,,2026-10-27,1,20.00,20.00,20,4.00,EUR$/,
    );
    const json = await runCli([
      'billing',
      'export',
      '2026-10',
      '--db',
      db,
      '--format',
      'json',
      '--invoice',
      '2026-000002',
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      invoices: [{ number: '2026-000002', account: { id: 'eve' }, totalCents: 2400 }],
    });
  });

  it('--json prints what close and fec did as one object on stdout, progress and notes still on stderr', async () => {
    await seedHubDb(db);
    const close = await runCli(['billing', 'close', '2026-10', '--db', db, '--json']);
    expect(close.code, close.stderr).toBe(0);
    expect(JSON.parse(close.stdout)).toMatchObject({
      period: '2026-10',
      invoices: 2,
      numbers: { first: '2026-000001', last: '2026-000002' },
      creditNotes: null,
      currency: 'EUR',
      subtotalCents: 5000,
      vatCents: 1000,
      totalCents: 6000,
    });
    expect(close.stderr).toContain('billing: writing invoices: 100% (2/2)');
    const fec = await runCli(['billing', 'fec', '--year', '2026', '--db', db, '--out', dir, '--json']);
    expect(fec.code, fec.stderr).toBe(0);
    expect(JSON.parse(fec.stdout)).toMatchObject({
      file: expect.stringMatching(/FEC20261231\.txt$/),
      from: '2026-01-01',
      to: '2026-12-31',
      entries: 2,
      debitCents: 6000,
      creditCents: 6000,
    });
    const stdoutFec = await runCli(['billing', 'fec', '--year', '2026', '--db', db, '--out', '-', '--json']);
    expect(stdoutFec.code).toBe(64);
    const exported = await runCli(['billing', 'export', '2026-10', '--db', db, '--json']);
    expect((JSON.parse(exported.stdout) as { invoices: unknown[] }).invoices).toHaveLength(2);
  });

  it('previews and closes a month holding uses of items without a price: exit 0, one warning per site and item, names quoted', async () => {
    await seedHubDb(db);
    const handle = await openHubDatabase(db);
    const store = new HubStore(handle);
    // A new item, and a name with a terminal escape an older hub stored before names were checked.
    const escape = '\u001b[2J<img src=x>';
    for (const [seq, item] of [
      [7, 'scan-page'],
      [8, 'scan-page'],
      [9, escape],
    ] as const) {
      const event = {
        v: 1,
        site: 'murat',
        seq,
        id: `0190a000-0000-7000-8000-00000000000${seq}`,
        at: '2026-10-28T10:00:00.000+01:00',
        type: 'consumable.used',
        data: { memberId: 'ana', item, quantity: 2 },
      };
      await store.ingest(
        { v: 1, site: 'murat', events: [event as EventBatch['events'][number]] },
        Date.parse('2026-11-01T12:00:00Z'),
      );
    }
    await handle.close();
    const warnings = [
      'warning: item "\\u001b[2J<img src=x>" has no price: 1 use(s), 2 unit(s) at murat in 2026-10 not charged',
      'warning: item "scan-page" has no price: 2 use(s), 4 unit(s) at murat in 2026-10 not charged',
    ];
    const preview = await runCli(['billing', 'export', '2026-10', '--db', db]);
    expect(preview.code).toBe(0);
    expect(preview.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual(warnings);
    const close = await runCli(['billing', 'close', '2026-10', '--db', db]);
    expect(close.code).toBe(0);
    expect(close.stdout).toContain('closed 2026-10: 2 invoice(s)');
    expect(close.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual(warnings);
    expect(close.stderr).not.toContain('\u001b');
  });

  it('refuses a bad month (usage), a month closed twice or not over, and a database without prices, each with its code', async () => {
    await seedHubDb(db, false);
    const bad = await runCli(['billing', 'close', '2026-13', '--db', db]);
    expect([bad.code, bad.stderr]).toEqual([64, expect.stringContaining('expected a month "YYYY-MM", got "2026-13"')]);
    expect((await runCli(['billing', 'close', '--db', db])).code).toBe(64);
    const missing = await runCli(['billing', 'close', '2026-10', '--db', join(dir, 'typo.db')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('no hub database at')]);
    const unpriced = await runCli(['billing', 'close', '2026-10', '--db', db]);
    expect([unpriced.code, unpriced.stderr]).toEqual([1, expect.stringContaining('[billing.unpriced]')]);
    const pricedDb = await lastingHubDb(dir, 'priced.db');
    await seedHubDb(pricedDb);
    const priced = await runCli(['billing', 'close', '2026-10', '--db', pricedDb]);
    expect([priced.code, priced.stderr]).toEqual([0, expect.any(String)]);
    const twice = await runCli(['billing', 'close', '2026-10', '--db', pricedDb]);
    expect([twice.code, twice.stderr]).toEqual([
      1,
      expect.stringContaining('2026-10 is already closed [billing.period_closed]'),
    ]);
    const future = await runCli(['billing', 'close', '2099-01', '--db', pricedDb]);
    expect([future.code, future.stderr]).toEqual([1, expect.stringContaining('[billing.out_of_order]')]);
    expect((await runCli(['billing', 'export', '2026-10', '--db', pricedDb, '--format', 'pdf'])).code).toBe(64);
  });

  it('closes beside a running hub (the same database file), which then serves the invoices over a real socket', async () => {
    await seedHubDb(db);
    const hub = await createHub({
      dbPath: db,
      clock: systemClock,
      log: silent,
      brokerPort: 0,
      apiPort: 0,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    try {
      const { apiUrl } = await hub.start();
      const auth = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
      const close = await runCli(['billing', 'close', '2026-10', '--db', db]);
      expect([close.code, close.stderr]).toEqual([0, expect.any(String)]); // the stderr shows why, should it fail
      const res = await fetch(`${apiUrl}/billing/periods`, {
        headers: { authorization: auth.authorization },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        periods: [{ period: '2026-10', invoices: 2, totalCents: 6000 }],
        next: '2026-11',
      });
      const csv = await fetch(`${apiUrl}/billing/invoices/2026-000002?format=csv`, {
        headers: { authorization: auth.authorization },
        signal: AbortSignal.timeout(10_000),
      });
      expect(csv.headers.get('content-disposition')).toBe('attachment; filename="invoice-2026-000002.csv"');
      expect((await csv.text()).split('\r\n')[1]).toContain('2026-000002,2026-10,member,eve,Eve');
    } finally {
      await hub.stop();
    }
  });
});
