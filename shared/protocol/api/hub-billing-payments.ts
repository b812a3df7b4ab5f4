import { z } from 'zod';
import { defineRoute } from './common.js';
import { IsoDate } from './hub-billing.js';

/**
 * Payments against frozen invoices, what each invoice and account still owes, reminders to send
 * and the overdue policy that closes doors (cloud-sync/billing/payments/, docs/billing.md
 * "Payments"): network operators only. Amounts are integer cents, dates `YYYY-MM-DD` (Paris).
 */

export const PAYMENT_METHODS = ['transfer', 'card', 'cash', 'cheque', 'direct-debit', 'other'] as const;
export const PaymentMethod = z.enum(PAYMENT_METHODS);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

/** An invoice number, `YYYY-NNNNNN`. */
export const InvoiceNumber = z.string().regex(/^\d{4}-\d{6}$/, { error: 'expected an invoice number "YYYY-NNNNNN"' });

/** Text a person typed: no control characters (a tab is one). */
const Text = (max: number) =>
  z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'expected text without control characters' });

/** A real calendar day `YYYY-MM-DD` (not 2026-02-30). */
const CalendarDate = IsoDate.refine(
  (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
  {
    error: 'not a calendar date',
  },
);

const Cents = z.number({ error: 'expected an amount in integer cents' }).int().positive().max(100_000_000);

/** A billed account: `employer:<id>` or `member:<id>`. */
export const BilledAccount = z
  .string()
  .regex(/^(employer|member):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'expected "employer:<id>" or "member:<id>"' });

export const PaymentInput = z.strictObject({
  invoice: InvoiceNumber,
  /** The day the money was received. */
  date: CalendarDate,
  amountCents: Cents,
  method: PaymentMethod,
  /** The bank's or cheque's reference. */
  reference: Text(200).default(''),
  note: Text(500).default(''),
});
export type PaymentInput = z.infer<typeof PaymentInput>;

