import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACTURX_FILE_NAME, toCii, toFacturX, toPdf, toUbl } from '../../cloud-sync/billing/documents/index.js';
import type { Invoice } from '../../shared/protocol/api/hub-billing.js';
import { tempDir } from '../support/temp-dir.js';
import { BUYER, MENTIONS_FR, sampleCreditNote, sampleInvoice } from './invoice-documents-fixtures.js';

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

withTools('CII (Factur-X EN 16931)', () => {
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

withTools('UBL 2.1', () => {
  // The OASIS UBL 2.1 schemas are in no npm or Debian package this project can install: the
  // documents are checked for well-formedness and their EN 16931 content here.
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
    expect(xpath(p, 'CreditNoteTypeCode')).toBe('381');
    expect(xpath(p, 'InvoiceDocumentReference')).toContain('2026-000042');
    expect(Number(xpath(p, 'PayableAmount'))).toBe(-creditNote.totalCents / 100);
    expect(run('xmllint', ['--xpath', "count(//*[local-name()='CreditNoteLine'])", p]).out.trim()).toBe('2');
  });
});

withTools('PDF', () => {
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

withTools('PDF, extreme content', () => {
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

withTools('Factur-X', () => {
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
