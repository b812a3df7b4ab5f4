import { z } from 'zod';
import {
  compactIdentifier,
  isForeignVatNumber,
  isFrenchVatNumber,
  isSiren,
  isSiret,
  sirenOfVatNumber,
} from '../../platform/legal-identity.js';
import { ITEM_ID_PATTERN } from '../events.js';
import { CsvDialectParam, defineRoute } from './common.js';

/** Prices, billing months, invoices (cloud-sync/billing/): the billing API, for network operators only. */

/**
 * The network's price list, kept at the hub (the directory's plans carry no prices: sites need
 * none to open a door). One tariff per plan id, one price per consumable item. Amounts are
 * integer cents excluding VAT; VAT is a percentage with at most two decimals (20, 5.5, 2.1).
 */
const Cents = z.number({ error: 'expected an amount in integer cents' }).int().nonnegative().max(100_000_000);
/** Plan ids and items: the pattern sites record items with, so that every item recorded can be priced. */
const Key = z
  .string()
  .regex(ITEM_ID_PATTERN, { error: 'expected an id of letters, digits, ".", "_" or "-" (at most 64)' });
const VatPercent = z
  .number()
  .min(0)
  .max(100)
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-9, {
    error: 'expected a VAT percentage with at most two decimals',
  });

/**
 * What the plan's members pay for their bookings beyond the resources' own prices
 * (shared/protocol/bookings.ts ResourcePrices; the rules: docs/billing.md "Bookings").
 */
export const BookingTerms = z.strictObject({
  /** Room hours each member may book a month at no charge, used up in the order the bookings start. */
  includedRoomHoursPerMonth: z.number().int().nonnegative().max(744).default(0),
  /** A booking cancelled after its free-cancellation deadline; without it, the booking's own price. */
  lateCancellationCents: Cents.optional(),
  /** A booking released because nobody came; without it, the booking's own price. */
  noShowCents: Cents.optional(),
});
export type BookingTerms = z.infer<typeof BookingTerms>;

const Common = {
  /** VAT on every line this tariff produces (visits, subscription, locker, bookings). */
  vatPercent: VatPercent,
  /** Monthly rental of the member's own locker (members with `locker` in the directory). */
  lockerMonthlyCents: Cents.optional(),
  /** Consumable units included each month per member, by item (Soho Solo: 1000 print pages). */
  included: z.record(Key, z.number().int().nonnegative()).default({}),
  /** How the plan's members' bookings are billed; without it, at the resources' prices, fees none. */
  bookings: BookingTerms.optional(),
};

const ExtraDaySchema = z.union([
  z.literal('refuse'),
  z.strictObject({ cents: Cents, refuse: z.literal(true).optional() }),
]);

const Subscription = z
  .strictObject({
    kind: z.literal('subscription'),
    /** The month's fee; a month the membership covers in part is charged pro rata (docs/billing.md). */
    monthlyCents: Cents,
    /**
     * Distinct site-local days a week, across all sites, that the subscription covers. Absent:
     * unlimited (every day the door lets in is covered), and then `extraDay` is absent too.
     */
    daysPerWeek: z.number().int().min(1).max(5).optional(),
    /**
     * A day beyond the quota. `{cents}`: the door lets it in, at that price. `{refuse: true,
     * cents}`: the door refuses it, and `cents` is what a day costs that a site let in anyway (a
     * site cut off from the hub that did not know the days used elsewhere): never free.
     * `"refuse"` alone, from lists made before that price was asked for, is still read from a
     * closed month (which re-rates as it was closed) but refused in a new list (unpricedRefusals).
     */
    extraDay: ExtraDaySchema.optional(),
    ...Common,
  })
  .refine((t) => (t.daysPerWeek === undefined) === (t.extraDay === undefined), {
    error: 'a subscription gives daysPerWeek and extraDay together, or neither (unlimited days)',
    path: ['extraDay'],
  });