export const Payment = z.strictObject({
  id: z.string(),
  invoice: z.string(),
  account: z.string(),
  date: z.string(),
  amountCents: z.number().int(),
  method: PaymentMethod,
  reference: z.string(),
  note: z.string(),
  /** `manual`, or `import`: from a bank statement line. */
  source: z.enum(['manual', 'import']),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type Payment = z.infer<typeof Payment>;

export const PaymentQuery = z.strictObject({
  invoice: InvoiceNumber.optional(),
  account: BilledAccount.optional(),
  /** The newest this many (default 1000). */
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
export type PaymentQuery = z.infer<typeof PaymentQuery>;

export const PaymentList = z.strictObject({ payments: z.array(Payment) });
export type PaymentList = z.infer<typeof PaymentList>;

/** `true`/`false` or `1`/`0` in a query string. */
const QueryFlag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

export const StatementImportQuery = z.strictObject({
  /** Match and answer as an import would, recording nothing. */
  dryRun: QueryFlag,
});

export const StatementImportBody = z
  .string()
  .describe(
    'A bank statement as CSV (UTF-8, with or without BOM; "," or ";" between fields): a header naming a date, an amount (or credit) and a label or reference column, then one line per operation',
  );

const StatementLineView = {
  /** The file's line number. */
  line: z.number().int().positive(),
  date: z.string(),
  amountCents: z.number().int(),
  label: z.string(),
};

export const StatementImportResult = z.strictObject({
  dryRun: z.boolean(),
  /** Operations read (credits and debits). */
  lines: z.number().int().nonnegative(),
  /** Lines matched to invoices: recorded, or what would be in a dry run (ids null then). */
  recorded: z.array(
    z.strictObject({
      ...StatementLineView,
      /** `number`: an invoice number in the label; `amount-and-name`: its amount due and its buyer's name, alone to fit. */
      by: z.enum(['number', 'amount-and-name']),
      payments: z.array(
        z.strictObject({ id: z.string().nullable(), invoice: z.string(), amountCents: z.number().int() }),
      ),
    }),
  ),
  /** Credits no invoice could be told from: never guessed, for the operator to record by hand. */
  unmatched: z.array(
    z.strictObject({
      ...StatementLineView,
      /** `no_match`: nothing fits; `ambiguous`: several invoices fit its amount and name; `several_invoices`: its label names several whose amounts due do not add up to it. */
      reason: z.enum(['no_match', 'ambiguous', 'several_invoices']),
      candidates: z.array(z.string()),
    }),
  ),
  /** Lines left aside: debits (money going out), and lines recorded by an earlier import. */
  ignored: z.array(z.strictObject({ ...StatementLineView, reason: z.enum(['debit', 'already_imported']) })),
  /** Lines that could not be read (a date or an amount), each `line N: column`. */
  problems: z.array(z.strictObject({ path: z.string(), message: z.string() })),
});
export type StatementImportResult = z.infer<typeof StatementImportResult>;

export const INVOICE_STATES = ['open', 'partly-paid', 'paid', 'overdue'] as const;
export const InvoiceState = z.enum(INVOICE_STATES);
export type InvoiceState = z.infer<typeof InvoiceState>;

export const InvoiceStatus = z.strictObject({
  number: z.string(),
  account: z.string(),
  name: z.string(),
  totalCents: z.number().int(),
  creditedCents: z.number().int(),
  paidCents: z.number().int(),
  /** What is still owed; negative: paid beyond it (the customer's credit). */
  dueCents: z.number().int(),
  issueDate: z.string(),
  dueDate: z.string(),
  status: InvoiceState,
  /** Days since the due date while overdue, else 0. */
  daysOverdue: z.number().int().nonnegative(),
  lastPaymentDate: z.string().nullable(),
});
export type InvoiceStatus = z.infer<typeof InvoiceStatus>;

export const InvoiceStatusQuery = z.strictObject({
  status: InvoiceState.optional(),
  account: BilledAccount.optional(),
});

export const InvoiceStatusList = z.strictObject({
  /** The day the states are computed for (Paris). */
  today: z.string(),
  invoices: z.array(InvoiceStatus),
});
export type InvoiceStatusList = z.infer<typeof InvoiceStatusList>;

export const HoldOverrideView = z.strictObject({
  override: z.literal('lift'),
  until: z.string().nullable(),
  reason: z.string(),
  setBy: z.string(),
  setAt: z.string(),
});

export const Receivables = z.strictObject({
  today: z.string(),
  accounts: z.array(
    z.strictObject({
      account: z.string(),
      name: z.string(),
      /** Invoices with something still due. */
      unpaidInvoices: z.number().int().nonnegative(),
      /** The sum of what its invoices still owe, less what was paid beyond some (its balance). */
      balanceCents: z.number().int(),
      /**
       * What was paid or credited beyond its invoices' amounts (the customer's credit, part of
       * the balance): listed even when other invoices still owe more. 0: none.
       */
      creditCents: z.number().int().nonnegative(),
      overdueCents: z.number().int().nonnegative(),
      /** The days overdue of its oldest overdue invoice (0: none). */
      maxDaysOverdue: z.number().int().nonnegative(),
      /** Its members are refused at the doors now. */
      held: z.boolean(),
    }),
  ),
});
export type Receivables = z.infer<typeof Receivables>;

export const REMINDER_STAGES = ['first', 'second', 'formal-notice'] as const;
export const ReminderStage = z.enum(REMINDER_STAGES);
export type ReminderStage = z.infer<typeof ReminderStage>;

export const ReminderQuery = z.strictObject({ stage: ReminderStage.optional() });

export const ReminderList = z.strictObject({
  today: z.string(),
  reminders: z.array(
    z.strictObject({
      invoice: z.string(),
      account: z.string(),
      name: z.string(),
      /** The buyer's email on the invoice, when it has one. */
      email: z.string().nullable(),
      dueDate: z.string(),
      daysOverdue: z.number().int().positive(),
      dueCents: z.number().int().positive(),
      /** The last stage reached, and the day it was. */
      stage: ReminderStage,
      stageReachedOn: z.string(),
      held: z.boolean(),
    }),
  ),
});
export type ReminderList = z.infer<typeof ReminderList>;

export const OverduePolicy = z.strictObject({
  /** Doors close to an account with an invoice overdue by more than this many days; null: never (the default). */
  suspendAfterDaysOverdue: z.number().int().min(0).max(365).nullable(),
});
export type OverduePolicy = z.infer<typeof OverduePolicy>;

export const HoldOverrideInput = z.strictObject({
  /** `lift`: let the account in despite its overdue invoices; null: the policy applies again. */
  override: z.literal('lift').nullable(),
  /** The last day the override holds (Paris), inclusive; without it, until changed. */
  until: CalendarDate.optional(),
  reason: Text(500).min(1),
});
export type HoldOverrideInput = z.infer<typeof HoldOverrideInput>;

export const HoldView = z.strictObject({
  account: z.string(),
  name: z.string(),
  /** Its members are refused at the doors now (the hold the sites were sent). */
  held: z.boolean(),
  /** Since when (ISO), while held. */
  since: z.string().nullable(),
  /** Its overdue invoices, oldest first, and the most days overdue among them. */
  overdueInvoices: z.array(z.string()),
  maxDaysOverdue: z.number().int().nonnegative(),
  override: HoldOverrideView.nullable(),
});
export type HoldView = z.infer<typeof HoldView>;

export const HoldList = z.strictObject({
  today: z.string(),
  policy: OverduePolicy,
  /** Accounts held, overdue, or with an override. */
  holds: z.array(HoldView),
});
export type HoldList = z.infer<typeof HoldList>;

const billing = { tags: ['billing'] as const };
const PaymentParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'expected a payment id' }),
});
const AccountParams = z.strictObject({ account: BilledAccount });

