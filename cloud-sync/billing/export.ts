import { csvField } from '../../shared/platform/csv.js';
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

/** A text cell: a member's name must not become a formula in the accountant's sheet (csvField). */
const text = (value: string | null): string => csvField(value ?? '');

function rowsOf(invoice: Invoice): string[] {
  return invoice.lines.map((l) =>
    [
      text(invoice.number ?? 'preview'),
      invoice.period,
      invoice.account.kind,
      text(invoice.account.id),
      text(invoice.account.name),
      text(l.member),
      text(l.memberName),
      text(l.site),
      l.kind,
      text(l.item),
      text(l.description),
      l.adjusts ?? '',
      l.dates.join(' '),
      String(l.quantity),
      formatCents(l.unitCents),
      formatCents(l.amountCents),
      String(l.vatPercent),
      formatCents(l.vatCents),
      invoice.currency,
    ].join(','),
  );
}

/** Invoices as CSV, header first, CRLF line ends (RFC 4180). */
export function invoicesCsv(invoices: readonly Invoice[]): string {
  return [COLUMNS.join(','), ...invoices.flatMap(rowsOf)].map((r) => `${r}\r\n`).join('');
}
