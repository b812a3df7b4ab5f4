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

  it('has a holder whose badge is revoked while inside tap nothing more with it, and leave by the exit button', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (day) => {
        const plan = planDay({ day, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
        for (const name of INCIDENTS.revoke.members) {
          const own = plan.filter((a) => 'member' in a && a.member.name === name);
          const after = own.filter((a) => a.at > INCIDENTS.revoke.at);
          // Only the retry of the lost badge, which the door refuses, and the way out.
          for (const a of after)
            expect(['arrive', 'exit-button'], `${name} ${a.kind} at ${clockTime(a.at)}`).toContain(a.kind);
          expect(after.filter((a) => a.kind === 'arrive').map((a) => a.at)).toEqual([INCIDENTS.revoke.at + 150]);
          // In at the revocation: arrived before it, not left before it.
          const arrival = own.find((a) => a.kind === 'arrive' && a.at < INCIDENTS.revoke.at);
          const inAt =
            arrival && 'site' in arrival && !own.some((a) => a.kind === 'leave')
              ? DEMO_SITES.find((s) => s.id === arrival.site)
              : undefined;
          const exits = after.filter((a) => a.kind === 'exit-button').map((a) => ('site' in a ? a.site : ''));
          expect(exits, name).toEqual(inAt?.exitButton ? [inAt.id] : []);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('on the first day, Paul Meyer, in at Reichstett when his badge is revoked, leaves by the exit button', () => {
    const plan = planDay({ day: 1, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
    const paul = plan
      .filter((a) => 'member' in a && a.member.name === 'Paul Meyer')
      .map((a) => `${clockTime(a.at)} ${a.kind}${'site' in a ? ` ${a.site}` : ''}`);
    expect(paul).toEqual([
      '10:18 arrive reichstett',
      '10:23 locker reichstett',
      '10:44 locker reichstett',
      '11:00 revoke',
      '13:30 arrive reichstett',
      '15:23 exit-button reichstett',
    ]);
  });

  it('holds a door open and cuts one site off for a while, every day', () => {
    const plan = planDay({ day: 3, members: MEMBERS, sites: DEMO_SITES, revoked: new Set() });
    expect(
      plan
        .filter((a) => a.kind === 'hold-door' || a.kind === 'cut-link' || a.kind === 'restore-link')
        .map((a) => `${clockTime(a.at)} ${a.kind}`),
    ).toEqual(['10:00 hold-door', '12:00 cut-link', '15:00 restore-link']);
  });

  it('prices every plan its members hold, and gives every member a distinct badge', () => {
    for (const plan of PLANS) expect(PRICES.plans[plan.id], plan.id).toBeDefined();
    expect(new Set(MEMBERS.map((m) => m.uid)).size).toBe(MEMBERS.length);
    for (const m of MEMBERS) expect(PLANS.map((p) => p.id)).toContain(m.plan);
  });
});
