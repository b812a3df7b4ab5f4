import { z } from 'zod';
import { ITEM_ID_PATTERN } from '../../shared/events.js';

/**
 * The network's price list, kept at the hub (the directory's plans carry no prices: sites need
 * none to open a door). One tariff per plan id, one price per consumable item. Amounts are
 * integer cents excluding VAT; VAT is a percentage with at most two decimals (20, 5.5, 2.1).
 */
const Cents = z.number({ error: 'expected an amount in integer cents' }).int().nonnegative().max(100_000_000);
/** Plan ids and items: the pattern sites record items with, so that every item recorded can be priced. */
const Key = z.string().regex(ITEM_ID_PATTERN, { error: 'expected an id of letters, digits, ".", "_" or "-" (at most 64)' });
const VatPercent = z
  .number()
  .min(0)
  .max(100)
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-9, { error: 'expected a VAT percentage with at most two decimals' });

const Common = {
  /** VAT on every line this tariff produces (visits, subscription, locker). */
  vatPercent: VatPercent,
  /** Monthly rental of the member's own locker (members with `locker` in the directory). */
  lockerMonthlyCents: Cents.optional(),
  /** Consumable units included each month per member, by item (Soho Solo: 1000 print pages). */
  included: z.record(Key, z.number().int().nonnegative()).default({}),
};

const Subscription = z.strictObject({
  kind: z.literal('subscription'),
  monthlyCents: Cents,
  /** Distinct site-local days a week, across all sites, that the subscription covers. */
  daysPerWeek: z.number().int().min(1).max(5),
  /** What a day beyond the quota costs; `refuse`: the door refuses it (such days are listed at no charge). */
  extraDay: z.union([z.literal('refuse'), z.strictObject({ cents: Cents })]),
  ...Common,
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

export const PlanTariff = z.discriminatedUnion('kind', [Subscription, PerDay, WeekPass]);
export type PlanTariff = z.infer<typeof PlanTariff>;

export const ConsumablePrice = z.strictObject({ name: z.string().min(1).max(200), unitCents: Cents, vatPercent: VatPercent });
export type ConsumablePrice = z.infer<typeof ConsumablePrice>;

export const PriceList = z.strictObject({
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'expected an ISO 4217 code such as "EUR"' }).default('EUR'),
  plans: z.record(Key, PlanTariff),
  consumables: z.record(Key, ConsumablePrice).default({}),
});
export type PriceList = z.infer<typeof PriceList>;

/** VAT in basis points (20 % = 2000), so that every computation stays in integers. */
export const vatBasisPoints = (percent: number): number => Math.round(percent * 100);

/**
 * The DESIGN.md networks' tariffs (docs/billing.md): Murat's day, half-day, week and
 * 1-or-2-days-a-week prices, Reichstett's 2-days-a-week subscription with 12 EUR a day beyond
 * it, Soho Solo's 1000 print pages a month.
 */
export const EXAMPLE_PRICE_LIST: PriceList = {
  currency: 'EUR',
  plans: {
    'murat-day': { kind: 'per-day', dayCents: 2000, halfDay: { cents: 1000, underMinutes: 240 }, vatPercent: 20, included: {} },
    'murat-week': { kind: 'week-pass', weekCents: 8000, vatPercent: 20, included: {} },
    'murat-2-days': { kind: 'subscription', monthlyCents: 10000, daysPerWeek: 2, extraDay: 'refuse', vatPercent: 20, included: {} },
    'reichstett-2-days': {
      kind: 'subscription',
      monthlyCents: 9600,
      daysPerWeek: 2,
      extraDay: { cents: 1200 },
      lockerMonthlyCents: 500,
      vatPercent: 20,
      included: {},
    },
    'soho-solo': { kind: 'subscription', monthlyCents: 15000, daysPerWeek: 5, extraDay: 'refuse', vatPercent: 20, included: { 'print-page': 1000 } },
  },
  consumables: {
    'print-page': { name: 'Printed page', unitCents: 10, vatPercent: 20 },
    coffee: { name: 'Coffee', unitCents: 120, vatPercent: 5.5 },
  },
};
