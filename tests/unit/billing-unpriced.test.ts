import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PriceList } from '../../cloud-sync/billing/prices.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';
import { silent } from '../support/logger.js';

const { NOV_2, DEC_2, JAN_2 } = BILLING_DATES;
const DEC_10 = Date.parse('2026-12-10T08:00:00Z');
const WITH_SCANS: PriceList = {
  ...EXAMPLE_PRICE_LIST,
  consumables: {
    ...EXAMPLE_PRICE_LIST.consumables,
    'scan-page': { name: 'Scanned page', unitCents: 5, vatPercent: 20 },
  },
};
const MARKUP = '<img src=x onerror=alert(1)>';

/** A use stored by a hub from before item names were checked at ingest: the row an older database holds. */
async function storeLegacyUse(
  ingest: (batch: EventBatch, receivedAt: number) => Promise<unknown>,
  seq: number,
  item: string,
): Promise<void> {
  const event = {
    v: 1,
    site: 'murat',
    seq,
    id: '0190a000-0000-7000-8000-0000000000' + String(seq).padStart(2, '0'),
    at: '2026-11-05T10:00:00.000+01:00',
    type: 'consumable.used',
    data: { memberId: 'ana', item, quantity: 7 },
  };
  await ingest({ v: 1, site: 'murat', events: [event as SiteEvent] }, NOV_2);
}

describe('consumables without a price: a warning of the preview and the close, never a refusal of the month', () => {
  let hub: Awaited<ReturnType<typeof billingHub>>;
  beforeEach(async () => {
    hub = await billingHub();
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
  });
  afterEach(() => hub.close());

  it('previews and closes the month with the unpriced uses listed (month, site, item, uses, quantity) and not charged, the rest billed', async () => {
    await hub.ingest(
      new SiteLog('murat', '+01:00', NOV_2)
        .visit('ana', '2026-11-02', '09:00', 480)
        .use('ana', '2026-11-02', 'coffee', 2)
        .use('ana', '2026-11-03', 'scan-page', 3)
        .use('ana', '2026-11-04', 'scan-page', 2),
    );
    await hub.ingest(new SiteLog('reichstett', '+01:00', NOV_2).use('chloe', '2026-11-05', 'scan-page', 1));
    hub.clock.now = DEC_2;
    const expected = [
      { period: '2026-11', site: 'murat', item: 'scan-page', uses: 2, quantity: 5 },
      { period: '2026-11', site: 'reichstett', item: 'scan-page', uses: 1, quantity: 1 },
    ];
    const preview = await hub.ledger.preview('2026-11');
    expect(preview.summary.unpriced).toEqual(expected);
    const ana = preview.invoices.find((i) => i.account.id === 'ana');
    expect(ana?.lines.map((l) => [l.kind, l.item, l.quantity, l.amountCents])).toEqual([
      ['consumable', 'coffee', 2, 240],
      ['day', null, 1, 2000],
    ]);
    const closed = await hub.ledger.close('2026-11');
    expect(closed).toMatchObject({ status: 'closed', invoices: 2, unbilled: [], unpriced: expected });
    expect((await hub.ledger.closed('2026-11'))?.unpriced).toEqual(expected);
    expect((await hub.ledger.periods()).map((p) => p.unpriced)).toEqual([expected]);
    expect((await hub.ledger.invoices('2026-11')).map((i) => ({ ...i, number: null, closedAt: null }))).toEqual(
      preview.invoices,
    );
    expect((await hub.ledger.verify('2026-11')).identical).toBe(true);
  });

  it('once the item is priced, later uses and late uses of a closed month are charged; those the close listed stay uncharged', async () => {
    const murat = new SiteLog('murat', '+01:00', NOV_2)
      .visit('ana', '2026-11-02', '09:00', 480)
      .use('ana', '2026-11-03', 'scan-page', 3);
    await hub.ingest(murat);
    hub.clock.now = DEC_2;
    expect((await hub.ledger.close('2026-11')).unpriced).toEqual([
      { period: '2026-11', site: 'murat', item: 'scan-page', uses: 1, quantity: 3 },
    ]);
    const frozen = JSON.stringify(await hub.ledger.invoices('2026-11'));
    await hub.ledger.setPrices(WITH_SCANS);
    // December's own use, and two November uses the site sends late: one priced by now, one still not.
    await hub.ingest(
      murat
        .use('ana', '2026-12-03', 'scan-page', 4, DEC_10)
        .use('ana', '2026-11-20', 'scan-page', 1, DEC_10)
        .use('ana', '2026-11-21', 'fax-page', 2, DEC_10),
    );
    hub.clock.now = JAN_2;
    const december = await hub.ledger.close('2026-12');
    expect(december.unpriced).toEqual([{ period: '2026-11', site: 'murat', item: 'fax-page', uses: 1, quantity: 2 }]);
    const ana = (await hub.ledger.invoices('2026-12')).find((i) => i.account.id === 'ana');
    expect(ana?.lines.map((l) => [l.adjusts, l.item, l.quantity, l.amountCents, l.dates])).toEqual([
      [null, 'scan-page', 4, 20, ['2026-12-03']],
      ['2026-11', 'scan-page', 1, 5, ['2026-11-20']],
    ]);
    expect(JSON.stringify(await hub.ledger.invoices('2026-11'))).toBe(frozen);
    expect((await hub.ledger.verify('2026-12')).identical).toBe(true);
  });

  it("an older database's use of an item named with markup is listed as unpriced, never read as garbage nor a reason to refuse the month", async () => {
    const lines: string[] = [];
    await hub.close();
    hub = await billingHub(pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }));
    await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
    await hub.ingest(new SiteLog('murat', '+01:00', NOV_2).visit('ana', '2026-11-02', '09:00', 480));
    await storeLegacyUse((b, at) => hub.store.ingest(b, at), 50, MARKUP);
    hub.clock.now = DEC_2;
    const listed = [{ period: '2026-11', site: 'murat', item: MARKUP, uses: 1, quantity: 7 }];
    expect((await hub.ledger.preview('2026-11')).summary.unpriced).toEqual(listed);
    expect(await hub.ledger.close('2026-11')).toMatchObject({ invoices: 2, unpriced: listed });
    expect(lines.map((l) => JSON.parse(l) as { msg: string; unpriced?: unknown })).toEqual([
      expect.objectContaining({ msg: 'consumable uses without a price were left out of the close', unpriced: listed }),
    ]);
  });
});

