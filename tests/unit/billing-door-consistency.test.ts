import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doorContradictions } from '../../cloud-sync/billing/door-consistency.js';
import { EXAMPLE_PRICE_LIST, PriceList, type PlanTariff } from '../../cloud-sync/billing/prices.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { PLANS, PRICES } from '../../demo/network.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { Plan } from '../../shared/protocol/directory.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const plan = (id: string, daysPerWeek?: number, lockers = false): Plan =>
  Plan.parse({ id, name: id, access: 'staffed', lockers, ...(daysPerWeek === undefined ? {} : { daysPerWeek }) });
/** Refused at the door; one let in anyway (a site cut off from the hub) costs 20.00. */
const REFUSE = { refuse: true as const, cents: 2000 };
const subscription = (daysPerWeek: number, extraDay: 'refuse' | { cents: number; refuse?: true }): PlanTariff => ({
  kind: 'subscription',
  monthlyCents: 9600,
  daysPerWeek,
  extraDay,
  vatPercent: 20,
  included: {},
});
const prices = (plans: Record<string, PlanTariff>): PriceList => PriceList.parse({ plans });

describe('a price list must tell the same story as the doors about a day beyond the quota', () => {
  it('accepts "refuse" where the door refuses beyond the same number of days, and a charged day where the door lets it in', () => {
    const list = prices({
      refusing: subscription(2, REFUSE),
      unlimited: subscription(2, { cents: 1200 }),
      wider: subscription(2, { cents: 1200 }),
      perDay: { kind: 'per-day', dayCents: 2000, vatPercent: 20, included: {} },
    });
    expect(
      doorContradictions(list, [plan('refusing', 2), plan('unlimited'), plan('wider', 3), plan('perDay', 1)]),
    ).toEqual([]);
    // A plan the directory does not hold yet opens no door: nothing to contradict.
    expect(doorContradictions(prices({ future: subscription(2, REFUSE) }), [])).toEqual([]);
  });

  it('names each plan whose tariff contradicts its door, whichever way', () => {
    const list = prices({
      a: subscription(2, { cents: 1200 }),
      b: subscription(2, REFUSE),
      c: subscription(2, 'refuse'),
      d: subscription(3, { cents: 1200 }),
    });
    const found = doorContradictions(list, [plan('a', 2), plan('b'), plan('c', 3), plan('d', 1)]);
    expect(found.map((d) => d.path)).toEqual([
      'plans.a.extraDay',
      'plans.b.extraDay',
      'plans.c.extraDay',
      'plans.d.extraDay',
    ]);
    expect(found.map((d) => d.message)).toEqual([
      expect.stringMatching(
        /^plan "a": the tariff charges a day beyond 2 a week, but the door refuses every day beyond 2 /,
      ),
      expect.stringMatching(
        /^plan "b": .* refused, but the directory plan sets no daysPerWeek, so the door lets every day in/,
      ),
      expect.stringMatching(/^plan "c": .* refused, but the door refuses beyond 3 /),
      expect.stringMatching(
        /^plan "d": the tariff charges a day beyond 3 a week, but the door refuses every day beyond 1 /,
      ),
    ]);
  });

  it('the demo seeds a directory and a price list that agree, and so does the billing example with the directory it documents', () => {
    expect(
      doorContradictions(
        PRICES,
        PLANS.map((p) => Plan.parse(p)),
      ),
    ).toEqual([]);
    const documented = [
      plan('murat-day'),
      plan('murat-week'),
      plan('murat-2-days', 2),
      plan('reichstett-2-days', undefined, true),
      plan('soho-solo', 5),
      plan('murat-unlimited'),
    ];
    expect(doorContradictions(EXAMPLE_PRICE_LIST, documented)).toEqual([]);
  });
});

describe('PUT /billing/prices against the directory', () => {
  let hub: Hub;
  let headers: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-20T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());
  const put = (payload: unknown) =>
    hub.api.inject({ method: 'PUT', url: '/billing/prices', headers, payload: payload as object });

  it('refuses with 409 billing.contradicts_directory a charged extra day the door refuses, and "refuse" where it never does, keeping the list it had', async () => {
    await hub.directory.upsert(hub.store.db, 'plan', {
      id: 'two-days',
      name: '2 days a week',
      access: 'staffed',
      daysPerWeek: 2,
    });
    await hub.directory.upsert(hub.store.db, 'plan', { id: 'always', name: '24/7', access: 'always' });
    const good = { plans: { 'two-days': subscription(2, REFUSE), always: subscription(2, { cents: 1200 }) } };
    expect((await put(good)).statusCode).toBe(200);

    const bad = await put({ plans: { 'two-days': subscription(2, { cents: 1200 }), always: subscription(5, REFUSE) } });
    expect(bad.statusCode).toBe(409);
    const body = bad.json<{ code: string; details: Array<{ path: string; message: string }> }>();
    expect(body.code).toBe('billing.contradicts_directory');
    expect(body.details.map((d) => d.path)).toEqual(['plans.always.extraDay', 'plans.two-days.extraDay']);
    expect(body.details[0]?.message).toContain('plan "always"');
    expect(body.details[1]?.message).toContain('plan "two-days"');
    expect(await hub.billing.prices()).toEqual(PriceList.parse(good));
  });

  it('refuses with 400 a plan that refuses extra days without saying what one let in anyway costs; with such a list stored from before, a preview is refused, not billed at 0', async () => {
    await hub.directory.upsert(hub.store.db, 'plan', {
      id: 'two-days',
      name: '2 days a week',
      access: 'staffed',
      daysPerWeek: 2,
    });
    const legacy = { plans: { 'two-days': subscription(2, 'refuse') } };
    const refused = await put(legacy);
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ code: string; details: Array<{ path: string }> }>()).toMatchObject({
      code: 'request.invalid',
      details: [{ path: 'plans.two-days.extraDay' }],
    });
    expect(await hub.billing.prices()).toBeUndefined();

    await hub.store.db.run('INSERT INTO billing_prices (id, value, updated_at) VALUES (1, ?, 0)', [
      JSON.stringify(legacy),
    ]);
    const preview = await hub.api.inject({ method: 'GET', url: '/billing/periods/2026-11', headers });
    expect(preview.json<{ code: string; details: Array<{ path: string }> }>()).toMatchObject({
      code: 'billing.unpriced',
      details: [{ path: 'plans.two-days.extraDay' }],
    });
    expect((await put({ plans: { 'two-days': subscription(2, REFUSE) } })).statusCode).toBe(200);
    expect((await hub.api.inject({ method: 'GET', url: '/billing/periods/2026-11', headers })).statusCode).toBe(200);
  });
});
