import type { Invoice } from './invoice.js';
import { invoiceBytes, invoiceUtf8 } from './invoice.js';

/** A close's invoice as it is stored: numbered, dated, its bytes, and what the close's summary sums. */
export interface FrozenInvoice {
  number: string;
  seq: number;
  /** `member:ana`, `employer:acme`. */
  account: string;
  subtotalCents: number;
  vatCents: number;
  totalCents: number;
  /** Issued without its buyer's identity: no lawful document can be made of it (the close's `missing`). */
  buyerless: boolean;
  /**
   * The invoice's bytes, numbered and dated: what is stored, in UTF-8 outside the JS heap (as a
   * string its French words make it two bytes a character, and a month's are tens of MB).
   */
  body: Buffer;
}

/** The number of the `seq`th invoice of `year`: `2026-000042`. */
const invoiceNumber = (year: number, seq: number): string => `${year}-${String(seq).padStart(6, '0')}`;

/**
 * Numbers each invoice given after seq `after` of `year`, in the order given, dates it and turns
 * it into its bytes at once: a close keeps only the bytes of a month's invoices, never their
 * objects besides.
 */
export function freezer({
  year,
  after,
  closedAt,
}: {
  year: number;
  after: number;
  closedAt: string;
}): (invoice: Invoice) => FrozenInvoice {
  let seq = after;
  return (invoice) => {
    seq++;
    const number = invoiceNumber(year, seq);
    return {
      number,
      seq,
      account: `${invoice.account.kind}:${invoice.account.id}`,
      subtotalCents: invoice.subtotalCents,
      vatCents: invoice.vatCents,
      totalCents: invoice.totalCents,
      buyerless: invoice.buyer === undefined,
      body: invoiceUtf8({ ...invoice, number, closedAt }),
    };
  };
}

/**
 * The frozen invoices numbered after seq `after` instead (the year's numbers moved between the
 * freezing and the close's transaction). Read back from their bytes and written again: the
 * number keeps its place among the keys, so the bytes are those a freezing at `after` gives.
 */
export function renumbered(frozen: readonly FrozenInvoice[], year: number, after: number): FrozenInvoice[] {
  return frozen.map((f, i) => {
    const seq = after + i + 1;
    const number = invoiceNumber(year, seq);
    const bytes = invoiceBytes({ ...(JSON.parse(f.body.toString()) as Invoice), number });
    return { ...f, seq, number, body: Buffer.from(bytes) };
  });
}
