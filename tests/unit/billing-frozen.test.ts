import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freezer, renumbered } from '../../cloud-sync/billing/frozen.js';
import { invoiceBytes, invoiceUtf8, type Invoice } from '../../cloud-sync/billing/invoice.js';
import { BILLING_DATES, pricedHub, SiteLog } from './billing-fixtures.js';

const { NOV_2, DEC_2 } = BILLING_DATES;
const CLOSED_AT = '2026-12-02T09:00:00.000Z';

describe("a close's invoices frozen as they are issued", () => {
  let hub: Awaited<ReturnType<typeof pricedHub>>;
  let issued: Invoice[];
  beforeEach(async () => {
    hub = await pricedHub(
      new SiteLog('murat', '+01:00', NOV_2)
        .visit('ana', '2026-11-02', '09:00', 480)
        .use('ana', '2026-11-02', 'coffee', 2)
        .visit('chloe', '2026-11-03', '09:00', 480),
    );
    hub.clock.now = DEC_2;
    issued = (await hub.ledger.preview('2026-11')).invoices;
  });
  afterEach(() => hub.close());

  const freeze = (after: number) => issued.map(freezer({ year: 2026, after, closedAt: CLOSED_AT }));

  it('keeps each invoice as its numbered bytes, numbered in the order given', () => {
    const frozen = freeze(4);
    expect(frozen.map((f) => [f.number, f.seq, f.account, f.totalCents])).toEqual(
      issued.map((inv, i) => [`2026-00000${5 + i}`, 5 + i, `${inv.account.kind}:${inv.account.id}`, inv.totalCents]),
    );
    expect(frozen.map((f) => f.body.toString())).toEqual(
      issued.map((inv, i) => invoiceBytes({ ...inv, number: `2026-00000${5 + i}`, closedAt: CLOSED_AT })),
    );
    expect(frozen.every((f) => f.buyerless)).toBe(true); // no buyer identity set in this hub
  });

  it('numbered again after other numbers, gives the bytes a freezing there gives', () => {
    expect(issued.length).toBeGreaterThan(1);
    expect(renumbered(freeze(0), 2026, 7)).toEqual(freeze(7));
  });

  it("puts each invoice's bytes together a line at a time, exactly as its whole text gives them", () => {
    expect(issued.length).toBeGreaterThan(1);
    const odd = issued.map((inv) => ({
      ...inv,
      account: { ...inv.account, name: 'L\'atelier « 24/7 » \u2014 "quoted" \\ \u{1F510}' },
      lines: inv.lines.map((l, i) => (i === 0 ? { ...l, memberName: '"lines":[' } : l)),
    }));
    // Words that hold the very mark the lines' place is found by: the whole text is written instead.
    const marked = issued.map((inv) => ({ ...inv, account: { ...inv.account, name: '\u0000lines\u0000' } }));
    const noLines = issued.map((inv) => ({ ...inv, lines: [] }));
    for (const inv of [...issued, ...odd, ...marked, ...noLines])
      expect(invoiceUtf8(inv).equals(Buffer.from(invoiceBytes(inv)))).toBe(true);
  });

  it('stores each invoice closed as the text of its bytes', async () => {
    const closed = await hub.ledger.close('2026-11');
    expect(closed.invoices).toBe(issued.length);
    const rows = await hub.db.all<{ number: string; body: string }>(
      'SELECT number, body FROM billing_invoices ORDER BY seq',
    );
    const stored = await hub.ledger.invoices('2026-11');
    expect(rows.map((r) => r.body)).toEqual(stored.map((inv) => invoiceBytes(inv)));
    expect(rows.every((r) => typeof r.body === 'string' && r.body.startsWith('{"type":"invoice"'))).toBe(true);
  });
});