/** A day pass, or pay-as-you-go by the day: each visited day is charged, a short one as a half-day. */
const PerDay = z.strictObject({
  kind: z.literal('per-day'),
  dayCents: Cents,
  /** A day whose presence totals less than `underMinutes` costs `cents` (Murat: 10 EUR under 4 h). */
  halfDay: z.strictObject({ cents: Cents, underMinutes: z.number().int().min(1).max(1440).default(240) }).optional(),
  ...Common,
});

/** A week pass: each ISO week with at least one visit is charged once, in the month of its Thursday. */
const WeekPass = z.strictObject({ kind: z.literal('week-pass'), weekCents: Cents, ...Common });

export type ExtraDay = z.infer<typeof ExtraDaySchema>;

export const PlanTariff = z.discriminatedUnion('kind', [Subscription, PerDay, WeekPass]);
export type PlanTariff = z.infer<typeof PlanTariff>;

export const ConsumablePrice = z.strictObject({
  name: z.string().min(1).max(200),
  unitCents: Cents,
  vatPercent: VatPercent,
});
export type ConsumablePrice = z.infer<typeof ConsumablePrice>;

/**
 * A pack of days sold ahead (a book of 10 days, used at any site): bought once (`POST
 * /billing/packs`, a line of `cents` on the month of the purchase), then each day its holder
 * comes draws one of its `days`, month after month, for `validDays` from the purchase. It is an
 * add-on to a per-day plan: days beyond the pack are charged at the plan's prices.
 */
export const PackOffer = z.strictObject({
  name: z.string().min(1).max(200),
  days: z.number().int().min(1).max(366),
  cents: Cents,
  vatPercent: VatPercent,
  /** Days from the purchase (that day included) during which its days may be drawn; at most a year and a day. */
  validDays: z.number().int().min(1).max(366).default(365),
});
export type PackOffer = z.infer<typeof PackOffer>;

export const PriceList = z.strictObject({
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { error: 'expected an ISO 4217 code such as "EUR"' })
    .default('EUR'),
  plans: z.record(Key, PlanTariff),
  consumables: z.record(Key, ConsumablePrice).default({}),
  /** The packs of days on sale, by id (absent: none). */
  packs: z.record(Key, PackOffer).optional(),
});
export type PriceList = z.infer<typeof PriceList>;

/** A pack sold to a member: the offer's terms as they were, kept with the purchase. */
export const PackPurchase = z.object({
  id: z.string(),
  member: z.string(),
  /** The offer's id in the price list. */
  pack: z.string(),
  name: z.string(),
  days: z.number().int(),
  cents: z.number().int(),
  vatPercent: z.number(),
  /** The day it was bought, and the last day its days may be drawn. */
  date: z.string(),
  validUntil: z.string(),
  /** When the operator recorded it (ISO, UTC): a close bills the purchases recorded up to its cutoff. */
  recordedAt: z.string(),
});
export type PackPurchase = z.infer<typeof PackPurchase>;

/** A billing period is a calendar month, `YYYY-MM`. */
export const PeriodId = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: 'expected a month "YYYY-MM"' });
export type PeriodId = z.infer<typeof PeriodId>;

export const LINE_KINDS = [
  'subscription',
  'extra-day',
  'day',
  'half-day',
  'week',
  'locker',
  'consumable',
  'room-hours',
  'room-half-day',
  'desk-booking',
  'late-cancellation',
  'no-show',
  'pack',
  'pack-day',
] as const;
export const LineKind = z.enum(LINE_KINDS);
export type LineKind = z.infer<typeof LineKind>;

/** A calendar date, `YYYY-MM-DD`. */
export const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date "YYYY-MM-DD"' });

