import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { FAST_PASSWORD_COST, login, loginAs, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

/**
 * Every admin route and the members CSV import, for each kind of caller, on what belongs to the
 * manager's own site (murat) and on what reaches another site (lyon, or every site). The manager
 * manages murat only. A refusal must leave the directory, the sites, the accounts and the audit
 * log exactly as they were (a command the broker did not take is an answer, not a refusal: its
 * audit row stays).
 */
const UID = {
  ana: '04A1A1A1A1A1A1',
  leo: '04B2B2B2B2B2B2',
  nina: '04C3C3C3C3C3C3',
  new1: '04D4D4D4D4D4D4',
  new2: '04E5E5E5E5E5E5',
  new3: '04F6F6F6F6F6F6',
  new4: '0410101010101A',
  mia: '0420202020202B',
};

async function seed(hub: Hub, admin: AuthHeaders): Promise<void> {
  const put = async (url: string, payload: object) =>
    expect((await hub.api.inject({ method: 'PUT', url, headers: admin, payload })).statusCode).toBe(200);
  for (const site of ['murat', 'lyon', 'nantes'])
    await put(`/directory/sites/${site}`, { name: site, timeZone: 'Europe/Paris', capacity: 20 });
  await put('/directory/plans/murat-only', { name: 'Murat', access: 'staffed', sites: ['murat'] });
  await put('/directory/plans/lyon-only', { name: 'Lyon', access: 'staffed', sites: ['lyon'] });
  await put('/directory/plans/murat-lyon', { name: 'Murat and Lyon', access: 'staffed', sites: ['murat', 'lyon'] });
  await put('/directory/plans/everywhere', { name: 'Network', access: 'always', sites: 'all' });
  for (const e of ['acme', 'globex', 'initech']) await put(`/directory/employers/${e}`, { name: e });
  // acme bills at murat, globex at lyon, initech only for a network-wide member.
  await put('/directory/members/ana', { name: 'Ana', plan: 'murat-only', employer: 'acme' });
  await put('/directory/members/eve', { name: 'Eve', plan: 'murat-only' });
  await put('/directory/members/leo', { name: 'Leo', plan: 'lyon-only', employer: 'globex' });
  await put('/directory/members/lou', { name: 'Lou', plan: 'lyon-only' });
  await put('/directory/members/nina', { name: 'Nina', plan: 'everywhere', employer: 'initech' });
  await put('/directory/members/nico', { name: 'Nico', plan: 'everywhere' });
  await put('/directory/members/mia', { name: 'Mia', plan: 'murat-lyon' });
  await put(`/directory/badges/${UID.ana}`, { member: 'ana' });
  await put(`/directory/badges/${UID.leo}`, { member: 'leo' });
  await put(`/directory/badges/${UID.nina}`, { member: 'nina' });
  await put(`/directory/badges/${UID.mia}`, { member: 'mia' });
}

interface Case {
  what: string;
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  url: string;
  body?: object | string;
  operator: number;
  manager: number;
}

const csv = (...rows: string[]) => ['member_id,name,plan,role,employer,badges', ...rows].join('\n');
const c = (
  what: string,
  method: Case['method'],
  url: string,
  body: Case['body'],
  operator: number,
  manager: number,
): Case => ({ what, method, url, body, operator, manager });

/** In order: each case runs on the state the ones before it left. */
const CASES: Case[] = [
  c('read the revision', 'GET', '/directory', undefined, 200, 200),
  c('list members', 'GET', '/directory/members', undefined, 200, 200),
  c('list own site members', 'GET', '/directory/members?site=murat', undefined, 200, 200),
  c('list other site members', 'GET', '/directory/members?site=lyon', undefined, 200, 403),
  c('read own member', 'GET', '/directory/members/ana', undefined, 200, 200),
  c('read network member', 'GET', '/directory/members/nina', undefined, 200, 200),
  c('read other site member', 'GET', '/directory/members/leo', undefined, 200, 404),
  c('read other site plan', 'GET', '/directory/plans/lyon-only', undefined, 200, 404),
  c('read other site badge', 'GET', `/directory/badges/${UID.leo}`, undefined, 200, 404),
  c('list declared sites', 'GET', '/directory/sites', undefined, 200, 200),
  c('read own site', 'GET', '/directory/sites/murat', undefined, 200, 200),
  c('read other site', 'GET', '/directory/sites/lyon', undefined, 200, 404),
  c('export members CSV', 'GET', '/directory/members.csv', undefined, 200, 200),
  c('export other site members CSV', 'GET', '/directory/members.csv?site=lyon', undefined, 200, 403),
  c('export own member data', 'GET', '/directory/members/ana/export', undefined, 200, 200),
  c('export other site member data', 'GET', '/directory/members/leo/export', undefined, 200, 404),
  c('list accounts', 'GET', '/accounts', undefined, 200, 403),
  c('read the audit log', 'GET', '/audit', undefined, 200, 403),
  c('create member on own plan', 'PUT', '/directory/members/zoe', { name: 'Zoe', plan: 'murat-only' }, 200, 200),
  c('create member on all-sites plan', 'PUT', '/directory/members/zed', { name: 'Zed', plan: 'everywhere' }, 200, 403),
  c(
    'create member on plan of own and other site',
    'PUT',
    '/directory/members/zed',
    { name: 'Zed', plan: 'murat-lyon' },
    200,
    403,
  ),
  c('create member on other site plan', 'PUT', '/directory/members/zed2', { name: 'Zed', plan: 'lyon-only' }, 200, 403),
  c('create member on missing plan', 'PUT', '/directory/members/zed3', { name: 'Zed', plan: 'nope' }, 400, 403),
  c(
    'create member over other site member',
    'PUT',
    '/directory/members/lou',
    { name: 'Lou', plan: 'murat-only' },
    200,
    404,
  ),
  c(
    'create staff billed to own employer',
    'PUT',
    '/directory/members/sam',
    { name: 'Sam', plan: 'murat-only', role: 'staff', employer: 'acme' },
    200,
    200,
  ),
  c(
    'create staff billed to other site employer',
    'PUT',
    '/directory/members/sid',
    { name: 'Sid', plan: 'murat-only', role: 'staff', employer: 'globex' },
    200,
    403,
  ),
  c(
    'create member billed to network member employer',
    'PUT',
    '/directory/members/sol',
    { name: 'Sol', plan: 'murat-only', employer: 'initech' },
    200,
    403,
  ),
  c(
    'create member billed to missing employer',
    'PUT',
    '/directory/members/sue',
    { name: 'Sue', plan: 'murat-only', employer: 'nope' },
    400,
    403,
  ),
  c('rename own member', 'PATCH', '/directory/members/ana', { name: 'Ana B' }, 200, 200),
  c('make own member staff', 'PATCH', '/directory/members/ana', { role: 'staff' }, 200, 200),
  c(
    'move own member to all-sites plan',
    'PATCH',
    '/directory/members/eve',
    { plan: 'everywhere', role: 'staff' },
    200,
    403,
  ),
  c('move own member to other site plan', 'PATCH', '/directory/members/eve', { plan: 'lyon-only' }, 200, 403),
  c('bill own member to other site employer', 'PATCH', '/directory/members/ana', { employer: 'globex' }, 200, 403),
  c('bill own member to own employer', 'PATCH', '/directory/members/ana', { employer: 'acme' }, 200, 200),
  c('rename network member', 'PATCH', '/directory/members/nina', { name: 'Nina B' }, 200, 403),
  c('move network member to own plan', 'PATCH', '/directory/members/mia', { plan: 'murat-only' }, 200, 403),
  c('rename other site member', 'PATCH', '/directory/members/leo', { name: 'Leo B' }, 200, 404),
  c('badge for own member', 'PUT', `/directory/badges/${UID.new1}`, { member: 'ana' }, 200, 200),
  c('badge for network member', 'PUT', `/directory/badges/${UID.new2}`, { member: 'nina' }, 200, 403),
  c('badge for other site member', 'PUT', `/directory/badges/${UID.new3}`, { member: 'leo' }, 200, 403),
  c('badge for missing member', 'PUT', `/directory/badges/${UID.new4}`, { member: 'ghost' }, 400, 403),
  c('take network member badge', 'PUT', `/directory/badges/${UID.nina}`, { member: 'zoe' }, 200, 403),
  c('take other site badge', 'PUT', `/directory/badges/${UID.leo}`, { member: 'zoe' }, 200, 404),
  c('patch own badge', 'PATCH', `/directory/badges/${UID.new1}`, { type: 'ntag424' }, 200, 200),
  c('revoke own badge', 'POST', `/directory/badges/${UID.ana}/revoke`, undefined, 200, 200),
  c('revoke network member badge', 'POST', `/directory/badges/${UID.nina}/revoke`, undefined, 200, 403),
  c('revoke other site badge', 'POST', `/directory/badges/${UID.leo}/revoke`, undefined, 200, 404),
  c('delete own badge', 'DELETE', `/directory/badges/${UID.new1}`, undefined, 200, 200),
  c('delete network member badge', 'DELETE', `/directory/badges/${UID.nina}`, undefined, 200, 403),
  c('delete other site badge', 'DELETE', `/directory/badges/${UID.leo}`, undefined, 200, 404),
  c('delete own member', 'DELETE', '/directory/members/zoe', undefined, 200, 200),
  c('delete network member', 'DELETE', '/directory/members/nico', undefined, 200, 403),
  c('delete other site member', 'DELETE', '/directory/members/lou', undefined, 200, 404),
  c(
    'create own site plan',
    'PUT',
    '/directory/plans/murat-2',
    { name: 'Murat 2', access: 'always', sites: ['murat'] },
    200,
    403,
  ),
  c(
    'create all-sites plan',
    'PUT',
    '/directory/plans/wide',
    { name: 'Wide', access: 'always', sites: 'all' },
    200,
    403,
  ),
  c('change other site plan', 'PATCH', '/directory/plans/lyon-only', { access: 'always' }, 200, 403),
  c('delete a plan', 'DELETE', '/directory/plans/wide', undefined, 200, 403),
  c('create an employer', 'PUT', '/directory/employers/newco', { name: 'Newco' }, 200, 403),
  c('delete an employer', 'DELETE', '/directory/employers/newco', undefined, 200, 403),
  c('change own site', 'PATCH', '/directory/sites/murat', { capacity: 22 }, 200, 200),
  c(
    'replace own site',
    'PUT',
    '/directory/sites/murat',
    { name: 'Murat', timeZone: 'Europe/Paris', capacity: 23 },
    200,
    200,
  ),
  c('change other site', 'PATCH', '/directory/sites/lyon', { capacity: 1 }, 200, 403),
  c(
    'declare a site',
    'PUT',
    '/directory/sites/paris',
    { name: 'Paris', timeZone: 'Europe/Paris', capacity: 9 },
    200,
    403,
  ),
  c('delete a site', 'DELETE', '/directory/sites/nantes', undefined, 204, 403),
  c(
    'import own site rows',
    'POST',
    '/directory/members/import',
    csv('ivy,Ivy,murat-only,member,acme,04ABABABABABAB'),
    200,
    200,
  ),
  c('import row on all-sites plan', 'POST', '/directory/members/import', csv('ian,Ian,everywhere,staff,,'), 200, 400),
  c(
    'import row on plan of own and other site',
    'POST',
    '/directory/members/import',
    csv('ines,Ines,murat-lyon,,,'),
    200,
    400,
  ),
  c(
    'import row updating network member',
    'POST',
    '/directory/members/import',
    csv('nina,Nina C,murat-only,,,'),
    200,
    400,
  ),
  c('import row over other site member', 'POST', '/directory/members/import', csv('leo,Leo C,murat-only,,,'), 200, 400),
  c(
    'import row billed to other site employer',
    'POST',
    '/directory/members/import',
    csv('ike,Ike,murat-only,staff,globex,'),
    200,
    400,
  ),
  c(
    'import row taking network member badge',
    'POST',
    '/directory/members/import',
    csv(`ivy,Ivy,murat-only,,,${UID.mia}`),
    400,
    400,
  ),
  c(
    'import row mixing own and other rows',
    'POST',
    '/directory/members/import?mode=valid',
    csv('ila,Ila,murat-only,,,', 'ned,Ned,everywhere,,,'),
    200,
    200,
  ),
  c('erase own member', 'POST', '/directory/members/sam/erase', { confirm: 'sam' }, 200, 200),
  c('erase network member', 'POST', '/directory/members/mia/erase', { confirm: 'mia' }, 200, 403),
  c('erase other site member', 'POST', '/directory/members/leo/erase', { confirm: 'leo' }, 200, 404),
  c(
    'create an account',
    'POST',
    '/accounts',
    { username: 'newbie', role: 'operator', password: 'a-long-enough-password' },
    201,
    403,
  ),
  c('command to own site', 'POST', '/sites/murat/commands', { kind: 'lockdown' }, 503, 403),
  c('command to other site', 'POST', '/sites/lyon/commands', { kind: 'lockdown' }, 503, 403),
];

describe('admin routes by role and site: a site manager stays in their sites', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
      privateKeyPem: generateHubKeys().privateKeyPem,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    await seed(hub, admin);
  });
  afterEach(async () => hub.stop());

  /** Everything a refused request must leave as it was. */
  const state = async () => {
    const db = hub.store.db;
    const entities = [];
    for (const e of ['plan', 'employer', 'member', 'badge'] as const) entities.push(await hub.directory.list(db, e));
    return JSON.stringify({
      revision: await hub.directory.revision(db),
      entities,
      sites: await hub.sites.list(db),
      accounts: await hub.auth.accounts.list(db),
      audit: await db.value('SELECT count(*) AS n FROM audit_log'),
    });
  };

  async function run(headers: Record<string, string>, expected: (c: Case) => number): Promise<void> {
    const got: string[] = [];
    const want: string[] = [];
    for (const k of CASES) {
      const before = await state();
      const csvBody = typeof k.body === 'string';
      const r = await hub.api.inject({
        method: k.method,
        url: k.url,
        headers: { ...headers, ...(csvBody ? { 'content-type': 'text/csv' } : {}) },
        ...(k.body === undefined ? {} : { payload: k.body }),
      });
      const refused = r.statusCode >= 400 && r.statusCode < 500;
      const unchanged = !refused || (await state()) === before;
      got.push(`${k.what}: ${r.statusCode}${unchanged ? '' : ' (and changed something)'}`);
      want.push(`${k.what}: ${expected(k)}`);
    }
    expect(got).toEqual(want);
  }

  it('a network operator', async () => run(admin, (k) => k.operator));
  it('a manager of one site', async () =>
    run(
      await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] }),
      (k) => k.manager,
    ));
  it('no session', async () => run({}, () => 401));
  it('an unknown session', async () => run({ authorization: 'Bearer forged-token' }, () => 401));
  it('a site manager with a one-time password still to change', async () => {
    await hub.api.inject({
      method: 'POST',
      url: '/accounts',
      headers: admin,
      payload: { username: 'otto', role: 'site_manager', sites: ['murat'], password: 'otto-one-time-pw' },
    });
    await run(await login(hub.api, 'otto', 'otto-one-time-pw'), () => 403);
  });
});

