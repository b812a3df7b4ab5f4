import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLatin9, FEC_COLUMNS, FecJournal, fecFileName, fecText } from '../../cloud-sync/billing/fec.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { FecAccounts } from '../../shared/protocol/api/hub-billing-fec.js';

const DEFAULTS = FecAccounts.parse({});

/** A frozen document: its VAT breakdown, and totals that agree with it. */
function doc(
  fields: Partial<Invoice> & Pick<Invoice, 'number' | 'account'>,
  vat: Array<[percent: number, baseCents: number, vatCents: number]>,
): Invoice {
  const subtotalCents = vat.reduce((s, [, b]) => s + b, 0);
  const vatCents = vat.reduce((s, [, , v]) => s + v, 0);
  return {
    period: '2026-11',
    closedAt: '2026-12-02T09:00:00.000Z',
    currency: 'EUR',
    lines: [],
    bySite: [],
    byMember: [],
    vat: vat.map(([vatPercent, baseCents, v]) => ({ vatPercent, baseCents, vatCents: v })),
    subtotalCents,
    vatCents,
    totalCents: subtotalCents + vatCents,
    ...fields,
  };
}

/** The file's lines as cells, header first (the text is what the tests read back, as an accountant's tool would). */
const table = (text: string) =>
  text
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
const cents = (amount: string) => {
  expect(amount).toMatch(/^\d+,\d{2}$/);
  return Number(amount.replace(',', ''));
};