/** A postal address as an invoice prints it and EN 16931 carries it (BG-5, BG-8). */
export const PostalAddress = z.strictObject({
  lines: z.array(z.string().min(1).max(200)).min(1).max(3),
  postcode: z.string().min(1).max(20),
  city: z.string().min(1).max(100),
  /** ISO 3166-1 alpha-2, `FR`. */
  country: z.string().regex(/^[A-Z]{2}$/, { error: 'expected an ISO 3166-1 alpha-2 country code such as "FR"' }),
});
export type PostalAddress = z.infer<typeof PostalAddress>;

/** The languages an invoice is written in: French by law, English for a buyer who asks for it. */
export const InvoiceLanguage = z.enum(['fr', 'en']);
export type InvoiceLanguage = z.infer<typeof InvoiceLanguage>;

/**
 * The network's operator as seller (a hub setting): who every invoice and credit note is from.
 * SIREN 9 digits and SIRET 14 (Luhn-checked), the VAT number `FR` + 2-digit key + SIREN.
 */
export const Seller = z.strictObject({
  name: z.string().min(1).max(200),
  /** `SAS`, `SARL`, `SCIC`, `Association loi 1901`… */
  legalForm: z.string().min(1).max(100),
  /** Printed as "au capital de …" where the legal form has one. */
  shareCapital: z.string().max(100).optional(),
  siren: z.string(),
  siret: z.string(),
  /** Absent for a seller exempt from VAT (franchise en base): then `vatExemption` says why. */
  vatNumber: z.string().optional(),
  /** `RCS Clermont-Ferrand 123 456 789`. */
  rcs: z.string().max(200).optional(),
  address: PostalAddress,
  email: z.string().max(200).optional(),
  phone: z.string().max(50).optional(),
  iban: z.string().max(34).optional(),
  bic: z.string().max(11).optional(),
  /** Days from the issue date to the due date unless the buyer's terms say otherwise. */
  paymentTermsDays: z.number().int().min(0).max(60).default(30),
  /** Late-payment penalty rate, percent a year (at least three times the legal interest rate). */
  latePenaltyPercent: z.number().min(0).max(100),
  /** The mention printed when no VAT is charged: `TVA non applicable, art. 293 B du CGI`. */
  vatExemption: z.string().max(200).optional(),
});
export type Seller = z.infer<typeof Seller>;

/**
 * Who an invoice is addressed to: an employer, or a member billed on their own, as known at the
 * hub (never sent to sites). A business has a SIREN (and owes the 40 EUR recovery indemnity
 * when late); a consumer has none.
 */
export const Buyer = z.strictObject({
  kind: z.enum(['business', 'consumer']),
  name: z.string().min(1).max(200),
  siren: z.string().optional(),
  siret: z.string().optional(),
  vatNumber: z.string().optional(),
  address: PostalAddress,
  email: z.string().max(200).optional(),
  /** Overrides the seller's `paymentTermsDays`. */
  paymentTermsDays: z.number().int().min(0).max(60).optional(),
  language: InvoiceLanguage.default('fr'),
  /** The buyer's reference (BT-10): a purchase order or a cost centre to print. */
  reference: z.string().max(100).optional(),
});
export type Buyer = z.infer<typeof Buyer>;

/** An identifier as typed (spaces allowed: `123 456 789`), compacted, then checked. */
const Identifier = (check: (s: string) => boolean, error: string) =>
  z.string().max(40).transform(compactIdentifier).pipe(z.string().refine(check, { error }));
const SirenInput = Identifier(isSiren, 'expected a SIREN: 9 digits whose last is their Luhn key');
const SiretInput = Identifier(isSiret, 'expected a SIRET: 14 digits, a valid SIREN and a NIC, with a valid key');
const FrenchVatInput = Identifier(
  isFrenchVatNumber,
  'expected a French VAT number: FR, the 2-digit key of the SIREN, the SIREN',
);
const VatInput = Identifier(
  (v) => isFrenchVatNumber(v) || isForeignVatNumber(v),
  'expected a VAT number: FR, the 2-digit key of the SIREN and the SIREN, or another EU prefix and number',
);

