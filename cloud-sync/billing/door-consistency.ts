import type { Plan } from '../../shared/protocol/directory.js';
import type { ErrorDetail } from '../../shared/platform/errors.js';
import { refusesExtraDays, type PriceList } from './prices.js';

/**
 * Where a subscription tariff and the directory disagree about a day beyond the quota (pure).
 * The door refuses a day beyond the directory plan's `daysPerWeek` (edge/access/quota.ts); the
 * tariff says the same day is refused (`extraDay.refuse`) or let in and charged. Both
 * must tell one story:
 * - `refuse` needs the door to refuse exactly there: directory `daysPerWeek` equal to the tariff's;
 * - a charged extra day needs the door to let it in: no `daysPerWeek`, or more than the tariff's.
 * Plans the directory does not hold yet are not checked (they open no door). Other tariff kinds
 * charge every day the door lets in, whatever its limit. An unlimited subscription (no
 * `daysPerWeek`) needs a door without a limit; a locker's rent needs a plan that opens lockers.
 */
export function doorContradictions(prices: PriceList, plans: readonly Plan[]): ErrorDetail[] {
  const byId = new Map(plans.map((p) => [p.id, p]));
  const problems: ErrorDetail[] = [];
  for (const [id, tariff] of Object.entries(prices.plans).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const plan = byId.get(id);
    if (plan === undefined) continue;
    if (tariff.kind === 'subscription') {
      const { daysPerWeek, extraDay } = tariff;
      if (daysPerWeek === undefined || extraDay === undefined) {
        if (plan.daysPerWeek !== undefined)
          problems.push({
            path: `plans.${id}.daysPerWeek`,
            message: `plan ${JSON.stringify(id)}: the tariff covers every day of the week (no daysPerWeek), but the door refuses every day beyond ${plan.daysPerWeek} (the directory plan's daysPerWeek): remove daysPerWeek from the plan, or give the tariff its days a week and extra day`,
          });
      } else {
        const message = contradiction(id, daysPerWeek, refusesExtraDays(extraDay), plan.daysPerWeek);
        if (message !== undefined) problems.push({ path: `plans.${id}.extraDay`, message });
      }
    }
    // The door opens a member's locker only if the plan has lockers (edge/access/decide.ts): rent for it would buy nothing.
    if (tariff.lockerMonthlyCents !== undefined && !plan.lockers)
      problems.push({
        path: `plans.${id}.lockerMonthlyCents`,
        message: `plan ${JSON.stringify(id)}: the tariff rents the members their locker, but the directory plan does not open lockers (lockers: false), so the door refuses them: set lockers on the plan, or remove lockerMonthlyCents`,
      });
  }
  return problems;
}

function contradiction(
  id: string,
  covered: number,
  refused: boolean,
  doorLimit: number | undefined,
): string | undefined {
  const plan = `plan ${JSON.stringify(id)}`;
  if (refused && doorLimit === undefined)
    return `${plan}: the tariff says a day beyond ${covered} a week is refused, but the directory plan sets no daysPerWeek, so the door lets every day in: set daysPerWeek ${covered} on the plan, or price the extra day`;
  if (refused && doorLimit !== covered)
    return `${plan}: the tariff says a day beyond ${covered} a week is refused, but the door refuses beyond ${doorLimit} (the directory plan's daysPerWeek): make them equal`;
  if (!refused && doorLimit !== undefined && doorLimit <= covered)
    return `${plan}: the tariff charges a day beyond ${covered} a week, but the door refuses every day beyond ${doorLimit} (the directory plan's daysPerWeek), so it can never be charged: make extraDay { "refuse": true, "cents": ... }, or raise or remove daysPerWeek on the plan`;
  return undefined;
}
