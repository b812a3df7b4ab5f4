import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create as parseFont } from 'fontkit';
import PDFDocument from 'pdfkit';
import type { Invoice } from '../../../shared/protocol/api/hub-billing.js';
import { compactIban, lineDetail } from './cii.js';
import { checkEn16931, type LegalInvoice, type LegalLine } from './en16931.js';
import {
  LABELS,
  fill,
  formatDate,
  formatMoney,
  formatNumber,
  formatPercent,
  paymentTerms,
  type Labels,
} from './labels.js';

/**
 * The invoice as a readable A4 PDF in its language: seller and buyer with their legal
 * identifiers, number and dates, the lines in a table that goes on over as many pages as it
 * needs (its header repeated), the VAT per rate, the totals and the legal mentions. DejaVu Sans
 * is embedded (no standard font is used), so the same layout serves the PDF/A-3 of Factur-X.
 * Refuses (billing.not_en16931) an invoice that breaks a rule `checkEn16931` checks.
 */
export async function toPdf(invoice: Invoice): Promise<Uint8Array> {
  return renderPdf(checkEn16931(invoice));
}

/** What a PDF/A-3 rendering adds: the subset, its attachment and its XMP (facturx.ts). */
export interface PdfA {
  attach(pdf: PDFKit.PDFDocument): void;
}

const require = createRequire(import.meta.url);
type Font = ReturnType<typeof parseFont>;
let parsed: { regular: Font; bold: Font } | undefined;
/**
 * DejaVu Sans (free licence, the npm package `dejavu-fonts-ttf`), read and parsed once per
 * process: every document subsets the same parsed fonts, whose tables and glyph layouts are
 * decoded once (parsing them for each PDF took most of its time).
 */
function fonts(): { regular: Font; bold: Font } {
  parsed ??= {
    regular: parseFont(readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'))),
    bold: parseFont(readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'))),
  };
  return parsed;
}

const A4 = { w: 595.28, h: 841.89 };
const MARGIN = 42;
const WIDTH = A4.w - 2 * MARGIN;
/** Content stops here; the page footer sits below. */
const BOTTOM = A4.h - 58;
const FOOTER_Y = A4.h - 38;
const GREY = '#555555';
const RULE = '#bbbbbb';
const SHADE = '#eeeeee';
/** A description is cut there on paper (the XML keeps it whole): a row must fit on a page. */
const MAX_DESCRIPTION = 600;

interface Column {
  key: 'description' | 'dates' | 'quantity' | 'unit' | 'vat' | 'amount';
  label: keyof Labels;
  width: number;
  align: 'left' | 'right';
}
const COLUMNS: Column[] = [
  { key: 'description', label: 'colDescription', width: 187, align: 'left' },
  { key: 'dates', label: 'colDates', width: 92, align: 'left' },
  { key: 'quantity', label: 'colQuantity', width: 40, align: 'right' },
  { key: 'unit', label: 'colUnit', width: 66, align: 'right' },
  { key: 'vat', label: 'colVat', width: 44, align: 'right' },
  { key: 'amount', label: 'colAmount', width: WIDTH - 187 - 92 - 40 - 66 - 44, align: 'right' },
];
const PAD = 4;

export async function renderPdf(doc: LegalInvoice, pdfa?: PdfA): Promise<Uint8Array> {
  const l = LABELS[doc.language];
  const title = `${doc.type === 'credit-note' ? l.creditNote : l.invoice} ${doc.number}`;
  const { regular, bold } = fonts();
  const pdf = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: 0, left: MARGIN, right: MARGIN },
    bufferPages: true,
    pdfVersion: '1.7',
    lang: doc.language === 'fr' ? 'fr-FR' : 'en',
    displayTitle: true,
    // Dated from the issue date: the same invoice always gives the same bytes.
    info: {
      Title: title,
      Creator: 'Tessera',
      Producer: 'Tessera',
      CreationDate: new Date(`${doc.issueDate}T00:00:00Z`),
    },
    ...(pdfa ? { subset: 'PDF/A-3b' as const } : {}),
    // No default font (it would be Helvetica, a standard font PDF/A forbids): ours are registered below.
    font: null as unknown as string,
  });
  pdf.registerFont('regular', regular as unknown as string);
  pdf.registerFont('bold', bold as unknown as string);
  pdf.font('regular');
  const chunks: Uint8Array[] = [];
  const done = new Promise<Uint8Array>((resolve, reject) => {
    pdf.on('data', (c: Uint8Array) => chunks.push(c));
    pdf.on('end', () => resolve(concat(chunks)));
    pdf.on('error', reject);
  });

  const r = new Renderer(pdf, doc, l, title);
  r.draw();
  pdfa?.attach(pdf);
  pdf.end();
  return done;
}