/**
 * The seller setting as `PUT /billing/seller` takes it: the identifiers compacted (`123 456 789`
 * is `123456789`) and checked, the SIRET that of the SIREN, the VAT number that of the SIREN,
 * and a seller without a VAT number saying why (`vatExemption`).
 */
export const SellerSetting = Seller.extend({
  siren: SirenInput,
  siret: SiretInput,
  vatNumber: FrenchVatInput.optional(),
}).superRefine((s, ctx) => {
  if (!s.siret.startsWith(s.siren))
    ctx.addIssue({ code: 'custom', path: ['siret'], message: `the SIRET must start with the SIREN ${s.siren}` });
  if (s.vatNumber !== undefined && sirenOfVatNumber(s.vatNumber) !== s.siren)
    ctx.addIssue({
      code: 'custom',
      path: ['vatNumber'],
      message: `the VAT number must be that of the SIREN ${s.siren}`,
    });
  if (s.vatNumber === undefined && s.vatExemption === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['vatExemption'],
      message: 'a seller without a VAT number states its exemption (e.g. "TVA non applicable, art. 293 B du CGI")',
    });
});

/**
 * A buyer identity as `PUT /billing/buyers/:account` takes it: identifiers compacted and
 * checked like the seller's; a business in France has a SIREN (its SIRET and a French VAT
 * number must be that SIREN's); a consumer has none of the three.
 */
export const BuyerSetting = Buyer.extend({
  siren: SirenInput.optional(),
  siret: SiretInput.optional(),
  vatNumber: VatInput.optional(),
}).superRefine((b, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (b.kind === 'consumer') {
    for (const key of ['siren', 'siret', 'vatNumber'] as const)
      if (b[key] !== undefined) issue(key, `a consumer has no ${key}: make the buyer a business`);
    return;
  }
  if (b.siren === undefined) {
    if (b.address.country === 'FR') issue('siren', 'a business buyer in France has a SIREN');
    if (b.siret !== undefined) issue('siren', 'give the SIREN with the SIRET');
    return;
  }
  if (b.siret !== undefined && !b.siret.startsWith(b.siren))
    issue('siret', `the SIRET must start with the SIREN ${b.siren}`);
  const vatSiren = b.vatNumber === undefined ? undefined : sirenOfVatNumber(b.vatNumber);
  if (vatSiren !== undefined && vatSiren !== b.siren)
    issue('vatNumber', `the VAT number must be that of the SIREN ${b.siren}`);
});

/** A billed account: `employer:<id>` or `member:<id>` (a member billed on their own). */
export const BillingAccount = z.string().regex(/^(employer|member):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
  error: 'expected an account "employer:<id>" or "member:<id>"',
});

export const BuyerEntry = z.object({ account: z.string(), buyer: Buyer });
export type BuyerEntry = z.infer<typeof BuyerEntry>;
export const BuyerList = z.object({ buyers: z.array(BuyerEntry) });
export type BuyerList = z.infer<typeof BuyerList>;

/** An invoice line: a rated line with its VAT, or an adjustment of an earlier, closed period. */
export const InvoiceLine = z.object({
  member: z.string(),
  memberName: z.string().nullable(),
  site: z.string().nullable(),
  kind: LineKind,
  /** The consumable item (kind `consumable`), or the booked resource (the booking kinds). */
  item: z.string().nullable(),
  description: z.string(),
  /** For an adjustment: the closed period it corrects; null on the period's own lines. */
  adjusts: z.string().nullable(),
  quantity: z.number(),
  unitCents: z.number().int(),
  amountCents: z.number().int(),
  vatPercent: z.number(),
  vatCents: z.number().int(),
  dates: z.array(z.string()),
  /** The first and last day the line covers (a subscription its month, a week pass its week); absent on lines frozen before. */
  from: IsoDate.optional(),
  to: IsoDate.optional(),
});
export type InvoiceLine = z.infer<typeof InvoiceLine>;

