import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { tokenHash } from '../../cloud-sync/hub/auth/sessions.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

/** Monitor tokens on a real hub (SQLite, and PostgreSQL in the unit-pg project): made, listed, used, revoked. */
describe('monitor tokens', () => {
  let hub: Hub;
  let admin: AuthHeaders;

  beforeEach(async () => {
    ({ hub, admin } = await signedInHub(silent));
  });
  afterEach(async () => {
    await hub.stop();
  });

  const make = (name: string) =>
    hub.api.inject({ method: 'POST', url: '/auth/monitor-tokens', headers: admin, payload: { name } });
  const scrape = (token: string) =>
    hub.api.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });

  it('is shown once, kept only as its hash, opens /metrics until revoked, and each change is audited', async () => {
    const made = await make('prometheus-paris');
    expect(made.statusCode).toBe(201);
    const { token, monitorToken } = made.json<{ token: string; monitorToken: { id: string; name: string } }>();
    expect(token).toMatch(/^tessera-monitor\.[A-Za-z0-9_-]{43}$/);
    expect(monitorToken).toMatchObject({ name: 'prometheus-paris', createdBy: 'admin' });

    // Listed without the secret; the database holds its SHA-256 and not the token.
    const list = await hub.api.inject({ method: 'GET', url: '/auth/monitor-tokens', headers: admin });
    expect(list.json()).toEqual({ tokens: [monitorToken] });
    expect(list.body).not.toContain(token);
    const stored = await hub.store.db.all<Record<string, unknown>>('SELECT * FROM monitor_tokens');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token_hash).toBe(tokenHash(token));
    expect(JSON.stringify(stored)).not.toContain(token.split('.')[1]);

    const r = await scrape(token);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toMatch(/^tessera_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);

    expect(
      (await hub.api.inject({ method: 'DELETE', url: `/auth/monitor-tokens/${monitorToken.id}`, headers: admin }))
        .statusCode,
    ).toBe(204);
    const revoked = await scrape(token);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json()).toMatchObject({ code: 'auth.invalid' });
    expect(
      (await hub.api.inject({ method: 'DELETE', url: `/auth/monitor-tokens/${monitorToken.id}`, headers: admin }))
        .statusCode,
    ).toBe(404);

    const audit = await hub.api.inject({ method: 'GET', url: '/audit?entity=monitor_token', headers: admin });
    expect(
      audit
        .json<{ items: Array<{ action: string }> }>()
        .items.map((e) => e.action)
        .sort(),
    ).toEqual(['create', 'revoke']);
    expect(audit.body).not.toContain(token);
  });

  it('refuses a name taken or malformed, and a token that looks like one but was never made', async () => {
    expect((await make('scraper')).statusCode).toBe(201);
    const again = await make('scraper');
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict' });
    expect((await make('has space')).statusCode).toBe(400);
    expect((await make('')).statusCode).toBe(400);
    const forged = await scrape(`tessera-monitor.${'A'.repeat(43)}`);
    expect(forged.statusCode).toBe(401);
    // Two tokens are two secrets.
    const a = (await make('a')).json<{ token: string }>().token;
    const b = (await make('b')).json<{ token: string }>().token;
    expect(a).not.toBe(b);
    expect((await scrape(a)).statusCode).toBe(200);
    expect((await scrape(b)).statusCode).toBe(200);
  });
});