describe('FEC: the sales journal', () => {
  const acme = { kind: 'employer' as const, id: 'acme', name: 'Acme SA' };
  const invoice = doc({ type: 'invoice', number: '2026-000001', issueDate: '2026-12-02', account: acme }, [
    [20, 10_000, 2_000],
    [5.5, 1_000, 55],
  ]);
  // Frozen before issue dates were written: closed at 00:30 on 1 December in Paris (23:30 UTC).
  const older = doc(
    {
      number: '2026-000002',
      closedAt: '2026-11-30T23:30:00.000Z',
      account: { kind: 'member', id: 'ana', name: 'Ana Lopez' },
    },
    [[20, 3_000, 600]],
  );
  const creditNote = doc(
    {
      type: 'credit-note',
      number: 'AV-2026-000001',
      corrects: { number: '2026-000001' },
      issueDate: '2026-12-05',
      closedAt: '2026-12-05T10:00:00.000Z',
      account: acme,
    },
    [[20, 2_000, 400]],
  );

  it('a worked example: two invoices and a credit note, by date, each entry balanced, the credit note the other way round', () => {
    const journal = new FecJournal(DEFAULTS);
    for (const d of [invoice, creditNote, older]) journal.add(d);
    const row = (...cells: string[]) => `${cells.join('\t')}\r\n`;
    const ana = ['2026-000002', '20261201', 'Facture 2026-000002 Ana Lopez'];
    const inv = ['2026-000001', '20261202', 'Facture 2026-000001 Acme SA'];
    const av = ['AV-2026-000001', '20261205', 'Avoir AV-2026-000001 Acme SA (facture 2026-000001)'];
    const tail = (valid: string) => ['', '', valid, '', ''];
    expect(fecText(journal.rows(), '\t')).toBe(
      row(...FEC_COLUMNS) +
        row(
          'VE',
          'Ventes',
          'VE000001',
          '20261201',
          '411000',
          'Clients',
          '411ANA',
          'Ana Lopez',
          ...ana,
          '36,00',
          '0,00',
          ...tail('20261201'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000001',
          '20261201',
          '706000',
          'Prestations de services',
          '',
          '',
          ...ana,
          '0,00',
          '30,00',
          ...tail('20261201'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000001',
          '20261201',
          '445711',
          'TVA collectée 20 %',
          '',
          '',
          ...ana,
          '0,00',
          '6,00',
          ...tail('20261201'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000002',
          '20261202',
          '411000',
          'Clients',
          '411ACME',
          'Acme SA',
          ...inv,
          '130,55',
          '0,00',
          ...tail('20261202'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000002',
          '20261202',
          '706000',
          'Prestations de services',
          '',
          '',
          ...inv,
          '0,00',
          '110,00',
          ...tail('20261202'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000002',
          '20261202',
          '445711',
          'TVA collectée 20 %',
          '',
          '',
          ...inv,
          '0,00',
          '20,00',
          ...tail('20261202'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000002',
          '20261202',
          '445713',
          'TVA collectée 5,5 %',
          '',
          '',
          ...inv,
          '0,00',
          '0,55',
          ...tail('20261202'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000003',
          '20261205',
          '411000',
          'Clients',
          '411ACME',
          'Acme SA',
          ...av,
          '0,00',
          '24,00',
          ...tail('20261205'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000003',
          '20261205',
          '706000',
          'Prestations de services',
          '',
          '',
          ...av,
          '20,00',
          '0,00',
          ...tail('20261205'),
        ) +
        row(
          'VE',
          'Ventes',
          'VE000003',
          '20261205',
          '445711',
          'TVA collectée 20 %',
          '',
          '',
          ...av,
          '4,00',
          '0,00',
          ...tail('20261205'),
        ),
    );
    expect([journal.size, journal.debitCents]).toEqual([3, 3_600 + 13_055 + 2_400]);
  });

  it('posts to the accounts set: revenue per rate, a journal of its own, an auxiliary account chosen by hand', () => {
    const accounts = FecAccounts.parse({
      journal: { code: 'VT', label: 'Journal des ventes' },
      revenue: {
        account: '706000',
        label: 'Prestations',
        byRate: { '5.5': { account: '706200', label: 'Prestations 5,5 %' } },
      },
      vat: { account: '445710', label: 'TVA collectée', byRate: {} },
      auxiliary: { 'employer:acme': 'CACME01' },
    });
    const journal = new FecJournal(accounts);
    journal.add(invoice);
    expect(journal.rows().map((r) => [r[0], r[2], r[4], r[6], r[11], r[12]])).toEqual([
      ['VT', 'VT000001', '411000', 'CACME01', '130,55', '0,00'],
      ['VT', 'VT000001', '706000', '', '0,00', '100,00'],
      ['VT', 'VT000001', '706200', '', '0,00', '10,00'],
      // Both rates on the one VAT account: one line, their sum.
      ['VT', 'VT000001', '445710', '', '0,00', '20,55'],
    ]);
  });

  it('an invoice whose adjustments outweigh its month credits the customer; a document of 0.00 has no entry', () => {
    const journal = new FecJournal(DEFAULTS);
    journal.add(doc({ number: '2026-000003', account: acme }, [[20, -1_000, -200]]));
    journal.add(doc({ number: '2026-000004', account: acme }, [[20, 0, 0]]));
    expect(journal.rows().map((r) => [r[4], r[11], r[12]])).toEqual([
      ['411000', '0,00', '12,00'],
      ['706000', '10,00', '0,00'],
      ['445711', '2,00', '0,00'],
    ]);
    expect([journal.size, journal.empty]).toEqual([1, 1]);
  });

  it('refuses what it cannot write: another currency, totals that disagree with the VAT breakdown, two accounts in one auxiliary', () => {
    const refusal = (docs: Invoice[], accounts = DEFAULTS) => {
      const journal = new FecJournal(accounts);
      try {
        for (const d of docs) journal.add(d);
      } catch (err) {
        return err as { code: string; message: string };
      }
      return undefined;
    };
    expect(refusal([{ ...invoice, currency: 'CHF' }])).toMatchObject({
      code: 'billing.not_exportable',
      message: '2026-000001: its amounts are in CHF; the FEC holds EUR amounts only',
    });
    expect(refusal([{ ...invoice, totalCents: invoice.totalCents + 1 }])).toMatchObject({
      message: '2026-000001: its VAT breakdown does not add up to its totals',
    });
    const dashed = doc({ number: '2026-000005', account: { kind: 'employer', id: 'ac-me', name: 'Ac-Me' } }, [
      [20, 100, 20],
    ]);
    expect(refusal([invoice, dashed])?.message).toMatch(
      /^employer:acme and employer:ac-me would both be the auxiliary account 411ACME/,
    );
    const own = FecAccounts.parse({ auxiliary: { 'employer:ac-me': '411ACME2' } });
    expect(refusal([invoice, dashed], own)).toBeUndefined();
  });

  it('cells never hold a separator or a line break; the file is ISO 8859-15 and its name SIRENFECYYYYMMDD.txt', () => {
    const journal = new FecJournal(DEFAULTS);
    journal.add(
      doc({ number: '2026-000006', account: { kind: 'member', id: 'zoe', name: 'Zoë\t“Ł|ș”\r\nŒuvre 5 €' } }, [
        [20, 100, 20],
      ]),
    );
    const text = fecText(journal.rows(), '|');
    expect(text.split('\r\n')[1]?.split('|')[7]).toBe('Zoë “Ł ș” Œuvre 5 €');
    const bytes = encodeLatin9(text.split('\r\n')[1] ?? '');
    expect(bytes.toString('latin1').split('|')[7]).toBe('Zo\u00eb "? s" \u00bcuvre 5 \u00a4');
    expect(encodeLatin9('TVA collectée')).toEqual(
      Buffer.from([...'TVA collect'].map((c) => c.charCodeAt(0)).concat(0xe9, 0x65)),
    );
    expect([fecFileName('123456789', '2026-12-31'), fecFileName(undefined, '2027-06-30')]).toEqual([
      '123456789FEC20261231.txt',
      'FEC20270630.txt',
    ]);
  });

  it('any documents: 18 columns, entries numbered 1, 2, 3... without gap, each balanced, and all of them, in date order', () => {
    const rate = fc.constantFrom(0, 2.1, 5.5, 8.5, 10, 20);
    const document = fc.record({
      credit: fc.boolean(),
      day: fc.integer({ min: 1, max: 28 }),
      account: fc.integer({ min: 0, max: 5 }),
      vat: fc.uniqueArray(
        fc.tuple(rate, fc.integer({ min: -100_000, max: 100_000 }), fc.integer({ min: -20_000, max: 20_000 })),
        {
          selector: ([r]) => r,
          maxLength: 4,
        },
      ),
    });
    fc.assert(
      fc.property(fc.array(document, { maxLength: 30 }), (docs) => {
        const journal = new FecJournal(DEFAULTS);
        docs.forEach((d, i) =>
          journal.add(
            doc(
              {
                ...(d.credit ? { type: 'credit-note' as const } : {}),
                number: `${d.credit ? 'AV-' : ''}2026-${String(i + 1).padStart(6, '0')}`,
                issueDate: `2026-12-${String(d.day).padStart(2, '0')}`,
                account: {
                  kind: d.account % 2 ? 'member' : 'employer',
                  id: `a${d.account}`,
                  name: `Account ${d.account}`,
                },
              },
              d.vat,
            ),
          ),
        );
        const [header, ...rows] = table(fecText(journal.rows(), '\t'));
        expect(header).toEqual([...FEC_COLUMNS]);
        for (const r of rows) expect(r).toHaveLength(18);
        const numbers = [...new Set(rows.map((r) => r[2]))];
        expect(numbers).toEqual(numbers.map((_, i) => `VE${String(i + 1).padStart(6, '0')}`));
        // An entry's lines are together, and entries come in date order.
        expect(rows.map((r) => r[2])).toEqual([...rows.map((r) => r[2] ?? '')].sort());
        expect(rows.map((r) => r[3])).toEqual([...rows.map((r) => r[3] ?? '')].sort());
        for (const n of numbers) {
          const lines = rows.filter((r) => r[2] === n);
          expect(lines.reduce((s, r) => s + cents(r[11] ?? ''), 0)).toBe(
            lines.reduce((s, r) => s + cents(r[12] ?? ''), 0),
          );
          for (const r of lines) expect(cents(r[11] ?? '') === 0 || cents(r[12] ?? '') === 0).toBe(true);
        }
        const debit = rows.reduce((s, r) => s + cents(r[11] ?? ''), 0);
        expect(debit).toBe(rows.reduce((s, r) => s + cents(r[12] ?? ''), 0));
        expect(debit).toBe(journal.debitCents);
        expect(journal.size + journal.empty).toBe(docs.length);
      }),
    );
  });
});
