import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeLine, formatDates } from '../../cloud-sync/billing/lawful.js';
import { hashPasswordSync } from '../../cloud-sync/hub/auth/password.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { Invoice } from '../../shared/protocol/api/hub-billing.js';
import { login, type AuthHeaders } from '../harness/hub-auth.js';
import { BILLING_DATES, muratHub, pricedHub, SiteLog } from './billing-fixtures.js';

const { NOV_2, DEC_2 } = BILLING_DATES;

const address = { lines: ['12 rue Blatin'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' };
const SELLER = {
  name: 'Tessera Coworking',
  legalForm: 'SAS',
  shareCapital: '10 000 €',
  siren: '732 829 320',
  siret: '732 829 320 00074',
  vatNumber: 'FR 44 732 829 320',
  rcs: 'RCS Clermont-Ferrand 732 829 320',
  address,
  latePenaltyPercent: 12.5,
};
const ACME = {
  kind: 'business',
  name: 'Acme SA',
  siren: '542107651',
  vatNumber: 'FR13542107651',
  address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  language: 'en',
  paymentTermsDays: 45,
};
const ANA = { kind: 'consumer', name: 'Ana Martin', address };

const byAccount = (invoices: Invoice[], id: string) => invoices.find((i) => i.account.id === id) as Invoice;

describe('the lawful invoice at the close', () => {
  let hub: Awaited<ReturnType<typeof pricedHub>>;
  beforeEach(async () => {
    hub = await pricedHub(
      new SiteLog('murat', '+01:00', NOV_2)
        .visit('ana', '2026-11-02', '09:00', 480)
        .visit('ana', '2026-11-03', '09:00', 480)
        .visit('ana', '2026-11-04', '09:00', 480)
        .visit('ana', '2026-11-12', '09:00', 120)
        .visit('chloe', '2026-11-03', '09:00', 480),
    );
  });
  afterEach(() => hub.close());

  it('closes without a seller setting, saying what is missing; the invoices are dated and worded in French', async () => {
    hub.clock.now = DEC_2;
    expect(await hub.ledger.close('2026-11')).toMatchObject({
      invoices: 2,
      creditNotes: 0,
      missing: { seller: true, buyers: ['employer:acme', 'member:ana'] },
    });
    const [acme, ana] = await hub.ledger.invoices('2026-11');
    expect(ana).toMatchObject({
      type: 'invoice',
      number: '2026-000002',
      issueDate: '2026-12-02',
      dueDate: '2027-01-01', // 30 days, the default of the law
      servicePeriod: { from: '2026-11-01', to: '2026-11-30' },
      language: 'fr',
    });
    expect(ana?.seller).toBeUndefined();
    expect(ana?.buyer).toBeUndefined();
    // Without a seller there is no penalty rate to state; a member billed on their own is no business.
    expect(ana?.mentions).toEqual([
      'Paiement à 30 jours, au plus tard le 1er janvier 2027.',
      'Pas d’escompte pour paiement anticipé.',
    ]);
    expect(ana?.lines.map((l) => [l.kind, l.description])).toEqual([
      ['day', 'Journées : 2 au 4 novembre 2026'],
      ['half-day', 'Demi-journées (moins de 240 min) : 12 novembre 2026'],
    ]);
    // An employer without an identity is taken for a business: the recovery indemnity is stated.
    expect(acme?.mentions?.at(-1)).toContain('indemnité forfaitaire pour frais de recouvrement de 40 €');
    expect(acme?.lines.map((l) => l.description)).toEqual(['Abonnement 2 jour(s) par semaine, novembre 2026']);
    expect(await hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
  });

  it('freezes the seller and the buyer in the invoice, their terms and language; changing them later changes nothing issued', async () => {
    await hub.ledger.parties.setSeller(undefined, SELLER);
    await hub.ledger.parties.setBuyer(undefined, 'employer:acme', ACME);
    await hub.ledger.parties.setBuyer(undefined, 'member:ana', ANA);
    // 23:30 UTC on 2 December is 00:30 on the 3rd in Paris: the issue date is the seller's.
    hub.clock.now = Date.parse('2026-12-02T23:30:00Z');
    const preview = await hub.ledger.preview('2026-11');
    expect(preview.summary.missing).toEqual({ seller: false, buyers: [] });
    const summary = await hub.ledger.close('2026-11');
    expect(summary.missing).toEqual({ seller: false, buyers: [] });
    const invoices = await hub.ledger.invoices('2026-11');
    expect(invoices.map((i) => ({ ...i, number: null, closedAt: null }))).toEqual(preview.invoices);
    const acme = byAccount(invoices, 'acme');
    expect(acme).toMatchObject({
      issueDate: '2026-12-03',
      dueDate: '2027-01-17', // the buyer's 45 days
      language: 'en',
      seller: { siren: '732829320', siret: '73282932000074', vatNumber: 'FR44732829320', paymentTermsDays: 30 },
      buyer: { name: 'Acme SA', siren: '542107651' },
    });
    expect(acme.mentions).toEqual([
      'Payment within 45 days, at the latest on 17 January 2027.',
      'No discount for early payment.',
      'Late payment bears penalties at 12.5% a year, due from the day after the due date.',
      'Any late payment makes a fixed compensation for recovery costs of EUR 40 due (French Commercial Code, art. L441-10 and D441-5).',
    ]);
    expect(acme.lines.map((l) => l.description)).toEqual(['Subscription, 2 day(s) a week, November 2026']);
    const ana = byAccount(invoices, 'ana');
    expect(ana).toMatchObject({ language: 'fr', dueDate: '2027-01-02', buyer: { kind: 'consumer' } });
    expect(ana.mentions).toEqual([
      'Paiement à 30 jours, au plus tard le 2 janvier 2027.',
      'Pas d’escompte pour paiement anticipé.',
      'En cas de retard de paiement, pénalités au taux annuel de 12,5 %, exigibles dès le lendemain de l’échéance.',
    ]);
    const frozen = JSON.stringify(invoices);
    await hub.ledger.parties.setSeller(undefined, { ...SELLER, name: 'Tessera Coworking Group' });
    await hub.ledger.parties.setBuyer(undefined, 'employer:acme', { ...ACME, language: 'fr' });
    expect(JSON.stringify(await hub.ledger.invoices('2026-11'))).toBe(frozen);
    expect(await hub.ledger.verify('2026-11')).toEqual({ period: '2026-11', identical: true, differing: [] });
  });

  it("prints the seller's VAT exemption when it has one", async () => {
    const { vatNumber: _, ...exempt } = SELLER;
    await hub.ledger.parties.setSeller(undefined, { ...exempt, vatExemption: 'TVA non applicable, art. 293 B du CGI' });
    hub.clock.now = DEC_2;
    await hub.ledger.close('2026-11');
    for (const invoice of await hub.ledger.invoices('2026-11'))
      expect(invoice.mentions?.at(-1)).toBe('TVA non applicable, art. 293 B du CGI');
  });
});

describe('the words of a line', () => {
  const names = {
    item: (id: string) => ({ 'print-page': 'Printed page' })[id] ?? id,
    resource: (id: string) => ({ vosges: 'Salle Vosges' })[id] ?? id,
    tariff: () => undefined,
  };

  it('lists dates by month, runs of three days or more joined', () => {
    const dates = ['2026-11-02', '2026-11-03', '2026-11-04', '2026-11-09', '2026-11-12', '2026-12-01'];
    expect(formatDates('fr', dates)).toBe('2 au 4, 9 et 12 novembre 2026, 1er décembre 2026');
    expect(formatDates('en', dates)).toBe('2–4, 9 and 12 November 2026, 1 December 2026');
    expect(formatDates('en', ['2026-11-09', '2026-11-10'])).toBe('9 and 10 November 2026');
  });

  it('names the item or the resource, and a month for a line without dates', () => {
    const line = (kind: string, item: string | null, dates: string[]) =>
      ({ kind, item, member: 'ana', dates }) as Parameters<typeof describeLine>[1];
    expect(describeLine('fr', line('room-hours', 'vosges', ['2026-11-05']), '2026-11', names)).toBe(
      'Salle Vosges — heures : 5 novembre 2026',
    );
    expect(describeLine('en', line('no-show', 'vosges', ['2026-11-26']), '2026-11', names)).toBe(
      'Salle Vosges — no-show: 26 November 2026',
    );
    expect(describeLine('en', line('consumable', 'print-page', ['2026-11-05']), '2026-11', names)).toBe(
      'Printed page: 5 November 2026',
    );
    expect(describeLine('fr', line('locker', null, []), '2026-10', names)).toBe('Location de casier, octobre 2026');
    expect(describeLine('en', line('week', null, ['2026-11-02', '2026-11-09']), '2026-11', names)).toBe(
      'Week pass, weeks of 2 and 9 November 2026',
    );
  });
});

describe('seller and buyers over the API', () => {
  let hub: Hub;
  let headers: AuthHeaders;
  beforeEach(async () => {
    ({ hub, headers } = await muratHub(new ManualClock('2026-11-20T08:00:00Z'), [{ id: 'ana', name: 'Ana Martin' }]));
  });
  afterEach(async () => hub.stop());

  const call = (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: unknown, as = headers) =>
    hub.api.inject({ method, url, headers: as, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const paths = (r: { json: <T>() => T }) => r.json<{ details: Array<{ path: string }> }>().details.map((d) => d.path);

  it('keeps the seller: 404 before, a bad number refused at its path, the setting compacted', async () => {
    expect((await call('GET', '/billing/seller')).statusCode).toBe(404);
    const bad = await call('PUT', '/billing/seller', { ...SELLER, siren: '732829321', vatNumber: 'FR00732829320' });
    expect([bad.statusCode, bad.json<{ code: string }>().code]).toEqual([400, 'request.invalid']);
    expect(paths(bad)).toEqual(expect.arrayContaining(['siren', 'vatNumber']));
    const good = await call('PUT', '/billing/seller', SELLER);
    expect(good.statusCode).toBe(200);
    expect(good.json()).toMatchObject({ siren: '732829320', vatNumber: 'FR44732829320' });
    expect((await call('GET', '/billing/seller')).json()).toEqual(good.json());
  });

  it('keeps a buyer per account: set, list, read, remove; each change audited', async () => {
    const bad = await call('PUT', '/billing/buyers/employer:acme', { ...ACME, siret: '54210765100012' });
    expect([bad.statusCode, paths(bad)]).toEqual([400, ['siret']]);
    expect((await call('PUT', '/billing/buyers/acme', ACME)).statusCode).toBe(400); // not an account
    expect((await call('PUT', '/billing/buyers/employer:acme', ACME)).json()).toMatchObject({ language: 'en' });
    expect((await call('PUT', '/billing/buyers/member:ana', ANA)).statusCode).toBe(200);
    expect((await call('GET', '/billing/buyers')).json()).toMatchObject({
      buyers: [
        { account: 'employer:acme', buyer: { name: 'Acme SA' } },
        { account: 'member:ana', buyer: { kind: 'consumer', language: 'fr' } },
      ],
    });
    expect((await call('GET', '/billing/buyers/member:ana')).json()).toMatchObject({ name: 'Ana Martin' });
    expect((await call('DELETE', '/billing/buyers/employer:acme')).statusCode).toBe(204);
    expect((await call('DELETE', '/billing/buyers/employer:acme')).statusCode).toBe(404);
    expect((await call('GET', '/billing/buyers/employer:acme')).statusCode).toBe(404);
    const audit = await hub.store.db.all<{ action: string; entity: string; entity_id: string }>(
      "SELECT action, entity, entity_id FROM audit_log WHERE entity = 'buyer' ORDER BY id",
    );
    expect(audit).toEqual([
      { action: 'create', entity: 'buyer', entity_id: 'employer:acme' },
      { action: 'create', entity: 'buyer', entity_id: 'member:ana' },
      { action: 'delete', entity: 'buyer', entity_id: 'employer:acme' },
    ]);
  });

  it('is for network operators only', async () => {
    await hub.auth.accounts.create(hub.store.db, {
      username: 'manager',
      role: 'site_manager',
      sites: ['murat'],
      passwordHash: hashPasswordSync('manager-password'),
      mustChangePassword: false,
    });
    const manager = await login(hub.api, 'manager', 'manager-password');
    for (const [method, url, body] of [
      ['GET', '/billing/seller', undefined],
      ['PUT', '/billing/seller', SELLER],
      ['GET', '/billing/buyers', undefined],
      ['PUT', '/billing/buyers/member:ana', ANA],
      ['DELETE', '/billing/buyers/member:ana', undefined],
      ['POST', '/billing/invoices/2026-000001/credit-note', { reason: 'gesture' }],
      ['GET', '/billing/periods/2026-11/credit-notes', undefined],
    ] as const) {
      const r = await call(method, url, body, manager);
      expect([url, r.statusCode, r.json<{ code: string }>().code]).toEqual([url, 403, 'auth.forbidden']);
    }
    expect(await hub.billing.parties.seller()).toBeUndefined();
  });

  it('leaves no buyer identity of an erased member, nor what it said in the audit log', async () => {
    await call('PUT', '/billing/buyers/member:ana', { ...ANA, email: 'ana@example.org' });
    await call('PUT', '/billing/buyers/member:ana', { ...ANA, email: 'ana.martin@example.org' });
    // Theirs to know first: the export holds it.
    const exported = await call('GET', '/directory/members/ana/export');
    expect(exported.json()).toMatchObject({ billingIdentity: { name: 'Ana Martin', email: 'ana.martin@example.org' } });
    const r = await call('POST', '/directory/members/ana/erase', { confirm: 'ana' });
    expect(r.statusCode).toBe(200);
    expect((await call('GET', '/billing/buyers/member:ana')).statusCode).toBe(404);
    expect(await hub.store.db.value('SELECT COUNT(*) FROM billing_buyers')).toBe(0);
    const audit = JSON.stringify(await hub.store.db.all('SELECT * FROM audit_log'));
    for (const text of ['ana@example.org', 'ana.martin@example.org', 'Ana Martin', '12 rue Blatin', '"member:ana"'])
      expect(audit).not.toContain(text);
    // Who changed it, and when, stays.
    expect(await hub.store.db.value("SELECT COUNT(*) FROM audit_log WHERE entity = 'buyer'")).toBe(2);
  });
});
