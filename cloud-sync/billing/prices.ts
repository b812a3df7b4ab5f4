import { z } from 'zod';
import type { ErrorDetail } from '../../shared/platform/errors.js';
import { ITEM_ID_PATTERN } from '../../shared/protocol/events.js';

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
  /**
   * A day beyond the quota. `{cents}`: the door lets it in, at that price. `{refuse: true,
   * cents}`: the door refuses it, and `cents` is what a day costs that a site let in anyway (a
   * site cut off from the hub that did not know the days used elsewhere): never free.
   * `"refuse"` alone, from lists made before that price was asked for, is still read from a
   * closed month (which re-rates as it was closed) but refused in a new list (unpricedRefusals).
   */
  extraDay: z.union([z.literal('refuse'), z.strictObject({ cents: Cents, refuse: z.literal(true).optional() })]),
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

export type ExtraDay = z.infer<typeof Subscription>['extraDay'];

/** Whether the door refuses a day beyond the subscription's quota. */
export const refusesExtraDays = (extraDay: ExtraDay): boolean => extraDay === 'refuse' || extraDay.refuse === true;

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

/**
 * The subscriptions of `list` that refuse extra days without saying what one let in anyway costs
 * (`extraDay: "refuse"`): such a day would be billed at nothing, so a list holding one is not
 * taken, and rating with one is refused.
 */
export function unpricedRefusals(list: PriceList): ErrorDetail[] {
  return Object.entries(list.plans)
    .filter(([, t]) => t.kind === 'subscription' && t.extraDay === 'refuse')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id]) => ({
      path: `plans.${id}.extraDay`,
      message: `plan ${JSON.stringify(id)} refuses extra days but does not say what a day let in anyway (by a site offline) costs: give extraDay as { "refuse": true, "cents": ... }`,
    }));
}

/** VAT in basis points (20 % = 2000), so that every computation stays in integers. */
export const vatBasisPoints = (percent: number): number => Math.round(percent * 100);

/**
 * The example networks' tariffs (docs/billing.md): Murat's day, half-day, week and
 * 1-or-2-days-a-week prices (a day beyond the 2 is refused; one let in anyway costs a day's 20
 * EUR), Reichstett's 2-days-a-week subscription with 12 EUR a day beyond it, Soho Solo's 1000
 * print pages a month.
 */
export const EXAMPLE_PRICE_LIST: PriceList = {
  currency: 'EUR',
  plans: {
    'murat-day': { kind: 'per-day', dayCents: 2000, halfDay: { cents: 1000, underMinutes: 240 }, vatPercent: 20, included: {} },
    'murat-week': { kind: 'week-pass', weekCents: 8000, vatPercent: 20, included: {} },
    'murat-2-days': { kind: 'subscription', monthlyCents: 10000, daysPerWeek: 2, extraDay: { refuse: true, cents: 2000 }, vatPercent: 20, included: {} },
    'reichstett-2-days': {
      kind: 'subscription',
      monthlyCents: 9600,
      daysPerWeek: 2,
      extraDay: { cents: 1200 },
      lockerMonthlyCents: 500,
      vatPercent: 20,
      included: {},
    },
    'soho-solo': { kind: 'subscription', monthlyCents: 15000, daysPerWeek: 5, extraDay: { refuse: true, cents: 1000 }, vatPercent: 20, included: { 'print-page': 1000 } },
  },
  consumables: {
    'print-page': { name: 'Printed page', unitCents: 10, vatPercent: 20 },
    coffee: { name: 'Coffee', unitCents: 120, vatPercent: 5.5 },
  },
};