export const Invoice = z.object({
  /**
   * `invoice` (absent on invoices frozen before credit notes existed) or `credit-note`: a closed
   * invoice is never changed, it is corrected by a credit note that names it in `corrects`.
   */
  type: z.enum(['invoice', 'credit-note']).optional(),
  /** `YYYY-NNNNNN` for an invoice, `AV-YYYY-NNNNNN` for a credit note (its own gapless series); null on a preview. */
  number: z.string().nullable(),
  /** The invoice a credit note corrects. */
  corrects: z.strictObject({ number: z.string(), issueDate: IsoDate.optional() }).optional(),
  /** The seller's local date (Europe/Paris) it was issued, and the date it is due. */
  issueDate: IsoDate.optional(),
  dueDate: IsoDate.optional(),
  /** The first and last day of the service it bills. */
  servicePeriod: z.strictObject({ from: IsoDate, to: IsoDate }).optional(),
  language: InvoiceLanguage.optional(),
  /** The seller and buyer as they were at issue (frozen with the invoice). */
  seller: Seller.optional(),
  buyer: Buyer.optional(),
  /** Legal mentions printed at the foot, in the invoice's language (terms, penalties, indemnity, VAT exemption). */
  mentions: z.array(z.string()).optional(),
  period: z.string(),
  /** When the period was closed (ISO, UTC); null on a preview. */
  closedAt: z.string().nullable(),
  account: z.object({ kind: z.enum(['employer', 'member']), id: z.string(), name: z.string() }),
  currency: z.string(),
  lines: z.array(InvoiceLine),
  bySite: z.array(z.object({ site: z.string().nullable(), days: z.number().int(), amountCents: z.number().int() })),
  byMember: z.array(
    z.object({
      member: z.string(),
      name: z.string().nullable(),
      days: z.number().int(),
      amountCents: z.number().int(),
    }),
  ),
  vat: z.array(z.object({ vatPercent: z.number(), baseCents: z.number().int(), vatCents: z.number().int() })),
  subtotalCents: z.number().int(),
  vatCents: z.number().int(),
  totalCents: z.number().int(),
});
export type Invoice = z.infer<typeof Invoice>;

/** Usage that no invoice carries, and why: shown with the period so nothing goes missing silently. */
export const Unbilled = z.object({
  member: z.string(),
  reason: z.literal('not_in_directory'),
  days: z.number().int(),
  consumables: z.number().int(),
  /** Bookings of the month that started in it (absent when none). */
  bookings: z.number().int().optional(),
});
export type Unbilled = z.infer<typeof Unbilled>;

/**
 * A day beyond the quota of a plan whose door refuses it, that a site let in anyway (one cut
 * off from the hub, that did not know the days used elsewhere): charged at the plan's price for
 * it, and listed so that the operator can look into it.
 */
export const AdmittedBeyondQuota = z.object({
  member: z.string(),
  account: z.string(),
  plan: z.string(),
  site: z.string(),
  date: z.string(),
  unitCents: z.number().int(),
});
export type AdmittedBeyondQuota = z.infer<typeof AdmittedBeyondQuota>;

/**
 * Uses of a consumable item the price list has no price for, at one site in one month. They are
 * listed with the preview and the close, never charged, and never a reason to refuse the month:
 * one unknown item (a new machine, a name a site got wrong) must not hold up every invoice.
 */
export const UnpricedUse = z.object({
  /** The month the uses belong to: the closed month itself, or an earlier one its late events reached. */
  period: z.string(),
  site: z.string(),
  item: z.string(),
  /** How many uses (events), and how many units they recorded in all. */
  uses: z.number().int(),
  quantity: z.number(),
});
export type UnpricedUse = z.infer<typeof UnpricedUse>;

