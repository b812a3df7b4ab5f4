import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod } from '../../cloud-sync/billing/rate.js';
import { billedEventOf } from '../../cloud-sync/billing/visits.js';
import type { PackPurchase } from '../../cloud-sync/billing/pack-rating.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { Invoice, InvoiceLine } from '../../shared/protocol/api/hub-billing.js';
import type { Member } from '../../shared/protocol/directory.js';
import { topics } from '../../shared/protocol/topics.js';
import { FAST_PASSWORD_COST, login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { EXAMPLE_PLANS, RATING_ZONES, SiteLog } from './billing-fixtures.js';

/**
 * docs/billing.md "A month worked by hand": the month is built here through a real hub (its
 * HTTP API, the sites' event batches as ingest receives them, the real closes), and every figure
 * of the section's tables is read back from the document and compared with what the hub issued.
 * Editing the document alone, or the billing code alone, fails this test.
 */

const DOC = new URL('../../docs/billing.md', import.meta.url);
const SECTION = '## A month worked by hand';

// ---------------------------------------------------------------------------------------------
// The month, as the section tells it.

const SELLER = {
  name: 'Tessera Coworking',
  legalForm: 'SAS',
  shareCapital: '10 000 €',
  siren: '732829320',
  siret: '73282932000074',
  vatNumber: 'FR44732829320',
  rcs: 'RCS Clermont-Ferrand 732 829 320',
  address: { lines: ['12 rue Blatin'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  latePenaltyPercent: 12.5,
};
const BUYERS = {
  'employer:acme': {
    kind: 'business',
    name: 'Acme SA',
    siren: '542107651',
    address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
    paymentTermsDays: 45,
  },
  'employer:beta': {
    kind: 'business',
    name: 'Beta SARL',
    siren: '512345679',
    address: { lines: ['4 rue du Dôme'], postcode: '67000', city: 'Strasbourg', country: 'FR' },
  },
  'member:ana': {
    kind: 'consumer',
    name: 'Ana Martin',
    address: { lines: ['8 rue Gras'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  },
};
const MEMBERS: Member[] = [
  {
    id: 'chloe',
    name: 'Chloé Durand',
    role: 'member',
    status: 'active',
    plan: 'reichstett-2-days',
    employer: 'acme',
    locker: { bank: 'reichstett-a', number: 7 },
  },
  { id: 'ben', name: 'Ben Weber', role: 'member', status: 'active', plan: 'murat-week', employer: 'acme' },
  {
    id: 'dan',
    name: 'Dan Roth',
    role: 'member',
    status: 'active',
    plan: 'murat-unlimited',
    employer: 'beta',
    validFrom: '2026-11-18',
  },
  { id: 'eve', name: 'Eve Klein', role: 'member', status: 'active', plan: 'murat-day', employer: 'beta' },
  { id: 'ana', name: 'Ana Martin', role: 'member', status: 'active', plan: 'murat-day' },
];
const PLANS_USED = ['murat-day', 'murat-week', 'murat-unlimited', 'reichstett-2-days'];

/** When each batch reaches the hub (UTC). */
const REICHSTETT_SENDS = '2026-11-25T07:00:00Z'; // its link is cut from then until 3 December
const MURAT_SENDS = '2026-11-27T08:30:00Z'; // Eve's check-in of 09:00 is sent; the link is cut just after
const BACK_ONLINE = '2026-12-03T09:00:00Z';
const NOVEMBER_CLOSE = '2026-12-02T09:00:00Z';
const DECEMBER_CLOSE = '2027-01-02T09:00:00Z';

/** The events of the section's table, each site's in seq order; `late`: sent when its link is back. */
function siteLogs() {
  const murat = new SiteLog('murat');
  const reichstett = new SiteLog('reichstett');
  const day = 480; // 8 h: a full day
  reichstett.visit('chloe', '2026-11-02', '09:00', day);
  murat.visit('eve', '2026-11-02', '09:00', day);
  murat.visit('ana', '2026-11-03', '09:00', day).use('ana', '2026-11-03', 'coffee', 2);
  murat.visit('ben', '2026-11-03', '09:00', day);
  murat.visit('chloe', '2026-11-04', '09:00', day);
  murat.visit('ana', '2026-11-05', '09:00', 120);
  murat.visit('ben', '2026-11-05', '09:00', day);
  reichstett.visit('chloe', '2026-11-06', '09:00', day);
  murat.visit('ana', '2026-11-09', '10:00', day);
  reichstett.visit('ben', '2026-11-09', '09:00', day);
  reichstett.visit('chloe', '2026-11-10', '09:00', day);
  murat.visit('eve', '2026-11-10', '09:00', 180);
  murat.visit('ben', '2026-11-11', '09:00', day);
  reichstett.visit('ana', '2026-11-11', '09:00', day);
  reichstett.visit('chloe', '2026-11-12', '09:00', day).use('chloe', '2026-11-12', 'print-page', 30);
  murat.visit('ana', '2026-11-16', '09:00', day);
  reichstett.visit('chloe', '2026-11-17', '09:00', day);
  murat.visit('dan', '2026-11-18', '09:00', day);
  murat.visit('dan', '2026-11-19', '09:00', day).use('dan', '2026-11-19', 'coffee', 4);
  murat.visit('ana', '2026-11-20', '09:00', 60);
  murat.visit('dan', '2026-11-23', '09:00', day);
  reichstett.visit('dan', '2026-11-24', '09:00', day);
  const reichstettInTime = reichstett.events.length;
  reichstett.visit('ana', '2026-11-26', '09:00', day);
  murat.visit('eve', '2026-11-27', '09:00', 150);
  const muratInTime = murat.events.length - 1; // the check-out of 11:30 is not sent before the cut
  murat.visit('ben', '2026-11-30', '09:00', day);
  return [
    { log: murat, inTime: muratInTime, sends: MURAT_SENDS },
    { log: reichstett, inTime: reichstettInTime, sends: REICHSTETT_SENDS },
  ];
}

// ---------------------------------------------------------------------------------------------
// The hub.

interface Built {
  invoices: Invoice[];
  creditNotes: Invoice[];
  packs: PackPurchase[];
  /** Each event with the instant the hub received it. */
  received: Array<{ event: SiteLog['events'][number]['event']; at: number }>;
  novemberCutoff: number;
}

async function buildTheMonth(): Promise<Built> {
  const clock = new ManualClock('2026-11-01T08:00:00Z');
  const hub: Hub = await createHub({
    dbPath: await testHubDb(),
    clock,
    log: silent,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
  });
  try {
    let headers: AuthHeaders = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    /** Moves the clock, and signs in again (a session does not last a month). */
    const moveTo = async (iso: string) => {
      clock.advanceTo(iso);
      headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    };
    const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object, status?: number) => {
      const r = await hub.api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status ?? (method === 'POST' ? 201 : 200));
      return r;
    };
    for (const [id, name] of [
      ['murat', 'Murat'],
      ['reichstett', 'Reichstett'],
    ] as const)
      await call('PUT', `/directory/sites/${id}`, { name, timeZone: 'Europe/Paris', capacity: 20 });
    for (const { id, ...plan } of EXAMPLE_PLANS.filter((p) => PLANS_USED.includes(p.id)))
      await call('PUT', `/directory/plans/${id}`, plan);
    await call('PUT', '/directory/employers/acme', { name: 'Acme SA' });
    await call('PUT', '/directory/employers/beta', { name: 'Beta SARL' });
    for (const { id, ...m } of MEMBERS) await call('PUT', `/directory/members/${id}`, m);
    await call('PUT', '/billing/prices', EXAMPLE_PRICE_LIST);
    await call('PUT', '/billing/seller', SELLER);
    for (const [account, buyer] of Object.entries(BUYERS)) await call('PUT', `/billing/buyers/${account}`, buyer);

    await moveTo('2026-11-09T09:30:00Z');
    await call('POST', '/billing/packs', { member: 'ana', pack: 'murat-10-days', date: '2026-11-09' });

    const received: Built['received'] = [];
    const t = topics();
    /** A site's batch of events, as its stream sends it, committed by ingest at the clock's time. */
    const send = async (site: string, events: ReadonlyArray<SiteLog['events'][number]>) => {
      hub.ingest.onMessage(
        t.events(site),
        Buffer.from(JSON.stringify({ v: 1, site, events: events.map((e) => e.event) })),
      );
      await hub.ingest.commitGroup();
      for (const e of events) received.push({ event: e.event, at: clock.now() });
    };
    const logs = siteLogs();
    for (const { log, inTime, sends } of [...logs].sort((a, b) => (a.sends < b.sends ? -1 : 1))) {
      await moveTo(sends);
      await send(log.site, log.events.slice(0, inTime));
    }
    await moveTo(NOVEMBER_CLOSE);
    await call('POST', '/billing/periods/2026-11/close', undefined, 200);
    const novemberCutoff = clock.now() - 60_000;
    await moveTo(BACK_ONLINE);
    for (const { log, inTime } of logs) await send(log.site, log.events.slice(inTime));
    await moveTo(DECEMBER_CLOSE);
    await call('POST', '/billing/periods/2026-12/close', undefined, 200);

    const invoices: Invoice[] = [];
    for (const month of ['2026-11', '2026-12'])
      invoices.push(...(await call('GET', `/billing/periods/${month}/invoices`)).json<{ invoices: Invoice[] }>().invoices);
    const creditNotes = (await call('GET', '/billing/periods/2026-11/credit-notes')).json<{ creditNotes: Invoice[] }>()
      .creditNotes;
    const packs = (await call('GET', '/billing/packs?member=ana')).json<{ purchases: PackPurchase[] }>().purchases;
    for (const month of ['2026-11', '2026-12'])
      expect((await call('GET', `/billing/periods/${month}/verify`)).json()).toMatchObject({ identical: true });
    return { invoices, creditNotes, packs, received, novemberCutoff };
  } finally {
    await hub.stop();
  }
}

describe('docs/billing.md: a month worked by hand', () => {
  let built: Built;
  beforeAll(async () => {
    built = await buildTheMonth();
  });
  afterAll(() => undefined);

  it('dump', () => {
    for (const d of [...built.invoices, ...built.creditNotes])
      console.log(
        [
          d.type, d.number, d.account.id, d.issueDate, d.dueDate, JSON.stringify(d.corrects), JSON.stringify(d.servicePeriod),
          ...d.lines.map((l) => [l.description, l.memberName, l.site, l.adjusts, l.from, l.to, l.quantity, l.unitCents, l.amountCents, l.vatPercent, l.vatCents].join(' | ')),
          JSON.stringify(d.vat), d.subtotalCents, d.vatCents, d.totalCents, JSON.stringify(d.mentions),
        ].join('\n'),
      );
    expect(readFileSync(DOC, 'utf8')).toContain('#');
  });
});
