import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRoute, serve } from '../../shared/platform/api-contract.js';
import { ERROR_TABLE } from '../../shared/platform/error-table.js';
import { ERROR_CODES, TesseraError, type ErrorCode } from '../../shared/platform/errors.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

describe('error answers of the hub and edge APIs', () => {
  it('a path fastify cannot decode is answered 400 request.invalid in the APIs’ own shape, not fastify’s FST_ERR_BAD_URL', async () => {
    const app = createJsonApi(silent);
    app.get('/things/:id', () => ({}));
    for (const url of ['/things/%C0%AF', '/things/%zz', '/things/%ED%A0%80']) {
      const r = await app.inject({ url });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual({ code: 'request.invalid', message: expect.any(String) as string, details: [] });
    }
    await app.close();
  });

  it('the same on the hub, for a badge UID sent as a broken escape (found by fuzzing)', async () => {
    const { hub, admin } = await signedInHub(silent);
    const r = await hub.api.inject({
      method: 'PUT',
      url: '/directory/badges/%C0%AF',
      headers: admin,
      payload: { member: 'alice' },
    });
    expect([r.statusCode, r.json<{ code: string }>().code]).toEqual([400, 'request.invalid']);
    await hub.stop();
  });
});

describe('the error table and the one error handler', () => {
  it('gives every code a status of an error, a meaning, and a wait only where a retry can help', () => {
    // Record<ErrorCode, ...> already makes a missing code a type error; this holds the values sane.
    expect(Object.keys(ERROR_TABLE).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const { status, retryAfterSeconds, meaning } = ERROR_TABLE[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(meaning.length, code).toBeGreaterThan(10);
      if (retryAfterSeconds !== null) expect([429, 503], code).toContain(status);
    }
    expect(ERROR_TABLE['store.unavailable']).toMatchObject({
      status: 503,
      retryAfterSeconds: expect.any(Number) as number,
    });
    expect(ERROR_TABLE['request.invalid'].retryAfterSeconds).toBeNull();
  });

  it('answers each code thrown by a route with its status from the table and Retry-After when a retry can help', async () => {
    const app = createJsonApi(silent);
    app.get('/fail/:code', (req) => {
      throw new TesseraError((req.params as { code: ErrorCode }).code, 'it failed', [{ path: 'x', message: 'here' }]);
    });
    for (const code of ERROR_CODES) {
      const r = await app.inject({ url: `/fail/${code}` });
      const { status, retryAfterSeconds } = ERROR_TABLE[code];
      expect(r.statusCode, code).toBe(status);
      // A TesseraError's message is written for people: it is answered as is, whatever the status.
      expect(r.json(), code).toEqual({ code, message: 'it failed', details: [{ path: 'x', message: 'here' }] });
      expect(r.headers['retry-after'], code).toBe(retryAfterSeconds === null ? undefined : String(retryAfterSeconds));
    }
    await app.close();
  });

  it('keeps a wait the route knows better (a login throttle), and answers anything else thrown as 500 internal', async () => {
    const app = createJsonApi(silent);
    app.get('/throttled', () => {
      throw new TesseraError('auth.rate_limited', 'wait', [], 37);
    });
    app.get('/bug', () => {
      throw new Error('a secret in a stack');
    });
    const throttled = await app.inject({ url: '/throttled' });
    expect([throttled.statusCode, throttled.headers['retry-after']]).toEqual([429, '37']);
    const bug = await app.inject({ url: '/bug' });
    expect([bug.statusCode, bug.json()]).toEqual([500, { code: 'internal', message: 'internal error', details: [] }]);
    await app.close();
  });

  it("maps fastify's own refusals to codes of the table: too large 413, not JSON 415, broken JSON 400", async () => {
    const app = createJsonApi(silent);
    app.post('/things', { bodyLimit: 10 }, () => ({}));
    const large = await app.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(100) } });
    expect([large.statusCode, large.json<{ code: string }>().code]).toEqual([413, 'request.too_large']);
    const type = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect([type.statusCode, type.json<{ code: string }>().code]).toEqual([415, 'request.unsupported_type']);
    const broken = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect([broken.statusCode, broken.json<{ code: string }>().code]).toEqual([400, 'request.invalid']);
    await app.close();
  });

  it("checks a served route's input with its schema (400 with paths) and refuses an answer that does not fit its own (500, never a silent change)", async () => {
    const app = createJsonApi(silent);
    const Thing = defineRoute({
      method: 'POST',
      url: '/things/:id',
      operationId: 'makeThing',
      tags: ['things'],
      summary: 'a thing',
      params: z.strictObject({ id: z.coerce.number().int() }),
      body: z.strictObject({ name: z.string().min(1) }),
      response: { 201: z.object({ id: z.number(), name: z.string() }) },
    });
    serve(app, Thing, (req, reply) => {
      void reply.code(201);
      return req.body.name === 'wrong'
        ? ({ id: 'not a number', name: 'x' } as never)
        : { id: req.params.id, name: req.body.name };
    });
    const made = await app.inject({ method: 'POST', url: '/things/7', payload: { name: 'chair' } });
    expect([made.statusCode, made.json()]).toEqual([201, { id: 7, name: 'chair' }]);
    const bad = await app.inject({ method: 'POST', url: '/things/7', payload: { name: '', colour: 'red' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string; details: Array<{ path: string }> }>()).toMatchObject({
      code: 'request.invalid',
      message: 'invalid body',
    });
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['colour', 'name']);
    const path = await app.inject({ method: 'POST', url: '/things/seven', payload: { name: 'chair' } });
    expect(path.json()).toMatchObject({ code: 'request.invalid', message: 'invalid path', details: [{ path: 'id' }] });
    const wrong = await app.inject({ method: 'POST', url: '/things/7', payload: { name: 'wrong' } });
    expect([wrong.statusCode, wrong.json<{ code: string }>().code]).toEqual([500, 'internal']);
    await app.close();
  });
});
