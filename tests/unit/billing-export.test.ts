import { describe, expect, it } from 'vitest';
import { formatCents, invoicesCsv } from '../../cloud-sync/billing/export.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { FORMULA_NAMES, runsAsFormula, spreadsheetCells } from '../harness/spreadsheet.js';

const invoice: Invoice = {
  number: '2026-000007',
  period: '2026-11',
  closedAt: '2026-12-02T09:00:00.000Z',
  account: { kind: 'employer', id: 'acme', name: '=HYPERLINK("http://x")' },
  currency: 'EUR',
  lines: [
    {
      member: 'ana',
      memberName: '@ana',
      site: 'murat',
      kind: 'half-day',
      item: null,
      description: 'Half-day visits',
      adjusts: '2026-10',
      quantity: -1,
      unitCents: 1000,
      amountCents: -1000,
      vatPercent: 20,
      vatCents: -200,
      dates: ['2026-10-30', '2026-10-31'],
    },
  ],
  bySite: [],
  byMember: [],
  vat: [],
  subtotalCents: -1000,
  vatCents: -200,
  totalCents: -1200,
};

describe('CSV export', () => {
  it('writes cents as decimals without floating point, negatives included', () => {
    expect([formatCents(0), formatCents(5), formatCents(1200), formatCents(-1005), formatCents(123456789)]).toEqual([
      '0.00',
      '0.05',
      '12.00',
      '-10.05',
      '1234567.89',
    ]);
  });

  it('neutralises text a spreadsheet would run as a formula, and quotes what needs it', () => {
    const [, row] = invoicesCsv([invoice]).split('\r\n');
    expect(row).toBe(
      `2026-000007,2026-11,employer,acme,"'=HYPERLINK(""http://x"")",ana,'@ana,murat,half-day,,Half-day visits,2026-10,2026-10-30 2026-10-31,-1,10.00,-10.00,20,-2.00,EUR`,
    );
  });

  it('no text cell runs as a formula, whatever comes before the formula character (a lone CR, LF, blanks, control characters)', () => {
    const line = invoice.lines[0] as Invoice['lines'][number];
    const hostile: Invoice = {
      ...invoice,
      account: { kind: 'employer', id: 'acme', name: '\r=HYPERLINK("http://x")' },
      lines: FORMULA_NAMES.map((name, i) => ({
        ...line,
        member: `m${i}`,
        memberName: name,
        description: `\n@desc${i}`,
        adjusts: null,
        quantity: 1,
        unitCents: 100,
        amountCents: 100,
        vatCents: 20,
      })),
    };
    expect(spreadsheetCells(invoicesCsv([hostile])).filter(runsAsFormula)).toEqual([]);
  });
});