export const PaymentRoutes = {
  record: defineRoute({
    ...billing,
    method: 'POST',
    url: '/billing/payments',
    operationId: 'recordPayment',
    summary: 'Record a payment received against an invoice (operator)',
    body: PaymentInput,
    response: { 201: Payment },
    errors: ['auth.forbidden', 'not_found'],
  }),
  list: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/payments',
    operationId: 'listPayments',
    summary: 'Payments, newest first, of an invoice or an account (operator)',
    querystring: PaymentQuery,
    response: { 200: PaymentList },
    errors: ['auth.forbidden'],
  }),
  remove: defineRoute({
    ...billing,
    method: 'DELETE',
    url: '/billing/payments/:id',
    operationId: 'deletePayment',
    summary: 'Delete a payment recorded by mistake (operator; in the audit log)',
    params: PaymentParams,
    response: { 200: Payment },
    errors: ['auth.forbidden', 'not_found'],
  }),
  importStatement: defineRoute({
    ...billing,
    method: 'POST',
    url: '/billing/payments/import',
    operationId: 'importBankStatement',
    summary: 'Record the payments of a bank statement (CSV), each line matched to an invoice or returned (operator)',
    description:
      'Up to 4 MB. A line is matched by an invoice number in its label, else by its amount and the buyer’s name when only one invoice fits; others are returned, never guessed. Importing a statement again records nothing twice.',
    querystring: StatementImportQuery,
    body: StatementImportBody,
    consumes: 'text/csv',
    response: { 200: StatementImportResult },
    errors: ['auth.forbidden', 'import.invalid', 'request.unsupported_type', 'request.too_large'],
  }),
  statuses: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/invoices/status',
    operationId: 'listInvoiceStatuses',
    summary: 'Each closed invoice: open, partly paid, paid or overdue, with what is due (operator)',
    querystring: InvoiceStatusQuery,
    response: { 200: InvoiceStatusList },
    errors: ['auth.forbidden'],
  }),
  receivables: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/receivables',
    operationId: 'listReceivables',
    summary: 'What each account owes: balance, overdue amount, whether its doors are closed (operator)',
    response: { 200: Receivables },
    errors: ['auth.forbidden'],
  }),
  reminders: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/reminders',
    operationId: 'listReminders',
    summary: 'Overdue invoices with the reminder stage each has reached (operator)',
    querystring: ReminderQuery,
    response: { 200: ReminderList },
    errors: ['auth.forbidden'],
  }),
  policy: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/overdue-policy',
    operationId: 'getOverduePolicy',
    summary: 'After how many days overdue the doors close to an account (operator)',
    response: { 200: OverduePolicy },
    errors: ['auth.forbidden'],
  }),
  setPolicy: defineRoute({
    ...billing,
    method: 'PUT',
    url: '/billing/overdue-policy',
    operationId: 'setOverduePolicy',
    summary: 'Set after how many days overdue the doors close to an account, or null for never (operator)',
    body: OverduePolicy,
    response: { 200: OverduePolicy },
    errors: ['auth.forbidden', 'conflict'],
  }),
  holds: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/holds',
    operationId: 'listHolds',
    summary: 'Accounts held at the doors for overdue invoices, overdue ones, and overrides (operator)',
    response: { 200: HoldList },
    errors: ['auth.forbidden'],
  }),
  setHold: defineRoute({
    ...billing,
    method: 'PUT',
    url: '/billing/holds/:account',
    operationId: 'overrideHold',
    summary: 'Let an overdue account in despite the policy, or end that (operator; in the audit log)',
    params: AccountParams,
    body: HoldOverrideInput,
    response: { 200: HoldView },
    errors: ['auth.forbidden', 'not_found', 'conflict'],
  }),
};
