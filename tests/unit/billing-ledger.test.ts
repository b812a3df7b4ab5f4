import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingLedger, CUTOFF_GRACE_MS } from '../../cloud-sync/billing/ledger.js';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const { NOV_2, DEC_2, JAN_2, FEB_2 } = BILLING_DATES;

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TesseraError) return err.code;
    throw err;
  }
  return undefined;
};

describe('two closes at once (the CLI beside the hub)', () => {
  it('lets one through and refuses the other inside its transaction, numbers without gaps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-billing-race-'));
    const path = lastingHubDb(dir);
    const first = billingHub(silent, path);
    try {
      first.ledger.setPrices(EXAMPLE_PRICE_LIST);
      first.ingest(new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480));
      const otherDb = openHubDatabase(path);
      const other = new BillingLedger({
        db: otherDb,
        directory: new HubDirectory(otherDb),
        sites: new HubSites(otherDb, () => DEC_2),
        now: () => DEC_2,
        log: silent,
      });
      first.clock.now = DEC_2;
      let raced = false;
      // The other process closes the month while this one is still reading its events.
      const code = codeOf(() =>
        first.ledger.close('2026-11', () => {
          if (raced) return;
          raced = true;
          other.close('2026-11');
        }),
      );
      expect(code).toBe('billing.period_closed');
      expect(first.ledger.invoices('2026-11').map((i) => i.number)).toEqual(['2026-000001', '2026-000002']);
      otherDb.close();
    } finally {
      first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('closing a billing period', () => {
  let hub: ReturnType<typeof billingHub>;
  beforeEach(() => {
    hub = billingHub();
  });
  afterEach(() => hub.close());

  it('refuses a bad month, a month not over everywhere, and a ledger without prices', () => {
    hub.clock.now = DEC_2;
    expect(codeOf(() => hub.ledger.close('2026-13'))).toBe('request.invalid');
    expect(codeOf(() => hub.ledger.close('november'))).toBe('request.invalid');
    expect(codeOf(() => hub.ledger.close('2026-11'))).toBe('billing.unpriced');
    hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    hub.clock.now = Date.parse('2026-12-01T23:59:59Z');
    expect(codeOf(() => hub.ledger.close('2026-11'))).toBe('billing.out_of_order');
    expect(hub.ledger.periods()).toEqual([]);
  });

  it('freezes the invoices, numbers them without gaps per year, and closes each month once and in order', () => {
    hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    hub.ingest(new SiteLog('murat', '+01:00', NOV_2 + 1000).visit('ana', '2026-11-02', '09:00', 480));
    hub.clock.now = DEC_2;
    const nov = hub.ledger.close('2026-11');
    expect(nov).toMatchObject({
      period: '2026-11',
      status: 'closed',
      invoices: 2,
      closedAt: '2026-12-02T09:00:00.000Z',
      cutoff: new Date(DEC_2 - CUTOFF_GRACE_MS).toISOString(),
    });
    // Accounts in order: employer:acme, member:ana.
    expect(hub.ledger.invoices('2026-11').map((i) => [i.number, i.account.id, i.totalCents])).toEqual([
      ['2026-000001', 'acme', 9600 + 1920],
      ['2026-000002', 'ana', 2000 + 400],
    ]);
    expect(codeOf(() => hub.ledger.close('2026-11'))).toBe('billing.period_closed');
    hub.clock.now = FEB_2;
    expect(codeOf(() => hub.ledger.close('2027-01'))).toBe('billing.out_of_order');
    expect(codeOf(() => hub.ledger.close('2026-10'))).toBe('billing.out_of_order');
    hub.ledger.close('2026-12');
    hub.ledger.close('2027-01');
    expect(hub.ledger.invoices('2026-12').map((i) => i.number)).toEqual(['2026-000003']); // acme's subscription
    expect(hub.ledger.invoices('2027-01').map((i) => i.number)).toEqual(['2027-000001']);
    expect(hub.ledger.invoice('2026-000002')?.account.id).toBe('ana');
  });

  it('turns an event that arrives after its period closed into an adjustment on the next invoice, never a change to the closed one', () => {
    hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    const murat = new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480);
    hub.ingest(murat);
    hub.clock.now = DEC_2;
    hub.ledger.close('2026-11');
    const frozen = JSON.stringify(hub.ledger.invoices('2026-11'));
    // The site was offline: its 30 November visit (3 h: a half-day) reaches the hub on 10 December.
    hub.ingest(murat.visit('ana', '2026-11-30', '09:00', 180, Date.parse('2026-12-10T08:00:00Z')));
    hub.clock.now = JAN_2;
    hub.ledger.close('2026-12');
    expect(JSON.stringify(hub.ledger.invoices('2026-11'))).toBe(frozen);
    const ana = hub.ledger.invoices('2026-12').find((i) => i.account.id === 'ana');
    expect(ana?.lines.map((l) => [l.adjusts, l.kind, l.quantity, l.amountCents, l.vatCents, l.dates])).toEqual([
      ['2026-11', 'half-day', 1, 1000, 200, ['2026-11-30']],
    ]);
    expect(ana?.totalCents).toBe(1200);
  });

  it('gives back byte-identical invoices when a closed period is rated again, and a preview equal to the close', () => {
    hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    hub.ingest(
      new SiteLog('reichstett', '+01:00', NOV_2)
        .visit('chloe', '2026-11-02', '09:00', 480)
        .visit('chloe', '2026-11-03', '09:00', 480)
        .visit('chloe', '2026-11-04', '09:00', 60),
    );
    hub.clock.now = DEC_2;
    const preview = hub.ledger.preview('2026-11');
    hub.ledger.close('2026-11');
    const closed = hub.ledger.invoices('2026-11');
    expect(closed.map((i) => ({ ...i, number: null, closedAt: null }))).toEqual(preview.invoices);
    expect(hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
    hub.directory.upsert('employer', { id: 'acme', name: 'Acme Group' });
    expect(hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: false, differing: ['2026-000001'] });
  });

  it('skips an event row that no longer parses, says so in a warning, and closes the rest', () => {
    hub.close();
    const lines: string[] = [];
    hub = billingHub(pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }));
    hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    hub.ingest(new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480));
    hub.db
      .prepare(
        "INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ('murat', 99, 'x', '2026-11-03T09:00:00+01:00', 'presence.in', '{not json', ?)",
      )
      .run(NOV_2);
    hub.clock.now = DEC_2;
    expect(hub.ledger.close('2026-11').invoices).toBe(2);
    expect(lines.map((l) => JSON.parse(l) as { msg: string; unreadable?: number })).toMatchObject([
      { msg: 'stored events that no longer parse were left out of the close', unreadable: 1 },
    ]);
  });
});
