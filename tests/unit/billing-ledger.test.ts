import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingLedger, CUTOFF_GRACE_MS } from '../../cloud-sync/billing/ledger.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';
import { HUB_DB_KIND, lastingHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const { NOV_2, DEC_2, JAN_2, FEB_2 } = BILLING_DATES;

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TesseraError) return err.code;
    throw err;
  }
  return undefined;
};

/** What closes running at once gave: each one's summary or error code. */
async function outcomes<T>(closes: Array<Promise<T>>): Promise<Array<T | string>> {
  return Promise.all(
    closes.map((c) =>
      c.catch((err: unknown) => {
        if (err instanceof TesseraError) return err.code;
        throw err;
      }),
    ),
  );
}

/** Every invoice row of the ledger, by year and number, and the periods it closed. */
async function ledgerRows(db: HubDb) {
  return {
    numbers: await db.column<string>('SELECT number FROM billing_invoices ORDER BY year, seq'),
    billed: await db.all('SELECT period, account FROM billing_invoices ORDER BY period, account'),
    periods: await db.column<string>('SELECT period FROM billing_periods ORDER BY period'),
  };
}

describe('closes running at once', () => {
  let dir: string;
  let hub: Awaited<ReturnType<typeof billingHub>>;
  /** Another ledger on the same database: another hub instance where the store allows one beside this. */
  let other: BillingLedger;
  let otherDb: HubDb | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-billing-race-'));
    const path = await lastingHubDb(dir);
    hub = await billingHub(silent, path);
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    // A hub on SQLite is one process holding one connection: a second process is the CLI
    // (tests/integration/billing-cli.test.ts). On PostgreSQL a second instance has its own pool.
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

  it('let one close of a month through and refuse the others, numbers without gaps, nothing billed twice', async () => {
    await hub.ingest(
      new SiteLog('murat', '+01:00', NOV_2)
        .visit('ana', '2026-11-02', '09:00', 480)
        .visit('chloe', '2026-11-03', '09:00', 480),
    );
    hub.clock.now = DEC_2;
    const results = await outcomes([
      hub.ledger.close('2026-11'),
      other.close('2026-11'),
      hub.ledger.close('2026-11'),
      other.close('2026-11'),
    ]);
    const stored = results.filter((r) => typeof r !== 'string');
    expect(stored).toHaveLength(1);
    expect(results.filter((r) => typeof r === 'string')).toEqual(Array(3).fill('billing.period_closed'));
    expect(stored[0]).toMatchObject({ period: '2026-11', invoices: 2 });
    expect(await ledgerRows(hub.db)).toEqual({
      numbers: ['2026-000001', '2026-000002'],
      billed: [
        { period: '2026-11', account: 'employer:acme' },
        { period: '2026-11', account: 'member:ana' },
      ],
      periods: ['2026-11'],
    });
    // The next month numbers on from there, whichever instance closes it.
    hub.clock.now = JAN_2;
    expect(await outcomes([other.close('2026-12'), hub.ledger.close('2026-12')])).toContain('billing.period_closed');
    expect((await ledgerRows(hub.db)).numbers).toEqual(['2026-000001', '2026-000002', '2026-000003']);
  });

  it('refuse a close started while another was reading its events, whichever stores first', async () => {
    await hub.ingest(new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480));
    hub.clock.now = DEC_2;
    let second: Promise<unknown[]> | undefined;
    const first = outcomes([
      hub.ledger.close('2026-11', () => {
        second ??= outcomes([other.close('2026-11')]);
      }),
    ]);
    const results = [...(await first), ...((await second) ?? [])];
    expect(results).toHaveLength(2);
    expect(results.filter((r) => r === 'billing.period_closed')).toHaveLength(1);
    expect((await ledgerRows(hub.db)).numbers).toEqual(['2026-000001', '2026-000002']);
  });

  it('refuse a close that rated before another close stored: run again, it adjusts what that one billed', async () => {
    // The first close of a ledger may be any month: October's and November's, at once.
    const murat = new SiteLog('murat', '+01:00', NOV_2)
      .visit('ana', '2026-10-20', '09:00', 480)
      .visit('ana', '2026-11-02', '09:00', 480);
    await hub.ingest(murat);
    hub.clock.now = DEC_2;
    // November's close reads the ledger as October's starts storing, then rates, then stores.
    const startAt = 'writing invoices';
    let november: Promise<unknown[]> | undefined;
    const october = await outcomes([
      hub.ledger.close('2026-10', (phase) => {
        if (phase === startAt) november ??= outcomes([other.close('2026-11')]);
      }),
    ]);
    expect(october).toMatchObject([{ period: '2026-10', invoices: 2 }]); // acme (Chloé's subscription), ana
    expect(await november).toEqual(['billing.out_of_order']);
    expect(await ledgerRows(hub.db)).toMatchObject({ numbers: ['2026-000001', '2026-000002'], periods: ['2026-10'] });
    // Run again, November's close sees October closed: a late October visit becomes an adjustment.
    await hub.ingest(murat.visit('ana', '2026-10-30', '09:00', 480, DEC_2 + 1000));
    hub.clock.now = DEC_2 + 3_600_000;
    await other.close('2026-11');
    const ana = (await hub.ledger.invoices('2026-11')).find((i) => i.account.id === 'ana');
    expect(ana?.lines.map((l) => [l.adjusts, l.kind, l.dates])).toEqual([
      [null, 'day', ['2026-11-02']],
      ['2026-10', 'day', ['2026-10-30']],
    ]);
    expect((await ledgerRows(hub.db)).numbers).toEqual(['2026-000001', '2026-000002', '2026-000003', '2026-000004']);
  });
});