describe('a site manager learns nothing of other sites from a refusal', () => {
  let hub: Hub;
  let manager: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    await seed(hub, admin);
    manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
  });
  afterEach(async () => hub.stop());

  const importCsv = async (...rows: string[]) => {
    const r = await hub.api.inject({
      method: 'POST',
      url: '/directory/members/import',
      headers: { ...manager, 'content-type': 'text/csv' },
      payload: csv(...rows),
    });
    expect(r.statusCode).toBe(400);
    return r
      .json<{ details: Array<{ path: string; message: string }> }>()
      .details.map((d) => `${d.path}: ${d.message}`);
  };
  /** A problem's text with the id it names replaced, to compare the answers for two ids. */
  const masked = (problems: string[], id: string) => problems.map((p) => p.replaceAll(id, 'ID'));

  it('the import answers alike for an id of another site and one that does not exist, and names no badge owner', async () => {
    expect(masked(await importCsv('ana,Ana,lyon-only,,,'), 'lyon-only')).toEqual(
      masked(await importCsv('ana,Ana,gold,,,'), 'gold'),
    );
    expect(masked(await importCsv('ana,Ana,murat-only,,globex,'), 'globex')).toEqual(
      masked(await importCsv('ana,Ana,murat-only,,nope,'), 'nope'),
    );
    // leo is lyon's, nina is on a network-wide plan: both are "not one of your sites' own members".
    expect(masked(await importCsv('leo,Leo,murat-only,,,'), 'leo')).toEqual(
      masked(await importCsv('nina,Nina,murat-only,,,'), 'nina'),
    );
    const badge = await importCsv(`ana,Ana,murat-only,,,${UID.leo}`);
    expect(badge).toEqual([`line 2: badges: badge …${UID.leo.slice(-4)} is not free to give`]);
    expect(badge.join()).not.toContain('leo');
  });

  it('the API answers alike for a plan, employer or member of another site and one that does not exist', async () => {
    const put = async (url: string, payload: object) => {
      const r = await hub.api.inject({ method: 'PUT', url, headers: manager, payload });
      return `${r.statusCode} ${r.json<{ code: string; message: string }>().code} ${r.json<{ message: string }>().message}`;
    };
    expect((await put('/directory/members/zed', { name: 'Zed', plan: 'lyon-only' })).replace('lyon-only', 'ID')).toBe(
      (await put('/directory/members/zed', { name: 'Zed', plan: 'gold' })).replace('gold', 'ID'),
    );
    expect(
      (await put('/directory/members/zed', { name: 'Zed', plan: 'murat-only', employer: 'globex' })).replace(
        'globex',
        'ID',
      ),
    ).toBe(
      (await put('/directory/members/zed', { name: 'Zed', plan: 'murat-only', employer: 'nope' })).replace(
        'nope',
        'ID',
      ),
    );
    expect((await put(`/directory/badges/${UID.new1}`, { member: 'leo' })).replace('leo', 'ID')).toBe(
      (await put(`/directory/badges/${UID.new1}`, { member: 'ghost' })).replace('ghost', 'ID'),
    );
    expect(await hub.directory.get(hub.store.db, 'member', 'zed')).toBeUndefined();
    expect(await hub.directory.get(hub.store.db, 'badge', UID.new1)).toBeUndefined();
  });
});
