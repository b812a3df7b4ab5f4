import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { routesOf } from '../../shared/platform/api-contract.js';
import { openApiPath } from '../../shared/platform/openapi.js';
import { edgeApiFixture } from '../harness/edge-api.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';

type Operation = {
  operationId?: string;
  tags?: string[];
  summary: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; schema: { enum?: string[] } }>;
  responses: Record<string, { description: string; headers?: object; content?: Record<string, { schema: object }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
  );

/** Every route registered on the app (HEAD aside) is in the document, and the document holds nothing else. */
function expectEveryRoute(app: FastifyInstance, doc: Document) {
  const registered = routesOf(app).map((r) => `${r.method} ${openApiPath(r.url)}`);
  expect(registered.length).toBeGreaterThan(0);
  expect(
    operations(doc)
      .map((o) => o.route)
      .sort(),
  ).toEqual([...registered].sort());
}

/**
 * A real OpenAPI 3.1 validator (the specification's schema, references), and what it checks for
 * Swagger 2.0 only: operationIds unique, every templated path parameter declared.
 */
async function validated(doc: Document) {
  const ids = operations(doc).flatMap(({ op }) => (op.operationId === undefined ? [] : [op.operationId]));
  expect(ids.length).toBe(new Set(ids).size);
  for (const { route, op } of operations(doc)) {
    const templated = [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    expect(
      (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      route,
    ).toEqual(templated);
  }
  return SwaggerParser.validate(structuredClone(doc) as never);
}

describe('the hub API document at /docs/openapi.json', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock(0),
      log: pino({ level: 'silent' }),
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
  });
  afterEach(async () => hub.stop());

  const document = async () =>
    (await hub.api.inject({ method: 'GET', url: '/docs/openapi.json', headers: admin })).json<Document>();

  it('needs a session like the rest', async () => {
    expect((await hub.api.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(401);
    expect((await hub.api.inject({ method: 'GET', url: '/docs/openapi.json' })).statusCode).toBe(401);
  });

  it('is valid OpenAPI 3.1 and lists every registered route, each with an operationId and tags', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    await expect(validated(doc)).resolves.toBeTruthy();
    // The validator is no formality: a parameter in no place OpenAPI knows is refused.
    const broken = structuredClone(doc);
    broken.paths['/alarms']?.get?.parameters?.push({ name: 'x', in: 'nowhere', schema: {} });
    await expect(validated(broken)).rejects.toThrow();
    expectEveryRoute(hub.api, doc);
    const ops = operations(doc);
    expect(ops.filter(({ op }) => op.operationId === undefined).map((o) => o.route)).toEqual([]);
    for (const { route, op } of ops) {
      expect(op.tags?.length, route).toBeGreaterThan(0);
      expect(op.responses['500'], route).toBeDefined();
    }
  });

  it('gives each operation its parameters, its answers and its error answers with their codes and statuses from the table', async () => {
    const doc = await document();
    const op = (path: string, method = 'get') => doc.paths[path]?.[method] as Operation;
    const query = (path: string) => (op(path).parameters ?? []).filter((p) => p.in === 'query');
    expect(query('/alarms').map((p) => p.name)).toEqual(['open', 'site', 'limit']);
    expect(query('/alarms').find((p) => p.name === 'open')?.schema.enum).toEqual(['true', 'false']);
    expect(query('/occupancy/{site}/history')).toMatchObject([{ name: 'range', schema: { enum: ['24h', '7d'] } }]);
    expect(query('/sites/{site}/events').map((p) => p.name)).toEqual(['after', 'limit']);
    expect(query('/billing/invoices/{number}').map((p) => p.name)).toEqual(['format', 'dialect']);
    expect(op('/alarms/{id}/ack', 'post').parameters).toMatchObject([{ name: 'id', in: 'path' }]);
    // Success answers with their schemas; CSV, text, HTML and the event stream by content type.
    expect(op('/site-health/{site}').responses['200']?.content?.['application/json']?.schema).toMatchObject({
      properties: { doors: { type: 'array' }, readers: { type: 'array' } },
    });
    expect(Object.keys(op('/billing/invoices/{number}').responses['200']?.content ?? {})).toEqual([
      'application/json',
      'text/csv',
    ]);
    expect(Object.keys(op('/metrics').responses['200']?.content ?? {})).toEqual(['text/plain']);
    expect(op('/events/stream').responses['200']?.content?.['text/event-stream']).toMatchObject({
      'x-events': { hello: {}, occupancy: {}, event: {}, alarm: {}, health: {} },
    });
    expect(op('/auth/logout', 'post').responses['204']).toBeDefined();
    // Errors: each status once, naming its codes; a retryable one says Retry-After.
    const login = op('/auth/login', 'post').responses;
    expect(login['401']?.description).toContain('`auth.invalid`');
    expect(login['429']?.headers).toHaveProperty('Retry-After');
    expect(login['503']?.description).toContain('`store.unavailable`');
    expect(op('/sites/{site}/events').responses['404']?.description).toContain('`not_found`');
    expect(op('/billing/periods/{period}/close', 'post').responses['409']?.description).toContain(
      '`billing.period_closed`',
    );
    // Public routes need no session; the rest inherit the document's.
    expect(op('/auth/login', 'post').security).toEqual([]);
    expect(op('/').security).toEqual([]);
    expect(op('/ui/{path}').security).toEqual([]);
    expect(op('/metrics').security).toBeUndefined();
  });

  it('documents the admin routes from their contracts: bodies, queries, answers and their own error codes', async () => {
    const doc = await document();
    const op = (path: string, method = 'get') =>
      doc.paths[path]?.[method] as Operation & {
        requestBody?: { content: Record<string, { schema: { properties?: object; type?: string } }> };
      };
    expect(op('/accounts', 'post').requestBody?.content['application/json']?.schema.properties).toHaveProperty(
      'username',
    );
    expect(op('/accounts', 'post').responses['201']?.content?.['application/json']?.schema).toMatchObject({
      properties: { account: {} },
    });
    expect((op('/directory/{entity}').parameters ?? []).map((p) => p.name)).toEqual(
      expect.arrayContaining(['entity', 'q', 'offset', 'limit', 'site']),
    );
    expect(op('/directory/members/import', 'post').requestBody?.content['text/csv']?.schema.type).toBe('string');
    expect(op('/directory/members/import', 'post').responses['400']?.description).toContain('`import.invalid`');
    expect(op('/directory/members/import', 'post').responses['415']?.description).toContain(
      '`request.unsupported_type`',
    );
    expect(Object.keys(op('/directory/members.csv').responses['200']?.content ?? {})).toEqual(['text/csv']);
    expect(op('/directory/sites/{id}', 'delete').responses['204']).toBeDefined();
    const command = op('/sites/{site}/commands', 'post').responses;
    expect(command['202']?.content?.['application/json']?.schema).toMatchObject({
      properties: { item: {}, published: {} },
    });
    expect(command['503']?.description).toContain('`sync.rejected`');
    expect(command['503']?.headers).toHaveProperty('Retry-After');
    expect(op('/directory/members/{id}/erase', 'post').responses['409']?.description).toContain('`conflict`');
    expect(op('/audit').tags).toEqual(['audit']);
  });

  it('is also a page at /docs', async () => {
    const html = await hub.api.inject({ method: 'GET', url: '/docs', headers: admin });
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('<code>POST /directory/members/import</code>');
    expect(html.body).toContain('<code>GET /site-health/{site}</code>');
  });
});

describe('the site API document at /openapi.json', () => {
  const fixture = edgeApiFixture();

  for (const simulated of [true, false]) {
    it(`is valid OpenAPI 3.1 and lists every registered route with an operationId and tags (${simulated ? 'simulated' : 'real'} site)`, async () => {
      const { app } = await fixture({ simulated });
      const r = await app.inject({ url: '/openapi.json' });
      expect(r.statusCode).toBe(200);
      const doc = r.json<Document>();
      await expect(validated(doc)).resolves.toBeTruthy();
      expectEveryRoute(app, doc);
      for (const { route, op } of operations(doc)) {
        expect(op.operationId, route).toMatch(/^[a-z][A-Za-z]+$/);
        expect(op.tags?.length, route).toBeGreaterThan(0);
      }
      expect(Object.keys(doc.paths).some((p) => p.startsWith('/simulate/'))).toBe(simulated);
      expect(doc.paths['/consumables']?.post?.responses['201']).toBeDefined();
      expect(doc.paths['/consumables']?.post?.responses['403']?.description).toContain('`auth.forbidden`');
    });
  }
});
