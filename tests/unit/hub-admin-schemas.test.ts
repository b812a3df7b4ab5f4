import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { AccountAnswer, AccountPage } from '../../shared/protocol/api/hub-admin-accounts.js';
import { AuditPage } from '../../shared/protocol/api/hub-admin-audit.js';
import { CommandSent } from '../../shared/protocol/api/hub-admin-commands.js';
import {
  DirectoryInfo,
  DirectoryItem,
  DirectoryPage,
  DirectoryRemoval,
  DirectoryWrite,
} from '../../shared/protocol/api/hub-admin-directory.js';
import { MemberImportResult } from '../../shared/protocol/api/hub-admin-members-csv.js';
import { ErasureResult, MemberExport } from '../../shared/protocol/api/hub-admin-privacy.js';
import { SiteItem, SitePage } from '../../shared/protocol/api/hub-admin-sites.js';
import { ManualClock, systemClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { statusOf } from '../harness/hub-fixtures.js';
import { testHubDb } from '../harness/hub-db.js';

/**
 * The admin routes answer exactly what their schemas in shared/protocol/api say: every answer
 * below parses with its (strict) schema, so a field added, dropped or renamed on either side fails.
 */
describe('the admin API answers as its protocol schemas say', () => {
  let hub: Hub;
  let clock: ManualClock;
  let admin: AuthHeaders;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-02T07:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: pino({ level: 'silent' }),
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());

  /** Calls a route, expects `status`, and parses the JSON answer with `schema` (which throws on any difference). */
  async function answer<S extends z.ZodType>(
    schema: S,
    status: number,
    method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<z.output<S>> {
    const r = await hub.api.inject({
      method,
      url,
      headers: admin,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
    const parsed = schema.safeParse(r.json());
    expect(parsed.error?.issues ?? [], `${method} ${url}`).toEqual([]);
    return parsed.data as z.output<S>;
  }

  it('the directory: info, list, one, write, revoke, delete', async () => {
    expect(await answer(DirectoryInfo, 200, 'GET', '/directory')).toMatchObject({ revision: 0 });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/plans/office', {
      name: 'Office',
      access: [{ days: ['mon'], from: '08:00', to: '18:00' }],
      sites: ['murat'],
      daysPerWeek: 3,
      printQuota: 10,
    });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/employers/acme', { name: 'Acme' });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/members/ana', {
      name: 'Ana',
      plan: 'always',
      employer: 'acme',
      validFrom: '2026-11-01',
      locker: { bank: 'main', number: 2 },
    });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/badges/04A1A1A1A1A1A1', { member: 'ana', type: 'ntag424' });
    await answer(DirectoryWrite, 200, 'PATCH', '/directory/members/ana', { employer: null });
    for (const collection of ['plans', 'employers', 'members', 'badges'])
      expect((await answer(DirectoryPage, 200, 'GET', `/directory/${collection}`)).total).toBeGreaterThan(0);
    await answer(DirectoryItem, 200, 'GET', '/directory/plans/office');
    await answer(DirectoryItem, 200, 'GET', '/directory/badges/04:a1:a1:a1:a1:a1:a1');
    expect(await answer(DirectoryWrite, 200, 'POST', '/directory/badges/04A1A1A1A1A1A1/revoke')).toMatchObject({
      value: { status: 'revoked' },
    });
    await answer(DirectoryRemoval, 200, 'DELETE', '/directory/badges/04A1A1A1A1A1A1');
  });

  it('declared sites, accounts and the audit log', async () => {
    await answer(SiteItem, 200, 'PUT', '/directory/sites/murat', {
      name: 'Murat',
      timeZone: 'Europe/Paris',
      capacity: 20,
    });
    await answer(SiteItem, 200, 'PUT', '/directory/sites/lyon', { name: 'Lyon', timeZone: 'Europe/Paris' });
    await answer(SiteItem, 200, 'PATCH', '/directory/sites/murat', { capacity: 25 });
    await answer(SiteItem, 200, 'GET', '/directory/sites/lyon');
    expect(await answer(SitePage, 200, 'GET', '/directory/sites?limit=1')).toMatchObject({ total: 2, limit: 1 });
    const { account } = await answer(AccountAnswer, 201, 'POST', '/accounts', {
      username: 'manon',
      role: 'site_manager',
      sites: ['murat'],
      password: 'handed-over-pw',
    });
    await answer(AccountAnswer, 200, 'GET', `/accounts/${account.id}`);
    await answer(AccountAnswer, 200, 'PATCH', `/accounts/${account.id}`, { disabled: true });
    expect((await answer(AccountPage, 200, 'GET', '/accounts')).total).toBe(2);
    expect((await answer(AuditPage, 200, 'GET', '/audit')).items.map((e) => e.action)).toEqual([
      'update',
      'create',
      'update',
      'create',
      'create',
    ]);
  });

  it('the members CSV import, a member export with a closed invoice, an erasure', async () => {
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris' });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/plans/day', {
      name: 'Day',
      access: 'staffed',
      sites: ['murat'],
    });
    await answer(DirectoryWrite, 200, 'PUT', '/directory/employers/acme', { name: 'Acme' });
    const csv = await hub.api.inject({
      method: 'POST',
      url: '/directory/members/import?mode=valid',
      headers: { ...admin, 'content-type': 'text/csv' },
      payload: 'member_id,name,plan,employer,badges\nana,Ana,day,acme,04A1A1A1A1A1A1\nbob,Bob,gold,,\n',
    });
    expect(MemberImportResult.parse(csv.json())).toMatchObject({ applied: true, created: 1, problems: 1 });
    const event = SiteEvent.parse({
      v: 1,
      site: 'murat',
      seq: 1,
      id: randomUUID(),
      at: '2026-11-02T09:00:00.000+01:00',
      type: 'presence.in',
      data: { memberId: 'ana', door: 'front' },
    });
    hub.ingest.onMessage(
      'tessera/v1/sites/murat/events',
      Buffer.from(JSON.stringify({ v: 1, site: 'murat', events: [event] })),
    );
    await hub.ingest.commitGroup();
    clock.advanceTo('2026-12-03T08:00:00Z');
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const prices = {
      currency: 'EUR',
      plans: { day: { kind: 'per-day', dayCents: 2000, vatPercent: 20, included: {} } },
      consumables: {},
    };
    expect(
      (await hub.api.inject({ method: 'PUT', url: '/billing/prices', headers: admin, payload: prices })).statusCode,
    ).toBe(200);
    expect(
      (await hub.api.inject({ method: 'POST', url: '/billing/periods/2026-11/close', headers: admin })).statusCode,
    ).toBe(200);
    const doc = await answer(MemberExport, 200, 'GET', '/directory/members/ana/export');
    expect(doc.invoices).toHaveLength(1);
    expect(doc.presence).toHaveLength(1);
    expect(await answer(ErasureResult, 200, 'POST', '/directory/members/ana/erase', { confirm: 'ana' })).toMatchObject({
      alreadyErased: false,
      badges: 1,
    });
  });
});

describe('a command the broker took answers as CommandSent says', () => {
  it('202 with the signed body', async () => {
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock: systemClock,
      log: pino({ level: 'silent' }),
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
      privateKeyPem: generateHubKeys().privateKeyPem,
      brokerPort: 0,
      apiPort: 0,
    });
    try {
      await hub.start();
      await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris' });
      hub.ingest.onMessage(
        'tessera/v1/sites/murat/status',
        Buffer.from(JSON.stringify(statusOf('murat', { doors: ['front'] }))),
      );
      const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
      const r = await hub.api.inject({
        method: 'POST',
        url: '/sites/murat/commands',
        headers: admin,
        payload: { kind: 'unlock', door: 'front' },
      });
      expect(r.statusCode).toBe(202);
      expect(CommandSent.parse(r.json())).toMatchObject({ published: true, item: { kind: 'unlock', door: 'front' } });
    } finally {
      await hub.stop();
    }
  });
});
