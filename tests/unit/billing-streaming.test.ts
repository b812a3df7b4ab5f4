import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingLedger } from '../../cloud-sync/billing/ledger.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import type { HubDb } from '../../cloud-sync/hub/db.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';
import { silent } from '../support/logger.js';

const { NOV_2, DEC_2 } = BILLING_DATES;
/** More rows than any page of these tests: a read in one page. */
const ONE_PAGE = 100_000;

/**
 * October and November at two sites: day visits, a visit across midnight, a member at both
 * sites on one day, consumables, a member not in the directory; and October visits received
 * after October was closed, which November's close adjusts.
 */
async function twoMonths(hub: Awaited<ReturnType<typeof billingHub>>): Promise<void> {
  const murat = new SiteLog('murat', '+01:00', NOV_2 - 86_400_000);
  const reichstett = new SiteLog('reichstett', '+01:00', NOV_2 - 86_400_000);
  for (let day = 1; day <= 28; day += 3) {
    const date = `2026-10-${String(day).padStart(2, '0')}`;
    murat.visit('ana', date, '09:00', 120 + day * 10).use('ana', date, 'coffee', 2);
    reichstett.visit('chloe', date, '08:30', 300);
  }
  await hub.ingest(murat);
  await hub.ingest(reichstett);
  hub.clock.now = NOV_2;
  await hub.ledger.close('2026-10');
  // Received after October's close: the logs go on (ingest skips the events it has).
  const after = DEC_2 - 3_600_000;
  murat.visit('ana', '2026-10-30', '09:00', 200, after);
  reichstett.visit('chloe', '2026-10-30', '09:00', 480, after);
  for (let day = 2; day <= 27; day += 2) {
    const date = `2026-11-${String(day).padStart(2, '0')}`;
    murat.visit('ana', date, '09:00', day * 20, after).use('ana', date, 'print-page', day, after);
    reichstett.visit('chloe', date, '08:00', 420, after).visit('ana', date, '14:00', 90, after);
    murat.visit('dan', date, '10:00', 60, after);
  }
  murat.visit('ana', '2026-11-28', '22:00', 180, after);
  await hub.ingest(murat);
  await hub.ingest(reichstett);
  hub.clock.now = DEC_2;
}

/** `db`, recording how many rows each statement on the events table answered. */
function watched(db: HubDb): { db: HubDb; answers: number[] } {
  const answers: number[] = [];
  const onEvents = (sql: string) => /\bFROM events\b/i.test(sql);
  const watchedDb = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'all' || prop === 'column')
        return async (sql: string, params?: unknown[]) => {
          const rows = await (prop === 'all' ? target.all(sql, params) : target.column(sql, params));
          if (onEvents(sql)) answers.push(rows.length);
          return rows;
        };
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: watchedDb, answers };
}

describe('a month closed while its events stream by pages', () => {
  let hub: Awaited<ReturnType<typeof billingHub>>;
  const ledger = (pageRows: number, db: HubDb = hub.db) =>
    new BillingLedger({
      db,
      directory: hub.directory,
      sites: hub.sites,
      now: () => hub.clock.now,
      log: silent,
      pageRows,
    });

  beforeEach(async () => {
    hub = await billingHub();
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    await twoMonths(hub);
  });
  afterEach(() => hub.close());

  it('gives the same invoices, adjustments included, whatever the page size', async () => {
    const whole = await ledger(ONE_PAGE).preview('2026-11');
    // The late October visits are corrected on November's invoices.
    expect(JSON.stringify(whole.invoices)).toContain('2026-10-30');
    expect(whole.summary.unbilled).toMatchObject([{ member: 'dan', reason: 'not_in_directory' }]);
    for (const pageRows of [1, 2, 3, 7, 50]) expect(await ledger(pageRows).preview('2026-11')).toEqual(whole);
  });

  it('closes in pages of a few rows to the bytes a single-page read gives again', async () => {
    await ledger(3).close('2026-11');
    expect(await ledger(ONE_PAGE).verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
    expect(await ledger(5).verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
  });

  it('never asks the store for more than a page of events at once', async () => {
    const total = await hub.db.value<number>('SELECT COUNT(*) FROM events');
    const { db, answers } = watched(hub.db);
    await ledger(4, db).close('2026-11');
    expect(answers.length).toBeGreaterThan((total ?? 0) / 4);
    expect(Math.max(...answers)).toBeLessThanOrEqual(4);
    // And a read in one page does take them all at once: what the watch above would have seen.
    const once = watched(hub.db);
    await ledger(ONE_PAGE, once.db).verify('2026-11');
    expect(Math.max(...once.answers)).toBeGreaterThan(4);
  });
});
