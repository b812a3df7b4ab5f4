import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

describe("the dashboard's static files", () => {
  let hub: Hub;
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock(0),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
  });
  afterEach(() => hub.stop());

  it('GET / is the page, without a login, under a Content-Security-Policy that allows only the hub itself', async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body).toContain('<script type="module" src="/ui/app.js">');
  });

  it('the page preloads every module the app imports before it runs, and no page fetched on demand', async () => {
    const page = (await hub.api.inject({ method: 'GET', url: '/' })).body;
    const preloaded = [...page.matchAll(/<link rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1]);
    // The chain app → i18n → messages → messages-self is the deepest: its end is fetched with the rest.
    for (const url of [
      '/ui/api.js',
      '/ui/live.js',
      '/ui/views/overview.js',
      '/ui/views/login.js',
      '/ui/messages-self.js',
    ])
      expect(preloaded, url).toContain(url);
    expect(preloaded).not.toContain('/ui/views/billing.js');
    expect(preloaded).not.toContain('/ui/app.js');
    for (const url of preloaded) expect((await hub.api.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    expect(page.indexOf('rel="modulepreload"')).toBeLessThan(page.indexOf('<script type="module" src="/ui/app.js">'));
  });

  it('serves the modules and uPlot as JavaScript, gzipped when accepted, and 304 for an unchanged ETag', async () => {
    const plain = await hub.api.inject({ method: 'GET', url: '/ui/app.js' });
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const zipped = await hub.api.inject({
      method: 'GET',
      url: '/ui/app.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(plain.body);
    const again = await hub.api.inject({
      method: 'GET',
      url: '/ui/app.js',
      headers: { 'if-none-match': String(plain.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const uplot = await hub.api.inject({ method: 'GET', url: '/ui/vendor/uPlot.esm.js' });
    expect(uplot.statusCode).toBe(200);
    expect(uplot.body).toContain('export');
  });

  it('answers 404 not_found for a file it does not hold; a path out of ui/ never reaches a file; data routes still need a login', async () => {
    const missing = await hub.api.inject({ method: 'GET', url: '/ui/nope.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'not_found' });
    for (const url of [
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/views/../../../../package.json',
      '/ui/..%2f..%2fpackage.json',
    ]) {
      const r = await hub.api.inject({ method: 'GET', url });
      expect([401, 404], url).toContain(r.statusCode);
      expect(r.body, url).not.toContain('"name": "tessera"');
    }
    expect((await hub.api.inject({ method: 'GET', url: '/occupancy' })).statusCode).toBe(401);
  });
});
