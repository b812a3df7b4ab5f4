import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { MAX_STATEMENT_BYTES } from '../../cloud-sync/billing/payments/statement.js';
import { login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import {
  ACME_INVOICE,
  ACME_TOTAL,
  deltaMembers,
  heldIds,
  paymentsHub,
  sentMembers,
} from './billing-payments-fixtures.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

describe('payments API', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  let on: (date: string) => void;
  /** Moves the hub clock to `date` and logs in again (a session lasts 12 hours). */
  const at = async (date: string) => {
    on(date);
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  };
  beforeEach(async () => {
    ({ hub, on } = await paymentsHub());
    await at('2026-12-10');
  });
  afterEach(async () => hub.stop());

  const inject = (
    method: Method,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = admin,
    contentType?: string,
  ) =>
    hub.api.inject({
      method,
      url,
      headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(payload !== undefined ? { payload: payload as string } : {}),
    });
  const csv = (body: string | Buffer, query = '') =>
    inject('POST', `/billing/payments/import${query}`, body, admin, 'text/csv');

  it('records, lists and deletes a payment; the invoice’s state and the audit log follow', async () => {
    const created = await inject('POST', '/billing/payments', {
      invoice: ACME_INVOICE,
      date: '2026-12-10',
      amountCents: 6_000,
      method: 'cheque',
      reference: 'CHQ 0012345',
    });
    expect(created.statusCode).toBe(201);
    const payment = created.json<{ id: string }>();
    expect(payment).toMatchObject({ invoice: ACME_INVOICE, account: 'employer:acme', method: 'cheque', note: '' });
    expect((await inject('GET', `/billing/payments?invoice=${ACME_INVOICE}`)).json()).toEqual({ payments: [payment] });
    expect((await inject('GET', '/billing/payments?account=member:ana')).json()).toEqual({ payments: [] });
    expect((await inject('GET', '/billing/invoices/status?status=partly-paid')).json()).toMatchObject({
      today: '2026-12-10',
      invoices: [{ number: ACME_INVOICE, paidCents: 6_000, dueCents: ACME_TOTAL - 6_000 }],
    });
    // The static route is not taken for an invoice number, and an invoice is still served.
    expect((await inject('GET', `/billing/invoices/${ACME_INVOICE}`)).json()).toMatchObject({ number: ACME_INVOICE });
    const deleted = await inject('DELETE', `/billing/payments/${payment.id}`);
    expect(deleted.statusCode).toBe(200);
    expect((await inject('DELETE', `/billing/payments/${payment.id}`)).json()).toMatchObject({ code: 'not_found' });
    const audit = await inject('GET', '/audit?entity=payment');
    expect(audit.json<{ items: Array<{ action: string; entityId: string }> }>().items.map((e) => e.action)).toEqual([
      'delete',
      'create',
    ]);
  });

  it('answers bad payments with 400 and every path, an unknown invoice with 404', async () => {
    const bad = await inject('POST', '/billing/payments', { invoice: '2026-1', amountCents: -5, method: 'gold' });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['amountCents', 'date', 'invoice', 'method']);
    const unknown = await inject('POST', '/billing/payments', {
      invoice: '2026-000042',
      date: '2026-12-01',
      amountCents: 5,
      method: 'cash',
    });
    expect([unknown.statusCode, unknown.json<{ code: string }>().code]).toEqual([404, 'not_found']);
    expect((await inject('GET', '/billing/invoices/status?status=late')).statusCode).toBe(400);
    expect((await inject('GET', '/billing/payments?account=acme')).statusCode).toBe(400);
    expect((await inject('PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: -1 })).statusCode).toBe(400);
    expect((await inject('PUT', '/billing/holds/acme', { override: 'lift', reason: 'x' })).statusCode).toBe(400);
    expect(
      (await inject('PUT', '/billing/holds/employer:acme', { override: 'lift', reason: '', until: '2027-13-01' }))
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['reason', 'until']);
  });

  it('imports a statement, in a dry run first; a bad file is refused with a code, nothing recorded', async () => {
    const statement = `Date;Libellé;Montant\n10/12/2026;VIR ACME 2026-000001;${ACME_TOTAL / 100},00\n`;
    const dry = await csv(statement, '?dryRun=true');
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, recorded: [{ payments: [{ id: null }] }] });
    expect((await inject('GET', '/billing/payments')).json()).toEqual({ payments: [] });
    const real = await csv(Buffer.from(`\ufeff${statement}`, 'utf8'));
    expect(real.json()).toMatchObject({
      dryRun: false,
      recorded: [{ by: 'number', payments: [{ invoice: ACME_INVOICE }] }],
    });
    expect((await inject('GET', '/billing/invoices/status?status=paid')).json()).toMatchObject({
      invoices: [{ number: ACME_INVOICE }],
    });

    const refused = async (r: Awaited<ReturnType<typeof csv>>) => [r.statusCode, r.json<{ code: string }>().code];
    expect(await refused(await csv('when;how much\n01/12/2026;5\n'))).toEqual([400, 'import.invalid']);
    expect(
      await refused(
        await csv(Buffer.concat([Buffer.from('Date;Libellé;Montant\n10/12/2026;VIR SOCI'), Buffer.from([0xc9, 0x0a])])),
      ),
    ).toEqual([400, 'import.invalid']);
    // UTF-16 with its BOM is read as the members import reads it (shared/platform/csv-read.ts): a header alone records nothing.
    const utf16 = await csv(Buffer.from('\ufeffDate;Libellé;Montant\n', 'utf16le'));
    expect([utf16.statusCode, utf16.json<{ recorded: unknown[] }>().recorded]).toEqual([200, []]);
    expect(await refused(await csv(`Date;Libellé;Montant\n${'x'.repeat(MAX_STATEMENT_BYTES)}\n`))).toEqual([
      413,
      'request.too_large',
    ]);
    expect(await refused(await inject('POST', '/billing/payments/import', { rows: [] }))).toEqual([
      415,
      'request.unsupported_type',
    ]);
    expect(await refused(await csv(statement, '?dryRun=perhaps'))).toEqual([400, 'request.invalid']);
    expect((await inject('GET', '/billing/payments')).json<{ payments: unknown[] }>().payments).toHaveLength(1);
  });

  it('sets the overdue policy, lists holds and reminders, and overrides a hold', async () => {
    expect((await inject('GET', '/billing/overdue-policy')).json()).toEqual({ suspendAfterDaysOverdue: null });
    expect((await inject('PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: 3 })).json()).toEqual({
      suspendAfterDaysOverdue: 3,
    });
    await at('2027-01-10');
    await hub.payments.checkHolds(); // the hourly check (the hub is not started here)
    expect((await inject('GET', '/billing/holds')).json()).toMatchObject({
      today: '2027-01-10',
      policy: { suspendAfterDaysOverdue: 3 },
      holds: [
        { account: 'employer:acme', held: true, maxDaysOverdue: 9 },
        { account: 'member:ana', held: true, maxDaysOverdue: 9 },
      ],
    });
    expect((await inject('GET', '/billing/reminders')).json()).toMatchObject({
      reminders: [{ invoice: ACME_INVOICE, stage: 'first', held: true }, { stage: 'first' }],
    });
    expect((await inject('GET', '/billing/reminders?stage=second')).json()).toMatchObject({ reminders: [] });
    expect((await inject('GET', '/billing/receivables')).json()).toMatchObject({
      accounts: [
        { account: 'employer:acme', held: true },
        { account: 'member:ana', held: true },
      ],
    });
    const lifted = await inject('PUT', '/billing/holds/employer:acme', { override: 'lift', reason: 'promised' });
    expect(lifted.json()).toMatchObject({ account: 'employer:acme', held: false, override: { setBy: 'admin' } });
    expect((await inject('PUT', '/billing/holds/employer:nobody', { override: 'lift', reason: 'x' })).statusCode).toBe(
      404,
    );
    const audit = await inject('GET', '/audit?entity=hold_override');
    expect(audit.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await inject('GET', '/audit?entity=overdue_policy')).json<{ items: unknown[] }>().items).toHaveLength(1);
  });

  // Settling what an account owes lifts its hold in the same request: the directory revision that
  // lets its members in again is made before the answer, not at the next hourly check.
  it.each([
    [
      'a payment recorded',
      () =>
        inject('POST', '/billing/payments', {
          invoice: ACME_INVOICE,
          date: '2027-01-10',
          amountCents: ACME_TOTAL,
          method: 'transfer',
        }),
      201,
    ],
    ['a bank statement imported', () => csv(`Date;Libellé;Montant\n10/01/2027;VIR ACME ${ACME_INVOICE};360,00\n`), 200],
    [
      'a credit note issued',
      () => inject('POST', `/billing/invoices/${ACME_INVOICE}/credit-note`, { reason: 'Facturé deux fois' }),
      201,
    ],
  ] as const)('%s for the whole overdue invoice lifts the hold at once', async (_what, settle, status) => {
    expect((await inject('PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: 3 })).statusCode).toBe(200);
    await at('2027-01-10');
    await hub.payments.checkHolds(); // the hourly check holds Acme and Ana, 9 days overdue
    expect(heldIds(await sentMembers(hub))).toEqual(['ana', 'chloe', 'dan', 'eve']);
    const before = await hub.directory.revision(hub.store.db);

    expect((await settle()).statusCode).toBe(status);

    expect(await hub.directory.revision(hub.store.db)).toBe(before + 1);
    const sent = await deltaMembers(hub, before);
    expect([...sent.keys()].sort()).toEqual(['chloe', 'dan', 'eve', 'sam']);
    expect(heldIds(sent)).toEqual([]);
    expect(heldIds(await sentMembers(hub))).toEqual(['ana']);
    const holds = (await inject('GET', '/billing/holds')).json<{ holds: Array<{ account: string; held: boolean }> }>();
    expect(holds.holds.map((h) => [h.account, h.held])).toEqual([['member:ana', true]]);
  });

  it('is for network operators only: a site manager, a member and an employer’s manager get 403, nobody 401', async () => {
    const create = async (payload: object) => {
      const r = await inject('POST', '/accounts', {
        password: 'a-long-password-1',
        mustChangePassword: false,
        sites: [],
        ...payload,
      });
      expect(r.statusCode, r.body).toBe(201);
      return login(hub.api, (payload as { username: string }).username, 'a-long-password-1');
    };
    const others = [
      await create({ username: 'manager', role: 'site_manager', sites: ['murat'] }),
      await create({ username: 'ana', role: 'member', member: 'ana' }),
      await create({ username: 'boss', role: 'employer_manager', employer: 'acme' }),
    ];
    const routes: Array<[Method, string, unknown?, string?]> = [
      ['POST', '/billing/payments', { invoice: ACME_INVOICE, date: '2026-12-10', amountCents: 1, method: 'cash' }],
      ['GET', '/billing/payments'],
      ['DELETE', '/billing/payments/some-id'],
      ['POST', '/billing/payments/import', 'Date;Libellé;Montant\n10/12/2026;VIR 2026-000001;1,00\n', 'text/csv'],
      ['GET', '/billing/invoices/status'],
      ['GET', '/billing/receivables'],
      ['GET', '/billing/reminders'],
      ['GET', '/billing/overdue-policy'],
      ['PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: 1 }],
      ['GET', '/billing/holds'],
      ['PUT', '/billing/holds/employer:acme', { override: 'lift', reason: 'x' }],
    ];
    for (const [method, url, payload, type] of routes) {
      for (const headers of others) {
        const r = await inject(method, url, payload, headers, type);
        expect([method, url, r.statusCode, r.json<{ code: string }>().code]).toEqual([
          method,
          url,
          403,
          'auth.forbidden',
        ]);
      }
      expect([method, url, (await inject(method, url, payload, {}, type)).statusCode]).toEqual([method, url, 401]);
    }
    expect((await inject('GET', '/billing/payments')).json()).toEqual({ payments: [] });
    expect((await inject('GET', '/billing/overdue-policy')).json()).toEqual({ suspendAfterDaysOverdue: null });
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = (await inject('GET', '/docs/openapi.json')).json<{ paths: Record<string, Record<string, unknown>> }>();
    for (const [path, method] of [
      ['/billing/payments', 'post'],
      ['/billing/payments/import', 'post'],
      ['/billing/payments/{id}', 'delete'],
      ['/billing/invoices/status', 'get'],
      ['/billing/receivables', 'get'],
      ['/billing/reminders', 'get'],
      ['/billing/overdue-policy', 'put'],
      ['/billing/holds/{account}', 'put'],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });
});
