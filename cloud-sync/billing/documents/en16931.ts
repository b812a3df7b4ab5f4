import { TesseraError, type ErrorDetail } from '../../../shared/platform/errors.js';
import type {
  Buyer,
  Invoice,
  InvoiceLanguage,
  InvoiceLine,
  LineKind,
  Seller,
} from '../../../shared/protocol/api/hub-billing.js';

/**
 * An invoice as the legal documents (CII, UBL, PDF, Factur-X) print it: every field EN 16931
 * requires is there, amounts are signed as the document shows them (a credit note's positive),
 * and each line and VAT rate has its VAT category. Made by `checkEn16931`, which refuses an
 * invoice that would break a rule, so that no document is ever made of one.
 */
export interface LegalInvoice {
  type: 'invoice' | 'credit-note';
  /** UNTDID 1001: 380 commercial invoice, 381 credit note (BT-3). */
  typeCode: '380' | '381';
  number: string;
  issueDate: string;
  dueDate: string | undefined;
  servicePeriod: { from: string; to: string } | undefined;
  corrects: { number: string; issueDate: string | undefined } | undefined;
  language: InvoiceLanguage;
  currency: string;
  seller: Seller;
  buyer: Buyer;
  mentions: string[];
  lines: LegalLine[];
  vat: LegalVat[];
  /** BT-106 (= BT-109: no document-level allowance or charge), BT-110, BT-112, BT-115. */
  lineTotalCents: number;
  vatCents: number;
  totalCents: number;
  dueCents: number;
}

/** UNTDID 5305: S standard rate, E exempt (with the seller's exemption mention). */
export type VatCategory = 'S' | 'E';

export interface LegalLine {
  /** 1-based, BT-126. */
  id: string;
  kind: LineKind;
  description: string;
  memberName: string | null;
  /** The closed period an adjustment line corrects. */
  adjusts: string | null;
  quantity: number;
  /** UN/ECE Recommendation 20 (BT-130). */
  unitCode: string;
  /** Net price excluding VAT, never negative (BR-27); a refund has a negative quantity. */
  unitCents: number;
  amountCents: number;
  vatPercent: number;
  vatCents: number;
  category: VatCategory;
  from: string | undefined;
  to: string | undefined;
  dates: string[];
}

export interface LegalVat {
  category: VatCategory;
  vatPercent: number;
  baseCents: number;
  vatCents: number;
  /** BT-120, for category E. */
  exemptionReason: string | undefined;
}

