import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACTURX_FILE_NAME, toCii, toFacturX, toPdf, toUbl } from '../../cloud-sync/billing/documents/index.js';
import type { Invoice } from '../../shared/protocol/api/hub-billing.js';
import { tempDir } from '../support/temp-dir.js';
import {
  BUYER,
  MENTIONS_FR,
  SELLER,
  sampleCreditNote,
  sampleInvoice,
  sampleLine,
  withTotals,
} from './invoice-documents-fixtures.js';

/**
 * The documents checked with the tools a person or a partner would use: xmllint against the
 * published Factur-X EN 16931 schema, poppler's pdftotext / pdftoppm / pdfdetach / pdffonts /
 * pdfinfo on the PDFs. Under CI (.ci/run installs libxml2-utils and poppler-utils) a missing
 * tool fails these tests; elsewhere they are skipped with a line saying what to install.
 */
const TOOLS = ['xmllint', 'pdftotext', 'pdftoppm', 'pdfdetach', 'pdffonts', 'pdfinfo'];
function toolsAvailable(): boolean {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length === 0) return true;
  const what = `invoice documents: ${missing.join(', ')} not found (apt-get install -y libxml2-utils poppler-utils)`;
  if (process.env.CI === 'true') throw new Error(`${what}: required under CI`);
  console.warn(`${what}: the document tests are skipped`);
  return false;
}
const withTools = toolsAvailable() ? describe : describe.skip;
/** These tests run xmllint and poppler's tools many times each: seconds on an idle machine, far more on a loaded one. */
const TOOLS_TIMEOUT_MS = 120_000;

const CII_XSD = resolve('tests/fixtures/schemas/factur-x-1.07.3-en16931/Factur-X_1.07.3_EN16931.xsd');

