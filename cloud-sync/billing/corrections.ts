import type { Buyer, Invoice, InvoiceLanguage, InvoiceLine } from '../../shared/protocol/api/hub-billing.js';
import type { Sql } from '../hub/db.js';
import { invoiceOfLines } from './invoice.js';
import { KeysAhead } from './keys-ahead.js';
import { issueDateOf } from './lawful.js';
import type { PeriodId } from './period.js';

/**
 * Late corrections of closed months: which become lines of this month's invoices and which
 * become credit notes (docs/billing.md "Corrections: adjustment line or credit note").
 *
 * A closed invoice is never changed. A late event changes a closed month Q by lines (the
 * difference of two ratings, period-rating.ts), each about one member. Each line goes to the
 * customer that was invoiced for that member's usage of Q (the origin: the invoice of Q holding
 * the member's lines, else the first later invoice that billed the member's Q by an adjustment),
 * whatever the member's account is today:
 *
 * - a line that adds (amount ≥ 0) is an adjustment line on that customer's invoice of this close;
 * - a line that takes off (amount < 0) is a line of a credit note to that customer, which names
 *   the origin invoice it corrects: one credit note per corrected invoice and month.
 *
 * A member never invoiced for Q has no origin: what adds goes to their account today; what takes
 * off (possible only when the directory changed meanwhile) stays a negative adjustment line there.
 */

/** The invoice that billed a member's usage of a month first, as the correction needs it. */
export interface Origin {
  number: string;
  /** Its issue date (for an invoice frozen before they had one: its close's date in Paris). */
  issueDate: string;
  account: Invoice['account'];
  language: InvoiceLanguage | undefined;
  buyer: Buyer | undefined;
}

export const originKey = (period: string, member: string): string => `${period}\u0000${member}`;

/**
 * The origins of the members' usage of `periods`, among the invoices of months from the first
 * of them up to `before` (excluded: the month being closed or verified, whose close runs after
 * all of them). Reads those invoices once, in number order.
 */
export async function originsOf(
  q: Sql,
  periods: ReadonlySet<PeriodId>,
  before: PeriodId,
): Promise<Map<string, Origin>> {
  const origins = new Map<string, Origin>();
  if (periods.size === 0) return origins;
  const first = [...periods].sort()[0] as PeriodId;
  const rows = await q.all<{ body: string }>(
    'SELECT body FROM billing_invoices WHERE period >= ? AND period < ? ORDER BY year, seq',
    [first, before],
  );
  // Own lines first (an invoice of Q is the origin before any later adjustment of Q).
  const later: Array<[string, Origin]> = [];
  for (const row of rows) {
    const inv = JSON.parse(row.body) as Invoice;
    if (inv.number === null) continue;
    const origin: Origin = {
      number: inv.number,
      issueDate: inv.issueDate ?? issueDateOf(Date.parse(inv.closedAt ?? '')),
      account: inv.account,
      language: inv.language,
      buyer: inv.buyer,
    };
    for (const l of inv.lines) {
      const month = l.adjusts ?? inv.period;
      if (!periods.has(month)) continue;
      const key = originKey(month, l.member);
      if (l.adjusts === null) {
        if (!origins.has(key)) origins.set(key, origin);
      } else later.push([key, origin]);
    }
  }
  for (const [key, origin] of later) if (!origins.has(key)) origins.set(key, origin);
  return origins;
}

/** A credit note before it is issued: the lines it credits (positive), to whom, for which invoice. */
export interface CreditDraft {
  origin: Origin;
  /** The month whose charges it credits. */
  period: PeriodId;
  note: Invoice;
}

/**
 * Routes the adjustment lines of a close's invoices (rated, not issued) as the invoices come, one
 * account at a time in account order (`invoice`, then `end`), each handed on routed to `emit`:
 * what adds to the origin customer's invoice, what takes off to credit notes (`credits`, known
 * from the start). Invoices keep their own lines and days; an invoice left without a line is
 * dropped (its only lines were credits); a customer that gets adjustment lines and had no
 * invoice this month gets one, in its place. Invoices by account, credit notes by corrected
 * invoice then month: the same input gives the same output, as `verify` needs.
 */