/** The unit each kind of line counts in (UN/ECE Recommendation 20). */
const UNIT_CODES: Record<LineKind, string> = {
  subscription: 'MON',
  locker: 'MON',
  day: 'DAY',
  'extra-day': 'DAY',
  week: 'WEE',
  'room-hours': 'HUR',
  'half-day': 'C62',
  consumable: 'C62',
  'room-half-day': 'C62',
  'desk-booking': 'C62',
  'late-cancellation': 'C62',
  'no-show': 'C62',
  pack: 'C62',
  'pack-day': 'DAY',
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (s: string | undefined): s is string => s !== undefined && DATE.test(s) && isRealDate(s);
function isRealDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** VAT of a base at a rate, rounded half away from zero to the cent (BR-CO-17's "rounded to two decimals"). */
const vatOf = (baseCents: number, percent: number) => {
  const v = Math.round(Math.abs(baseCents) * Math.round(percent * 100)) / 10000;
  const r = Math.floor(v + 0.5 + 1e-9);
  return baseCents < 0 ? -r : r;
};

/**
 * The published CII artefacts (Factur-X) accept a VAT breakdown within one currency unit of its
 * base times its rate: VAT rounded line by line, as ours is, drifts a little from VAT computed
 * on the sum of the lines.
 */
const BR_CO_17_TOLERANCE_CENTS = 100;

/**
 * Checks the EN 16931 rules the documents rely on and returns the invoice as they print it, or
 * throws `billing.not_en16931` with one detail per broken rule (`path` is the rule id, so a
 * caller or a test can tell which). The rules checked:
 *
 * - BR-02 number, BR-03 issue date, BR-05 currency, BR-16 at least one line;
 * - BR-06/BR-07 seller and buyer names, BR-08/BR-10 their postal addresses, BR-09/BR-11 countries;
 * - BR-CO-26 a seller identifier (SIREN or SIRET), checked with the Luhn key as French law has them;
 * - BR-55 a credit note names the invoice it corrects (BT-25);
 * - BR-21..BR-27 each line: an id, a quantity, a name, a net amount, a price not negative;
 * - BR-S-05 a standard-rated line has a rate above 0; BR-S-02/BR-E-02 the seller's VAT number
 *   (or for an exempt seller its tax registration, the SIREN) when lines carry that category;
 * - BR-E-10 an exempt (0 %) line needs the seller's exemption mention;
 * - BR-S-08/BR-E-08 the VAT breakdown's base per rate equals the sum of its lines' net amounts,
 *   one breakdown per rate, none without lines; BR-S-09/BR-CO-17 its VAT is base × rate;
 *   BR-E-09 an exempt breakdown carries no VAT;
 * - BR-CO-10 the sum of the lines' net amounts is the total without VAT (BT-106);
 * - BR-CO-13 the total without VAT (BT-109) is the lines' sum (no document-level allowance or charge);
 * - BR-CO-14 the total VAT (BT-110) is the sum of the breakdown's;
 * - BR-CO-15 the total with VAT (BT-112) is the total without VAT plus the VAT;
 * - BR-CO-25 a positive amount due has a due date (BT-9) or payment terms (BT-20): an invoice's
 *   terms name its due date, so an invoice needs one; a credit note's terms say it is credited.
 */
export function checkEn16931(invoice: Invoice): LegalInvoice {
  const broken: ErrorDetail[] = [];
  const fail = (rule: string, message: string) => broken.push({ path: rule, message: `[${rule}] ${message}` });

  const type = invoice.type ?? 'invoice';
  // A credit note may come with the amounts of the invoice it cancels negated: it prints them positive.
  const sign = type === 'credit-note' && invoice.totalCents < 0 ? -1 : 1;
  const seller = invoice.seller;
  const buyer = invoice.buyer;

  if (!invoice.number) fail('BR-02', 'an invoice has a number (BT-1); a preview has none');
  if (!isDate(invoice.issueDate)) fail('BR-03', 'an invoice has an issue date (BT-2)');
  if (!/^[A-Z]{3}$/.test(invoice.currency)) fail('BR-05', 'an invoice has an ISO 4217 currency code (BT-5)');
  if (invoice.lines.length === 0) fail('BR-16', 'an invoice has at least one line (BG-25)');
  if (!seller?.name.trim()) fail('BR-06', "an invoice has the seller's name (BT-27)");
  if (!buyer?.name.trim()) fail('BR-07', "an invoice has the buyer's name (BT-44)");
  if (!seller || !addressOk(seller.address)) fail('BR-08', "an invoice has the seller's postal address (BG-5)");
  if (seller && !/^[A-Z]{2}$/.test(seller.address.country)) fail('BR-09', "the seller's country code (BT-40)");
  if (!buyer || !addressOk(buyer.address)) fail('BR-10', "an invoice has the buyer's postal address (BG-8)");
  if (buyer && !/^[A-Z]{2}$/.test(buyer.address.country)) fail('BR-11', "the buyer's country code (BT-55)");
  if (seller && !(sirenOk(seller.siren) || siretOk(seller.siret)))
    fail('BR-CO-26', 'the seller is identified: a valid SIREN (BT-30) or SIRET (BT-29)');
  if (seller && seller.siret && !siretOk(seller.siret))
    fail('BR-CO-26', `the seller's SIRET ${seller.siret} is not 14 digits with a valid key`);
  if (seller && seller.siren && !sirenOk(seller.siren))
    fail('BR-CO-26', `the seller's SIREN ${seller.siren} is not 9 digits with a valid key`);
  if (type === 'credit-note' && !invoice.corrects?.number.trim())
    fail('BR-55', 'a credit note names the invoice it corrects (BT-25)');
  if (invoice.servicePeriod && !(isDate(invoice.servicePeriod.from) && isDate(invoice.servicePeriod.to)))
    fail('BR-29', 'the service period has a start and an end date (BG-14)');
  else if (invoice.servicePeriod && invoice.servicePeriod.to < invoice.servicePeriod.from)
    fail('BR-29', 'the service period ends on or after its start (BT-74, BT-73)');
  if (invoice.dueDate !== undefined && !isDate(invoice.dueDate)) fail('BR-CO-25', 'the due date (BT-9) is a date');

  const exemption = seller?.vatExemption?.trim() || undefined;
  const lines: LegalLine[] = invoice.lines.map((l, i) => legalLine(l, i, sign));
  for (const l of lines) {
    const at = `line ${l.id}`;
    if (!l.description.trim()) fail('BR-25', `${at}: each line has an item name (BT-153)`);
    if (!Number.isFinite(l.quantity)) fail('BR-22', `${at}: each line has a quantity (BT-129)`);
    if (!Number.isInteger(l.amountCents)) fail('BR-24', `${at}: each line has a net amount in cents (BT-131)`);
    if (l.unitCents < 0) fail('BR-27', `${at}: the net price (BT-146) is not negative`);
    if (l.vatPercent < 0 || l.vatPercent > 100) fail('BR-S-05', `${at}: a VAT rate between 0 and 100`);
    if (l.category === 'E' && !exemption)
      fail('BR-E-10', `${at}: a line without VAT needs the seller's VAT exemption mention (BT-120)`);
    if (l.from !== undefined && l.to !== undefined && l.to < l.from)
      fail('BR-30', `${at}: the line's period ends on or after its start (BT-135, BT-134)`);
  }
  if (seller && lines.some((l) => l.category === 'S') && !seller.vatNumber)
    fail('BR-S-02', "a standard-rated line needs the seller's VAT identifier (BT-31)");
  if (seller && lines.some((l) => l.category === 'E') && !seller.vatNumber && !sirenOk(seller.siren))
    fail('BR-E-02', "an exempt line needs the seller's VAT identifier (BT-31) or tax registration (BT-32)");

  // The VAT breakdown (BG-23): one per rate, each the sum of its lines.
  const vat: LegalVat[] = [];
  const seen = new Set<number>();
  for (const v of invoice.vat) {
    const percent = v.vatPercent;
    const category: VatCategory = percent === 0 ? 'E' : 'S';
    const rule = category === 'S' ? 'BR-S-08' : 'BR-E-08';
    const key = Math.round(percent * 100);
    if (seen.has(key)) fail(rule, `one VAT breakdown per rate: ${percent} % appears twice`);
    seen.add(key);
    const baseCents = sign * v.baseCents;
    const vatCents = sign * v.vatCents;
    const ofLines = lines.filter((l) => Math.round(l.vatPercent * 100) === key);
    const linesBase = ofLines.reduce((s, l) => s + l.amountCents, 0);
    if (ofLines.length === 0) fail(rule, `the ${percent} % VAT breakdown has no line at that rate`);
    if (baseCents !== linesBase)
      fail(rule, `the ${percent} % taxable amount ${cents(baseCents)} is not the sum of its lines ${cents(linesBase)}`);
    if (category === 'E' && vatCents !== 0)
      fail('BR-E-09', `an exempt breakdown carries no VAT, not ${cents(vatCents)}`);
    if (category === 'S' && Math.abs(vatCents - vatOf(baseCents, percent)) > BR_CO_17_TOLERANCE_CENTS)
      fail('BR-CO-17', `the ${percent} % VAT ${cents(vatCents)} is not ${cents(baseCents)} × ${percent} %`);
    vat.push({
      category,
      vatPercent: percent,
      baseCents,
      vatCents,
      exemptionReason: category === 'E' ? exemption : undefined,
    });
  }
  for (const l of lines)
    if (!seen.has(Math.round(l.vatPercent * 100))) {
      seen.add(Math.round(l.vatPercent * 100));
      fail(l.category === 'S' ? 'BR-S-08' : 'BR-E-08', `line ${l.id}: no VAT breakdown for its rate ${l.vatPercent} %`);
    }

  const lineTotalCents = sign * invoice.subtotalCents;
  const vatCents = sign * invoice.vatCents;
  const totalCents = sign * invoice.totalCents;
  const linesSum = lines.reduce((s, l) => s + l.amountCents, 0);
  if (linesSum !== lineTotalCents)
    fail(
      'BR-CO-10',
      `the lines' net amounts sum to ${cents(linesSum)}, not the total ${cents(lineTotalCents)} (BT-106)`,
    );
  const basesSum = vat.reduce((s, v) => s + v.baseCents, 0);
  if (basesSum !== lineTotalCents)
    fail(
      'BR-CO-13',
      `the VAT breakdown's bases sum to ${cents(basesSum)}, not the total without VAT ${cents(lineTotalCents)} (BT-109)`,
    );
  const vatSum = vat.reduce((s, v) => s + v.vatCents, 0);
  if (vatSum !== vatCents)
    fail('BR-CO-14', `the VAT breakdown sums to ${cents(vatSum)}, not the total VAT ${cents(vatCents)} (BT-110)`);
  if (totalCents !== lineTotalCents + vatCents)
    fail(
      'BR-CO-15',
      `the total with VAT ${cents(totalCents)} is not ${cents(lineTotalCents)} + ${cents(vatCents)} (BT-112)`,
    );
  // A credit note's terms (BT-20) say the amount is credited to the buyer: no date to pay by.
  if (type === 'invoice' && totalCents > 0 && !isDate(invoice.dueDate))
    fail('BR-CO-25', 'an amount due needs a due date (BT-9) with its payment terms (BT-20)');

  if (broken.length > 0 || !seller || !buyer)
    throw new TesseraError(
      'billing.not_en16931',
      `invoice ${invoice.number ?? '(preview)'} cannot be made a legal document: ${broken.map((b) => b.message).join('; ')}`,
      broken,
    );
  return {
    type,
    typeCode: type === 'credit-note' ? '381' : '380',
    number: invoice.number as string,
    issueDate: invoice.issueDate as string,
    dueDate: invoice.dueDate,
    servicePeriod: invoice.servicePeriod,
    corrects: invoice.corrects ? { number: invoice.corrects.number, issueDate: invoice.corrects.issueDate } : undefined,
    language: invoice.language ?? buyer.language,
    currency: invoice.currency,
    seller,
    buyer,
    mentions: invoice.mentions ?? [],
    lines,
    vat,
    lineTotalCents,
    vatCents,
    totalCents,
    dueCents: totalCents,
  };
}

function legalLine(l: InvoiceLine, i: number, sign: number): LegalLine {
  // The price is never negative (BR-27): a refund is a negative quantity at the price.
  const flip = l.unitCents < 0 ? -1 : 1;
  return {
    id: String(i + 1),
    kind: l.kind,
    description: l.description,
    memberName: l.memberName,
    adjusts: l.adjusts,
    quantity: sign * flip * l.quantity,
    unitCode: UNIT_CODES[l.kind] ?? 'C62',
    unitCents: flip * l.unitCents,
    amountCents: sign * l.amountCents,
    vatPercent: l.vatPercent,
    vatCents: sign * l.vatCents,
    category: l.vatPercent === 0 ? 'E' : 'S',
    from: l.from,
    to: l.to,
    dates: l.dates,
  };
}

function addressOk(a: { lines: string[]; postcode: string; city: string; country: string } | undefined): boolean {
  return !!a && a.lines.some((l) => l.trim() !== '') && a.postcode.trim() !== '' && a.city.trim() !== '';
}

/** The Luhn key French SIREN and SIRET numbers carry. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
export const sirenOk = (s: string | undefined): boolean => !!s && /^\d{9}$/.test(s) && luhn(s);
export const siretOk = (s: string | undefined): boolean => !!s && /^\d{14}$/.test(s) && luhn(s);

const cents = (c: number) => (c / 100).toFixed(2);