/** What the invoices of a month lack to be lawful documents. */
export const MissingParties = z.object({
  seller: z.boolean(),
  /** Accounts (`employer:<id>`, `member:<id>`) billed without a buyer identity. */
  buyers: z.array(z.string()),
});
export type MissingParties = z.infer<typeof MissingParties>;

export const PeriodSummary = z.object({
  period: z.string(),
  status: z.enum(['open', 'closed']),
  /** ISO (UTC): when it was closed, and the reception time up to which its events are on its invoices. */
  closedAt: z.string().nullable(),
  cutoff: z.string(),
  /** The currency of its amounts: that of the price list it was (or would be) rated with. */
  currency: z.string(),
  invoices: z.number().int(),
  subtotalCents: z.number().int(),
  vatCents: z.number().int(),
  totalCents: z.number().int(),
  unbilled: z.array(Unbilled),
  /** In a preview and in the answer of a close (a closed month's invoices keep them as lines). */
  admittedBeyondQuota: z.array(AdmittedBeyondQuota).optional(),
  unpriced: z.array(UnpricedUse),
  /** Credit notes the close issued (or, in a preview, would issue) for late corrections of closed months. */
  creditNotes: z.number().int().optional(),
  /**
   * What the month's invoices lack to be lawful documents: no seller setting (`seller: true`),
   * accounts without a buyer identity. They are closed all the same; no document can be made of
   * an invoice frozen without its seller or buyer.
   */
  missing: MissingParties.optional(),
});
export type PeriodSummary = z.infer<typeof PeriodSummary>;

export const InvoiceHeader = Invoice.pick({
  type: true,
  number: true,
  corrects: true,
  account: true,
  currency: true,
  subtotalCents: true,
  vatCents: true,
  totalCents: true,
}).extend({ lines: z.number().int() });
export type InvoiceHeader = z.infer<typeof InvoiceHeader>;

/** A month: frozen if closed, else a preview, with its invoices' headers. */
export const PeriodView = PeriodSummary.omit({ invoices: true, creditNotes: true }).extend({
  invoices: z.array(InvoiceHeader),
  /** The credit notes its close issued (a preview: would issue). */
  creditNotes: z.array(InvoiceHeader).optional(),
});
export type PeriodView = z.infer<typeof PeriodView>;

export const PeriodList = z.object({ periods: z.array(PeriodSummary), next: z.string().nullable() });
export type PeriodList = z.infer<typeof PeriodList>;

export const Verification = z.object({ period: z.string(), identical: z.boolean(), differing: z.array(z.string()) });
export type Verification = z.infer<typeof Verification>;

export const InvoiceList = z.object({ invoices: z.array(Invoice) });
export type InvoiceList = z.infer<typeof InvoiceList>;

const PeriodParams = z.strictObject({ period: PeriodId });
/** A sale of a pack: to whom, which, and the day (the seller's date: it must fall in a month not yet closed). */
export const PackSale = z.strictObject({
  member: z.string().min(1).max(64),
  pack: Key,
  date: IsoDate,
});
export type PackSale = z.infer<typeof PackSale>;
export const PackPurchaseList = z.object({ purchases: z.array(PackPurchase) });
export type PackPurchaseList = z.infer<typeof PackPurchaseList>;
const InvoiceParams = z.strictObject({
  number: z.string().regex(/^(AV-)?\d{4}-\d{6}$/, {
    error: 'expected an invoice number "YYYY-NNNNNN" or a credit note number "AV-YYYY-NNNNNN"',
  }),
});
const InvoiceOnlyParams = z.strictObject({
  number: z.string().regex(/^\d{4}-\d{6}$/, { error: 'expected an invoice number "YYYY-NNNNNN"' }),
});
const AccountParams = z.strictObject({ account: BillingAccount });

