import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ACME_INVOICE, ACME_TOTAL, ANA_INVOICE, ANA_TOTAL, paymentsHub } from './billing-payments-fixtures.js';

/** December's statement of the network's account, as a French bank exports it. */
const STATEMENT = [
  'Date;Libellé;Montant',
  '10/12/2026;VIR SEPA ACME SA FACTURE 2026-000001 ACOMPTE;100,00',
  '11/12/2026;VIR MME LOPEZ ANA;120,00',
  '12/12/2026;VIR INCONNU;55,00',
  '13/12/2026;PRLV SEPA EDF;-84,20',
  '14/12/2026;VIR SEPA ACME SA FACTURE 2026-000001 ACOMPTE;100,00',
  '15/12/2026;VIR ACME;31/12',
  '',
].join('\r\n');

describe('importing a bank statement', () => {
  let hub: Hub;
  let operator: Account;
  beforeEach(async () => {
    let on: (date: string) => void;
    ({ hub, operator, on } = await paymentsHub());
    // Ana's invoice to Ana Lopez (her directory name), as the bank writes it.
    on('2026-12-20');
  });
  afterEach(async () => hub.stop());

  const paidOf = async (number: string) =>
    (await hub.payments.statuses()).invoices.find((s) => s.number === number)?.paidCents;

  it('a dry run answers what an import would record and records nothing', async () => {
    const dry = await hub.payments.importStatement(operator, STATEMENT, { dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      lines: 5, // the unreadable one is a problem, not an operation
      recorded: [
        { line: 2, by: 'number', payments: [{ id: null, invoice: ACME_INVOICE, amountCents: 10_000 }] },
        { line: 3, by: 'amount-and-name', payments: [{ id: null, invoice: ANA_INVOICE, amountCents: ANA_TOTAL }] },
        { line: 6, by: 'number', payments: [{ id: null, invoice: ACME_INVOICE, amountCents: 10_000 }] },
      ],
      unmatched: [{ line: 4, date: '2026-12-12', amountCents: 5_500, label: 'VIR INCONNU', reason: 'no_match' }],
      ignored: [{ line: 5, reason: 'debit', amountCents: -8_420 }],
      problems: [{ path: 'line 7: amount', message: expect.stringContaining('"31/12"') }],
    });
    expect(await hub.payments.list({ limit: 100 })).toEqual([]);
    expect(await hub.store.db.value("SELECT count(*) FROM audit_log WHERE entity = 'payment'")).toBe(0);
  });

  it('records each match once: the same statement again, or one overlapping it, records nothing twice', async () => {
    const first = await hub.payments.importStatement(operator, STATEMENT, { dryRun: false });
    expect(first.recorded.flatMap((r) => r.payments.map((p) => p.id !== null))).toEqual([true, true, true]);
    expect(await paidOf(ACME_INVOICE)).toBe(20_000);
    expect(await paidOf(ANA_INVOICE)).toBe(ANA_TOTAL);
    const payments = await hub.payments.list({ invoice: ACME_INVOICE, limit: 10 });
    expect(payments).toMatchObject([
      {
        date: '2026-12-14',
        method: 'transfer',
        source: 'import',
        reference: 'VIR SEPA ACME SA FACTURE 2026-000001 ACOMPTE',
        note: 'bank statement, line 6',
      },
      { date: '2026-12-10', source: 'import' },
    ]);

    const again = await hub.payments.importStatement(operator, STATEMENT, { dryRun: false });
    expect(again.recorded).toEqual([]);
    expect(again.ignored.map((i) => [i.line, i.reason])).toEqual([
      [2, 'already_imported'],
      [3, 'already_imported'],
      [5, 'debit'],
      [6, 'already_imported'],
    ]);
    expect(again.unmatched.map((u) => u.line)).toEqual([4]);

    // January's export starts with the last lines of December, then the balance of Acme's invoice.
    const overlapping = [
      'Date;Libellé;Montant',
      '14/12/2026;VIR SEPA ACME SA FACTURE 2026-000001 ACOMPTE;100,00',
      `05/01/2027;VIR ACME SA SOLDE 2026-000001;${(ACME_TOTAL - 20_000) / 100},00`,
    ].join('\n');
    const january = await hub.payments.importStatement(operator, overlapping, { dryRun: false });
    expect(january.recorded.map((r) => r.line)).toEqual([3]);
    expect(await paidOf(ACME_INVOICE)).toBe(ACME_TOTAL);
    expect(await hub.payments.list({ limit: 100 })).toHaveLength(4);
    expect(
      await hub.store.db.column<string>("SELECT action FROM audit_log WHERE entity = 'payment' ORDER BY id"),
    ).toEqual(['import', 'import']); // the import that recorded nothing left no row
  });

  it('a payment deleted after an import is not recorded again by the next import of its line', async () => {
    const first = await hub.payments.importStatement(operator, STATEMENT, { dryRun: false });
    const wrong = first.recorded.find((r) => r.line === 3)?.payments[0]?.id;
    await hub.payments.remove(operator, wrong ?? '');
    expect(await paidOf(ANA_INVOICE)).toBe(0);
    const again = await hub.payments.importStatement(operator, STATEMENT, { dryRun: false });
    expect(again.recorded).toEqual([]);
    expect(again.ignored.find((i) => i.line === 3)?.reason).toBe('already_imported');
    expect(await paidOf(ANA_INVOICE)).toBe(0);
  });

  it('two imports of one statement at once record it once', async () => {
    const both = await Promise.all([
      hub.payments.importStatement(operator, STATEMENT, { dryRun: false }),
      hub.payments.importStatement(operator, STATEMENT, { dryRun: false }),
    ]);
    const stored = both.flatMap((r) => r.recorded.flatMap((l) => l.payments.filter((p) => p.id !== null)));
    expect(stored).toHaveLength(3);
    expect(await hub.payments.list({ limit: 100 })).toHaveLength(3);
    expect(await paidOf(ACME_INVOICE)).toBe(20_000);
  });

  it('a line paying two invoices at once records a payment on each', async () => {
    const text = `Date;Libellé;Montant\n18/12/2026;VIR GROUPE 2026-000001 2026-000002;${(ACME_TOTAL + ANA_TOTAL) / 100}\n`;
    const r = await hub.payments.importStatement(operator, text, { dryRun: false });
    expect(r.recorded[0]?.payments.map((p) => [p.invoice, p.amountCents])).toEqual([
      [ACME_INVOICE, ACME_TOTAL],
      [ANA_INVOICE, ANA_TOTAL],
    ]);
    expect((await hub.payments.statuses({ status: 'paid' })).invoices).toHaveLength(2);
    expect((await hub.payments.importStatement(operator, text, { dryRun: false })).recorded).toEqual([]);
  });
});