class Renderer {
  private y = MARGIN;

  constructor(
    private readonly pdf: PDFKit.PDFDocument,
    private readonly doc: LegalInvoice,
    private readonly l: Labels,
    private readonly title: string,
  ) {}

  draw(): void {
    this.header();
    this.lines();
    this.totals();
    this.mentions();
    this.footers();
  }

  private money(cents: number): string {
    return formatMoney(cents, this.doc.currency, this.doc.language);
  }
  private date(iso: string): string {
    return formatDate(iso, this.doc.language);
  }

  /** Writes `text` at (x, y) within `width`; returns its height. */
  private write(
    text: string,
    x: number,
    y: number,
    width: number,
    o: { size?: number; bold?: boolean; color?: string; align?: 'left' | 'right' | 'center' } = {},
  ): number {
    const { pdf } = this;
    pdf
      .font(o.bold ? 'bold' : 'regular')
      .fontSize(o.size ?? 9)
      .fillColor(o.color ?? 'black');
    pdf.text(text, x, y, { width, align: o.align ?? 'left', lineGap: 1 });
    return pdf.heightOfString(text, { width, lineGap: 1 });
  }

  private measure(text: string, width: number, size: number, bold = false): number {
    return this.pdf
      .font(bold ? 'bold' : 'regular')
      .fontSize(size)
      .heightOfString(text, { width, lineGap: 1 });
  }

  private header(): void {
    const { doc, l } = this;
    const s = doc.seller;
    const leftW = 270;
    const rightX = MARGIN + 290;
    const rightW = WIDTH - 290;
    let y = MARGIN;
    y += this.write(s.name, MARGIN, y, leftW, { size: 13, bold: true }) + 2;
    const sellerLines = [
      ...s.address.lines,
      `${s.address.postcode} ${s.address.city}${s.address.country === 'FR' ? '' : ` (${s.address.country})`}`,
      s.shareCapital ? `${s.legalForm} ${fill(l.shareCapital, { capital: s.shareCapital })}` : s.legalForm,
      `${l.siren} ${s.siren} - ${l.siret} ${s.siret}`,
      s.rcs,
      s.vatNumber ? `${l.vatNumber} ${s.vatNumber}` : undefined,
      s.email ? `${l.email} ${s.email}` : undefined,
      s.phone ? `${l.phone} ${s.phone}` : undefined,
    ].filter((x): x is string => !!x);
    for (const line of sellerLines) y += this.write(line, MARGIN, y, leftW, { size: 8.5, color: GREY });

    let ry = MARGIN;
    const kind = doc.type === 'credit-note' ? l.creditNote : l.invoice;
    ry += this.write(kind.toUpperCase(), rightX, ry, rightW, { size: 18, bold: true, align: 'right' }) + 2;
    ry += this.write(`${l.number} ${doc.number}`, rightX, ry, rightW, { size: 10, bold: true, align: 'right' }) + 4;
    const facts: Array<[string, string]> = [[l.issueDate, this.date(doc.issueDate)]];
    if (doc.dueDate) facts.push([l.dueDate, this.date(doc.dueDate)]);
    if (doc.servicePeriod)
      facts.push([l.servicePeriod, `${this.date(doc.servicePeriod.from)} - ${this.date(doc.servicePeriod.to)}`]);
    for (const [k, v] of facts) ry += this.write(`${k} : ${v}`, rightX, ry, rightW, { size: 9, align: 'right' });
    if (doc.corrects) {
      const ref = doc.corrects.issueDate
        ? fill(l.correctsOf, { number: doc.corrects.number, date: this.date(doc.corrects.issueDate) })
        : fill(l.corrects, { number: doc.corrects.number });
      ry += 2 + this.write(ref, rightX, ry + 2, rightW, { size: 9, bold: true, align: 'right' });
    }

    // The buyer, boxed on the right.
    const b = doc.buyer;
    const buyerLines = [
      ...b.address.lines,
      `${b.address.postcode} ${b.address.city}${b.address.country === 'FR' ? '' : ` (${b.address.country})`}`,
      b.siret ? `${l.siret} ${b.siret}` : b.siren ? `${l.siren} ${b.siren}` : undefined,
      b.vatNumber ? `${l.vatNumber} ${b.vatNumber}` : undefined,
      b.reference ? `${l.buyerReference} : ${b.reference}` : undefined,
    ].filter((x): x is string => !!x);
    const boxY = Math.max(y, ry) + 14;
    const inner = rightW - 2 * 8;
    const boxH =
      8 +
      this.measure(l.billedTo, inner, 8) +
      this.measure(b.name, inner, 10.5, true) +
      buyerLines.reduce((h, t) => h + this.measure(t, inner, 9), 0) +
      10;
    this.pdf.lineWidth(0.6).strokeColor(RULE).rect(rightX, boxY, rightW, boxH).stroke();
    let by = boxY + 8;
    by += this.write(l.billedTo, rightX + 8, by, inner, { size: 8, color: GREY });
    by += this.write(b.name, rightX + 8, by, inner, { size: 10.5, bold: true });
    for (const t of buyerLines) by += this.write(t, rightX + 8, by, inner, { size: 9 });
    this.y = boxY + boxH + 22;
  }

