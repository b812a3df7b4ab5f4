import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub/hub.js';
import { ManualClock } from '../../shared/clock.js';
import { login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';

describe('the API documentation at /docs', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    hub = createHub({ dbPath: ':memory:', clock: new ManualClock(0), log: pino({ level: 'silent' }), initialAdmin: TEST_ADMIN });
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
});
