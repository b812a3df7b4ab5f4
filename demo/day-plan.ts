import type { DemoMember, DemoSite } from './network.js';

/**
 * A simulated day of the demo network, as a list of what happens when, in simulated minutes since
 * midnight: a pure function of the members and the day's number, so a day can be read, tested
 * and replayed. The simulator plays it against the running sites and hub.
 */

export type SiteId = DemoSite['id'];

export type DayAction =
  | { at: number; kind: 'arrive' | 'leave' | 'locker'; member: DemoMember; site: SiteId }
  | { at: number; kind: 'print'; member: DemoMember; site: SiteId; pages: number }
  | { at: number; kind: 'revoke'; member: DemoMember }
  /** Out through the door's exit button: the holder of a badge revoked while they were in. */
  | { at: number; kind: 'exit-button'; member: DemoMember; site: SiteId }
  | { at: number; kind: 'hold-door'; site: SiteId }
  | { at: number; kind: 'cut-link' | 'restore-link'; site: SiteId };

export const DAY_START = 7 * 60;
export const DAY_END = 21 * 60;

/** The scripted incidents of each day (the revocations only on the first). */
export const INCIDENTS = {
  holdDoor: { at: 10 * 60, site: 'reichstett' as SiteId },
  revoke: { at: 11 * 60, members: ['Julien Vidal', 'Paul Meyer'] },
  offline: { from: 12 * 60, to: 15 * 60, site: 'allanche' as SiteId },
};

/** mulberry32: a small seeded generator, so that a day is the same at every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (random: () => number, from: number, to: number) => Math.floor(from + random() * (to - from));

/** One member's day at one site: in, maybe a locker and some printing, out. */
function visit(member: DemoMember, site: SiteId, random: () => number, hasLockers: boolean): DayAction[] {
  // The rural 24/7 site sees people at any hour; the others mostly in the morning.
  const arrive =
    site === 'allanche' ? between(random, DAY_START, 15 * 60) : between(random, DAY_START + 30, 10 * 60 + 30);
  const leave = Math.min(DAY_END - 15, arrive + between(random, 120, 9 * 60));
  const actions: DayAction[] = [
    { at: arrive, kind: 'arrive', member, site },
    { at: leave, kind: 'leave', member, site },
  ];
  if (hasLockers && leave - arrive > 40) {
    // First tap claims a free locker, the next opens it again; check-out frees it.
    actions.push(
      { at: arrive + 5, kind: 'locker', member, site },
      { at: between(random, arrive + 20, leave - 10), kind: 'locker', member, site },
    );
  }
  if (random() < 0.4 && leave - arrive > 30)
    actions.push({
      at: between(random, arrive + 10, leave - 10),
      kind: 'print',
      member,
      site,
      pages: between(random, 1, 40),
    });
  return actions;
}

export interface PlanOptions {
  day: number;
  members: readonly DemoMember[];
  sites: readonly DemoSite[];
  /** Members whose badges the hub has already revoked: they still try, once, and are refused. */
  revoked: ReadonlySet<string>;
}

export function planDay(opts: PlanOptions): DayAction[] {
  const random = seededRandom(opts.day * 7919 + 17);
  const withLockers = new Set(opts.sites.filter((s) => s.lockerReader !== undefined).map((s) => s.id));
  const actions: DayAction[] = [];
  for (const member of opts.members) {
    const site = member.sites[between(random, 0, member.sites.length)] ?? member.sites[0];
    if (site === undefined || random() > 0.8) continue;
    if (opts.revoked.has(member.id)) {
      actions.push({ at: between(random, DAY_START + 30, 12 * 60), kind: 'arrive', member, site });
      continue;
    }
    const lockers = withLockers.has(site) && (member.plan === 'reichstett-2-days' || member.plan === 'soho-solo');
    actions.push(...visit(member, site, random, lockers));
  }
  const lost = lostToday(opts);
  const day = lost.length === 0 ? actions : withoutLostBadges(actions, lost, opts.sites);
  day.push(...incidents(opts, lost));
  // Stable order: by minute, incidents of a minute before the taps they change.
  return day
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.at - y.a.at || rank(x.a) - rank(y.a) || x.i - y.i)
    .map(({ a }) => a);
}

const rank = (a: DayAction) => (a.kind === 'revoke' || a.kind === 'cut-link' || a.kind === 'restore-link' ? 0 : 1);

/** The members whose badges are reported lost today: revoked at the hub at INCIDENTS.revoke.at. */
function lostToday(opts: PlanOptions): DemoMember[] {
  return INCIDENTS.revoke.members.flatMap((name) =>
    opts.members.filter((m) => m.name === name && !opts.revoked.has(m.id)),
  );
}

/**
 * A lost badge is not in its holder's hand: after the revocation they tap nothing with it (no
 * locker, no printing, no tap out, which the door would refuse). One already in leaves as anyone
 * without a badge does: by the door's exit button, or where there is none (Allanche) by its
 * handle, which the demo does not play. Either way the site cannot tell who left: it counts them
 * until its automatic check-out (closing time or maximum stay), as it would in life.
 */
function withoutLostBadges(actions: DayAction[], lost: readonly DemoMember[], sites: readonly DemoSite[]): DayAction[] {
  const revokedAt = INCIDENTS.revoke.at;
  const ids = new Set(lost.map((m) => m.id));
  return actions.flatMap((a): DayAction[] => {
    if (!('member' in a) || !ids.has(a.member.id) || a.at <= revokedAt) return [a];
    if (a.kind !== 'leave') return [];
    const arrived = actions.some((x) => x.kind === 'arrive' && x.member.id === a.member.id && x.at < revokedAt);
    const button = sites.find((s) => s.id === a.site)?.exitButton === true;
    return arrived && button ? [{ at: a.at, kind: 'exit-button', member: a.member, site: a.site }] : [];
  });
}

function incidents(opts: PlanOptions, lost: readonly DemoMember[]): DayAction[] {
  const out: DayAction[] = [
    { at: INCIDENTS.holdDoor.at, kind: 'hold-door', site: INCIDENTS.holdDoor.site },
    { at: INCIDENTS.offline.from, kind: 'cut-link', site: INCIDENTS.offline.site },
    { at: INCIDENTS.offline.to, kind: 'restore-link', site: INCIDENTS.offline.site },
  ];
  for (const member of lost) {
    out.push({ at: INCIDENTS.revoke.at, kind: 'revoke', member });
    // The badge reported lost is tried again in the afternoon (by whoever found it): the door refuses it.
    out.push({ at: INCIDENTS.revoke.at + 150, kind: 'arrive', member, site: member.sites[0] ?? 'murat' });
  }
  return out;
}

/** `08:05` for a simulated minute. */
export function clockTime(minute: number): string {
  const m = Math.floor(minute) % (24 * 60);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