  private tableHeader(): void {
    const h = Math.max(...COLUMNS.map((c) => this.measure(this.l[c.label], c.width - 2 * PAD, 8, true))) + 2 * PAD;
    this.pdf.rect(MARGIN, this.y, WIDTH, h).fill(SHADE);
    let x = MARGIN;
    for (const c of COLUMNS) {
      this.write(this.l[c.label], x + PAD, this.y + PAD, c.width - 2 * PAD, { size: 8, bold: true, align: c.align });
      x += c.width;
    }
    this.y += h;
  }

  /** Starts a new page whose top says which document it goes on. */
  private newPage(): void {
    this.pdf.addPage();
    this.y = MARGIN;
    this.y += this.write(`${this.title} (${this.l.continued})`, MARGIN, this.y, WIDTH, { size: 9, color: GREY }) + 8;
  }

  private cells(line: LegalLine): Record<Column['key'], string> {
    const description =
      line.description.length > MAX_DESCRIPTION ? `${line.description.slice(0, MAX_DESCRIPTION)}…` : line.description;
    const from = line.from ?? line.dates[0];
    const to = line.to ?? line.dates[line.dates.length - 1];
    const dates = from && to ? (from === to ? this.date(from) : `${this.date(from)} - ${this.date(to)}`) : '';
    return {
      description,
      dates,
      quantity: formatNumber(line.quantity, this.doc.language),
      unit: this.money(line.unitCents),
      vat: line.category === 'E' ? this.l.exempt : formatPercent(line.vatPercent, this.doc.language),
      amount: this.money(line.amountCents),
    };
  }

  private lines(): void {
    this.tableHeader();
    for (const line of this.doc.lines) {
      const cells = this.cells(line);
      const detail = lineDetail(this.doc, line.memberName, line.adjusts);
      const descW = COLUMNS[0]!.width - 2 * PAD;
      const h =
        Math.max(
          this.measure(cells.description, descW, 9) + (detail ? this.measure(detail, descW, 7.5) : 0),
          this.measure(cells.dates, COLUMNS[1]!.width - 2 * PAD, 8),
          this.measure(cells.unit, COLUMNS[3]!.width - 2 * PAD, 9),
          this.measure(cells.amount, COLUMNS[5]!.width - 2 * PAD, 9),
        ) +
        2 * PAD;
      if (this.y + h > BOTTOM) {
        this.newPage();
        this.tableHeader();
      }
      let x = MARGIN;
      for (const c of COLUMNS) {
        const w = c.width - 2 * PAD;
        if (c.key === 'description') {
          const dh = this.write(cells.description, x + PAD, this.y + PAD, w, { size: 9 });
          if (detail) this.write(detail, x + PAD, this.y + PAD + dh, w, { size: 7.5, color: GREY });
        } else {
          this.write(cells[c.key], x + PAD, this.y + PAD, w, { size: c.key === 'dates' ? 8 : 9, align: c.align });
        }
        x += c.width;
      }
      this.y += h;
      this.pdf
        .lineWidth(0.4)
        .strokeColor(RULE)
        .moveTo(MARGIN, this.y)
        .lineTo(MARGIN + WIDTH, this.y)
        .stroke();
    }
  }