/** The formats an invoice's legal document comes in. */
export const InvoiceDocumentQuery = z.strictObject({
  format: z.enum(['pdf', 'facturx', 'cii', 'ubl']).default('facturx'),
});
export type InvoiceDocumentQuery = z.infer<typeof InvoiceDocumentQuery>;

/** What the operator's and the employer manager's document routes share: the query, the two media types, the errors. */
export const INVOICE_DOCUMENT = {
  querystring: InvoiceDocumentQuery,
  response: {},
  produces: {
    'application/pdf': {
      description: 'the readable PDF (format=pdf), or Factur-X: PDF/A-3b carrying the CII (format=facturx)',
    },
    'application/xml': { description: 'the EN 16931 invoice as UN/CEFACT CII (format=cii) or UBL 2.1 (format=ubl)' },
  },
  errors: ['auth.forbidden', 'not_found', 'billing.not_en16931'],
} as const;

/** An operator's credit note cancelling what is left of an invoice: why, printed on it. */
export const CreditNoteRequest = z.strictObject({ reason: z.string().trim().min(1).max(500) });
export type CreditNoteRequest = z.infer<typeof CreditNoteRequest>;

export const CreditNoteList = z.object({ creditNotes: z.array(Invoice) });
export type CreditNoteList = z.infer<typeof CreditNoteList>;
/** `format=csv` answers CSV, in `dialect` (`excel-fr`: for Excel in French); `dialect` is ignored with JSON. */
export const BillingFormat = z.strictObject({
  format: z.enum(['json', 'csv']).default('json'),
  dialect: CsvDialectParam,
});
const CSV = {
  'text/csv': {
    description: 'the invoices as CSV, one row per line (format=csv; dialect=excel-fr for Excel in French)',
  },
};

const billing = { tags: ['billing'] as const, errors: ['auth.forbidden'] as const };

