import { describe, expect, it } from 'vitest';
import { invoicesCsv } from '../../cloud-sync/billing/export.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { entitiesOf, formatMembersCsv, parseMembersCsv } from '../../cloud-sync/hub/admin/members-csv.js';
import type { Member } from '../../shared/directory.js';

/**
 * Cells as a lenient spreadsheet import reads them: quoted fields per RFC 4180, but outside
 * quotes a lone CR or LF ends the row, as CRLF does.
 */
function spreadsheetCells(csv: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (quoted && c === '"' && csv[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (!quoted && c === '"' && cell === '') quoted = true;
    else if (!quoted && (c === ',' || c === '\r' || c === '\n')) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** A cell a spreadsheet would run: a formula character first once blanks and control characters are skipped. */
const runsAsFormula = (cell: string) => /^[\s\p{Cc}\uFEFF]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/u.test(cell);

const NAMES = ['\r=1+1', '\n=cmd|"/c calc"!A1', '\r\n+SUM(1)', ' =HYPERLINK("http://x")', '\t=1', '\u00a0@x', '\u0001-2', '\uFEFF=1', "'=already", '=plain'];

describe('CSV exports neutralise formula cells, whatever comes before the formula character', () => {
  it('the members export: no cell of any row runs as a formula, and import reads every name back exactly', () => {
    const members = NAMES.map((name, i) => ({ id: `m${i}`, name, plan: 'always', role: 'member', status: 'active' }) as Member);
    const csv = formatMembersCsv(members, () => []);
    expect(spreadsheetCells(csv).filter(runsAsFormula)).toEqual([]);
    const parsed = parseMembersCsv(csv);
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows.map((r) => entitiesOf(r).member.name)).toEqual(NAMES);
  });

  it('the billing export: no text cell runs as a formula', () => {
    const invoice: Invoice = {
      number: '2026-000001',
      period: '2026-11',
      closedAt: '2026-12-02T09:00:00.000Z',
      account: { kind: 'employer', id: 'acme', name: '\r=HYPERLINK("http://x")' },
      currency: 'EUR',
      lines: NAMES.map((name, i) => ({ member: `m${i}`, memberName: name, site: 'murat', kind: 'day', item: null, description: `\n@desc${i}`, adjusts: null, quantity: 1, unitCents: 100, amountCents: 100, vatPercent: 20, vatCents: 20, dates: ['2026-11-02'] })),
      bySite: [],
      byMember: [],
      vat: [],
      subtotalCents: 1000,
      vatCents: 200,
      totalCents: 1200,
    } as Invoice;
    expect(spreadsheetCells(invoicesCsv([invoice])).filter(runsAsFormula)).toEqual([]);
  });
});
