import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { Member } from '../../shared/protocol/directory.js';
import type { DirectoryChange } from '../../shared/protocol/sync.js';
import { signedInHub, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

/**
 * A hub (not started: no timers) with a November closed on 2 December: Acme SA's invoice
 * 2026-000001 for Chloé, Dan and Eve, a visitor (three Murat subscriptions, 3 × 100 EUR + 20 %
 * VAT = 360 EUR) and Ana's own 2026-000002 (120 EUR). Sam is Acme's staff: never billed.
 * Both invoices were frozen without a due date: due 30 days after the close, on 1 January 2027.
 */
export const ACME_INVOICE = '2026-000001';
export const ANA_INVOICE = '2026-000002';
export const ACME_TOTAL = 36_000;
export const ANA_TOTAL = 12_000;
export const DUE_DATE = '2027-01-01';

export async function paymentsHub(): Promise<{
  hub: Hub;
  clock: ManualClock;
  admin: AuthHeaders;
  operator: Account;
  /** Moves the hub clock to noon (Paris) on `date`. */
  on: (date: string) => void;
}> {
  const clock = new ManualClock('2026-11-20T08:00:00Z');
  const { hub, admin } = await signedInHub(silent, clock);
  const db = hub.store.db;
  await hub.sites.upsert(db, { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
  await hub.directory.upsert(db, 'plan', {
    id: 'murat-2-days',
    name: 'Murat 2 days',
    access: 'always',
    daysPerWeek: 2,
  });
  await hub.directory.upsert(db, 'employer', { id: 'acme', name: 'Acme SA' });
  const people: Array<Partial<Member> & { id: string; name: string }> = [
    { id: 'ana', name: 'Ana Lopez' },
    { id: 'chloe', name: 'Chloé Martin', employer: 'acme' },
    { id: 'dan', name: 'Dan Petit', employer: 'acme' },
    { id: 'sam', name: 'Sam Roux', employer: 'acme', role: 'staff' },
    { id: 'eve', name: 'Eve Blanc', employer: 'acme', role: 'visitor' },
  ];
  for (const p of people) await hub.directory.upsert(db, 'member', { plan: 'murat-2-days', ...p });
  await hub.billing.setPrices({
    ...EXAMPLE_PRICE_LIST,
    plans: { 'murat-2-days': EXAMPLE_PRICE_LIST.plans['murat-2-days'] },
  });
  clock.advanceTo('2026-12-02T09:00:00Z');
  await hub.billing.close('2026-11');
  const operator = (await hub.auth.accounts.list(db)).find((a) => a.username === TEST_ADMIN.username);
  if (!operator) throw new Error('no test operator');
  const on = (date: string) => clock.advanceTo(`${date}T11:00:00Z`);
  return { hub, clock, admin, operator, on };
}

/** The members a site would get from scratch, by id: what its door decides with. */
export async function sentMembers(hub: Hub): Promise<Map<string, Member>> {
  const changes = await hub.directory.snapshotFor('murat');
  return membersIn(changes);
}

/** The members a site that holds revision `since` is sent next, by id. */
export async function deltaMembers(hub: Hub, since: number): Promise<Map<string, Member>> {
  return membersIn(await hub.directory.changesFor(hub.store.db, 'murat', since));
}

function membersIn(changes: DirectoryChange[]): Map<string, Member> {
  const out = new Map<string, Member>();
  for (const c of changes) if (c.entity === 'member' && c.op === 'upsert') out.set(c.value.id, c.value);
  return out;
}

/** The members sent with `billingHold`, sorted. */
export const heldIds = (members: Map<string, Member>): string[] =>
  [...members.values()]
    .filter((m) => m.billingHold === true)
    .map((m) => m.id)
    .sort();