function run(cmd: string, args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function save(dir: string, name: string, data: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/** xmllint's verdict of a file against the Factur-X EN 16931 schema. */
function validateCii(path: string): { ok: boolean; err: string } {
  const r = run('xmllint', ['--noout', '--schema', CII_XSD, path]);
  return { ok: r.status === 0, err: r.err };
}

/** The text value of the first element of that local name (namespaces aside). */
function xpath(path: string, local: string, attr?: string): string {
  const expr = attr
    ? `string((//*[local-name()='${local}'])[1]/@${attr})`
    : `string((//*[local-name()='${local}'])[1])`;
  return run('xmllint', ['--xpath', expr, path]).out.trim();
}

/**
 * pdftotext's text, spaces (no-break and narrow ones too) collapsed, for searching: as laid out
 * (columns side by side), or in reading order (`flow`: a block's wrapped lines follow each other).
 */
function pdfText(path: string, page?: number, flow = false): string {
  const args = page ? ['-f', String(page), '-l', String(page)] : [];
  const r = run('pdftotext', [...(flow ? [] : ['-layout']), ...args, path, '-']);
  expect(r.status, r.err).toBe(0);
  return r.out.replace(/[\u00a0\u202f\s]+/g, ' ');
}

function pageCount(path: string): number {
  const m = /Pages:\s+(\d+)/.exec(run('pdfinfo', [path]).out);
  return Number(m?.[1] ?? 0);
}

const invoice = sampleInvoice();
const creditNote = sampleCreditNote();

withTools('CII (Factur-X EN 16931)', { timeout: TOOLS_TIMEOUT_MS }, () => {
  it('of an invoice and of a credit note validate against the published schema', () => {
    const dir = tempDir();
    for (const [name, inv] of [
      ['invoice', invoice],
      ['credit-note', creditNote],
      ['english', sampleInvoice({ language: 'en' })],
    ] as const) {
      const v = validateCii(save(dir, `${name}.xml`, toCii(inv)));
      expect(v.err).toContain('validates');
      expect(v.ok, `${name}: ${v.err}`).toBe(true);
    }
  });

  it('a document missing a required element does not validate (the check can fail)', () => {
    const broken = toCii(invoice).replace(/<ram:TypeCode>380<\/ram:TypeCode>/, '');
    const v = validateCii(save(tempDir(), 'broken.xml', broken));
    expect(v.ok).toBe(false);
    expect(v.err).toMatch(/TypeCode|IssueDateTime/);
  });

  it('escapes markup and drops characters XML cannot carry, so that the document still validates', () => {
    const odd = {
      ...invoice,
      lines: invoice.lines.map((l, i) => (i ? l : { ...l, description: 'Café <b>&</b> "thé"\u0007' })),
    };
    const p = save(tempDir(), 'odd.xml', toCii(odd));
    expect(validateCii(p).ok).toBe(true);
    expect(xpath(p, 'Name')).toBe('Café <b>&</b> "thé"');
  });

  it('carries the profile, parties, totals, terms, period and IBAN of the invoice', () => {
    const p = save(tempDir(), 'invoice.xml', toCii(invoice));
    expect(xpath(p, 'GuidelineSpecifiedDocumentContextParameter')).toBe('urn:cen.eu:en16931:2017');
    expect(xpath(p, 'TypeCode')).toBe('380');
    expect(xpath(p, 'ExchangedDocument')).toContain('2026-000042');
    expect(xpath(p, 'GlobalID')).toBe('73282932000074');
    expect(xpath(p, 'GlobalID', 'schemeID')).toBe('0009');
    expect(xpath(p, 'SpecifiedLegalOrganization')).toBe('732829320');
    expect(run('xmllint', ['--xpath', "string(//*[@schemeID='VA'][1])", p]).out.trim()).toBe('FR44732829320');
    expect(xpath(p, 'BuyerTradeParty')).toContain(BUYER.name);
    expect(xpath(p, 'IBANID')).toBe('FR7630006000011234567890189');
    expect(xpath(p, 'DueDateDateTime')).toBe('20261202');
    expect(xpath(p, 'SpecifiedTradePaymentTerms')).toContain('02/12/2026');
    const sum = (n: string) => Number(xpath(p, n));
    expect(sum('LineTotalAmount')).toBeGreaterThan(0);
    expect(Number(xpath(p, 'TaxBasisTotalAmount'))).toBe(invoice.subtotalCents / 100);
    expect(Number(xpath(p, 'TaxTotalAmount'))).toBe(invoice.vatCents / 100);
    expect(xpath(p, 'TaxTotalAmount', 'currencyID')).toBe('EUR');
    expect(Number(xpath(p, 'GrandTotalAmount'))).toBe(invoice.totalCents / 100);
    expect(Number(xpath(p, 'DuePayableAmount'))).toBe(invoice.totalCents / 100);
    const period = run('xmllint', [
      '--xpath',
      "string(//*[local-name()='ApplicableHeaderTradeSettlement']/*[local-name()='BillingSpecifiedPeriod'])",
      p,
    ]).out;
    expect(period).toContain('20261001');
    expect(period).toContain('20261031');
  });

  it('of a credit note has type 381 and names the invoice it corrects (BT-25), amounts positive', () => {
    const p = save(tempDir(), 'credit.xml', toCii(creditNote));
    expect(xpath(p, 'TypeCode')).toBe('381');
    expect(xpath(p, 'IssuerAssignedID')).toBe('2026-000042');
    expect(xpath(p, 'InvoiceReferencedDocument')).toContain('20261102');
    expect(Number(xpath(p, 'GrandTotalAmount'))).toBe(-creditNote.totalCents / 100);
    expect(Number(xpath(p, 'GrandTotalAmount'))).toBeGreaterThan(0);
  });
});

/** An XPath step matching an element by its local name (xmllint registers no namespace prefix). */
const e = (name: string) => `*[local-name()='${name}']`;
/** xmllint's result of an XPath expression over a file, trimmed. */
const xq = (path: string, expr: string) => run('xmllint', ['--xpath', expr, path]).out.trim();
const centsOf = (s: string) => (s.trim() === '' ? Number.NaN : Math.round(Number(s) * 100));
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/**
 * The EN 16931 rules a UBL document breaks, read from the document itself (not from the invoice
 * it was made of): the rules `checkEn16931` enforces before any document is made, in their UBL
 * binding. Returns the rule ids, none for a document that keeps them all.
 */
function ublBrokenRules(path: string): string[] {
  const broken: string[] = [];
  const need = (rule: string, ok: boolean) => {
    if (!ok && !broken.includes(rule)) broken.push(rule);
  };
  const str = (expr: string) => xq(path, `string(${expr})`);
  const has = (expr: string) => xq(path, `boolean(${expr})`) === 'true';
  const count = (expr: string) => Number(xq(path, `count(${expr})`));
  const credit = xq(path, 'local-name(/*)') === 'CreditNote';
  const top = (name: string) => `/*/${e(name)}`;
  const supplier = `${top('AccountingSupplierParty')}/${e('Party')}`;
  const customer = `${top('AccountingCustomerParty')}/${e('Party')}`;

  need('BR-01', str(top('CustomizationID')) !== '');
  need('BR-02', str(top('ID')) !== '');
  need('BR-03', /^\d{4}-\d{2}-\d{2}$/.test(str(top('IssueDate'))));
  need('BR-04', str(top(credit ? 'CreditNoteTypeCode' : 'InvoiceTypeCode')) === (credit ? '381' : '380'));
  const currency = str(top('DocumentCurrencyCode'));
  need('BR-05', /^[A-Z]{3}$/.test(currency));
  // Every amount is in the document's currency.
  need('BR-CL-03', count(`//*[@currencyID != '${currency}']`) === 0);
  for (const [rule, party] of [
    ['BR-06', supplier],
    ['BR-07', customer],
  ] as const)
    need(rule, str(`${party}/${e('PartyLegalEntity')}/${e('RegistrationName')}`).trim() !== '');
  for (const [addressRule, countryRule, party] of [
    ['BR-08', 'BR-09', supplier],
    ['BR-10', 'BR-11', customer],
  ] as const) {
    const a = `${party}/${e('PostalAddress')}`;
    need(addressRule, str(`${a}/${e('StreetName')}`) !== '' && str(`${a}/${e('CityName')}`) !== '');
    need(countryRule, /^[A-Z]{2}$/.test(str(`${a}/${e('Country')}/${e('IdentificationCode')}`)));
  }
  need(
    'BR-CO-26',
    has(`${supplier}/${e('PartyIdentification')}/${e('ID')}`) ||
      has(`${supplier}/${e('PartyLegalEntity')}/${e('CompanyID')}`),
  );
  if (credit) need('BR-55', str(`${top('BillingReference')}/${e('InvoiceDocumentReference')}/${e('ID')}`) !== '');

  const lineName = credit ? 'CreditNoteLine' : 'InvoiceLine';
  const lineCount = count(top(lineName));
  need('BR-16', lineCount > 0);
  const lines = Array.from({ length: lineCount }, (_, i) => {
    const l = `${top(lineName)}[${i + 1}]`;
    const qty = `${l}/${e(credit ? 'CreditedQuantity' : 'InvoicedQuantity')}`;
    const tax = `${l}/${e('Item')}/${e('ClassifiedTaxCategory')}`;
    const line = {
      amount: centsOf(str(`${l}/${e('LineExtensionAmount')}`)),
      price: centsOf(str(`${l}/${e('Price')}/${e('PriceAmount')}`)),
      category: str(`${tax}/${e('ID')}`),
      percent: Number(str(`${tax}/${e('Percent')}`)),
    };
    need('BR-21', str(`${l}/${e('ID')}`) !== '');
    need('BR-22', Number.isFinite(centsOf(str(qty))));
    need('BR-23', str(`${qty}/@unitCode`) !== '');
    need('BR-24', Number.isFinite(line.amount));
    need('BR-25', str(`${l}/${e('Item')}/${e('Name')}`).trim() !== '');
    need('BR-26', Number.isFinite(line.price));
    need('BR-27', line.price >= 0);
    need('BR-CO-04', ['S', 'E'].includes(line.category));
    need('BR-S-05', line.category !== 'S' || line.percent > 0);
    return line;
  });

  const total = (name: string) => centsOf(str(`${top('LegalMonetaryTotal')}/${e(name)}`));
  const lineTotal = total('LineExtensionAmount');
  const withoutVat = total('TaxExclusiveAmount');
  const withVat = total('TaxInclusiveAmount');
  const vatTotal = centsOf(str(`${top('TaxTotal')}/${e('TaxAmount')}`));
  need('BR-CO-10', sum(lines.map((l) => l.amount)) === lineTotal);
  // No document-level allowance or charge: the total without VAT is the lines' total.
  need('BR-CO-13', withoutVat === lineTotal);

  const subtotal = `${top('TaxTotal')}/${e('TaxSubtotal')}`;
  const breakdown = Array.from({ length: count(subtotal) }, (_, i) => {
    const s = `${subtotal}[${i + 1}]`;
    return {
      base: centsOf(str(`${s}/${e('TaxableAmount')}`)),
      vat: centsOf(str(`${s}/${e('TaxAmount')}`)),
      category: str(`${s}/${e('TaxCategory')}/${e('ID')}`),
      percent: Number(str(`${s}/${e('TaxCategory')}/${e('Percent')}`)),
      reason: str(`${s}/${e('TaxCategory')}/${e('TaxExemptionReason')}`),
    };
  });
  for (const b of breakdown) {
    const ofLines = lines.filter((l) => l.category === b.category && l.percent === b.percent);
    const rule = b.category === 'E' ? 'BR-E-08' : 'BR-S-08';
    need(rule, ofLines.length > 0 && sum(ofLines.map((l) => l.amount)) === b.base);
    need(rule, breakdown.filter((o) => o.category === b.category && o.percent === b.percent).length === 1);
    if (b.category === 'S') need('BR-CO-17', Math.abs(b.vat - Math.round((b.base * b.percent) / 100)) <= 100);
    if (b.category === 'E') {
      need('BR-E-09', b.vat === 0);
      need('BR-E-10', b.reason.trim() !== '');
    }
  }
  for (const l of lines)
    need(
      l.category === 'E' ? 'BR-E-08' : 'BR-S-08',
      breakdown.some((b) => b.category === l.category && b.percent === l.percent),
    );
  need('BR-CO-14', sum(breakdown.map((b) => b.vat)) === vatTotal);
  need('BR-CO-15', withVat === withoutVat + vatTotal);
  const sellerVat = `${supplier}/${e('PartyTaxScheme')}`;
  if (lines.some((l) => l.category === 'S'))
    need('BR-S-02', has(`${sellerVat}[${e('TaxScheme')}/${e('ID')}='VAT']/${e('CompanyID')}`));
  if (lines.some((l) => l.category === 'E')) need('BR-E-02', has(`${sellerVat}/${e('CompanyID')}`));
  if (!credit && total('PayableAmount') > 0)
    need('BR-CO-25', /^\d{4}-\d{2}-\d{2}$/.test(str(top('DueDate'))) && has(`${top('PaymentTerms')}/${e('Note')}`));
  return broken;
}

/** The figures both syntaxes carry, read from a UBL document, for comparing with its CII. */
function ublFigures(path: string) {
  const str = (expr: string) => xq(path, `string(${expr})`);
  const credit = xq(path, 'local-name(/*)') === 'CreditNote';
  const top = (name: string) => `/*/${e(name)}`;
  const total = (name: string) => centsOf(str(`${top('LegalMonetaryTotal')}/${e(name)}`));
  const lineName = credit ? 'CreditNoteLine' : 'InvoiceLine';
  const subtotal = `${top('TaxTotal')}/${e('TaxSubtotal')}`;
  const supplier = `${top('AccountingSupplierParty')}/${e('Party')}`;
  return {
    number: str(top('ID')),
    typeCode: str(top(credit ? 'CreditNoteTypeCode' : 'InvoiceTypeCode')),
    issueDate: str(top('IssueDate')),
    dueDate: str(credit ? `${top('PaymentMeans')}/${e('PaymentDueDate')}` : top('DueDate')),
    currency: str(top('DocumentCurrencyCode')),
    corrects: str(`${top('BillingReference')}/${e('InvoiceDocumentReference')}/${e('ID')}`),
    sellerSiret: str(`${supplier}/${e('PartyIdentification')}/${e('ID')}`),
    sellerSiren: str(`${supplier}/${e('PartyLegalEntity')}/${e('CompanyID')}`),
    sellerVat: str(`${supplier}/${e('PartyTaxScheme')}/${e('CompanyID')}`),
    buyer: str(`${top('AccountingCustomerParty')}/${e('Party')}/${e('PartyLegalEntity')}/${e('RegistrationName')}`),
    iban: str(`${top('PaymentMeans')}/${e('PayeeFinancialAccount')}/${e('ID')}`),
    lineTotal: total('LineExtensionAmount'),
    withoutVat: total('TaxExclusiveAmount'),
    vat: centsOf(str(`${top('TaxTotal')}/${e('TaxAmount')}`)),
    withVat: total('TaxInclusiveAmount'),
    due: total('PayableAmount'),
    breakdown: Array.from({ length: Number(xq(path, `count(${subtotal})`)) }, (_, i) => {
      const s = `${subtotal}[${i + 1}]`;
      return {
        category: str(`${s}/${e('TaxCategory')}/${e('ID')}`),
        percent: Number(str(`${s}/${e('TaxCategory')}/${e('Percent')}`)),
        base: centsOf(str(`${s}/${e('TaxableAmount')}`)),
        vat: centsOf(str(`${s}/${e('TaxAmount')}`)),
      };
    }),
    lines: Array.from({ length: Number(xq(path, `count(${top(lineName)})`)) }, (_, i) => {
      const l = `${top(lineName)}[${i + 1}]`;
      const qty = `${l}/${e(credit ? 'CreditedQuantity' : 'InvoicedQuantity')}`;
      const tax = `${l}/${e('Item')}/${e('ClassifiedTaxCategory')}`;
      return {
        id: str(`${l}/${e('ID')}`),
        name: str(`${l}/${e('Item')}/${e('Name')}`),
        quantity: Number(str(qty)),
        unit: str(`${qty}/@unitCode`),
        price: centsOf(str(`${l}/${e('Price')}/${e('PriceAmount')}`)),
        amount: centsOf(str(`${l}/${e('LineExtensionAmount')}`)),
        category: str(`${tax}/${e('ID')}`),
        percent: Number(str(`${tax}/${e('Percent')}`)),
      };
    }),
  };
}

/** The same figures read from the CII of the same invoice. */
function ciiFigures(path: string): ReturnType<typeof ublFigures> {
  const str = (expr: string) => xq(path, `string(${expr})`);
  const iso = (d: string) => (d ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : '');
  const settlement = `//${e('ApplicableHeaderTradeSettlement')}`;
  const sums = `${settlement}/${e('SpecifiedTradeSettlementHeaderMonetarySummation')}`;
  const seller = `//${e('SellerTradeParty')}`;
  const tax = `${settlement}/${e('ApplicableTradeTax')}`;
  const item = `//${e('IncludedSupplyChainTradeLineItem')}`;
  return {
    number: str(`//${e('ExchangedDocument')}/${e('ID')}`),
    typeCode: str(`//${e('ExchangedDocument')}/${e('TypeCode')}`),
    issueDate: iso(str(`//${e('ExchangedDocument')}/${e('IssueDateTime')}`)),
    dueDate: iso(str(`//${e('DueDateDateTime')}`)),
    currency: str(`${settlement}/${e('InvoiceCurrencyCode')}`),
    corrects: str(`${settlement}/${e('InvoiceReferencedDocument')}/${e('IssuerAssignedID')}`),
    sellerSiret: str(`${seller}/${e('GlobalID')}`),
    sellerSiren: str(`${seller}/${e('SpecifiedLegalOrganization')}/${e('ID')}`),
    sellerVat: str(`${seller}/${e('SpecifiedTaxRegistration')}/${e('ID')}`),
    buyer: str(`//${e('BuyerTradeParty')}/${e('Name')}`),
    iban: str(`//${e('IBANID')}`),
    lineTotal: centsOf(str(`${sums}/${e('LineTotalAmount')}`)),
    withoutVat: centsOf(str(`${sums}/${e('TaxBasisTotalAmount')}`)),
    vat: centsOf(str(`${sums}/${e('TaxTotalAmount')}`)),
    withVat: centsOf(str(`${sums}/${e('GrandTotalAmount')}`)),
    due: centsOf(str(`${sums}/${e('DuePayableAmount')}`)),
    breakdown: Array.from({ length: Number(xq(path, `count(${tax})`)) }, (_, i) => {
      const t = `${tax}[${i + 1}]`;
      return {
        category: str(`${t}/${e('CategoryCode')}`),
        percent: Number(str(`${t}/${e('RateApplicablePercent')}`)),
        base: centsOf(str(`${t}/${e('BasisAmount')}`)),
        vat: centsOf(str(`${t}/${e('CalculatedAmount')}`)),
      };
    }),
    lines: Array.from({ length: Number(xq(path, `count(${item})`)) }, (_, i) => {
      const l = `${item}[${i + 1}]`;
      const qty = `${l}//${e('BilledQuantity')}`;
      const lineTax = `${l}/${e('SpecifiedLineTradeSettlement')}/${e('ApplicableTradeTax')}`;
      return {
        id: str(`${l}//${e('LineID')}`),
        name: str(`${l}/${e('SpecifiedTradeProduct')}/${e('Name')}`),
        quantity: Number(str(qty)),
        unit: str(`${qty}/@unitCode`),
        price: centsOf(str(`${l}//${e('NetPriceProductTradePrice')}/${e('ChargeAmount')}`)),
        amount: centsOf(str(`${l}//${e('SpecifiedTradeSettlementLineMonetarySummation')}/${e('LineTotalAmount')}`)),
        category: str(`${lineTax}/${e('CategoryCode')}`),
        percent: Number(str(`${lineTax}/${e('RateApplicablePercent')}`)),
      };
    }),
  };
}

/** An invoice at three VAT rates (20 %, 10 %, 5.5 %), and one from a seller exempt from VAT. */
const threeRates = withTotals({
  ...invoice,
  lines: [sampleLine(0), sampleLine(1, { vatPercent: 10 }), sampleLine(2, { vatPercent: 5.5 }), sampleLine(3)],
});
const exempt = withTotals({
  ...invoice,
  seller: { ...SELLER, vatNumber: undefined, vatExemption: 'TVA non applicable, art. 293 B du CGI' },
  lines: invoice.lines.map((l) => ({ ...l, vatPercent: 0, vatCents: 0 })),
});
const UBL_SAMPLES = [
  ['invoice', invoice],
  ['credit-note', creditNote],
  ['english', sampleInvoice({ language: 'en' })],
  ['three-rates', threeRates],
  ['vat-exempt', exempt],
] as const;

withTools('UBL 2.1', { timeout: TOOLS_TIMEOUT_MS }, () => {
  // The OASIS UBL 2.1 schemas are in no npm or Debian package this project can install (see
  // docs/billing.md): the documents are checked for well-formedness, against the EN 16931 rules
  // read from the UBL itself, and against the CII of the same invoice, which the published
  // Factur-X schema validates above.
  it('an Invoice: well-formed, EN 16931 customization, parties, totals, lines', () => {
    const p = save(tempDir(), 'invoice.xml', toUbl(invoice));
    expect(run('xmllint', ['--noout', p]).status).toBe(0);
    expect(run('xmllint', ['--xpath', 'namespace-uri(/*)', p]).out.trim()).toBe(
      'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2',
    );
    expect(xpath(p, 'CustomizationID')).toBe('urn:cen.eu:en16931:2017');
    expect(xpath(p, 'InvoiceTypeCode')).toBe('380');
    expect(xpath(p, 'DueDate')).toBe('2026-12-02');
    expect(xpath(p, 'AccountingCustomerParty')).toContain(BUYER.name);
    expect(
      run('xmllint', ['--xpath', "string(//*[local-name()='PartyLegalEntity']/*[@schemeID='0002'])", p]).out.trim(),
    ).toBe('732829320');
    expect(Number(xpath(p, 'PayableAmount'))).toBe(invoice.totalCents / 100);
    expect(Number(xpath(p, 'TaxExclusiveAmount'))).toBe(invoice.subtotalCents / 100);
    expect(run('xmllint', ['--xpath', "count(//*[local-name()='InvoiceLine'])", p]).out.trim()).toBe(
      String(invoice.lines.length),
    );
  });

  it('a CreditNote with its billing reference to the invoice it corrects', () => {
    const p = save(tempDir(), 'credit.xml', toUbl(creditNote));
    expect(run('xmllint', ['--noout', p]).status).toBe(0);
    expect(run('xmllint', ['--xpath', 'local-name(/*)', p]).out.trim()).toBe('CreditNote');
    expect(run('xmllint', ['--xpath', 'namespace-uri(/*)', p]).out.trim()).toBe(
      'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2',
    );
    expect(xpath(p, 'CreditNoteTypeCode')).toBe('381');
    expect(xpath(p, 'InvoiceDocumentReference')).toContain('2026-000042');
    expect(Number(xpath(p, 'PayableAmount'))).toBe(-creditNote.totalCents / 100);
    expect(run('xmllint', ['--xpath', "count(//*[local-name()='CreditNoteLine'])", p]).out.trim()).toBe('2');
  });

  it('keeps the EN 16931 rules, read back from the UBL of an invoice, a credit note, several rates, an exempt seller', () => {
    const dir = tempDir();
    for (const [name, inv] of UBL_SAMPLES)
      expect(ublBrokenRules(save(dir, `${name}.xml`, toUbl(inv))), name).toEqual([]);
  });

  it('the rule check reads the document: a UBL altered after toUbl breaks the rules it should', () => {
    const dir = tempDir();
    const cases: Array<[string, string, string[]]> = [
      // One line's net amount changed: the lines no longer sum to the totals, nor to their rate's base.
      [
        'line-amount',
        toUbl(invoice).replace(/(<cac:InvoiceLine>[\s\S]*?<cbc:LineExtensionAmount[^>]*>)[^<]*/, '$1999.99'),
        ['BR-CO-10', 'BR-S-08'],
      ],
      [
        'no-seller-name',
        toUbl(invoice).replace(/<cbc:RegistrationName>Tessera Coworking SAS<\/cbc:RegistrationName>/, ''),
        ['BR-06'],
      ],
      [
        'no-billing-reference',
        toUbl(creditNote).replace(/<cac:BillingReference>[\s\S]*?<\/cac:BillingReference>/, ''),
        ['BR-55'],
      ],
      ['negative-price', toUbl(invoice).replace(/(<cbc:PriceAmount[^>]*>)/, '$1-'), ['BR-27']],
      [
        'no-exemption-reason',
        toUbl(exempt).replace(/<cbc:TaxExemptionReason>[^<]*<\/cbc:TaxExemptionReason>/, ''),
        ['BR-E-10'],
      ],
      [
        'vat-total',
        toUbl(threeRates).replace(/(<cac:TaxTotal>\s*<cbc:TaxAmount[^>]*>)[^<]*/, '$10.01'),
        ['BR-CO-14', 'BR-CO-15'],
      ],
      ['no-due-date', toUbl(invoice).replace(/<cbc:DueDate>[^<]*<\/cbc:DueDate>/, ''), ['BR-CO-25']],
      ['other-currency', toUbl(invoice).replace(/currencyID="EUR"/, 'currencyID="USD"'), ['BR-CL-03']],
    ];
    for (const [name, xml, rules] of cases) {
      const broken = ublBrokenRules(save(dir, `${name}.xml`, xml));
      expect(broken.sort(), name).toEqual([...rules].sort());
    }
  });

  it('carries the same figures as the CII of the same invoice: parties, dates, totals, VAT breakdown, each line', () => {
    const dir = tempDir();
    for (const [name, inv] of UBL_SAMPLES) {
      const ubl = ublFigures(save(dir, `${name}.xml`, toUbl(inv)));
      const cii = ciiFigures(save(dir, `${name}.cii.xml`, toCii(inv)));
      expect(ubl.lines.length, name).toBe(inv.lines.length);
      expect(ubl.breakdown.length, name).toBe(inv.vat.length);
      expect(ubl.withVat, name).toBe(Math.abs(inv.totalCents));
      expect(ubl, name).toEqual(cii);
    }
  });
});

withTools('PDF', { timeout: TOOLS_TIMEOUT_MS }, () => {
  it('reads back, in French, the number, seller, buyer, lines, VAT, totals and mentions', async () => {
    const text = pdfText(save(tempDir(), 'invoice.pdf', await toPdf(invoice)));
    for (const s of [
      'FACTURE',
      'N° 2026-000042',
      "Date d'émission : 02/11/2026",
      "Date d'échéance : 02/12/2026",
      'Période de service : 01/10/2026 - 31/10/2026',
      'Tessera Coworking SAS',
      'SAS au capital de 10 000 €',
      'SIREN 732829320 - SIRET 73282932000074',
      'RCS Clermont-Ferrand 732 829 320',
      'N° TVA intracommunautaire FR44732829320',
      'Facturé à',
      BUYER.name,
      'Désignation',
      'PU HT',
      'Abonnement 2 jours / semaine',
      'Membre : Alice Martin',
      'Total HT 546,30 €',
      'Total TVA 109,26 €',
      'Total TTC 655,56 €',
      'Net à payer 655,56 €',
      'IBAN FR76 3000 6000 0112 3456 7890 189',
      ...MENTIONS_FR,
    ])
      expect(text).toContain(s);
    expect(invoice.totalCents).toBe(65556);
  });

  it('in English for an invoice whose language is en', async () => {
    const text = pdfText(save(tempDir(), 'invoice.pdf', await toPdf(sampleInvoice({ language: 'en' }))));
    for (const s of [
      'INVOICE',
      'No. 2026-000042',
      'Issue date : 2 Nov 2026',
      'Bill to',
      'Total incl. VAT €655.56',
      'Amount due €655.56',
    ])
      expect(text).toContain(s);
    expect(text).not.toContain('Net à payer');
  });

  it('of a credit note states the invoice it corrects', async () => {
    const path = save(tempDir(), 'credit.pdf', await toPdf(creditNote));
    const text = pdfText(path);
    expect(pdfText(path, 1, true)).toContain('Avoir sur la facture n° 2026-000042 du 02/11/2026');
    expect(text).toContain('AVOIR');
    expect(text).toContain('N° AV-2026-000003');
    expect(text).toContain("Montant de l'avoir 306,00 €");
  });

  it('of 200 lines spans several pages, each rendered, the table header repeated, totals on the last', async () => {
    const dir = tempDir();
    const big = sampleInvoice({ lines: 200 });
    const path = save(dir, 'big.pdf', await toPdf(big));
    const pages = pageCount(path);
    expect(pages).toBeGreaterThan(3);
    const r = run('pdftoppm', ['-r', '30', '-png', path, join(dir, 'page')]);
    expect(r.status, r.err).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.png'))).toHaveLength(pages);
    for (let p = 2; p <= pages; p++) {
      const text = pdfText(path, p);
      expect(text).toContain('Facture 2026-000042 (suite)');
      expect(text).toContain(`Page ${p} / ${pages}`);
    }
    // Every line is printed once: 50 subscriptions at 180,00 € in the amount column.
    const all = pdfText(path);
    expect(all.match(/Abonnement 2 jours \/ semaine/g)).toHaveLength(50);
    expect(pdfText(path, 2)).toContain('Désignation');
    expect(pdfText(path, pages)).toContain('Net à payer');
    expect(pdfText(path, 1)).not.toContain('Net à payer');
  });
});

withTools('PDF, extreme content', { timeout: TOOLS_TIMEOUT_MS }, () => {
  it('cuts a description longer than a page on paper (the XML keeps it) and carries many mentions over', async () => {
    const long = `Forfait ${'très long '.repeat(400)}fin`;
    const mentions = Array.from({ length: 60 }, (_, i) => `Mention ${i + 1} : ${'texte légal '.repeat(12)}`);
    const inv = { ...invoice, mentions, lines: invoice.lines.map((l, i) => (i ? l : { ...l, description: long })) };
    const dir = tempDir();
    const path = save(dir, 'long.pdf', await toPdf(inv));
    expect(pageCount(path)).toBeGreaterThan(1);
    const text = pdfText(path);
    expect(text).toContain('Mention 60 :');
    expect(text).not.toContain(' fin ');
    expect(xpath(save(dir, 'long.xml', toCii(inv)), 'Name')).toMatch(/ fin$/);
  });
});

withTools('Factur-X', { timeout: TOOLS_TIMEOUT_MS }, () => {
  async function facturX(inv: Invoice): Promise<{ dir: string; path: string; bytes: Uint8Array }> {
    const dir = tempDir();
    const bytes = await toFacturX(inv);
    return { dir, path: save(dir, 'facturx.pdf', bytes), bytes };
  }

  it('embeds factur-x.xml: the same CII, which validates', async () => {
    for (const inv of [invoice, creditNote]) {
      const { dir, path } = await facturX(inv);
      expect(run('pdfdetach', ['-list', path]).out).toContain(FACTURX_FILE_NAME);
      const out = join(dir, 'extracted.xml');
      expect(run('pdfdetach', ['-savefile', FACTURX_FILE_NAME, '-o', out, path]).status).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(toCii(inv));
      expect(validateCii(out).ok).toBe(true);
    }
  });

  it('declares PDF/A-3B and the Factur-X EN 16931 document in well-formed XMP', async () => {
    const { dir, path } = await facturX(invoice);
    const xmp = run('pdfinfo', ['-meta', path]).out;
    expect(run('xmllint', ['--noout', save(dir, 'xmp.xml', xmp.replace(/^\s+/, ''))]).status).toBe(0);
    const x = save(dir, 'xmp.xml', xmp.replace(/^\s+/, ''));
    expect(xpath(x, 'part')).toBe('3');
    expect(xpath(x, 'conformance')).toBe('B');
    expect(xpath(x, 'DocumentType')).toBe('INVOICE');
    expect(xpath(x, 'DocumentFileName')).toBe('factur-x.xml');
    expect(xpath(x, 'Version')).toBe('1.0');
    expect(xpath(x, 'ConformanceLevel')).toBe('EN 16931');
    expect(xpath(x, 'namespaceURI')).toBe('urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#');
    expect(xpath(x, 'title')).toBe('Facture 2026-000042');
  });

  it('has every font embedded, none of the standard 14, an sRGB output intent, the attachment as Alternative', async () => {
    const { path, bytes } = await facturX(invoice);
    const fonts = run('pdffonts', [path]).out.trim().split('\n').slice(2);
    expect(fonts.length).toBeGreaterThan(0);
    for (const f of fonts) {
      expect(f).toMatch(/DejaVuSans/);
      expect(f).toMatch(/\byes\s+yes\s+yes\b/);
    }
    const raw = Buffer.from(bytes).toString('latin1');
    expect(raw).toMatch(/\/OutputIntents \[\d+ 0 R\]/);
    expect(raw).toContain('/S /GTS_PDFA1');
    expect(raw).toContain('sRGB IEC61966-2.1');
    expect(raw).toMatch(/\/DestOutputProfile \d+ 0 R/);
    expect(raw).toContain('/AFRelationship /Alternative');
    expect(raw).toMatch(/\/AF \[\d+ 0 R\]/);
    expect(raw).toContain('/Subtype /text#2Fxml');
    expect(raw).not.toMatch(/\/BaseFont \/(Helvetica|Times|Courier|Symbol|ZapfDingbats)/);
    expect(raw).toMatch(/\/ID \[/);
  });

  it('is the same PDF as toPdf shows, and the same bytes each time for the same invoice', async () => {
    const a = await facturX(invoice);
    const b = await toFacturX(invoice);
    expect(Buffer.from(b).equals(Buffer.from(a.bytes))).toBe(true);
    const plain = save(a.dir, 'plain.pdf', await toPdf(invoice));
    expect(pdfText(a.path)).toBe(pdfText(plain));
    expect(run('pdfdetach', ['-list', plain]).out).toContain('0 embedded files');
    expect(run('pdfinfo', ['-meta', plain]).out).not.toContain('pdfaid');
  });
});
