import type { Employer, Member } from '../../shared/protocol/directory.js';
import type { PeriodId } from './period.js';
import type { RatedAccount, RatedLine, SiteDays } from './rate.js';
import { lineKey, lineSpan } from './rate.js';
import type { Invoice, InvoiceLine } from '../../shared/protocol/api/hub-billing.js';
import { KeysAhead } from './keys-ahead.js';

// Invoices and their lines are the billing API's wire shapes (shared/protocol/api/hub-billing.ts).
export type { Invoice };

/**
 * VAT of one line, rounded half away from zero to the cent: 12.5 cents is 13, -12.5 is -13, so
 * an adjustment and the line it cancels round alike. The invoice's VAT is the sum of its lines'.
 */
export function lineVat(amountCents: number, vatBasisPoints: number): number {
  const scaled = Math.abs(amountCents) * vatBasisPoints;
  const rounded = Math.floor((scaled + 5000) / 10000);
  return amountCents < 0 ? -rounded : rounded;
}

/**
 * What late events changed in a closed period: `after` minus `before`, line by line (same key).
 * Lines that did not change give nothing; dates are those that appeared or disappeared.
 */
export function adjustmentsOf(before: readonly RatedLine[], after: readonly RatedLine[]): RatedLine[] {
  const was = new Map(before.map((l) => [lineKey(l), l]));
  const keys = new Set([...was.keys(), ...after.map(lineKey)]);
  const now = new Map(after.map((l) => [lineKey(l), l]));
  const out: RatedLine[] = [];
  for (const key of [...keys].sort()) {
    const a = was.get(key);
    const b = now.get(key);
    const base = (b ?? a) as RatedLine;
    const quantity = (b?.quantity ?? 0) - (a?.quantity ?? 0);
    const amountCents = (b?.amountCents ?? 0) - (a?.amountCents ?? 0);
    if (quantity === 0 && amountCents === 0) continue;
    const aDates = new Set(a?.dates ?? []);
    const bDates = new Set(b?.dates ?? []);
    const dates = [...new Set([...aDates, ...bDates])].filter((d) => aDates.has(d) !== bDates.has(d)).sort();
    // The days it corrects: those that appeared or disappeared, else (more on a day already billed) the line's own.
    const span = base.from === undefined || dates.length === 0 ? {} : lineSpan(base.kind, dates);
    out.push({ ...base, quantity, amountCents, dates, ...span });
  }
  return out;
}

export interface AccountDirectory {
  members: ReadonlyMap<string, Member>;
  employers: ReadonlyMap<string, Employer>;
}

/**
 * Each account's adjustment lines, as its invoice carries them: by the period they correct, in
 * period order, each period's in the order `adjustmentsOf` gives them.
 */
export function adjustmentLines(
  adjustments: ReadonlyMap<PeriodId, readonly RatedLine[]>,
  dir: AccountDirectory,
): Map<string, InvoiceLine[]> {
  const byAccount = new Map<string, InvoiceLine[]>();
  for (const q of [...adjustments.keys()].sort())
    for (const l of adjustments.get(q) ?? []) {
      const list = byAccount.get(l.account);
      if (list) list.push(toInvoiceLine(l, q, dir));
      else byAccount.set(l.account, [toInvoiceLine(l, q, dir)]);
    }
  return byAccount;
}

/**
 * A period's invoices made one account at a time, in account order, as its rating hands over
 * each account's lines (`account`), and handed to `emit`: one invoice per account, the period's
 * lines then its adjustment lines (`adjustmentLines`, known before). An account with
 * adjustments and no line of its own is made in its place among the others, or at `end`.
 */
export class AccountInvoices {
  /** The accounts with adjustments, made in their place. */
  private readonly adjusted: KeysAhead;

  constructor(
    private readonly period: PeriodId,
    private readonly currency: string,
    private readonly adjusting: ReadonlyMap<string, readonly InvoiceLine[]>,
    private readonly dir: AccountDirectory,
    private readonly emit: (invoice: Invoice) => void,
  ) {
    this.adjusted = new KeysAhead(adjusting.keys());
  }

  /** The invoice of an account rated (none if it has no line), after the adjusted accounts before it. */
  account({ account, lines, days }: RatedAccount): void {
    for (const before of this.adjusted.before(account)) this.adjustedOnly(before);
    const all = lines.map((l) => toInvoiceLine(l, null, this.dir));
    for (const l of this.adjusting.get(account) ?? []) all.push(l);
    if (all.length > 0) this.emit(invoiceOf(this.period, this.currency, account, all, days, this.dir));
  }

  /** The adjusted accounts after the last one rated. */
  end(): void {
    for (const after of this.adjusted.rest()) this.adjustedOnly(after);
  }

  /** The invoice of an account with adjustments and no line of its own. */
  private adjustedOnly(account: string): void {
    this.emit(invoiceOf(this.period, this.currency, account, [...(this.adjusting.get(account) ?? [])], [], this.dir));
  }
}

function toInvoiceLine(l: RatedLine, adjusts: PeriodId | null, dir: AccountDirectory): InvoiceLine {
  return {
    member: l.member,
    memberName: dir.members.get(l.member)?.name ?? null,
    site: l.site,
    kind: l.kind,
    item: l.item,
    description: l.description,
    adjusts,
    quantity: l.quantity,
    unitCents: l.unitCents,
    amountCents: l.amountCents,
    vatPercent: l.vatBasisPoints / 100,
    vatCents: lineVat(l.amountCents, l.vatBasisPoints),
    dates: l.dates,
    // Absent on lines rated under the rules of months closed before lines carried them.
    ...(l.from !== undefined && l.to !== undefined ? { from: l.from, to: l.to } : {}),
  };
}

