import type { ErrorDetail } from '../../shared/platform/errors.js';

// The price list is part of the billing API: shared/protocol/api/hub-billing.ts.
import type { ExtraDay, PriceList } from '../../shared/protocol/api/hub-billing.js';

export { PlanTariff, PriceList, type ExtraDay } from '../../shared/protocol/api/hub-billing.js';

/** Whether the door refuses a day beyond the subscription's quota (none for an unlimited one). */
export const refusesExtraDays = (extraDay: ExtraDay | undefined): boolean =>
  extraDay !== undefined && (extraDay === 'refuse' || extraDay.refuse === true);

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
 * EUR), its every day of the month for 250 EUR and its book of 10 days for 180 EUR,
 * Reichstett's 2-days-a-week subscription with 12 EUR a day beyond it, Soho Solo's 1000 print
 * pages a month.
 */
export const EXAMPLE_PRICE_LIST: PriceList = {
  currency: 'EUR',
  plans: {
    'murat-day': {
      kind: 'per-day',
      dayCents: 2000,
      halfDay: { cents: 1000, underMinutes: 240 },
      vatPercent: 20,
      included: {},
    },
    'murat-week': { kind: 'week-pass', weekCents: 8000, vatPercent: 20, included: {} },
    'murat-2-days': {
      kind: 'subscription',
      monthlyCents: 10000,
      daysPerWeek: 2,
      extraDay: { refuse: true, cents: 2000 },
      vatPercent: 20,
      included: {},
    },
    'reichstett-2-days': {
      kind: 'subscription',
      monthlyCents: 9600,
      daysPerWeek: 2,
      extraDay: { cents: 1200 },
      lockerMonthlyCents: 500,
      vatPercent: 20,
      included: {},
    },
    'soho-solo': {
      kind: 'subscription',
      monthlyCents: 15000,
      daysPerWeek: 5,
      extraDay: { refuse: true, cents: 1000 },
      vatPercent: 20,
      included: { 'print-page': 1000 },
    },
    'murat-unlimited': { kind: 'subscription', monthlyCents: 25000, vatPercent: 20, included: {} },
  },
  consumables: {
    'print-page': { name: 'Printed page', unitCents: 10, vatPercent: 20 },
    coffee: { name: 'Coffee', unitCents: 120, vatPercent: 5.5 },
  },
  packs: {
    'murat-10-days': { name: 'Carnet de 10 jours', days: 10, cents: 18000, vatPercent: 20, validDays: 365 },
  },
};
