import type { Invoice } from './invoice.js';
import { invoiceBytes } from './invoice.js';
import type { Steps } from './steps.js';

/** Invoices issued and frozen between two yields (their words and bytes are long). */
const FREEZE_STEP = 50;

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
 * Each draft issued (`issue`), numbered after seq `after` of `year`, dated and turned into its
 * bytes at once, a few a step. A draft's slot is emptied as it is issued and only the bytes are
 * kept: a month's invoices are never held as drafts, issued objects and bytes at the same time.
 */
export function* freezeSteps(
  drafts: Array<Invoice | undefined>,
  issue: (draft: Invoice) => Invoice,
  { year, after, closedAt }: { year: number; after: number; closedAt: string },
): Steps<FrozenInvoice[]> {
  const out: FrozenInvoice[] = [];
  for (let i = 0; i < drafts.length; i++) {
    if (i % FREEZE_STEP === 0) yield;
    const draft = drafts[i];
    if (draft === undefined) continue;
    drafts[i] = undefined;
    const invoice = issue(draft);
    const seq = after + out.length + 1;
    const number = invoiceNumber(year, seq);
    out.push({
      number,
      seq,
      account: `${invoice.account.kind}:${invoice.account.id}`,
      subtotalCents: invoice.subtotalCents,
      vatCents: invoice.vatCents,
      totalCents: invoice.totalCents,
      buyerless: invoice.buyer === undefined,
      body: Buffer.from(invoiceBytes({ ...invoice, number, closedAt })),
    });
  }
  return out;
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