/** Member-days of the month at each site and for each member; adjustments move amounts, not days. */
function invoiceOf(
  period: PeriodId,
  currency: string,
  account: string,
  lines: InvoiceLine[],
  days: readonly SiteDays[],
  dir: AccountDirectory,
): Invoice {
  const [kind, id] = account.split(':') as ['employer' | 'member', string];
  const name = (kind === 'employer' ? dir.employers.get(id)?.name : dir.members.get(id)?.name) ?? id;
  const siteDays = new Map<string, number>();
  const memberDays = new Map<string, number>();
  for (const d of days) {
    siteDays.set(d.site, (siteDays.get(d.site) ?? 0) + d.days);
    memberDays.set(d.member, (memberDays.get(d.member) ?? 0) + d.days);
  }
  return invoiceOfLines(
    period,
    currency,
    { kind, id, name },
    lines,
    { siteDays, memberDays },
    (member) => dir.members.get(member)?.name ?? null,
  );
}

/** Member-days by site (`''`: network-wide) and by member, for an invoice's breakdowns. */
export interface InvoiceDays {
  siteDays: ReadonlyMap<string, number>;
  memberDays: ReadonlyMap<string, number>;
}

/**
 * An invoice of these lines, in this order: breakdowns by site and member (with the days given,
 * also of sites and members without a line), VAT by rate, totals. Not numbered, not dated.
 */
export function invoiceOfLines(
  period: PeriodId,
  currency: string,
  account: Invoice['account'],
  lines: InvoiceLine[],
  { siteDays, memberDays }: InvoiceDays,
  memberName: (member: string) => string | null,
): Invoice {
  const sum = <T>(list: readonly T[], f: (x: T) => number) => list.reduce((s, x) => s + f(x), 0);
  const sites = withKeys(
    groupLines(lines, (l) => l.site ?? ''),
    [...siteDays.keys()],
  );
  const members = withKeys(
    groupLines(lines, (l) => l.member),
    [...memberDays.keys()],
  );
  const rates = groupLines(lines, (l) => String(Math.round(l.vatPercent * 100)).padStart(6, '0'));
  const subtotalCents = sum(lines, (l) => l.amountCents);
  const vatCents = sum(lines, (l) => l.vatCents);
  return {
    number: null,
    period,
    closedAt: null,
    account,
    currency,
    lines,
    bySite: sites.map(([site, list]) => ({
      site: site === '' ? null : site,
      days: siteDays.get(site) ?? 0,
      amountCents: sum(list, (l) => l.amountCents),
    })),
    byMember: members.map(([member, list]) => ({
      member,
      name: memberName(member),
      days: memberDays.get(member) ?? 0,
      amountCents: sum(list, (l) => l.amountCents),
    })),
    vat: rates.map(([, list]) => ({
      vatPercent: list[0]?.vatPercent ?? 0,
      baseCents: sum(list, (l) => l.amountCents),
      vatCents: sum(list, (l) => l.vatCents),
    })),
    subtotalCents,
    vatCents,
    totalCents: subtotalCents + vatCents,
  };
}

/** Adds the keys that have days but no line (a subscriber's covered days), in order. */
function withKeys(groups: Array<[string, InvoiceLine[]]>, keys: readonly string[]): Array<[string, InvoiceLine[]]> {
  const have = new Set(groups.map(([k]) => k));
  const extra = [...new Set(keys.filter((k) => !have.has(k)))].map((k): [string, InvoiceLine[]] => [k, []]);
  return [...groups, ...extra].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function groupLines(lines: readonly InvoiceLine[], key: (l: InvoiceLine) => string): Array<[string, InvoiceLine[]]> {
  const map = new Map<string, InvoiceLine[]>();
  for (const l of lines) {
    const list = map.get(key(l));
    if (list) list.push(l);
    else map.set(key(l), [l]);
  }
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The canonical bytes of an invoice: what is stored at the close and compared on re-rating. */
export const invoiceBytes = (invoice: Invoice): string => JSON.stringify(invoice);

/** Stands for the lines in `invoiceUtf8`'s text of the rest of an invoice (as JSON: `"\u0000lines\u0000"`). */
const LINES_MARK = '\u0000lines\u0000';
const LINES_MARK_JSON = JSON.stringify(LINES_MARK);

/**
 * `invoiceBytes` in UTF-8, put together a line at a time. An employer's invoice is tens of
 * thousands of characters, two bytes each in V8 (its French words), so as one string it is
 * allocated straight in the old generation and stays there, garbage, until the next full
 * collection: a month's close would leave tens of MB of them. The pieces here are small and
 * short-lived. The bytes are exactly `Buffer.from(invoiceBytes(invoice))`: the lines' text is
 * spliced where the rest's text has the mark, and an invoice whose own words hold the mark is
 * written whole.
 */
export function invoiceUtf8(invoice: Invoice): Buffer {
  const rest = JSON.stringify({ ...invoice, lines: LINES_MARK });
  const at = rest.indexOf(LINES_MARK_JSON);
  if (at < 0 || rest.includes(LINES_MARK_JSON, at + 1)) return Buffer.from(invoiceBytes(invoice));
  const parts = [Buffer.from(`${rest.slice(0, at)}[`)];
  invoice.lines.forEach((line, i) => parts.push(Buffer.from(`${i > 0 ? ',' : ''}${JSON.stringify(line)}`)));
  parts.push(Buffer.from(`]${rest.slice(at + LINES_MARK_JSON.length)}`));
  // Its own memory, not a slice of Node's shared pool: the pieces it was made of would stay with it.
  const bytes = Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) offset += p.copy(bytes, offset);
  return bytes;
}