describe('closing a billing period', () => {
  let hub: Awaited<ReturnType<typeof billingHub>>;
  beforeEach(async () => {
    hub = await billingHub();
  });
  afterEach(() => hub.close());

  it('refuses a bad month, a month not over everywhere, and a ledger without prices', async () => {
    hub.clock.now = DEC_2;
    expect(await codeOf(hub.ledger.close('2026-13'))).toBe('request.invalid');
    expect(await codeOf(hub.ledger.close('november'))).toBe('request.invalid');
    expect(await codeOf(hub.ledger.close('2026-11'))).toBe('billing.unpriced');
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    hub.clock.now = Date.parse('2026-12-01T23:59:59Z');
    expect(await codeOf(hub.ledger.close('2026-11'))).toBe('billing.out_of_order');
    expect(await hub.ledger.periods()).toEqual([]);
  });

  it('freezes the invoices, numbers them without gaps per year, and closes each month once and in order', async () => {
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    await hub.ingest(new SiteLog('murat', '+01:00', NOV_2 + 1000).visit('ana', '2026-11-02', '09:00', 480));
    hub.clock.now = DEC_2;
    const nov = await hub.ledger.close('2026-11');
    expect(nov).toMatchObject({
      period: '2026-11',
      status: 'closed',
      invoices: 2,
      closedAt: '2026-12-02T09:00:00.000Z',
      cutoff: new Date(DEC_2 - CUTOFF_GRACE_MS).toISOString(),
    });
    // Accounts in order: employer:acme, member:ana.
    expect((await hub.ledger.invoices('2026-11')).map((i) => [i.number, i.account.id, i.totalCents])).toEqual([
      ['2026-000001', 'acme', 9600 + 1920],
      ['2026-000002', 'ana', 2000 + 400],
    ]);
    expect(await codeOf(hub.ledger.close('2026-11'))).toBe('billing.period_closed');
    hub.clock.now = FEB_2;
    expect(await codeOf(hub.ledger.close('2027-01'))).toBe('billing.out_of_order');
    expect(await codeOf(hub.ledger.close('2026-10'))).toBe('billing.out_of_order');
    await hub.ledger.close('2026-12');
    await hub.ledger.close('2027-01');
    expect((await hub.ledger.invoices('2026-12')).map((i) => i.number)).toEqual(['2026-000003']); // acme's subscription
    expect((await hub.ledger.invoices('2027-01')).map((i) => i.number)).toEqual(['2027-000001']);
    expect((await hub.ledger.invoice('2026-000002'))?.account.id).toBe('ana');
  });

  it('turns an event that arrives after its period closed into an adjustment on the next invoice, never a change to the closed one', async () => {
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    const murat = new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480);
    await hub.ingest(murat);
    hub.clock.now = DEC_2;
    await hub.ledger.close('2026-11');
    const frozen = JSON.stringify(await hub.ledger.invoices('2026-11'));
    // The site was offline: its 30 November visit (3 h: a half-day) reaches the hub on 10 December.
    await hub.ingest(murat.visit('ana', '2026-11-30', '09:00', 180, Date.parse('2026-12-10T08:00:00Z')));
    hub.clock.now = JAN_2;
    await hub.ledger.close('2026-12');
    expect(JSON.stringify(await hub.ledger.invoices('2026-11'))).toBe(frozen);
    const ana = (await hub.ledger.invoices('2026-12')).find((i) => i.account.id === 'ana');
    expect(ana?.lines.map((l) => [l.adjusts, l.kind, l.quantity, l.amountCents, l.vatCents, l.dates])).toEqual([
      ['2026-11', 'half-day', 1, 1000, 200, ['2026-11-30']],
    ]);
    expect(ana?.totalCents).toBe(1200);
  });

  it('gives back byte-identical invoices when a closed period is rated again, and a preview equal to the close', async () => {
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    await hub.ingest(
      new SiteLog('reichstett', '+01:00', NOV_2)
        .visit('chloe', '2026-11-02', '09:00', 480)
        .visit('chloe', '2026-11-03', '09:00', 480)
        .visit('chloe', '2026-11-04', '09:00', 60),
    );
    hub.clock.now = DEC_2;
    const preview = await hub.ledger.preview('2026-11');
    await hub.ledger.close('2026-11');
    const closed = await hub.ledger.invoices('2026-11');
    expect(closed.map((i) => ({ ...i, number: null, closedAt: null }))).toEqual(preview.invoices);
    expect(await hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
    await hub.directory.upsert(hub.db, 'employer', { id: 'acme', name: 'Acme Group' });
    expect(await hub.ledger.verify('2026-11')).toEqual({
      period: '2026-11',
      identical: false,
      differing: ['2026-000001'],
    });
  });

  it('skips an event row that no longer parses, says so in a warning, and closes the rest', async () => {
    await hub.close();
    const lines: string[] = [];
    hub = await billingHub(pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }));
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    await hub.ingest(new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480));
    await hub.db.run(
      "INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ('murat', 99, 'x', '2026-11-03T09:00:00+01:00', 'presence.in', ?, ?)",
      ['{"v": 0}', NOV_2],
    );
    hub.clock.now = DEC_2;
    expect((await hub.ledger.close('2026-11')).invoices).toBe(2);
    expect(lines.map((l) => JSON.parse(l) as { msg: string; unreadable?: number })).toMatchObject([
      { msg: 'stored events that no longer parse were left out of the close', unreadable: 1 },
    ]);
  });
});
