import { describe, expect, it } from 'vitest';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
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
    const hub = createHub({ dbPath: testHubDb(), clock: new ManualClock('2026-11-23T08:00:00Z'), log: silent, initialAdmin: TEST_ADMIN, passwordCost: FAST_PASSWORD_COST });
    const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const r = await hub.api.inject({ method: 'PUT', url: '/directory/badges/%C0%AF', headers: admin, payload: { member: 'alice' } });
    expect([r.statusCode, r.json<{ code: string }>().code]).toEqual([400, 'request.invalid']);
    await hub.stop();
  });
});
