import { createHash } from 'node:crypto';
import type { PaymentMethod } from '../../../shared/protocol/api/hub-billing-payments.js';
import { normalised, type StatementLine } from './statement.js';

/**
 * Which invoice a bank statement's line pays (docs/billing.md "Importing a bank statement").
 * Pure: the lines and what each invoice still owes in, outcomes out. Never a guess:
 *
 * 1. An invoice number (`2026-000123`, or `2026000123`) in the label that names an invoice: that
 *    invoice is paid the line's amount, whatever it is (a part, or too much). A label naming
 *    several invoices pays them only if the line's amount is exactly what they owe together, each
 *    its own amount due; otherwise the line is returned (`several_invoices`).
 * 2. Without one: the single invoice whose amount due is the line's amount and whose buyer's
 *    name is in the label (every word of it, legal forms aside). Several fit: returned
 *    (`ambiguous`); none: returned (`no_match`).
 *
 * Lines are taken in the file's order; each match lowers what its invoices owe for the lines
 * after it.
 */

/** What matching needs of an invoice: who it is to and what it still owes. */
export interface Payable {
  number: string;
  account: string;
  name: string;
  dueCents: number;
}

export type LineOutcome =
  | {
      kind: 'matched';
      line: StatementLine;
      key: string;
      by: 'number' | 'amount-and-name';
      payments: Array<{ invoice: string; amountCents: number }>;
    }
  | {
      kind: 'unmatched';
      line: StatementLine;
      reason: 'no_match' | 'ambiguous' | 'several_invoices';
      candidates: string[];
    }
  | { kind: 'ignored'; line: StatementLine; reason: 'debit' | 'already_imported' };

/** Invoice numbers as written in a label: `YYYY-NNNNNN` or the ten digits run together, not inside a longer number. */
export function invoiceNumbersIn(label: string): string[] {
  const found = new Set<string>();
  for (const m of label.matchAll(/(?<![\d-])(\d{4})-?(\d{6})(?![\d])/g)) found.add(`${m[1]}-${m[2]}`);
  return [...found];
}

/** Words of a name that say nothing of who it is: legal forms and small words. */
const NOISE = new Set([
  'sa',
  'sas',
  'sasu',
  'sarl',
  'eurl',
  'sci',
  'scop',
  'scic',
  'snc',
  'eirl',
  'ei',
  'selarl',
  'ltd',
  'gmbh',
  'inc',
  'llc',
  'association',
  'asso',
  'cie',
  'et',
  'and',
  'the',
  'de',
  'du',
  'des',
  'la',
  'le',
  'les',
  'l',
  'd',
]);

/** Whether every meaningful word of `name` is a word of `label` (case, accents and order aside). */
export function nameInLabel(name: string, label: string): boolean {
  const words = normalised(name)
    .split(' ')
    .filter((w) => w.length >= 2 && !NOISE.has(w));
  if (words.length === 0) return false;
  const inLabel = new Set(normalised(label).split(' '));
  return words.every((w) => inLabel.has(w));
}

/**
 * A statement line's identity across imports: its date, amount and label (spacing aside), and
 * its rank among the identical lines of its file (two identical transfers on one day are two).
 */
export function lineKeys(lines: readonly StatementLine[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((l) => {
    const base = `${l.date}\u0000${l.amountCents}\u0000${l.label.replace(/\s+/g, ' ').trim().toLowerCase()}`;
    const rank = seen.get(base) ?? 0;
    seen.set(base, rank + 1);
    return createHash('sha256').update(`${base}\u0000${rank}`).digest('hex');
  });
}

/** How a line says it was paid, from the prefixes French banks write (VIR, PRLV, CHQ, CB…); `other` when none. */
export function methodOf(label: string): PaymentMethod {
  const l = normalised(label);
  if (/^(vir|virement|sepa credit|transfer)\b/.test(l) || /\bvir(ement)? sepa\b/.test(l)) return 'transfer';
  if (/^(prlv|prelevement|direct debit)\b/.test(l)) return 'direct-debit';
  if (/^(rem(ise)? )?(chq|cheque|cheques)\b/.test(l)) return 'cheque';
  if (/^(cb|carte|card)\b/.test(l)) return 'card';
  if (/^(versement especes|especes|cash)\b/.test(l)) return 'cash';
  return 'other';
}

/**
 * The outcome of each line, in order. `keys` are the lines' keys (lineKeys); `imported`, the
 * keys recorded by earlier imports (their lines are left aside: what they paid is already in
 * `invoices`' amounts due). `invoices`: every closed invoice by number, with what it owes now.
 */
export function matchLines(
  lines: readonly StatementLine[],
  keys: readonly string[],
  imported: ReadonlySet<string>,
  invoices: ReadonlyMap<string, Payable>,
): LineOutcome[] {
  const due = new Map([...invoices.values()].map((i) => [i.number, i.dueCents]));
  const dueOf = (n: string) => due.get(n) ?? 0;
  // The invoices by what they owe: a line's amount finds its candidates without a pass over every invoice.
  const owing = new Map<number, Set<string>>();
  const index = (n: string, cents: number) => {
    const set = owing.get(cents) ?? new Set<string>();
    owing.set(cents, set.add(n));
  };
  for (const [n, cents] of due) if (cents > 0) index(n, cents);
  const setDue = (n: string, cents: number) => {
    owing.get(dueOf(n))?.delete(n);
    due.set(n, cents);
    if (cents > 0) index(n, cents);
  };
  return lines.map((line, i): LineOutcome => {
    const key = keys[i] ?? '';
    if (line.amountCents <= 0) return { kind: 'ignored', line, reason: 'debit' };
    if (imported.has(key)) return { kind: 'ignored', line, reason: 'already_imported' };
    const named = invoiceNumbersIn(line.label).filter((n) => invoices.has(n));
    const pay = (
      by: 'number' | 'amount-and-name',
      payments: Array<{ invoice: string; amountCents: number }>,
    ): LineOutcome => {
      for (const p of payments) setDue(p.invoice, dueOf(p.invoice) - p.amountCents);
      return { kind: 'matched', line, key, by, payments };
    };
    if (named.length === 1) return pay('number', [{ invoice: named[0] ?? '', amountCents: line.amountCents }]);
    if (named.length > 1) {
      const owed = named.map((n) => ({ invoice: n, amountCents: dueOf(n) }));
      const fits =
        owed.every((o) => o.amountCents > 0) && owed.reduce((t, o) => t + o.amountCents, 0) === line.amountCents;
      return fits ? pay('number', owed) : { kind: 'unmatched', line, reason: 'several_invoices', candidates: named };
    }
    const fitting = [...(owing.get(line.amountCents) ?? [])]
      .filter((n) => nameInLabel(invoices.get(n)?.name ?? '', line.label))
      .sort();
    if (fitting.length === 1)
      return pay('amount-and-name', [{ invoice: fitting[0] ?? '', amountCents: line.amountCents }]);
    return fitting.length === 0
      ? { kind: 'unmatched', line, reason: 'no_match', candidates: [] }
      : { kind: 'unmatched', line, reason: 'ambiguous', candidates: fitting };
  });
}
