import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invoicesCsv } from '../../cloud-sync/billing/export.js';
import type { Invoice } from '../../cloud-sync/billing/invoice.js';
import { entitiesOf, formatMembersCsv, parseMembersCsv } from '../../cloud-sync/hub/admin/members-csv.js';
import { csvDocument, csvNumber } from '../../shared/platform/csv.js';
import { decodeCsvBytes, detectCsvDelimiter } from '../../shared/platform/csv-read.js';
import type { Member } from '../../shared/protocol/directory.js';
import { FORMULA_NAMES, runsAsFormula, spreadsheetCells } from '../harness/spreadsheet.js';

describe('CSV dialects: one writer for every export', () => {
  it('rfc4180: commas, a decimal point, no BOM; excel-fr: semicolons, a decimal comma, a UTF-8 BOM; CRLF both', () => {
    const rows = [['Chloé; "the early one"', csvNumber('-12.05'), 'a,b', csvNumber(5.5), '-1']];
    expect(csvDocument(['name', 'amount', 'note', 'vat', 'text'], rows)).toBe(
      `name,amount,note,vat,text\r\n"Chloé; ""the early one""",-12.05,"a,b",5.5,'-1\r\n`,
    );
    // A number is never taken for a formula; a text that looks like one is.
    expect(csvDocument(['name', 'amount', 'note', 'vat', 'text'], rows, 'excel-fr')).toBe(
      `\uFEFFname;amount;note;vat;text\r\n"Chloé; ""the early one""";-12,05;a,b;5,5;'-1\r\n`,
    );
  });

  it("an invoice's lines for Excel in French: decimal commas in quantities, amounts and rates, no formula", () => {
    const invoice: Invoice = {
      number: '2026-000007',
      period: '2026-11',
      closedAt: '2026-12-02T09:00:00.000Z',
      account: { kind: 'employer', id: 'acme', name: 'Acme; SA' },
      currency: 'EUR',
      lines: FORMULA_NAMES.map((name, i) => ({
        member: `m${i}`,
        memberName: name,
        site: 'murat',
        kind: 'consumable',
        item: 'print',
        description: 'Pages',
        adjusts: null,
        quantity: 1.5,
        unitCents: 1005,
        amountCents: -1508,
        vatPercent: 5.5,
        vatCents: -83,
        dates: ['2026-11-02'],
      })),
      bySite: [],
      byMember: [],
      vat: [],
      subtotalCents: 0,
      vatCents: 0,
      totalCents: 0,
    };
    const csv = invoicesCsv([invoice], 'excel-fr');
    expect(csv.startsWith('\uFEFFinvoice;period;account_kind;')).toBe(true);
    expect(csv.split('\r\n')[1]).toBe(
      `2026-000007;2026-11;employer;acme;"Acme; SA";m0;"'\r=1+1";murat;consumable;print;Pages;;2026-11-02;1,5;10,05;-15,08;5,5;-0,83;EUR`,
    );
    // Amounts below zero are numbers (`-15,08`), not formulas.
    expect(spreadsheetCells(csv, ';').filter((c) => runsAsFormula(c) && !/^-\d+,\d+$/.test(c))).toEqual([]);
  });

  it('members for Excel in French: import reads back what export wrote, whatever the names', () => {
    const name = fc
      .string({
        unit: fc.oneof(
          fc.constantFrom(',', ';', '"', '\n', '\r', ' ', "'", '=', '-', '@', 'é', 'Œ', '€'),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
        ),
        minLength: 1,
        maxLength: 30,
      })
      .filter((s) => s.trim() === s && s !== '');
    const member = fc.record({ id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), name });
    fc.assert(
      fc.property(fc.uniqueArray(member, { selector: (m) => m.id, maxLength: 8 }), (members) => {
        const list = members.map((m) => ({ ...m, plan: 'always', role: 'member', status: 'active' }) as Member);
        const csv = formatMembersCsv(list, () => [], 'excel-fr');
        expect(spreadsheetCells(csv, ';').filter(runsAsFormula)).toEqual([]);
        const parsed = parseMembersCsv(csv);
        expect(parsed.errors).toEqual([]);
        expect(parsed.rows.map((r) => entitiesOf(r).member.name)).toEqual(members.map((m) => m.name));
      }),
    );
  });
});

describe('CSV import: the delimiter and the bytes as spreadsheets write them', () => {
  it("takes the header line's delimiter: the one found most outside quotes, a comma when none or tied", () => {
    expect(detectCsvDelimiter('member_id,name,plan\r\nana;x;y')).toBe(',');
    expect(detectCsvDelimiter('\uFEFFmember_id;name;plan\r\nana,x,y')).toBe(';');
    expect(detectCsvDelimiter('"a,b,c";name;plan\nx')).toBe(';');
    expect(detectCsvDelimiter('member_id\tname\tplan')).toBe('\t');
    expect(detectCsvDelimiter('a,b;c')).toBe(',');
    expect(detectCsvDelimiter('member_id')).toBe(',');
    expect(detectCsvDelimiter('')).toBe(',');
  });

  it('reads UTF-8 (its BOM kept for the parser), Windows-1252 when the bytes are not UTF-8, and UTF-16 after its BOM', () => {
    const text = '\uFEFFmember_id;name\r\nlea;Léa Müller – Œuvre 5 €\r\n';
    expect(decodeCsvBytes(Buffer.from(text, 'utf8'))).toBe(text);
    const cp1252 = Buffer.from([
      ...Buffer.from('member_id;name\r\nlea;L', 'latin1'),
      0xe9,
      ...Buffer.from('a M', 'latin1'),
      0xfc,
      ...Buffer.from('ller ', 'latin1'),
      0x96,
      0x20,
      0x8c,
      ...Buffer.from('uvre 5 ', 'latin1'),
      0x80,
      0x0d,
      0x0a,
    ]);
    expect(decodeCsvBytes(cp1252)).toBe(text.slice(1));
    expect(decodeCsvBytes(Buffer.from(text, 'utf16le'))).toBe(text.slice(1));
    expect(decodeCsvBytes(Buffer.from([0xfe, 0xff, 0x00, 0x4c, 0x00, 0xe9]))).toBe('Lé');
  });
});
