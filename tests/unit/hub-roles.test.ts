import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { routesOf, type ApiRoute } from '../../shared/platform/api-contract.js';
import { AuthRoutes } from '../../shared/protocol/api/hub-auth.js';
import { HubSiteRoutes } from '../../shared/protocol/api/hub-sites.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { network, UID, type Network } from './hub-self-service-fixtures.js';

/**
 * Every role against every route of a real hub (routesOf: each route registered, none left out,
 * so a route added later is swept too). A member and an employer's manager reach only the
 * routes whose contract says `selfService`, and their own account's; everything else is 403
 * `auth.forbidden`, and leaves the hub's data as it was. The staff keep every route they had. A
 * monitor token (a metrics scraper's) reaches `GET /metrics` alone.
 */

/**
 * A value for each path parameter of the hub's routes: ids that exist, so that a refusal is the
 * gate's, not a 404. Self-service accounts aim at what is their own (Ana's entry and badge):
 * even that is refused through a staff route. The staff aim at what the site manager may change.
 */
const SAMPLE = {
  self: {
    site: 'murat',
    entity: 'members',
    id: 'ana',
    uid: UID.ana,
    period: '2026-10',
    number: '2026-000001',
    token: 'A'.repeat(43),
    account: 'employer:acme',
  },
  staff: {
    site: 'murat',
    entity: 'members',
    id: 'mia',
    uid: UID.mia,
    period: '2026-10',
    number: '2026-000001',
    token: 'A'.repeat(43),
    account: 'employer:acme',
  },
} as const satisfies Record<string, Record<string, string>>;
type Aim = keyof typeof SAMPLE;

function filled(url: string, aim: Aim): string {
  const sample: Record<string, string> = SAMPLE[aim];
  // A site's own routes name it by :id.
  const own = url.startsWith('/directory/sites/') ? { ...sample, id: 'murat' } : sample;
  return url
    .replace(/:(\w+)/g, (_, name: string) => {
      const v = own[name];
      if (v === undefined) throw new Error(`no sample for :${name} in ${url}: add one`);
      return v;
    })
    .replace(/\*$/, 'index.html');
}

const OWN_ACCOUNT = new Set<unknown>([AuthRoutes.me, AuthRoutes.password, AuthRoutes.logout]);
const isStream = (r: ApiRoute) => r.contract?.produces?.['text/event-stream'] !== undefined;
const needsSession = (r: ApiRoute) => r.contract?.public !== true;
/** Logging out ends the session the sweep goes on with: checked on its own. */
const swept = (r: ApiRoute) => needsSession(r) && r.contract !== AuthRoutes.logout;
const name = (r: ApiRoute) => `${r.method} ${r.url}`;

/** The routes a site manager is refused, whatever the target: the operator's alone. */
const OPERATOR_ONLY = [
  'GET /accounts',
  'GET /accounts/:id',
  'POST /accounts',
  'PATCH /accounts/:id',
  'POST /accounts/:id/password',
  'GET /audit',
  'GET /auth/monitor-tokens',
  'POST /auth/monitor-tokens',
  'DELETE /auth/monitor-tokens/:id',
  'GET /billing/prices',
  'PUT /billing/prices',
  'GET /billing/periods',
  'GET /billing/periods/:period',
  'GET /billing/periods/:period/invoices',
  'POST /billing/periods/:period/close',
  'GET /billing/periods/:period/verify',
  'GET /billing/invoices/:number',
  'GET /billing/invoices/:number/document',
  'POST /billing/invoices/:number/credit-note',
  'GET /billing/periods/:period/credit-notes',
  'GET /billing/seller',
  'PUT /billing/seller',
  'GET /billing/buyers',
  'GET /billing/buyers/:account',
  'PUT /billing/buyers/:account',
  'DELETE /billing/buyers/:account',
  'GET /billing/fec',
  'GET /billing/fec/accounts',
  'PUT /billing/fec/accounts',
  'POST /billing/packs',
  'GET /billing/packs',
  'POST /billing/payments',
  'GET /billing/payments',
  'DELETE /billing/payments/:id',
  'POST /billing/payments/import',
  'GET /billing/invoices/status',
  'GET /billing/receivables',
  'GET /billing/reminders',
  'GET /billing/overdue-policy',
  'PUT /billing/overdue-policy',
  'GET /billing/holds',
  'PUT /billing/holds/:account',
  'GET /dead-letters',
  'DELETE /directory/sites/:id',
  'POST /sites/:site/commands',
];

