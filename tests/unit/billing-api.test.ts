import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { hashPasswordSync } from '../../cloud-sync/hub/auth/password.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { SiteLog } from './billing-fixtures.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

describe('billing API (in memory)', () => {
  let hub: Hub;
  let clock: ManualClock;
  let headers: AuthHeaders;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-20T08:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const db = hub.store.db;
    await hub.sites.upsert(db, { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
    await hub.directory.upsert(db, 'plan', { id: 'murat-day', name: 'Murat day', access: 'staffed' });
    await hub.directory.upsert(db, 'member', { id: 'ana', name: 'Ana, "the early one"', plan: 'murat-day' });
    const log = new SiteLog('murat', '+01:00', clock.now())
      .visit('ana', '2026-11-02', '09:00', 480)
      .visit('ana', '2026-11-03', '09:00', 60);
    for (const { event, receivedAt } of log.events)
      await hub.store.ingest({ v: 1, site: 'murat', events: [event] }, receivedAt);
  });
  afterEach(async () => hub.stop());

  const inject = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
    hub.api.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('keeps the price list: 404 before one is set, every problem of a bad one at once, the list as stored after', async () => {
    expect((await inject('GET', '/billing/prices')).json()).toMatchObject({ code: 'not_found' });
    const bad = await inject('PUT', '/billing/prices', {
      plans: { 'murat-day': { kind: 'per-day', dayCents: -1, vatPercent: 20 } },
      extra: 1,
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['extra', 'plans.murat-day.dayCents']);
    expect((await inject('PUT', '/billing/prices', EXAMPLE_PRICE_LIST)).statusCode).toBe(200);
    expect((await inject('GET', '/billing/prices')).json()).toEqual(EXAMPLE_PRICE_LIST);
  });

  it('previews an open month, closes it, then serves the frozen invoices as JSON and CSV', async () => {
    await inject('PUT', '/billing/prices', EXAMPLE_PRICE_LIST);
    const preview = await inject('GET', '/billing/periods/2026-11');
    expect(preview.json()).toMatchObject({
      period: '2026-11',
      status: 'open',
      currency: 'EUR',
      invoices: [{ number: null, account: { id: 'ana' }, currency: 'EUR', totalCents: 3600 }],
    });
    expect((await inject('POST', '/billing/periods/2026-11/close')).json()).toMatchObject({
      code: 'billing.out_of_order',
    });
    clock.advance(13 * 86_400_000); // 3 December: the session has expired meanwhile
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const closed = await inject('POST', '/billing/periods/2026-11/close');
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({
      period: '2026-11',
      status: 'closed',
      invoices: 1,
      subtotalCents: 3000,
      vatCents: 600,
      totalCents: 3600,
    });
    expect((await inject('POST', '/billing/periods/2026-11/close')).statusCode).toBe(409);
    expect((await inject('GET', '/billing/periods')).json()).toMatchObject({
      periods: [{ period: '2026-11', status: 'closed', currency: 'EUR' }],
      next: '2026-12',
    });
    const one = await inject('GET', '/billing/invoices/2026-000001');
    expect(one.json()).toMatchObject({
      number: '2026-000001',
      account: { kind: 'member', id: 'ana' },
      totalCents: 3600,
    });
    const csv = await inject('GET', '/billing/periods/2026-11/invoices?format=csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')).toEqual([
      'invoice,period,account_kind,account_id,account_name,member,member_name,site,kind,item,description,adjusts,dates,quantity,unit_price,amount,vat_percent,vat,currency',
      '2026-000001,2026-11,member,ana,"Ana, ""the early one""",ana,"Ana, ""the early one""",murat,day,,Journées : 2 novembre 2026,,2026-11-02,1,20.00,20.00,20,4.00,EUR',
      '2026-000001,2026-11,member,ana,"Ana, ""the early one""",ana,"Ana, ""the early one""",murat,half-day,,Demi-journées (moins de 240 min) : 3 novembre 2026,,2026-11-03,1,10.00,10.00,20,2.00,EUR',
      '',
    ]);
    // For Excel in French: a BOM, semicolons, decimal commas (a comma in a name needs no quotes then).
    const fr = await inject('GET', '/billing/invoices/2026-000001?format=csv&dialect=excel-fr');
    expect(fr.headers['content-disposition']).toBe('attachment; filename="invoice-2026-000001.csv"');
    expect(fr.body.split('\r\n').slice(0, 2)).toEqual([
      '\uFEFFinvoice;period;account_kind;account_id;account_name;member;member_name;site;kind;item;description;adjusts;dates;quantity;unit_price;amount;vat_percent;vat;currency',
      '2026-000001;2026-11;member;ana;"Ana, ""the early one""";ana;"Ana, ""the early one""";murat;day;;Journées : 2 novembre 2026;;2026-11-02;1;20,00;20,00;20;4,00;EUR',
    ]);
    expect((await inject('GET', '/billing/invoices/2026-000001?format=csv&dialect=tsv')).statusCode).toBe(400);
    expect((await inject('GET', '/billing/periods/2026-11/invoices')).json<{ invoices: unknown[] }>().invoices).toEqual(
      [one.json()],
    );
    expect((await inject('GET', '/billing/periods/2026-11/verify')).json()).toEqual({
      period: '2026-11',
      identical: true,
      differing: [],
    });
    expect((await inject('GET', '/billing/periods/2026-10/verify')).statusCode).toBe(404);
  });

  it('answers bad input with a code: a bad month, an unknown invoice, a member whose plan has no price', async () => {
    expect((await inject('GET', '/billing/periods/2026-13')).json()).toMatchObject({
      code: 'request.invalid',
      details: [{ path: 'period' }],
    });
    expect((await inject('GET', '/billing/invoices/42')).statusCode).toBe(400);
    expect((await inject('GET', '/billing/invoices/2026-000009')).statusCode).toBe(404);
    expect((await inject('GET', '/billing/periods/2026-11/invoices?format=pdf')).statusCode).toBe(400);
    expect((await inject('GET', '/billing/periods/2026-11')).json()).toMatchObject({ code: 'billing.unpriced' });
    await inject('PUT', '/billing/prices', { plans: {} });
    const r = await inject('GET', '/billing/periods/2026-11');
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({ code: 'billing.unpriced', details: [{ path: 'plans.murat-day' }] });
  });

  it('is for network operators only: a site manager gets 403, nobody logged in 401', async () => {
    await hub.auth.accounts.create(hub.store.db, {
      username: 'manager',
      role: 'site_manager',
      sites: ['murat'],
      passwordHash: hashPasswordSync('manager-password'),
      mustChangePassword: false,
    });
    const manager = await login(hub.api, 'manager', 'manager-password');
    for (const [method, url] of [
      ['GET', '/billing/periods'],
      ['PUT', '/billing/prices'],
      ['POST', '/billing/periods/2026-11/close'],
      ['GET', '/billing/invoices/2026-000001'],
    ] as const) {
      const r = await hub.api.inject({
        method,
        url,
        headers: manager,
        payload: method === 'PUT' ? EXAMPLE_PRICE_LIST : undefined,
      });
      expect([url, r.statusCode, r.json<{ code: string }>().code]).toEqual([url, 403, 'auth.forbidden']);
      expect((await hub.api.inject({ method, url })).statusCode).toBe(401);
    }
    expect(await hub.billing.prices()).toBeUndefined();
  });
});
