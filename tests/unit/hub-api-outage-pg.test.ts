import pg from 'pg';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { ERROR_TABLE } from '../../shared/platform/error-table.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { pgAdmin, testHubDb } from '../harness/hub-db.js';
import { eventually } from '../support/eventually.js';

/** The hub API while PostgreSQL goes away (the unit-pg project only). */
describe('hub API on PostgreSQL: the database lost mid-request', () => {
  it('a directory change whose connection is cut answers 503 store.unavailable with Retry-After, not 400; the retry goes through', async () => {
    const dbPath = await testHubDb();
    const hub = await createHub({
      dbPath,
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: pino({ level: 'silent' }),
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    let cutNext = false;
    let cut: Promise<void> | undefined;
    // After authentication, before the route: the directory's table is held locked, so the route's
    // statement on it waits; the server then ends that statement's connection, as a restart of
    // PostgreSQL would (an idle connection of the pool would just be replaced), and lets go.
    hub.api.addHook('preHandler', async (req) => {
      if (!cutNext || !req.url.startsWith('/directory/')) return;
      cutNext = false;
      const locker = new pg.Client({ connectionString: dbPath });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE directory_entities IN ACCESS EXCLUSIVE MODE');
      const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const waiting = `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE ${lockerPid} = ANY(pg_blocking_pids(pid))`;
      cut = (async () => {
        try {
          await eventually(async () => (await pgAdmin([waiting])).length > 0, 'the route waits for the locked table');
        } finally {
          await locker.query('ROLLBACK');
          await locker.end();
        }
      })();
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
        message: expect.stringContaining('PostgreSQL') as string,
      });
      expect(lost.headers['retry-after']).toBe(String(ERROR_TABLE['store.unavailable'].retryAfterSeconds));
      await cut;
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
      await cut?.catch(() => undefined);
      await hub.stop();
    }
  });
});
