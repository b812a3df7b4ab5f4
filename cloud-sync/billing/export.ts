import { csvDocument, csvNumber, type CsvCell, type CsvDialect } from '../../shared/platform/csv.js';
import type { Invoice } from './invoice.js';

/** One row per invoice line; a period's export is its invoices' rows, by invoice number. */
const COLUMNS = [
  'invoice',
  'period',
  'account_kind',
  'account_id',
  'account_name',
  'member',
  'member_name',
  'site',
  'kind',
  'item',
  'description',
  'adjusts',
  'dates',
  'quantity',
  'unit_price',
  'amount',
  'vat_percent',
  'vat',
  'currency',
] as const;

/** Cents as a decimal amount, `-12.05`, without floating point. */
export function formatCents(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const money = (cents: number) => csvNumber(formatCents(cents));

/** Text cells are neutralised by the writer: a member's name must not become a formula in the accountant's sheet. */
function rowsOf(invoice: Invoice): CsvCell[][] {
  return invoice.lines.map((l) => [
    invoice.number ?? 'preview',
    invoice.period,
    invoice.account.kind,
    invoice.account.id,
    invoice.account.name,
    l.member,
    l.memberName ?? '',
    l.site ?? '',
    l.kind,
    l.item ?? '',
    l.description,
    l.adjusts ?? '',
    l.dates.join(' '),
    csvNumber(l.quantity),
    money(l.unitCents),
    money(l.amountCents),
    csvNumber(l.vatPercent),
    money(l.vatCents),
    invoice.currency,
  ]);
}

/** Invoices as CSV in `dialect` (shared/platform/csv.ts), header first, CRLF line ends. */
export function invoicesCsv(invoices: readonly Invoice[], dialect: CsvDialect = 'rfc4180'): string {
  return csvDocument(COLUMNS, invoices.flatMap(rowsOf), dialect);
}
