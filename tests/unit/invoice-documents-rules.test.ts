import { describe, expect, it } from 'vitest';
import { checkEn16931, toCii, toFacturX, toPdf, toUbl } from '../../cloud-sync/billing/documents/index.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { Invoice } from '../../shared/protocol/api/hub-billing.js';
import { SELLER, sampleCreditNote, sampleInvoice, sampleLine, withTotals } from './invoice-documents-fixtures.js';

/** The rule ids an invoice breaks, as `checkEn16931` reports them (`details[].path`). */
function brokenRules(invoice: Invoice): string[] {
  try {
    checkEn16931(invoice);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as TesseraError).code).toBe('billing.not_en16931');
    return (e as TesseraError).details.map((d) => d.path);
  }
}

const good = sampleInvoice();
/** The sample with `lines` replaced and totals recomputed as the ledger would. */
const withLines = (lines: Invoice['lines'], over: Partial<Invoice> = {}) =>
  withTotals({ ...good, ...over, lines } as Invoice);

describe('checkEn16931', () => {
  it('accepts the sample invoice and credit note, a credit note printing positive amounts', () => {
    expect(brokenRules(good)).toEqual([]);
    const credit = checkEn16931(sampleCreditNote());
    expect(credit.typeCode).toBe('381');
    expect(credit.totalCents).toBeGreaterThan(0);
    expect(credit.lines.every((l) => l.amountCents > 0 && l.quantity > 0 && l.unitCents > 0)).toBe(true);
    expect(credit.lineTotalCents).toBe(credit.lines.reduce((s, l) => s + l.amountCents, 0));
  });

  it('gives a refund line a negative quantity at a positive price (BR-27)', () => {
    const refund = sampleLine(1, { quantity: 1, unitCents: -2500, amountCents: -2500, vatCents: -500 });
    const doc = checkEn16931(withLines([...good.lines, refund]));
    const last = doc.lines.at(-1);
    expect(last).toMatchObject({ quantity: -1, unitCents: 2500, amountCents: -2500 });
  });

  const cases: Array<[string, string, () => Invoice]> = [
    ['BR-02', 'a preview without a number', () => ({ ...good, number: null })],
    ['BR-03', 'no issue date', () => ({ ...good, issueDate: undefined })],
    ['BR-03', 'an impossible issue date', () => ({ ...good, issueDate: '2026-02-30' })],
    ['BR-05', 'a currency that is not ISO 4217', () => ({ ...good, currency: 'euro' })],
    ['BR-16', 'no line', () => withLines([])],
    ['BR-06', 'a seller without a name', () => ({ ...good, seller: { ...SELLER, name: ' ' } })],
    ['BR-06', 'no seller at all (a frozen invoice from before)', () => ({ ...good, seller: undefined })],
    ['BR-07', 'a buyer without a name', () => ({ ...good, buyer: { ...good.buyer!, name: '' } })],
    [
      'BR-08',
      'a seller without an address',
      () => ({ ...good, seller: { ...SELLER, address: { ...SELLER.address, lines: [' '] } } }),
    ],
    [
      'BR-10',
      'a buyer without a city',
      () => ({ ...good, buyer: { ...good.buyer!, address: { ...good.buyer!.address, city: '' } } }),
    ],
    [
      'BR-CO-26',
      'a seller whose SIREN and SIRET fail their key',
      () => ({ ...good, seller: { ...SELLER, siren: '732829321', siret: '73282932000075' } }),
    ],
    ['BR-55', 'a credit note that names no invoice', () => ({ ...sampleCreditNote(), corrects: undefined })],
    ['BR-25', 'a line without a name', () => withLines([sampleLine(0, { description: '  ' })])],
    [
      'BR-S-02',
      'a standard-rated line from a seller without a VAT number',
      () => ({ ...good, seller: { ...SELLER, vatNumber: undefined } }),
    ],
    [
      'BR-E-10',
      'a line at 0 % from a seller without an exemption mention',
      () => withLines([...good.lines, sampleLine(3, { vatPercent: 0 })]),
    ],
    [
      'BR-S-08',
      'a breakdown base that is not the sum of its lines',
      () => ({ ...good, vat: good.vat.map((v) => ({ ...v, baseCents: v.baseCents + 100 })) }),
    ],
    [
      'BR-S-08',
      'a line whose rate has no breakdown',
      () => ({
        ...good,
        lines: [...good.lines, sampleLine(0, { vatPercent: 5.5, amountCents: 0, vatCents: 0, quantity: 0 })],
      }),
    ],
    ['BR-E-09', 'an exempt breakdown that carries VAT', () => exemptWithVat()],
    [
      'BR-CO-17',
      'a breakdown whose VAT is far from base × rate',
      () => ({
        ...good,
        vat: good.vat.map((v) => ({ ...v, vatCents: v.vatCents + 500 })),
        vatCents: good.vatCents + 500,
        totalCents: good.totalCents + 500,
      }),
    ],
    [
      'BR-CO-10',
      'lines that do not sum to the total without VAT',
      () => ({ ...good, subtotalCents: good.subtotalCents + 1, totalCents: good.totalCents + 1 }),
    ],
    [
      'BR-CO-13',
      'a breakdown whose bases do not sum to the total without VAT',
      () => ({ ...good, vat: [...good.vat, { vatPercent: 10, baseCents: 100, vatCents: 10 }] }),
    ],
    [
      'BR-CO-14',
      'a total VAT that is not the breakdown’s',
      () => ({ ...good, vatCents: good.vatCents + 1, totalCents: good.totalCents + 1 }),
    ],
    [
      'BR-CO-15',
      'a total with VAT that is not total without VAT plus VAT',
      () => ({ ...good, totalCents: good.totalCents + 1 }),
    ],
    ['BR-CO-25', 'an amount due without a due date', () => ({ ...good, dueDate: undefined })],
    [
      'BR-29',
      'a service period that ends before it starts',
      () => ({ ...good, servicePeriod: { from: '2026-10-31', to: '2026-10-01' } }),
    ],
  ];
  for (const [rule, what, make] of cases)
    it(`refuses ${what} (${rule})`, () => {
      expect(brokenRules(make())).toContain(rule);
    });

  it('accepts an exempt line when the seller gives its exemption mention, in a breakdown of category E', () => {
    const seller = { ...SELLER, vatNumber: undefined, vatExemption: 'TVA non applicable, art. 293 B du CGI' };
    const lines = good.lines.map((l) => ({ ...l, vatPercent: 0, vatCents: 0 }));
    const doc = checkEn16931(withLines(lines, { seller }));
    expect(doc.vat).toEqual([
      expect.objectContaining({ category: 'E', vatPercent: 0, vatCents: 0, exemptionReason: seller.vatExemption }),
    ]);
    expect(toCii(withLines(lines, { seller }))).toContain(
      '<ram:ExemptionReason>TVA non applicable, art. 293 B du CGI</ram:ExemptionReason>',
    );
  });

  it('the error names every broken rule at once, and each generator refuses the invoice', async () => {
    const bad = { ...good, number: null, dueDate: undefined, totalCents: good.totalCents + 1 };
    expect(brokenRules(bad)).toEqual(expect.arrayContaining(['BR-02', 'BR-CO-15', 'BR-CO-25']));
    expect(() => toCii(bad)).toThrow(/BR-02/);
    expect(() => toUbl(bad)).toThrow(/BR-CO-15/);
    await expect(toPdf(bad)).rejects.toThrow(/BR-CO-25/);
    await expect(toFacturX(bad)).rejects.toThrow(TesseraError);
  });
});

function exemptWithVat(): Invoice {
  const seller = { ...SELLER, vatExemption: 'TVA non applicable, art. 293 B du CGI' };
  const inv = withLines(
    good.lines.map((l) => ({ ...l, vatPercent: 0, vatCents: 0 })),
    { seller },
  );
  return { ...inv, vat: inv.vat.map((v) => ({ ...v, vatCents: 10 })), vatCents: 10, totalCents: inv.totalCents + 10 };
}
