import { DateTime } from 'luxon';
import type { InvoiceState, InvoiceStatus, ReminderStage } from '../../../shared/protocol/api/hub-billing-payments.js';

/**
 * What an invoice's customer still owes and how late it is (docs/billing.md "Payments"): pure
 * functions of the invoice's terms, what was paid and credited, and today's date. Days are the
 * seller's calendar days, in Europe/Paris, as invoices are dated.
 */

/** The zone invoices are dated in and days overdue are counted in. */
export const BILLING_ZONE = 'Europe/Paris';
/** Days from the close to the due date of an invoice frozen without a `dueDate`. */
export const DEFAULT_TERMS_DAYS = 30;

/** The Paris calendar date of an instant, `YYYY-MM-DD`. */
export const billingDate = (ms: number): string =>
  DateTime.fromMillis(ms, { zone: BILLING_ZONE }).toISODate() ?? '1970-01-01';

/** `date` plus `days` calendar days. */
export const addDays = (date: string, days: number): string =>
  DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate() ?? date;

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: string, to: string): number =>
  Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);

/** Whether `text` is a real calendar date `YYYY-MM-DD` (not 2026-02-30). */
export const isCalendarDate = (text: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(text) && DateTime.fromISO(text, { zone: 'UTC' }).isValid;

/** One frozen invoice with the payments and credit notes against it: what its state is computed from. */
export interface Receivable {
  number: string;
  account: string;
  /** The buyer's name as invoiced (the account's name on invoices frozen without a buyer). */
  name: string;
  email: string | null;
  totalCents: number;
  /** Sum of the credit notes that correct it. */
  creditedCents: number;
  /** Sum of its payments (deleted ones left out). */
  paidCents: number;
  issueDate: string;
  dueDate: string;
  lastPaymentDate: string | null;
}

/**
 * The invoice's state on `today`. Due: total less credit notes and payments. `paid` once
 * nothing is due (an overpayment leaves a negative amount due: the customer's credit);
 * `overdue` from the day after its due date while something is due; otherwise `partly-paid`
 * once a payment came, else `open`.
 */
export function statusOf(r: Receivable, today: string): InvoiceStatus {
  const dueCents = r.totalCents - r.creditedCents - r.paidCents;
  const late = daysBetween(r.dueDate, today);
  let status: InvoiceState;
  if (dueCents <= 0) status = 'paid';
  else if (late > 0) status = 'overdue';
  else status = r.paidCents > 0 ? 'partly-paid' : 'open';
  return {
    number: r.number,
    account: r.account,
    name: r.name,
    totalCents: r.totalCents,
    creditedCents: r.creditedCents,
    paidCents: r.paidCents,
    dueCents,
    issueDate: r.issueDate,
    dueDate: r.dueDate,
    status,
    daysOverdue: status === 'overdue' ? late : 0,
    lastPaymentDate: r.lastPaymentDate,
  };
}

/**
 * The reminder stages, each reached so many days after the due date: a first reminder the day
 * after, a second two weeks later, a formal notice (mise en demeure) after a month.
 */
export const REMINDER_STAGES: ReadonlyArray<{ stage: ReminderStage; afterDays: number }> = [
  { stage: 'first', afterDays: 1 },
  { stage: 'second', afterDays: 15 },
  { stage: 'formal-notice', afterDays: 30 },
];

/** The last stage reached after `daysOverdue` days, with the date it was reached; undefined before the first. */
export function reminderStage(
  daysOverdue: number,
  dueDate: string,
): { stage: ReminderStage; reachedOn: string } | undefined {
  const reached = REMINDER_STAGES.filter((s) => daysOverdue >= s.afterDays).at(-1);
  return reached ? { stage: reached.stage, reachedOn: addDays(dueDate, reached.afterDays) } : undefined;
}

/** An operator's decision about an account's hold. */
export interface HoldOverride {
  override: 'lift';
  /** The last day (Paris) it holds, inclusive; null: until changed. */
  until: string | null;
}

/** Whether an override still lets the account in on `today`. */
export const overrideActive = (o: HoldOverride | undefined, today: string): boolean =>
  o !== undefined && (o.until === null || today <= o.until);

/**
 * The accounts whose doors close on `today` under the policy: those with an invoice overdue by
 * more than `suspendAfterDaysOverdue` days, less those an operator's override lets in. With the
 * policy off (null), none. The value says why, for the log and the hold's row.
 */
export function accountsToHold(
  statuses: readonly InvoiceStatus[],
  suspendAfterDaysOverdue: number | null,
  overrides: ReadonlyMap<string, HoldOverride>,
  today: string,
): Map<string, string> {
  const held = new Map<string, string>();
  if (suspendAfterDaysOverdue === null) return held;
  for (const s of statuses)
    if (
      s.status === 'overdue' &&
      s.daysOverdue > suspendAfterDaysOverdue &&
      !overrideActive(overrides.get(s.account), today)
    )
      held.set(s.account, 'payment_overdue');
  return held;
}
