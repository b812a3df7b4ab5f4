import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { ERROR_TABLE } from '../../shared/platform/error-table.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { pgAdmin, testHubDb } from '../harness/hub-db.js';

/** The hub API while PostgreSQL goes away (the unit-pg project only). */
describe('hub API on PostgreSQL: the database lost mid-request', () => {
  it('a directory change whose connection is cut answers 503 store.unavailable with Retry-After, not 400; the retry goes through', async () => {
    const hub = createHub({
      dbPath: testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: pino({ level: 'silent' }),
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    let cutNext = false;
    // After authentication, before the route: the server ends the hub's connection, as a restart of PostgreSQL would.
    hub.api.addHook('preHandler', async (req) => {
      if (!cutNext || !req.url.startsWith('/directory/')) return;
      cutNext = false;
      const pid = hub.store.db.prepare<[], number>('SELECT pg_backend_pid()').pluck().get();
      pgAdmin(`SELECT pg_terminate_backend(${pid}, 5000)`);
    });
    try {
      const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
      const plan = { name: '24/7', access: 'always', sites: 'all' };
      cutNext = true;
      const lost = await hub.api.inject({
        method: 'PUT',
        url: '/directory/plans/always',
        headers: admin,
        payload: plan,
      });
      expect(lost.statusCode, lost.body).toBe(503);
      expect(lost.json()).toMatchObject({
        code: 'store.unavailable',
        message: expect.stringContaining('lost the connection') as string,
      });
      expect(lost.headers['retry-after']).toBe(String(ERROR_TABLE['store.unavailable'].retryAfterSeconds));
      // The next call reconnects: the same request, sent again, is taken.
      const again = await hub.api.inject({
        method: 'PUT',
        url: '/directory/plans/always',
        headers: admin,
        payload: plan,
      });
      expect(again.statusCode, again.body).toBe(200);
      expect((await hub.api.inject({ url: '/directory/plans/always', headers: admin })).json()).toMatchObject({
        item: { id: 'always', name: '24/7' },
      });
    } finally {
      await hub.stop();
    }
  });
});
