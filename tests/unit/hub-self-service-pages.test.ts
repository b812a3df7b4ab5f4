import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { SiteLog } from './billing-fixtures.js';
import { network, UID, type Network } from './hub-self-service-fixtures.js';
import { TEST_SELLER } from '../harness/billing-parties.js';

/**
 * What a member and an employer's manager see: only their own, whatever id they put in a path.
 * Now is Wednesday 2026-12-09, 10:00 in Paris; Ana's plan allows 3 days a week.
 */
describe('a member’s page and an employer manager’s', () => {
  let hub: Hub;
  let net: Network;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-02T08:00:00Z');
    const signed = await signedInHub(silent, clock);
    hub = signed.hub;
    net = await network(hub, signed.admin);
    const murat = new SiteLog('murat', '+01:00', clock.now())
      .visit('ana', '2026-11-03', '09:00', 60)
      .visit('ben', '2026-11-03', '09:00', 60)
      .visit('leo', '2026-11-04', '09:00', 60)
      .visit('ana', '2026-12-07', '09:00', 60)
      .visit('ana', '2026-12-07', '14:00', 60)
      .visit('ana', '2026-12-08', '09:00', 60)
      .visit('ben', '2026-12-01', '09:00', 60);
    const lyon = new SiteLog('lyon', '+01:00', clock.now()).visit('ana', '2026-12-02', '09:00', 60);
    for (const log of [murat, lyon])
      for (const { event, receivedAt } of log.events)
        await hub.store.ingest({ v: 1, site: event.site, events: [event] }, receivedAt);
    // A month closed with invoices for acme, globex and Eve (who pays for herself).
    const perDay = { kind: 'per-day', dayCents: 2000, vatPercent: 20, included: {} };
    const prices = {
      ...EXAMPLE_PRICE_LIST,
      plans: { 'murat-3': perDay, 'murat-only': perDay, everywhere: perDay },
    };
    expect((await inject('PUT', '/billing/prices', net.admin, prices)).statusCode).toBe(200);
    clock.advanceTo(Date.parse('2026-12-02T08:00:00Z'));
    net = await relogin();
    expect((await inject('POST', '/billing/periods/2026-11/close', net.admin)).statusCode).toBe(200);
    clock.advanceTo(Date.parse('2026-12-09T09:00:00Z'));
    net = await relogin();
  });
  afterEach(async () => hub.stop());

  /** Sessions last 12 hours: the clock moved on a month, so every account logs in again. */
  async function relogin(): Promise<Network> {
    const { login, TEST_ADMIN } = await import('../harness/hub-auth.js');
    return {
      admin: await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password),
      siteManager: await login(hub.api, 'murat-manager', 'murat-manager-password'),
      member: await login(hub.api, 'ana', 'ana-password'),
      employerManager: await login(hub.api, 'acme-boss', 'acme-boss-password'),
    };
  }

  function inject(method: 'GET' | 'PUT' | 'POST', url: string, headers: AuthHeaders, payload?: object) {
    return hub.api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  }

  it('GET /me: the member’s entry, masked badges, locker, visits of 30 days and the week', async () => {
    const me = await inject('GET', '/me', net.member);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      member: {
        id: 'ana',
        name: 'Ana Lima',
        status: 'active',
        plan: { id: 'murat-3', name: 'Murat 3 days', daysPerWeek: 3 },
        employer: { id: 'acme', name: 'Acme' },
      },
      badges: [
        { uid: '…A1A1', status: 'active', type: 'uid' },
        { uid: '…A2A2', status: 'active', type: 'ntag424' },
      ],
      locker: { bank: 'b1', number: 12 },
      visits: [
        { site: 'lyon', name: 'lyon', days: 1, dates: ['2026-12-02'] },
        { site: 'murat', name: 'murat', days: 2, dates: ['2026-12-07', '2026-12-08'] },
      ],
      // Monday 7 and Tuesday 8 (two visits on the 7th are one day): one day left.
      week: { start: '2026-12-07', zone: 'Europe/Paris', used: 2, left: 1 },
    });
    expect(me.body).not.toContain(UID.ana);
    expect(me.body).not.toMatch(/"(ben|leo|eve|mia)"|Ben|Leo|Eve|Mia/);
  });

  it('a badge declared lost is revoked at once and audited; another member’s badge is not found', async () => {
    const before = (await inject('GET', '/directory', net.admin)).json().revision;
    // Another's badge, by its whole UID or by its last digits: not found, and nothing changes.
    for (const uid of [UID.ben, UID.leo, 'B1B1', '…C1C1', 'nothing', UID.ana.slice(0, 8)]) {
      const r = await inject('POST', `/me/badges/${encodeURIComponent(uid)}/lost`, net.member);
      expect(r.statusCode, uid).toBe(404);
    }
    expect((await inject('GET', '/directory', net.admin)).json().revision).toBe(before);
    const lost = await inject('POST', `/me/badges/${encodeURIComponent('…A2A2')}/lost`, net.member);
    expect(lost.json()).toEqual({ badge: { uid: '…A2A2', status: 'revoked', type: 'ntag424' } });
    expect((await inject('GET', `/directory/badges/${UID.ana2}`, net.admin)).json()).toMatchObject({
      item: { member: 'ana', status: 'revoked' },
    });
    expect((await inject('GET', '/directory', net.admin)).json().revision).toBe(before + 1);
    const audit = await inject('GET', `/audit?entityId=${UID.ana2}`, net.admin);
    expect(audit.json().items[0]).toMatchObject({ action: 'revoke', actor: { username: 'ana' } });
    // By the whole UID too; again is no new revision.
    expect((await inject('POST', `/me/badges/${UID.ana}/lost`, net.member)).json().badge.status).toBe('revoked');
    expect((await inject('POST', `/me/badges/${UID.ana}/lost`, net.member)).statusCode).toBe(200);
    expect((await inject('GET', '/directory', net.admin)).json().revision).toBe(before + 2);
  });

  it('GET /employer/staff: the employer’s members alone, with this month’s days by site', async () => {
    const r = await inject('GET', '/employer/staff', net.employerManager);
    expect(r.statusCode).toBe(200);
    const page = r.json();
    expect(page.employer).toEqual({ id: 'acme', name: 'Acme' });
    expect(page.month).toBe('2026-12');
    expect(page.staff.map((m: { id: string }) => m.id)).toEqual(['ana', 'ben']);
    expect(page.staff[0]).toMatchObject({
      daysThisMonth: 3,
      lastVisit: '2026-12-08',
      month: [
        { site: 'lyon', days: 1 },
        { site: 'murat', days: 2 },
      ],
    });
    expect(page.staff[1]).toMatchObject({ daysThisMonth: 1, lastVisit: '2026-12-01' });
    expect(r.body).not.toMatch(/"(leo|eve|mia|globex)"|Leo Roy|Eve Nour|Mia Sol|Globex/);
  });

  it('an employer manager reads their employer’s invoices only; another’s number is not found', async () => {
    const list = await inject('GET', '/employer/invoices', net.employerManager);
    expect(list.statusCode).toBe(200);
    const invoices = list.json().invoices as Array<{ number: string; account: { id: string }; period: string }>;
    expect(invoices.length).toBe(1);
    expect(invoices[0]).toMatchObject({ account: { kind: 'employer', id: 'acme' }, period: '2026-11' });
    const own = await inject('GET', `/employer/invoices/${invoices[0]?.number}`, net.employerManager);
    expect(own.json()).toMatchObject({ account: { id: 'acme' } });
    const all = (await inject('GET', '/billing/periods/2026-11/invoices', net.admin)).json().invoices as Array<{
      number: string;
      account: { id: string };
    }>;
    const others = all.filter((i) => i.account.id !== 'acme');
    expect(others.length).toBeGreaterThan(0);
    for (const i of others) {
      const r = await inject('GET', `/employer/invoices/${i.number}`, net.employerManager);
      expect(r.statusCode, i.number).toBe(404);
      expect(r.body).not.toContain(i.account.id);
    }
    expect((await inject('GET', '/employer/invoices/2099-999999', net.employerManager)).statusCode).toBe(404);
  });

  it('an employer manager lists their credit notes and downloads their own invoices’ and credit notes’ documents, never another employer’s', async () => {
    const address = { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' };
    expect((await inject('PUT', '/billing/seller', net.admin, TEST_SELLER)).statusCode).toBe(200);
    for (const [account, name, siren] of [
      ['employer:acme', 'Acme', '542107651'],
      ['employer:globex', 'Globex', '732829320'],
    ] as const)
      expect(
        (await inject('PUT', `/billing/buyers/${account}`, net.admin, { kind: 'business', name, siren, address }))
          .statusCode,
      ).toBe(200);
    const all = (await inject('GET', '/billing/periods/2026-11/invoices', net.admin)).json().invoices as Array<{
      number: string;
      account: { id: string };
    }>;
    const numberOf = (id: string) => all.find((i) => i.account.id === id)?.number ?? '';
    // Credit notes are issued with the parties of today: theirs have documents, the invoices frozen without a seller none.
    const notes: Record<string, string> = {};
    for (const id of ['acme', 'globex']) {
      const r = await inject('POST', `/billing/invoices/${numberOf(id)}/credit-note`, net.admin, { reason: 'Erreur' });
      expect(r.statusCode).toBe(201);
      notes[id] = r.json().number as string;
    }
    const list = (await inject('GET', '/employer/invoices', net.employerManager)).json().invoices as Array<{
      number: string;
      type?: string;
      corrects?: { number: string };
    }>;
    expect(list.map((i) => [i.number, i.type, i.corrects?.number])).toEqual([
      [numberOf('acme'), 'invoice', undefined],
      [notes.acme, 'credit-note', numberOf('acme')],
    ]);

    const document = (number: string, format: string, headers = net.employerManager) =>
      inject('GET', `/employer/invoices/${number}/document?format=${format}`, headers);
    const pdf = await document(notes.acme ?? '', 'pdf');
    expect([pdf.statusCode, pdf.headers['content-type']]).toEqual([200, 'application/pdf']);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.headers['content-disposition']).toBe(`attachment; filename="${notes.acme}.pdf"`);
    const ubl = await document(notes.acme ?? '', 'ubl');
    expect([ubl.statusCode, ubl.body]).toEqual([200, expect.stringContaining(`<cbc:ID>${notes.acme}</cbc:ID>`)]);
    // Their invoice frozen without a seller: refused as the operator's route refuses it.
    const own = await document(numberOf('acme'), 'pdf');
    const operators = await inject('GET', `/billing/invoices/${numberOf('acme')}/document?format=pdf`, net.admin);
    expect([own.statusCode, own.json().code]).toEqual([operators.statusCode, operators.json().code]);
    expect(own.json().code).toBe('billing.not_en16931');
    // Another employer's invoice or credit note is not found, as one that does not exist; other roles are refused.
    for (const number of [notes.globex ?? '', numberOf('globex'), numberOf('eve'), 'AV-2099-999999']) {
      const r = await document(number, 'pdf');
      expect(r.statusCode, number).toBe(404);
      expect(r.body).not.toMatch(/globex|Globex|eve|Eve/);
    }
    for (const headers of [net.admin, net.siteManager, net.member])
      expect((await document(notes.acme ?? '', 'pdf', headers)).statusCode).toBe(403);
  });

  it('each sees only their own pages: a member has no employer page, a manager no member page, staff neither', async () => {
    for (const [url, allowed] of [
      ['/me', net.member],
      ['/employer/staff', net.employerManager],
      ['/employer/invoices', net.employerManager],
    ] as const) {
      for (const headers of [net.member, net.employerManager, net.siteManager, net.admin]) {
        const r = await inject('GET', url, headers);
        expect(r.statusCode, url).toBe(headers === allowed ? 200 : 403);
      }
    }
    expect((await inject('POST', `/me/badges/${UID.ben}/lost`, net.employerManager)).statusCode).toBe(403);
    expect((await inject('POST', `/me/badges/${UID.ben}/lost`, net.admin)).statusCode).toBe(403);
    // A query or a path naming someone else changes nothing: the answer is the account's own.
    const withQuery = await inject('GET', '/me?member=leo', net.member);
    expect(withQuery.statusCode === 400 || withQuery.json().member.id === 'ana').toBe(true);
    expect((await inject('GET', '/me/leo', net.member)).statusCode).toBe(403);
    expect((await inject('GET', '/employer/staff?employer=globex', net.employerManager)).statusCode).not.toBe(500);
    const staff = await inject('GET', '/employer/staff?employer=globex', net.employerManager);
    if (staff.statusCode === 200) expect(staff.json().employer.id).toBe('acme');
    // A disabled account's session ends: nothing more.
    const accounts = (await inject('GET', '/accounts?q=ana', net.admin)).json().items as Array<{ id: string }>;
    await inject('PATCH' as 'PUT', `/accounts/${accounts[0]?.id}`, net.admin, { disabled: true });
    expect((await inject('GET', '/me', net.member)).statusCode).toBe(401);
  });
});
