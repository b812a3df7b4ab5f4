import { z } from 'zod';
import { defineRoute } from './common.js';

/**
 * The accounting export (docs/billing.md "Accounting exports (FEC)"): the sales journal of the
 * issued invoices and credit notes as a FEC (fichier des écritures comptables, article A47 A-1
 * of the LPF), and the accounts it posts to. For network operators only.
 */

/** A general account of the French chart (PCG): three digits, then digits or capitals. */
const AccountNumber = (prefix: string, what: string) =>
  z
    .string()
    .regex(/^\d{3}[0-9A-Z]{0,17}$/, { error: 'expected an account number: 3 to 20 digits or capitals, 3 digits first' })
    .refine((n) => n.startsWith(prefix), { error: `expected ${what}, an account starting with ${prefix}` });

/** What a FEC cell may hold: no tab, `|`, CR or LF (they separate cells and lines). */
const Label = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\t|\r\n]*$/, { error: 'expected a label without tab, "|" or line break' });

const Posting = (prefix: string, what: string) =>
  z.strictObject({ account: AccountNumber(prefix, what), label: Label });

/** A VAT rate as a key, as invoices write it: `20`, `10`, `5.5`, `2.1` (no trailing zero). */
const RateKey = z
  .string()
  .regex(/^(0|[1-9]\d?|100)(\.\d{1,2})?$/, { error: 'expected a VAT rate such as "20" or "5.5"' })
  .refine((k) => String(Number(k)) === k, {
    error: 'expected a VAT rate written as invoices write it: "5.5", not "5.50"',
  });

/** The key of a billed account, `employer:<id>` or `member:<id>`. */
const AccountKey = z.string().regex(/^(employer|member):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: 'expected "employer:<id>" or "member:<id>"',
});

/** An auxiliary (customer) account: letters and digits. */
const Auxiliary = z
  .string()
  .regex(/^[0-9A-Z]{1,40}$/, { error: 'expected an auxiliary account of 1 to 40 digits or capitals' });

const VAT_BY_RATE = {
  '20': { account: '445711', label: 'TVA collectée 20 %' },
  '10': { account: '445712', label: 'TVA collectée 10 %' },
  '5.5': { account: '445713', label: 'TVA collectée 5,5 %' },
  '2.1': { account: '445714', label: 'TVA collectée 2,1 %' },
};

/**
 * The accounts the sales journal posts to. An invoice debits the customer (`customers.account`,
 * with an auxiliary account per billed account: `auxiliaryPrefix` + its id in capitals, letters
 * and digits only, unless `auxiliary` names it) and credits revenue (per VAT rate if `byRate`
 * has the rate, else `revenue.account`) and VAT (per rate likewise, else `vat.account`); a
 * credit note the reverse. Every field has a default: `{}` is the defaults.
 */
export const FecAccounts = z.strictObject({
  journal: z
    .strictObject({
      code: z.string().regex(/^[0-9A-Z]{1,8}$/, { error: 'expected a journal code of 1 to 8 digits or capitals' }),
      label: Label,
    })
    .default({ code: 'VE', label: 'Ventes' }),
  customers: z
    .strictObject({
      account: AccountNumber('411', 'a customer account'),
      label: Label,
      auxiliaryPrefix: z.string().regex(/^[0-9A-Z]{0,10}$/, { error: 'expected at most 10 digits or capitals' }),
    })
    .default({ account: '411000', label: 'Clients', auxiliaryPrefix: '411' }),
  revenue: z
    .strictObject({
      account: AccountNumber('7', 'a revenue account'),
      label: Label,
      byRate: z.record(RateKey, Posting('7', 'a revenue account')).default({}),
    })
    .default({ account: '706000', label: 'Prestations de services', byRate: {} }),
  vat: z
    .strictObject({
      account: AccountNumber('4457', 'an output VAT account'),
      label: Label,
      byRate: z.record(RateKey, Posting('4457', 'an output VAT account')).default(VAT_BY_RATE),
    })
    .default({ account: '445710', label: 'TVA collectée', byRate: VAT_BY_RATE }),
  /** Auxiliary accounts chosen by hand, by billed account: for an id that is not letters and digits, or two that would meet. */
  auxiliary: z.record(AccountKey, Auxiliary).default({}),
});
export type FecAccounts = z.infer<typeof FecAccounts>;

const Day = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { error: 'expected a date "YYYY-MM-DD"' });

/**
 * Which entries: those dated `from` to `to` (both included, at most 24 months: a first fiscal
 * year may be that long), or the calendar `year`. `separator`: tab (default) or `|`. `siren`:
 * the seller's, for the file's name (default: that of the latest document in the range).
 */
export const FecQuery = z
  .strictObject({
    from: Day.optional(),
    to: Day.optional(),
    year: z
      .string()
      .regex(/^\d{4}$/, { error: 'expected a year "YYYY"' })
      .optional(),
    separator: z.enum(['tab', 'pipe']).default('tab'),
    siren: z
      .string()
      .regex(/^\d{9}$/, { error: 'expected a SIREN of 9 digits' })
      .optional(),
  })
  .superRefine((q, ctx) => {
    const range = q.from !== undefined || q.to !== undefined;
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (q.year !== undefined && range) issue('year', 'give either year, or from and to, not both');
    else if (q.year === undefined && !range) issue('year', 'give either year, or from and to');
    else if (range && q.from === undefined) issue('from', 'give from with to');
    else if (range && q.to === undefined) issue('to', 'give to with from');
  });
export type FecQuery = z.infer<typeof FecQuery>;

const fec = { tags: ['billing'] as const };

export const BillingFecRoutes = {
  fec: defineRoute({
    ...fec,
    method: 'GET',
    url: '/billing/fec',
    operationId: 'getFec',
    summary: 'The sales journal as a FEC file (fichier des écritures comptables) for a date range or a year (operator)',
    description:
      'One entry per issued invoice or credit note, dated by its issue date; tab- or |-separated, ISO 8859-15, CRLF; the attachment SIRENFECYYYYMMDD.txt.',
    querystring: FecQuery,
    response: {},
    produces: { 'text/plain': { description: 'the FEC, 18 columns, header first' } },
    errors: ['auth.forbidden', 'billing.not_exportable'],
  }),
  accounts: defineRoute({
    ...fec,
    method: 'GET',
    url: '/billing/fec/accounts',
    operationId: 'getFecAccounts',
    summary: 'The accounts the FEC posts to: those set, or the defaults (operator)',
    response: { 200: FecAccounts },
    errors: ['auth.forbidden'],
  }),
  setAccounts: defineRoute({
    ...fec,
    method: 'PUT',
    url: '/billing/fec/accounts',
    operationId: 'setFecAccounts',
    summary: 'Set the accounts the FEC posts to; a field left out takes its default (operator)',
    body: FecAccounts,
    response: { 200: FecAccounts },
    errors: ['auth.forbidden'],
  }),
};
