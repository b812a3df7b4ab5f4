import { randomUUID } from 'node:crypto';
import { type Logger } from 'pino';
import { BillingLedger } from '../../cloud-sync/billing/ledger.js';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { HubDirectory } from '../../cloud-sync/hub/directory.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import type { Employer, Member, Plan } from '../../shared/protocol/directory.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { billedEventOf, type BilledEvent } from '../../cloud-sync/billing/visits.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod, type Rating, type RatingInput } from '../../cloud-sync/billing/rate.js';
import { AccountInvoices, type AccountDirectory, type Invoice } from '../../cloud-sync/billing/invoice.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import type { ManualClock } from '../../shared/platform/clock.js';
import { FAST_PASSWORD_COST, login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';

/** Builds a site's billing-relevant events with gapless seqs, as an edge would record them. */
export class SiteLog {
  private seq = 0;
  /** The events as the hub stores them, each with when it arrived. */
  readonly events: Array<{ event: SiteEvent; receivedAt: number }> = [];

  /** `offset` is the site's UTC offset on these dates, e.g. `+01:00` (Paris in November). */
  constructor(
    readonly site: string,
    private readonly offset = '+01:00',
    private readonly receivedAt = 1,
  ) {}

  private push(at: string, rest: Pick<SiteEvent, 'type' | 'data'>, receivedAt: number): SiteEvent {
    const event = {
      v: 1,
      site: this.site,
      seq: ++this.seq,
      id: randomUUID(),
      at: `${at}${this.offset}`,
      ...rest,
    } as SiteEvent;
    this.events.push({ event, receivedAt });
    return event;
  }

  /**
   * A check-in at `date`T`time` and its check-out `minutes` later (the check-out's `at` computed on
   * the wall clock); the check-out may reach the hub later than the check-in (`outReceivedAt`).
   */
  visit(
    member: string,
    date: string,
    time: string,
    minutes: number,
    receivedAt = this.receivedAt,
    outReceivedAt = receivedAt,
  ): this {
    this.push(
      `${date}T${time}:00.000`,
      { type: 'presence.in', data: { memberId: member } } as Pick<SiteEvent, 'type' | 'data'>,
      receivedAt,
    );
    const out = new Date(Date.parse(`${date}T${time}:00.000Z`) + minutes * 60_000).toISOString().slice(0, 23);
    this.push(
      out,
      { type: 'presence.out', data: { memberId: member, cause: 'badge', via: 'exit_reader', minutes } } as Pick<
        SiteEvent,
        'type' | 'data'
      >,
      outReceivedAt,
    );
    return this;
  }

  /** What billing reads of them. */
  get billed(): BilledEvent[] {
    return this.events.flatMap((e) => billedEventOf(e.event, e.receivedAt) ?? []);
  }

  use(member: string, date: string, item: string, quantity: number, receivedAt = this.receivedAt): this {
    this.push(
      `${date}T10:00:00.000`,
      { type: 'consumable.used', data: { memberId: member, item, quantity } } as Pick<SiteEvent, 'type' | 'data'>,
      receivedAt,
    );
    return this;
  }
}

export function member(id: string, plan: string, extra: Partial<Member> = {}): Member {
  return { id, name: `Member ${id}`, role: 'member', plan, status: 'active', ...extra };
}

export const employer = (id: string, name: string): Employer => ({ id, name });

/**
 * The directory plans that go with `EXAMPLE_PRICE_LIST` (docs/billing.md "Prices"): Murat's 2 days
 * and Soho Solo refuse a day beyond their quota, Reichstett's plan opens its members' lockers.
 */
export const EXAMPLE_PLANS: Plan[] = [
  { id: 'murat-day', name: 'Murat day', access: 'staffed', sites: 'all', lockers: false },
  { id: 'murat-week', name: 'Murat week', access: 'staffed', sites: 'all', lockers: false },
  { id: 'murat-2-days', name: 'Murat 2 days', access: 'staffed', sites: 'all', lockers: false, daysPerWeek: 2 },
  { id: 'reichstett-2-days', name: 'Reichstett 2 days', access: 'staffed', sites: 'all', lockers: true },
  { id: 'soho-solo', name: 'Soho Solo', access: 'always', sites: 'all', lockers: false, daysPerWeek: 5 },
  { id: 'murat-unlimited', name: 'Murat every day', access: 'staffed', sites: 'all', lockers: false },
];

/** Instants to close periods at: the 2nd of a month, when the one before is over everywhere. */
export const BILLING_DATES = {
  NOV_2: Date.parse('2026-11-02T09:00:00Z'),
  DEC_2: Date.parse('2026-12-02T09:00:00Z'),
  JAN_2: Date.parse('2027-01-02T09:00:00Z'),
  FEB_2: Date.parse('2027-02-02T09:00:00Z'),
};

/** A hub database with the directory, sites and ledger wired as createHub wires them, and a hand-moved clock. */
export async function billingHub(log: Logger = silent, path?: string) {
  const db: HubDb = await openHubDatabase(path ?? (await testHubDb()));
  const clock = { now: BILLING_DATES.NOV_2 };
  const store = new HubStore(db);
  const directory = new HubDirectory(db);
  const sites = new HubSites(db, () => clock.now);
  const ledger = new BillingLedger({ db, directory, sites, now: () => clock.now, log });
  for (const id of ['murat', 'reichstett'])
    await sites.upsert(db, { id, name: id, timeZone: 'Europe/Paris', capacity: 20 });
  await directory.upsert(db, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
  await directory.upsert(db, 'plan', {
    id: 'reichstett-2-days',
    name: 'Reichstett 2 days',
    access: 'staffed',
    lockers: true,
  });
  await directory.upsert(db, 'employer', { id: 'acme', name: 'Acme SA' });
  await directory.upsert(db, 'member', { id: 'ana', name: 'Ana', plan: 'murat-day' });
  await directory.upsert(db, 'member', { id: 'chloe', name: 'Chloé', plan: 'reichstett-2-days', employer: 'acme' });
  /** Stores a site log's events as ingest would, each with the reception time the log gave it. */
  const ingest = async (log: SiteLog) => {
    for (const { event, receivedAt } of log.events)
      await store.ingest({ v: 1, site: event.site, events: [event] }, receivedAt);
  };
  return { db, clock, store, directory, sites, ledger, ingest, close: () => db.close() };
}

/** `billingHub` with the example price list and `log` stored: where most tests of a close start. */
export async function pricedHub(log: SiteLog) {
  const hub = await billingHub();
  await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
  await hub.ingest(log);
  return hub;
}

/**
 * A whole hub (createHub) on the test database with the operator signed in, the Murat site and
 * its day plan, and `members` on that plan: the billing API's tests start from it.
 */
export async function muratHub(
  clock: ManualClock,
  members: ReadonlyArray<{ id: string; name: string; employer?: string }>,
  dbPath?: string,
): Promise<{ hub: Hub; headers: AuthHeaders }> {
  const hub = await createHub({
    dbPath: dbPath ?? (await testHubDb()),
    clock,
    log: silent,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
  });
  const headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  const db = hub.store.db;
  await hub.sites.upsert(db, { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
  await hub.directory.upsert(db, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
  for (const m of members) {
    if (m.employer !== undefined)
      await hub.directory.upsert(db, 'employer', { id: m.employer, name: `${m.employer} SA` });
    await hub.directory.upsert(db, 'member', { ...m, plan: 'murat-day' });
  }
  return { hub, headers };
}

export const RATING_ZONES = new Map([
  ['murat', 'Europe/Paris'],
  ['reichstett', 'Europe/Paris'],
]);

/** The invoices of a rating with the example prices and plans, in Paris, as a close would build them (no adjustments). */
export function invoicesOf(
  input: Omit<RatingInput, 'prices' | 'employers' | 'plans' | 'zones'> & Partial<RatingInput>,
) {
  const full: RatingInput = {
    prices: EXAMPLE_PRICE_LIST,
    employers: [],
    plans: EXAMPLE_PLANS,
    zones: RATING_ZONES,
    ...input,
  };
  const { lines, days } = ratePeriod(full);
  const dir = { members: new Map(full.members.map((m) => [m.id, m])), employers: new Map() };
  return ratingInvoices(full.period, 'EUR', { lines, days }, dir);
}

/** A rating's invoices, one per account in account order, as a close makes them (no late corrections). */
export function ratingInvoices(
  period: string,
  currency: string,
  { lines, days }: Pick<Rating, 'lines' | 'days'>,
  dir: AccountDirectory,
): Invoice[] {
  const invoices: Invoice[] = [];
  const make = new AccountInvoices(period, currency, new Map(), dir, (i) => invoices.push(i));
  for (const account of new Set(lines.map((l) => l.account)))
    make.account({
      account,
      lines: lines.filter((l) => l.account === account),
      days: days.filter((d) => d.account === account),
    });
  make.end();
  return invoices;
}