export const BillingRoutes = {
  prices: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/prices',
    operationId: 'getPrices',
    summary: 'The price list (operator)',
    response: { 200: PriceList },
    errors: ['auth.forbidden', 'not_found'],
  }),
  setPrices: defineRoute({
    ...billing,
    method: 'PUT',
    url: '/billing/prices',
    operationId: 'setPrices',
    summary: 'Set the price list: a tariff per plan, a price per consumable (operator)',
    body: PriceList,
    response: { 200: PriceList },
    errors: ['auth.forbidden', 'billing.contradicts_directory'],
  }),
  periods: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/periods',
    operationId: 'listPeriods',
    summary: 'Billing periods, closed and open, and the month a close accepts next (operator)',
    response: { 200: PeriodList },
  }),
  period: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/periods/:period',
    operationId: 'getPeriod',
    summary: 'One month: frozen if closed, else a preview; its invoice headers (operator)',
    params: PeriodParams,
    response: { 200: PeriodView },
    errors: ['auth.forbidden', 'billing.out_of_order', 'billing.unpriced', 'billing.pruned'],
  }),
  periodInvoices: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/periods/:period/invoices',
    operationId: 'listPeriodInvoices',
    summary: 'The invoices of a month, in JSON or CSV (operator)',
    params: PeriodParams,
    querystring: BillingFormat,
    response: { 200: InvoiceList },
    produces: CSV,
    errors: ['auth.forbidden', 'billing.out_of_order', 'billing.unpriced', 'billing.pruned'],
  }),
  close: defineRoute({
    ...billing,
    method: 'POST',
    url: '/billing/periods/:period/close',
    operationId: 'closePeriod',
    summary: 'Close a month: number its invoices, freeze them (operator)',
    params: PeriodParams,
    response: { 200: PeriodSummary },
    errors: ['auth.forbidden', 'billing.period_closed', 'billing.out_of_order', 'billing.unpriced', 'billing.pruned'],
  }),
  verify: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/periods/:period/verify',
    operationId: 'verifyPeriod',
    summary: 'Rate a closed month again and compare with what was frozen (operator)',
    params: PeriodParams,
    response: { 200: Verification },
    errors: ['auth.forbidden', 'billing.out_of_order', 'billing.unpriced', 'billing.pruned', 'not_found'],
  }),
  sellPack: defineRoute({
    ...billing,
    method: 'POST',
    url: '/billing/packs',
    operationId: 'sellPack',
    summary: "Record a pack of days sold to a member: billed with the purchase's month, drawn day by day (operator)",
    body: PackSale,
    response: { 201: PackPurchase },
    errors: ['auth.forbidden', 'not_found', 'billing.unpriced', 'billing.period_closed'],
  }),
  packs: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/packs',
    operationId: 'listPacks',
    summary: "The packs of days sold, a member's or all, by date (operator)",
    querystring: z.strictObject({ member: z.string().min(1).max(64).optional() }),
    response: { 200: PackPurchaseList },
  }),
  invoice: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/invoices/:number',
    operationId: 'getInvoice',
    summary: 'One invoice by number, in JSON or CSV (operator)',
    params: InvoiceParams,
    querystring: BillingFormat,
    response: { 200: Invoice },
    produces: CSV,
    errors: ['auth.forbidden', 'not_found'],
  }),
  invoiceDocument: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/invoices/:number/document',
    operationId: 'getInvoiceDocument',
    summary:
      'The legal document of an invoice or credit note: PDF, Factur-X, or the EN 16931 XML as CII or UBL (operator)',
    params: InvoiceParams,
    ...INVOICE_DOCUMENT,
  }),
  creditNote: defineRoute({
    ...billing,
    method: 'POST',
    url: '/billing/invoices/:number/credit-note',
    operationId: 'creditInvoice',
    summary: 'Cancel what is left of an invoice by a credit note, with the reason (operator)',
    params: InvoiceOnlyParams,
    body: CreditNoteRequest,
    response: { 201: Invoice },
    errors: ['auth.forbidden', 'not_found', 'conflict'],
  }),
  periodCreditNotes: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/periods/:period/credit-notes',
    operationId: 'listPeriodCreditNotes',
    summary: 'The credit notes correcting a month, whenever issued (operator)',
    params: PeriodParams,
    response: { 200: CreditNoteList },
  }),
  seller: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/seller',
    operationId: 'getSeller',
    summary: 'The network operator as seller on every invoice (operator)',
    response: { 200: Seller },
    errors: ['auth.forbidden', 'not_found'],
  }),
  setSeller: defineRoute({
    ...billing,
    method: 'PUT',
    url: '/billing/seller',
    operationId: 'setSeller',
    summary: 'Set the seller: identity, SIREN, SIRET, VAT number, terms (operator)',
    body: SellerSetting,
    response: { 200: Seller },
  }),
  buyers: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/buyers',
    operationId: 'listBuyers',
    summary: 'The buyer identities of the billed accounts (operator)',
    response: { 200: BuyerList },
  }),
  buyer: defineRoute({
    ...billing,
    method: 'GET',
    url: '/billing/buyers/:account',
    operationId: 'getBuyer',
    summary: "One account's buyer identity (operator)",
    params: AccountParams,
    response: { 200: Buyer },
    errors: ['auth.forbidden', 'not_found'],
  }),
  setBuyer: defineRoute({
    ...billing,
    method: 'PUT',
    url: '/billing/buyers/:account',
    operationId: 'setBuyer',
    summary: "Set an account's buyer identity: name, address, SIREN, language, terms (operator)",
    params: AccountParams,
    body: BuyerSetting,
    response: { 200: Buyer },
  }),
  deleteBuyer: defineRoute({
    ...billing,
    method: 'DELETE',
    url: '/billing/buyers/:account',
    operationId: 'deleteBuyer',
    summary: "Remove an account's buyer identity (operator)",
    params: AccountParams,
    response: { 204: null },
    errors: ['auth.forbidden', 'not_found'],
  }),
};
