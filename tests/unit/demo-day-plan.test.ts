import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockTime, DAY_END, DAY_START, INCIDENTS, planDay } from '../../demo/day-plan.js';
import { DEMO_SITES, MEMBERS, PLANS, PRICES } from '../../demo/network.js';

describe('a simulated day of the demo network', () => {
  it('is the same day at every run, in time order, within the day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (day) => {
        const plan = planDay({ day, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
        expect(planDay({ day, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() })).toEqual(plan);
        expect(plan.map((a) => a.at)).toEqual([...plan.map((a) => a.at)].sort((a, b) => a - b));
        for (const a of plan) expect(a.at >= DAY_START && a.at < DAY_END).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('has each member leave after arriving, at a site their plan opens, and use lockers only where there are some', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (day) => {
        const plan = planDay({ day, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
        for (const m of MEMBERS) {
          const own = plan.filter((a) => 'member' in a && a.member.id === m.id && a.kind !== 'revoke');
          const arrive = own.find((a) => a.kind === 'arrive');
          const leave = own.find((a) => a.kind === 'leave');
          if (leave) expect(arrive && arrive.at < leave.at).toBe(true);
          for (const a of own) if ('site' in a) expect(m.sites).toContain(a.site);
          for (const a of own.filter((x) => x.kind === 'locker')) expect('site' in a && a.site).toBe('reichstett');
        }
      }),
      { numRuns: 50 },
    );
  });

  it('revokes the lost badges once, then has their holders try again and only arrive', () => {
    const first = planDay({ day: 1, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
    const revoked = first.filter((a) => a.kind === 'revoke').map((a) => ('member' in a ? a.member.name : ''));
    expect(revoked).toEqual(INCIDENTS.revoke.members);
    const ids = new Set(MEMBERS.filter((m) => revoked.includes(m.name)).map((m) => m.id));
    const later = planDay({ day: 2, members: MEMBERS, sites: DEMO_SITES, revoked: ids });
    expect(later.some((a) => a.kind === 'revoke')).toBe(false);
    for (const a of later.filter((x) => 'member' in x && ids.has(x.member.id))) expect(a.kind).toBe('arrive');
  });

  it('holds a door open and cuts one site off for a while, every day', () => {
    const plan = planDay({ day: 3, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
    expect(plan.filter((a) => a.kind === 'hold-door' || a.kind === 'cut-link' || a.kind === 'restore-link').map((a) => `${clockTime(a.at)} ${a.kind}`)).toEqual([
      '10:00 hold-door',
      '12:00 cut-link',
      '15:00 restore-link',
    ]);
  });

  it('prices every plan its members hold, and gives every member a distinct badge', () => {
    for (const plan of PLANS) expect(PRICES.plans[plan.id], plan.id).toBeDefined();
    expect(new Set(MEMBERS.map((m) => m.uid)).size).toBe(MEMBERS.length);
    for (const m of MEMBERS) expect(PLANS.map((p) => p.id)).toContain(m.plan);
  });
});
