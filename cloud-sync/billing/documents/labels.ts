import type { InvoiceLanguage } from '../../../shared/protocol/api/hub-billing.js';

/**
 * What the invoice documents print, in French (the law's language) and English (for a buyer
 * who asks for it). `{name}` placeholders are filled by `fill`.
 */
const FR = {
  invoice: 'Facture',
  creditNote: 'Avoir',
  number: 'N°',
  issueDate: "Date d'émission",
  dueDate: "Date d'échéance",
  servicePeriod: 'Période de service',
  corrects: 'Avoir sur la facture n° {number}',
  correctsOf: 'Avoir sur la facture n° {number} du {date}',
  seller: 'Émetteur',
  billedTo: 'Facturé à',
  shareCapital: 'au capital de {capital}',
  siren: 'SIREN',
  siret: 'SIRET',
  rcs: 'RCS',
  vatNumber: 'N° TVA intracommunautaire',
  buyerReference: 'Votre référence',
  email: 'Courriel',
  phone: 'Tél.',
  colDescription: 'Désignation',
  colDates: 'Période',
  colQuantity: 'Qté',
  colUnit: 'PU HT',
  colVat: 'TVA',
  colAmount: 'Montant HT',
  member: 'Membre : {name}',
  adjusts: 'Régularisation de {period}',
  vatRate: 'Taux de TVA',
  vatBase: 'Base HT',
  vatAmount: 'Montant TVA',
  exempt: 'Exonéré',
  totalExcl: 'Total HT',
  totalVat: 'Total TVA',
  totalIncl: 'Total TTC',
  amountDue: 'Net à payer',
  creditTotal: "Montant de l'avoir",
  payment: 'Règlement par virement',
  iban: 'IBAN',
  bic: 'BIC',
  terms: 'Paiement à {days} jours, au plus tard le {date}.',
  termsNoDate: 'Paiement à {days} jours.',
  creditTerms: "Montant porté au crédit de l'acheteur.",
  page: 'Page {n} / {total}',
  continued: 'suite',
} as const;

export type LabelKey = keyof typeof FR;
export type Labels = Record<LabelKey, string>;

const EN: Labels = {
  invoice: 'Invoice',
  creditNote: 'Credit note',
  number: 'No.',
  issueDate: 'Issue date',
  dueDate: 'Due date',
  servicePeriod: 'Service period',
  corrects: 'Credit note for invoice no. {number}',
  correctsOf: 'Credit note for invoice no. {number} of {date}',
  seller: 'From',
  billedTo: 'Bill to',
  shareCapital: 'share capital {capital}',
  siren: 'SIREN',
  siret: 'SIRET',
  rcs: 'RCS',
  vatNumber: 'VAT number',
  buyerReference: 'Your reference',
  email: 'Email',
  phone: 'Tel.',
  colDescription: 'Description',
  colDates: 'Dates',
  colQuantity: 'Qty',
  colUnit: 'Unit price excl. VAT',
  colVat: 'VAT',
  colAmount: 'Amount excl. VAT',
  member: 'Member: {name}',
  adjusts: 'Adjustment of {period}',
  vatRate: 'VAT rate',
  vatBase: 'Taxable amount',
  vatAmount: 'VAT amount',
  exempt: 'Exempt',
  totalExcl: 'Total excl. VAT',
  totalVat: 'Total VAT',
  totalIncl: 'Total incl. VAT',
  amountDue: 'Amount due',
  creditTotal: 'Amount credited',
  payment: 'Payment by bank transfer',
  iban: 'IBAN',
  bic: 'BIC',
  terms: 'Payment within {days} days, by {date} at the latest.',
  termsNoDate: 'Payment within {days} days.',
  creditTerms: "Amount credited to the buyer's account.",
  page: 'Page {n} of {total}',
  continued: 'continued',
};

export const LABELS: Record<InvoiceLanguage, Labels> = { fr: FR, en: EN };

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2026-10-31` as `31/10/2026` (fr) or `31 Oct 2026` (en). */
export function formatDate(iso: string, lang: InvoiceLanguage): string {
  const [y, m, d] = iso.split('-');
  if (lang === 'fr') return `${d}/${m}/${y}`;
  return `${Number(d)} ${MONTHS_EN[Number(m) - 1] ?? m} ${y}`;
}

const group = (digits: string, sep: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
const NBSP = '\u00a0';

/** Cents in the invoice's currency: `1 234,56 €` (fr) or `€1,234.56` (en); other currencies by code. */
export function formatMoney(cents: number, currency: string, lang: InvoiceLanguage): string {
  const neg = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = String(Math.floor(abs / 100));
  const cc = String(abs % 100).padStart(2, '0');
  const symbol = currency === 'EUR' ? '€' : currency;
  if (lang === 'fr') return `${neg}${group(units, NBSP)},${cc}${NBSP}${symbol}`;
  return currency === 'EUR' ? `${neg}€${group(units, ',')}.${cc}` : `${neg}${symbol}${NBSP}${group(units, ',')}.${cc}`;
}

/** A quantity or a rate with at most four decimals, with the language's decimal mark. */
export function formatNumber(n: number, lang: InvoiceLanguage): string {
  const s = n.toFixed(4).replace(/\.?0+$/, '');
  const t = s === '-0' ? '0' : s;
  return lang === 'fr' ? t.replace('.', ',') : t;
}

export const formatPercent = (p: number, lang: InvoiceLanguage) =>
  lang === 'fr' ? `${formatNumber(p, lang)}${NBSP}%` : `${formatNumber(p, lang)}%`;

/** The payment terms (BT-20) in the invoice's language: the buyer's days if it has its own, else the seller's. */
export function paymentTerms(doc: {
  type: 'invoice' | 'credit-note';
  language: InvoiceLanguage;
  dueDate: string | undefined;
  seller: { paymentTermsDays: number };
  buyer: { paymentTermsDays?: number | undefined };
}): string {
  const l = LABELS[doc.language];
  if (doc.type === 'credit-note') return l.creditTerms;
  const days = doc.buyer.paymentTermsDays ?? doc.seller.paymentTermsDays;
  return doc.dueDate
    ? fill(l.terms, { days, date: formatDate(doc.dueDate, doc.language) })
    : fill(l.termsNoDate, { days });
}