interface Answer {
  status: number;
  code: string | undefined;
}

describe('every role against every route', () => {
  let hub: Hub;
  let net: Network;
  let apiUrl: string;

  beforeEach(async () => {
    const signed = await signedInHub(silent);
    hub = signed.hub;
    net = await network(hub, signed.admin);
    apiUrl = await hub.api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await hub.stop();
  });

  async function call(r: ApiRoute, headers: AuthHeaders, aim: Aim): Promise<Answer> {
    const url = filled(r.url, aim);
    if (isStream(r)) return streamCall(url, headers);
    const withBody = r.method !== 'GET' && r.method !== 'DELETE';
    const res = await hub.api.inject({
      method: r.method as 'GET',
      url,
      headers: { ...headers, ...(withBody ? { 'content-type': 'application/json' } : {}) },
      ...(withBody ? { payload: '{}' } : {}),
    });
    const body = String(res.headers['content-type'] ?? '').includes('json') ? res.json<{ code?: string }>() : {};
    return { status: res.statusCode, code: body.code };
  }

  /** A live stream over a real socket: its status, then it is closed. */
  async function streamCall(url: string, headers: AuthHeaders): Promise<Answer> {
    const controller = new AbortController();
    const res = await fetch(`${apiUrl}${url}`, { headers, signal: controller.signal });
    const code = res.status === 200 ? undefined : ((await res.json()) as { code?: string } | undefined)?.code;
    controller.abort();
    return { status: res.status, code };
  }

  /** What an account could change, read as the operator: the same before and after a sweep that must change nothing. */
  async function state(): Promise<string> {
    const read = async (url: string) => (await hub.api.inject({ method: 'GET', url, headers: net.admin })).body;
    return JSON.stringify([
      await read('/directory'),
      await read('/directory/members?limit=100'),
      await read('/directory/badges?limit=100'),
      await read('/accounts?limit=100'),
      await read('/audit?limit=1'),
    ]);
  }

  it('a member and an employer manager are refused 403 on every staff route, with nothing read or changed', async () => {
    const routes = routesOf(hub.api).filter(swept);
    expect(routes.length).toBeGreaterThan(40);
    const own = (r: ApiRoute) => r.contract?.selfService === true || OWN_ACCOUNT.has(r.contract);
    const accounts = [
      ['member', net.member],
      ['employer manager', net.employerManager],
    ] as const;
    const before = await state();
    for (const [who, headers] of accounts)
      for (const r of routes.filter((x) => !own(x)))
        expect(await call(r, headers, 'self'), `${who} ${name(r)}`).toEqual({ status: 403, code: 'auth.forbidden' });
    expect(await state()).toBe(before);
    // Their own routes answer them (what each shows is the self-service tests').
    for (const [who, headers] of accounts)
      for (const r of routes.filter(own))
        expect([401, 500], `${who} ${name(r)}`).not.toContain((await call(r, headers, 'self')).status);
  });

  it('a monitor token reads GET /metrics and is refused 403 on every other route, with nothing read or changed', async () => {
    const made = await hub.api.inject({
      method: 'POST',
      url: '/auth/monitor-tokens',
      headers: net.admin,
      payload: { name: 'prometheus' },
    });
    expect(made.statusCode).toBe(201);
    const token = made.json<{ token: string }>().token;
    const monitor: AuthHeaders = { cookie: '', authorization: `Bearer ${token}` };
    // Every route that needs a session, logging out included: a monitor has no session to end.
    const routes = routesOf(hub.api).filter(needsSession);
    expect(routes.length).toBeGreaterThan(40);
    const before = await state();
    for (const r of routes) {
      if (r.contract === HubSiteRoutes.metrics) continue;
      for (const aim of ['self', 'staff'] as const)
        expect(await call(r, monitor, aim), `monitor ${name(r)}`).toEqual({ status: 403, code: 'auth.forbidden' });
    }
    expect(await state()).toBe(before);
    const metrics = await hub.api.inject({ method: 'GET', url: '/metrics', headers: monitor });
    expect(metrics.statusCode).toBe(200);
    // What an operator sees: every site, and the network's ingest counters.
    expect(metrics.body).toContain('tessera_hub_events_applied_total');
    expect(metrics.body).toContain('tessera_site_occupancy{site="murat"}');
    // The same gate for a path no route serves, and for a token as a cookie.
    for (const [method, url] of [
      ['GET', '/nothing-here'],
      ['GET', '/metrics/'],
      ['HEAD', '/directory/members'],
      ['GET', '/auth/me'],
    ] as const)
      expect((await hub.api.inject({ method, url, headers: monitor })).statusCode, `${method} ${url}`).toBe(403);
    const asCookie = await hub.api.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { cookie: `tessera_session=${token}` },
    });
    expect(asCookie.statusCode).toBe(403);
  });

  it('a path no route serves, or a staff path spelt otherwise, is refused to a member as to a staff route', async () => {
    for (const [method, url] of [
      ['GET', '/nothing-here'],
      ['GET', '/Directory/members'],
      ['GET', '/directory/members/'],
      ['GET', '/directory/members?limit=1'],
      ['GET', '/%64irectory/members'],
      ['GET', '/me/../directory/members'],
      ['HEAD', '/directory/members'],
      ['OPTIONS', '/directory/members'],
      ['DELETE', '/directory/badges/' + UID.ana],
      ['GET', '/metrics'],
      ['GET', '/docs/openapi.json'],
    ] as const) {
      const r = await hub.api.inject({ method, url, headers: net.member });
      expect(r.statusCode, `${method} ${url}`).toBe(403);
    }
  });

  it('the operator reaches every staff route, and a site manager every one but the operator’s', async () => {
    const routes = routesOf(hub.api).filter((r) => swept(r) && r.contract?.selfService !== true);
    const refused: string[] = [];
    for (const r of routes) {
      const a = await call(r, net.siteManager, 'staff');
      expect([401, 500], `site manager ${name(r)}`).not.toContain(a.status);
      if (a.status === 403) refused.push(name(r));
    }
    expect(refused.sort()).toEqual([...OPERATOR_ONLY].sort());
    for (const r of routes) {
      const a = await call(r, net.admin, 'staff');
      expect([401, 403, 500], `operator ${name(r)}`).not.toContain(a.status);
    }
  });

  it('a member still reads their account and logs out; a staff session is untouched by the gate', async () => {
    expect((await hub.api.inject({ method: 'GET', url: '/auth/me', headers: net.member })).json()).toMatchObject({
      account: { username: 'ana', role: 'member', member: 'ana', sites: [] },
    });
    const manager = (await hub.api.inject({ method: 'GET', url: '/auth/me', headers: net.employerManager })).json();
    expect(manager).toMatchObject({ account: { role: 'employer_manager', employer: 'acme' } });
    expect(manager.account.member).toBeUndefined();
    expect((await hub.api.inject({ method: 'POST', url: '/auth/logout', headers: net.member })).statusCode).toBe(204);
    expect((await hub.api.inject({ method: 'GET', url: '/auth/me', headers: net.member })).statusCode).toBe(401);
    expect((await hub.api.inject({ method: 'GET', url: '/directory/members', headers: net.admin })).statusCode).toBe(
      200,
    );
  });
});