describe('consumables without a price, through the billing API', () => {
  let hub: Hub;
  let headers: AuthHeaders;
  beforeEach(async () => {
    const clock = new ManualClock('2026-11-20T08:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    const db = hub.store.db;
    await hub.sites.upsert(db, { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
    await hub.directory.upsert(db, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
    await hub.directory.upsert(db, 'member', { id: 'ana', name: 'Ana', plan: 'murat-day' });
    const log = new SiteLog('murat', '+01:00', clock.now())
      .visit('ana', '2026-11-02', '09:00', 480)
      .use('ana', '2026-11-03', 'scan-page', 3);
    for (const { event, receivedAt } of log.events)
      await hub.store.ingest({ v: 1, site: 'murat', events: [event] }, receivedAt);
    await storeLegacyUse((b, at) => hub.store.ingest(b, at), 50, MARKUP);
    clock.advanceTo(DEC_2);
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());

  const inject = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
    hub.api.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('the preview and the close answer 200 with the unpriced uses; the item can then be priced, the markup one never', async () => {
    expect((await inject('PUT', '/billing/prices', EXAMPLE_PRICE_LIST)).statusCode).toBe(200);
    const listed = [
      { period: '2026-11', site: 'murat', item: MARKUP, uses: 1, quantity: 7 },
      { period: '2026-11', site: 'murat', item: 'scan-page', uses: 1, quantity: 3 },
    ];
    const preview = await inject('GET', '/billing/periods/2026-11');
    expect([preview.statusCode, preview.json()]).toEqual([
      200,
      expect.objectContaining({ status: 'open', totalCents: 2400, unpriced: listed }),
    ]);
    const close = await inject('POST', '/billing/periods/2026-11/close');
    expect([close.statusCode, close.json()]).toEqual([
      200,
      expect.objectContaining({ status: 'closed', totalCents: 2400, unpriced: listed }),
    ]);
    expect((await inject('GET', '/billing/periods')).json()).toMatchObject({
      periods: [{ period: '2026-11', unpriced: listed }],
    });
    expect((await inject('GET', '/billing/periods/2026-11')).json()).toMatchObject({
      status: 'closed',
      unpriced: listed,
    });
    expect((await inject('PUT', '/billing/prices', WITH_SCANS)).statusCode).toBe(200);
    const markup = await inject('PUT', '/billing/prices', {
      ...WITH_SCANS,
      consumables: { ...WITH_SCANS.consumables, [MARKUP]: { name: 'x', unitCents: 1, vatPercent: 20 } },
    });
    expect([markup.statusCode, markup.json<{ code: string }>().code]).toEqual([400, 'request.invalid']);
  });
});