  private totals(): void {
    const { doc, l } = this;
    const rowH = 15;
    const rows = doc.vat.length + 1;
    const payment = doc.type === 'invoice' && doc.seller.iban;
    const needed = 16 + Math.max(rows * rowH, 4 * 17) + 16 + 40 + (payment ? 30 : 0);
    if (this.y + needed > BOTTOM) this.newPage();
    this.y += 16;
    const top = this.y;

    // VAT per rate, on the left.
    const vatCols = [
      { label: l.vatRate, width: 80 },
      { label: l.vatBase, width: 90 },
      { label: l.vatAmount, width: 90 },
    ];
    const vatW = vatCols.reduce((s, c) => s + c.width, 0);
    this.pdf.rect(MARGIN, this.y, vatW, rowH).fill(SHADE);
    let x = MARGIN;
    for (const [i, c] of vatCols.entries()) {
      this.write(c.label, x + PAD, this.y + 3.5, c.width - 2 * PAD, {
        size: 8,
        bold: true,
        align: i ? 'right' : 'left',
      });
      x += c.width;
    }
    let vy = this.y + rowH;
    for (const v of doc.vat) {
      const rate = v.category === 'E' ? l.exempt : formatPercent(v.vatPercent, doc.language);
      const cells = [rate, this.money(v.baseCents), this.money(v.vatCents)];
      x = MARGIN;
      for (const [i, c] of vatCols.entries()) {
        this.write(cells[i] ?? '', x + PAD, vy + 3.5, c.width - 2 * PAD, { size: 9, align: i ? 'right' : 'left' });
        x += c.width;
      }
      vy += rowH;
    }
    for (const v of doc.vat)
      if (v.exemptionReason) vy += 2 + this.write(v.exemptionReason, MARGIN, vy + 2, vatW, { size: 8, color: GREY });

    // Totals, on the right.
    const tx = MARGIN + WIDTH - 230;
    let ty = top;
    const total = (label: string, cents: number, strong = false) => {
      if (strong) this.pdf.rect(tx, ty, 230, 17).fill(SHADE);
      this.write(label, tx + PAD, ty + 4, 120, { size: strong ? 10 : 9, bold: strong });
      this.write(this.money(cents), tx + 120, ty + 4, 110 - PAD, {
        size: strong ? 10 : 9,
        bold: strong,
        align: 'right',
      });
      ty += 17;
    };
    total(l.totalExcl, doc.lineTotalCents);
    total(l.totalVat, doc.vatCents);
    total(l.totalIncl, doc.totalCents);
    total(doc.type === 'credit-note' ? l.creditTotal : l.amountDue, doc.dueCents, true);

    this.y = Math.max(vy, ty) + 14;
    this.y += this.write(paymentTerms(doc), MARGIN, this.y, WIDTH, { size: 9 }) + 2;
    if (payment && doc.seller.iban) {
      const bank = [
        `${l.iban} ${formatIban(doc.seller.iban)}`,
        doc.seller.bic ? `${l.bic} ${doc.seller.bic}` : undefined,
      ]
        .filter((p): p is string => !!p)
        .join('   ');
      this.y += this.write(l.payment, MARGIN, this.y, WIDTH, { size: 9, bold: true });
      this.y += this.write(bank, MARGIN, this.y, WIDTH, { size: 9 });
    }
  }

  /** The legal mentions at the foot of the last page (on pages of their own if they do not fit). */
  private mentions(): void {
    const size = 7.5;
    const heights = this.doc.mentions.map((m) => this.measure(m, WIDTH, size) + 2);
    const all = heights.reduce((s, h) => s + h, 0);
    if (all === 0) return;
    if (this.y + 12 + all <= BOTTOM) this.y = BOTTOM - all;
    else this.y += 12;
    this.pdf
      .lineWidth(0.4)
      .strokeColor(RULE)
      .moveTo(MARGIN, this.y - 5)
      .lineTo(MARGIN + WIDTH, this.y - 5)
      .stroke();
    for (const [i, m] of this.doc.mentions.entries()) {
      const h = heights[i] ?? 0;
      if (this.y + h > BOTTOM) this.newPage();
      this.write(m, MARGIN, this.y, WIDTH, { size, color: GREY });
      this.y += h;
    }
  }

  /** Every page: the document and "page n / total". */
  private footers(): void {
    const range = this.pdf.bufferedPageRange();
    for (let i = 0; i < range.count; i++) {
      this.pdf.switchToPage(range.start + i);
      this.write(`${this.doc.seller.name} - ${this.title}`, MARGIN, FOOTER_Y, WIDTH - 100, { size: 7.5, color: GREY });
      this.write(fill(this.l.page, { n: i + 1, total: range.count }), MARGIN + WIDTH - 100, FOOTER_Y, 100, {
        size: 7.5,
        color: GREY,
        align: 'right',
      });
    }
  }
}

/** `FR7630006000011234567890189` in groups of four, as it is printed. */
function formatIban(iban: string): string {
  return compactIban(iban).replace(/(.{4})(?=.)/g, '$1 ');
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
