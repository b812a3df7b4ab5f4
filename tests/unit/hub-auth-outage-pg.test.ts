import { describe, expect, it } from 'vitest';
import { HubAuth } from '../../cloud-sync/hub/auth/hub-auth.js';
import { registerAuth } from '../../cloud-sync/hub/auth/register.js';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { ERROR_TABLE } from '../../shared/platform/error-table.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { TEST_PG_URL, testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { tcpProxy } from '../support/tcp-proxy.js';

const ADMIN = { username: 'admin', password: 'tessera-test-admin' };

/** The session check in front of the API while PostgreSQL goes away (the unit-pg project only). */
describe('hub authentication on PostgreSQL: the database gone', () => {
  it('a request whose session cannot be checked answers 503 store.unavailable, not 401; public paths need no database', async () => {
    const target = new URL(TEST_PG_URL);
    const pg = await tcpProxy({ host: target.hostname || '127.0.0.1', port: Number(target.port || 5432) });
    const url = new URL(await testHubDb());
    url.host = `127.0.0.1:${pg.port}`;
    const db = await openHubDatabase(url.toString(), { connectTimeoutMs: 1_000, statementTimeoutMs: 2_000 });
    const app = createJsonApi(silent);
    try {
      const auth = await HubAuth.open({
        db,
        clock: new ManualClock('2026-11-23T08:00:00Z'),
        log: silent,
        initialAdmin: ADMIN,
        passwordCost: { N: 2 ** 10, r: 8, p: 1 },
      });
      registerAuth(app, auth);
      app.get('/health', async () => ({ ok: true }));
      app.get('/private', async () => ({ ok: true }));
      const login = () => app.inject({ method: 'POST', url: '/auth/login', payload: ADMIN, remoteAddress: '10.0.0.1' });
      const token = (await login()).json<{ token: string }>().token;
      const headers = { authorization: `Bearer ${token}` };
      expect((await app.inject({ url: '/private', headers })).statusCode).toBe(200);

      pg.refuse();
      pg.cutAll();
      const lost = await app.inject({ url: '/private', headers });
      expect(lost.statusCode, lost.body).toBe(503);
      expect(lost.json()).toMatchObject({ code: 'store.unavailable' });
      expect(lost.headers['retry-after']).toBe(String(ERROR_TABLE['store.unavailable'].retryAfterSeconds));
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
      // Logins the store could not check: 503 each, and none counted against the account.
      for (let i = 0; i < 6; i++) expect((await login()).json()).toMatchObject({ code: 'store.unavailable' });
      expect(auth.throttle.retryAfterMs(ADMIN.username, '10.0.0.1')).toBe(0);

      pg.accept();
      // The next call reconnects: the same session goes through again.
      expect((await app.inject({ url: '/private', headers })).statusCode).toBe(200);
    } finally {
      await app.close();
      await db.close();
      await pg.close();
    }
  });
});
