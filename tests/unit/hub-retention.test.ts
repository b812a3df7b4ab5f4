import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { DEFAULT_HUB_RETENTION_DAYS, HubRetention } from '../../cloud-sync/hub/retention.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';
import { silent } from '../support/logger.js';

const { NOV_2, DEC_2, JAN_2 } = BILLING_DATES;
const DAY_MS = 86_400_000;

type BillingHub = Awaited<ReturnType<typeof billingHub>>;

const typesAt = async (db: BillingHub['db'], site: string) =>
  (await db.all<{ seq: number; type: string }>('SELECT seq, type FROM events WHERE site = ? ORDER BY seq', [site])).map(
    (r) => `${r.seq}:${r.type}`,
  );

describe('retention at the hub', () => {
  let hub: BillingHub;
  let clock: ManualClock;
  let retention: HubRetention;
  beforeEach(async () => {
    hub = await billingHub();
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    clock = new ManualClock(new Date(DEC_2).toISOString());
    retention = new HubRetention(hub.db, clock, silent, 30);
  });
  afterEach(() => hub.close());

  /** November billed on 2 December: a visit and a coffee at Murat; a visit in December, not yet billed. */
  async function novemberClosed(): Promise<SiteLog> {
    const murat = new SiteLog('murat', '+01:00', NOV_2)
      .visit('ana', '2026-11-02', '09:00', 480)
      .use('ana', '2026-11-02', 'coffee', 1);
    murat.visit('ana', '2026-12-01', '09:00', 480, DEC_2 - 1000);
    await hub.ingest(murat);
    hub.clock.now = DEC_2 + 1000;
    await hub.ledger.close('2026-11');
    return murat;
  }

  it('deletes access and presence events once the close that billed them is older than the retention, and only those', async () => {
    await novemberClosed();
    const all = await typesAt(hub.db, 'murat');
    const frozen = JSON.stringify(await hub.ledger.invoices('2026-11'));
    clock.advance(29 * DAY_MS);
    expect(await retention.pruneNow()).toBe(0);
    expect(await typesAt(hub.db, 'murat')).toEqual(all);

    clock.advance(2 * DAY_MS);
    // Billed on 2 December: the November visit; the coffee stays (not presence), and so does the
    // 1 December visit, received after the close's cutoff (it is December's).
    expect(await retention.pruneNow()).toBe(2);
    expect(await typesAt(hub.db, 'murat')).toEqual(['3:consumable.used', '4:presence.in', '5:presence.out']);
    expect(JSON.stringify(await hub.ledger.invoices('2026-11'))).toBe(frozen);
    // The seq accounting is its own: the site's progress and the next ingest are untouched.
    expect(await hub.store.progress('murat')).toMatchObject({ contiguous: 5, missing: [] });
    expect(await retention.prunedThrough()).toBeGreaterThan(NOV_2);
  });

  it('a pruned month keeps its frozen invoices, cannot be re-rated, and a late event for it is left unbilled, not rated without its month', async () => {
    const murat = await novemberClosed();
    clock.advance(31 * DAY_MS);
    await retention.pruneNow();
    let code: string | undefined;
    try {
      await hub.ledger.verify('2026-11');
    } catch (err) {
      code = err instanceof TesseraError ? err.code : undefined;
    }
    expect(code).toBe('billing.pruned');

    // A site offline since November sends a 30 November visit after the pruning.
    await hub.ingest(murat.visit('ana', '2026-11-30', '09:00', 180, JAN_2 - 2 * DAY_MS));
    hub.clock.now = JAN_2;
    await hub.ledger.close('2026-12');
    const lines = (await hub.ledger.invoices('2026-12')).flatMap((i) => i.lines);
    expect(lines.filter((l) => l.adjusts === '2026-11')).toEqual([]);
    expect(lines.every((l) => l.amountCents >= 0)).toBe(true);
  });

  it('never prunes above the contiguous seq, and keeps 400 days by default', async () => {
    await novemberClosed();
    // A gap at seq 6: seq 7 is stored but not contiguous.
    const ahead = new SiteLog('murat', '+01:00', NOV_2);
    ahead
      .visit('ana', '2026-11-03', '09:00', 60)
      .visit('ana', '2026-11-04', '09:00', 60)
      .visit('ana', '2026-11-05', '09:00', 60)
      .visit('ana', '2026-11-06', '09:00', 60);
    const [seven] = ahead.events.slice(6);
    if (!seven) throw new Error('no seq 7');
    await hub.store.ingest({ v: 1, site: 'murat', events: [seven.event] }, NOV_2);
    clock.advance(31 * DAY_MS);
    await retention.pruneNow();
    expect(await typesAt(hub.db, 'murat')).toContain('7:presence.in');
    expect(DEFAULT_HUB_RETENTION_DAYS).toBe(400);
  });

  it('runs at start and every hour', async () => {
    await novemberClosed();
    clock.advance(31 * DAY_MS);
    retention.start();
    await retention.settled();
    expect(await typesAt(hub.db, 'murat')).toHaveLength(3);
    await hub.ingest(new SiteLog('reichstett', '+01:00', NOV_2).visit('chloe', '2026-11-02', '09:00', 480));
    clock.advance(3_600_000);
    await retention.settled();
    expect(await typesAt(hub.db, 'reichstett')).toEqual([]);
    retention.stop();
  });
});