export class CorrectionRoutes {
  readonly credits: CreditDraft[];
  /** The adjustment lines each account gets, in the order they come. */
  private readonly added = new Map<string, InvoiceLine[]>();
  /** The customers that get adjustment lines, as the origins name them. */
  private readonly targets = new Map<string, Invoice['account']>();
  /** The customers that get adjustment lines, routed in their place. */
  private readonly waiting: KeysAhead;

  /**
   * `adjusting`: each account's adjustment lines, the very lines its invoice carries
   * (`adjustmentLines`).
   */
  constructor(
    private readonly period: PeriodId,
    private readonly currency: string,
    adjusting: ReadonlyMap<string, readonly InvoiceLine[]>,
    origins: ReadonlyMap<string, Origin>,
    private readonly emit: (invoice: Invoice) => void,
  ) {
    const credited = new Map<string, { origin: Origin; period: PeriodId; lines: InvoiceLine[] }>();
    for (const key of [...adjusting.keys()].sort())
      for (const l of adjusting.get(key) ?? []) {
        if (l.adjusts === null) continue;
        const origin = origins.get(originKey(l.adjusts, l.member));
        if (l.amountCents < 0 && origin) {
          const k = `${origin.number}\u0000${l.adjusts}`;
          const entry = credited.get(k) ?? { origin, period: l.adjusts, lines: [] };
          entry.lines.push(negated(l));
          credited.set(k, entry);
          continue;
        }
        const toKey = origin && l.amountCents >= 0 ? accountKey(origin.account) : key;
        if (origin && !this.targets.has(toKey)) this.targets.set(toKey, origin.account);
        const list = this.added.get(toKey) ?? [];
        list.push(l);
        this.added.set(toKey, list);
      }
    this.waiting = new KeysAhead(this.added.keys());
    this.credits = [...credited.entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([, c]) => ({
        origin: c.origin,
        period: c.period,
        note: rebuilt(c.period, currency, c.origin.account, c.lines, undefined),
      }));
  }

  /** An account's invoice, after the customers before it that had none. */
  invoice(invoice: Invoice): void {
    const key = accountKey(invoice.account);
    for (const before of this.waiting.before(key)) this.routedAlone(before);
    this.routed(key, invoice.account, invoice);
  }

  /** The customers after the last invoice. */
  end(): void {
    for (const after of this.waiting.rest()) this.routedAlone(after);
  }

  /** A customer that gets adjustment lines and has no invoice of its own this month. */
  private routedAlone(key: string): void {
    const account = this.targets.get(key);
    if (account) this.routed(key, account, undefined);
  }

  private routed(key: string, account: Invoice['account'], base: Invoice | undefined): void {
    // Adjustments by the month they correct, each month's in the order they came (stable sort).
    const adjustments = [...(this.added.get(key) ?? [])].sort((a, b) => cmp(a.adjusts ?? '', b.adjusts ?? ''));
    this.added.delete(key);
    const lines = [...(base?.lines.filter((l) => l.adjusts === null) ?? []), ...adjustments];
    if (lines.length === 0) return;
    const unchanged =
      base !== undefined && lines.length === base.lines.length && lines.every((l, i) => l === base.lines[i]);
    this.emit(unchanged ? base : rebuilt(this.period, this.currency, account, lines, base));
  }
}

const accountKey = (a: Invoice['account']) => `${a.kind}:${a.id}`;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A line credited: what it took off, as a positive amount (VAT rounds alike both ways). */
export const negated = (l: InvoiceLine): InvoiceLine => ({
  ...l,
  quantity: -l.quantity,
  amountCents: -l.amountCents,
  vatCents: -l.vatCents,
});

/** An invoice of `lines`, keeping the member-days (and names) of `base`, the invoice they came from. */
function rebuilt(
  period: PeriodId,
  currency: string,
  account: Invoice['account'],
  lines: InvoiceLine[],
  base: Invoice | undefined,
): Invoice {
  const siteDays = new Map((base?.bySite ?? []).filter((s) => s.days > 0).map((s) => [s.site ?? '', s.days]));
  const memberDays = new Map((base?.byMember ?? []).filter((m) => m.days > 0).map((m) => [m.member, m.days]));
  const names = new Map<string, string | null>();
  for (const m of base?.byMember ?? []) names.set(m.member, m.name);
  for (const l of lines) if (!names.has(l.member)) names.set(l.member, l.memberName);
  return invoiceOfLines(period, currency, account, lines, { siteDays, memberDays }, (m) => names.get(m) ?? null);
}
