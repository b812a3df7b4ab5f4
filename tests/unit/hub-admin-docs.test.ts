import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';

describe('the API documentation at /docs', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    hub = createHub({ dbPath: testHubDb(), clock: new ManualClock(0), log: pino({ level: 'silent' }), initialAdmin: TEST_ADMIN, passwordCost: FAST_PASSWORD_COST });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());

  it('needs a session like the rest', async () => {
    expect((await hub.api.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(401);
    expect((await hub.api.inject({ method: 'GET', url: '/docs/openapi.json' })).statusCode).toBe(401);
  });

  it('lists every route the hub serves, with zod schemas for bodies and queries', async () => {
    await hub.api.ready();
    const doc = (await hub.api.inject({ method: 'GET', url: '/docs/openapi.json', headers: admin })).json<{ openapi: string; paths: Record<string, Record<string, { summary: string; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; parameters?: Array<{ name: string }>; security?: unknown[] }>> }>();
    expect(doc.openapi).toBe('3.1.0');
    // Every operation the router serves (HEAD aside), counted from its printout...
    const served = [...hub.api.printRoutes({ commonPrefix: false }).matchAll(/\(([A-Z, ]+)\)/g)].flatMap((m) => (m[1] ?? '').split(', ').filter((x) => x !== 'HEAD'));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    // ...is documented, and everything documented is served.
    expect(documented).toHaveLength(served.length);
    for (const op of documented) {
      const [method, path] = op.split(' ');
      expect(hub.api.hasRoute({ method: method as 'GET', url: (path ?? '').replace(/\{(\w+)\}/g, ':$1') }), op).toBe(true);
    }
    for (const route of ['POST /auth/login', 'GET /directory/{entity}', 'PUT /directory/{entity}/{id}', 'POST /directory/badges/{uid}/revoke', 'POST /directory/members/import', 'GET /accounts', 'GET /audit', 'GET /health', 'GET /sites']) {
      expect(documented).toContain(route);
    }
    expect(doc.paths['/accounts']?.post?.requestBody?.content['application/json']?.schema.properties).toHaveProperty('username');
    expect(doc.paths['/directory/{entity}']?.get?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['entity', 'q', 'offset', 'limit', 'site']));
    expect(doc.paths['/auth/login']?.post?.security).toEqual([]);
    const html = await hub.api.inject({ method: 'GET', url: '/docs', headers: admin });
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('<code>POST /directory/members/import</code>');
  });

  it('describes every operation (none is left "no description yet"), with the query schemas of the live routes', async () => {
    await hub.api.ready();
    type Op = { summary: string; parameters?: Array<{ name: string; in: string; schema: { enum?: string[] } }>; security?: unknown[]; responses: { default: { description: string } } };
    const doc = (await hub.api.inject({ method: 'GET', url: '/docs/openapi.json', headers: admin })).json<{ paths: Record<string, Record<string, Op>> }>();
    const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })));
    expect(ops.filter(({ op }) => op.summary.includes('no description yet')).map((o) => o.route)).toEqual([]);
    const query = (path: string, method = 'get') => (doc.paths[path]?.[method]?.parameters ?? []).filter((p) => p.in === 'query');
    expect(query('/alarms').map((p) => p.name)).toEqual(['open', 'site', 'limit']);
    expect(query('/alarms').find((p) => p.name === 'open')?.schema.enum).toEqual(['true', 'false']);
    expect(query('/occupancy/{site}/history')).toMatchObject([{ name: 'range', schema: { enum: ['24h', '7d'] } }]);
    expect(query('/sites/{site}/events').map((p) => p.name)).toEqual(['after', 'limit']);
    expect(query('/billing/invoices/{number}').map((p) => p.name)).toEqual(['format']);
    expect(doc.paths['/alarms/{id}/ack']?.post?.parameters).toMatchObject([{ name: 'id', in: 'path' }]);
    expect(doc.paths['/events/stream']?.get?.responses.default.description).toMatch(/^text\/event-stream/);
    expect(doc.paths['/metrics']?.get?.responses.default.description).toMatch(/^text\/plain/);
    expect(doc.paths['/']?.get?.security).toEqual([]);
    expect(doc.paths['/ui/*']?.get?.security).toEqual([]);
    expect(doc.paths['/metrics']?.get?.security).toBeUndefined();
  });
});
