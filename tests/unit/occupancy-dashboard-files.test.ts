import { createHash } from 'node:crypto';
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
    expect(r.body).toContain('<script type="module" src="/ui/app.js" blocking="render">');
  });

  it("the page's inline script is allowed by its hash, and nothing else inline", async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/' });
    const inline = [...r.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(inline).toHaveLength(1);
    const csp = String(r.headers['content-security-policy']);
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1]?.split(' ');
    expect(scriptSrc).toEqual([
      "'self'",
      ...inline.map((code) => `'sha256-${createHash('sha256').update(code).digest('base64')}'`),
    ]);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("style-src 'self';");
  });

  it('the first load is one script: /ui/app.js holds app.js with the overview and every module they import', async () => {
    const page = (await hub.api.inject({ method: 'GET', url: '/' })).body;
    expect([...page.matchAll(/<script\b[^>]*\bsrc=/g)]).toHaveLength(1);
    expect(page).not.toContain('modulepreload');
    const app = (await hub.api.inject({ method: 'GET', url: '/ui/app.js' })).body;
    // One line of each module of the first load (api, dom, i18n and its messages, live, login, overview, app).
    for (const code of [
      'class extends Error',
      'function fill(el, ...children)',
      'SELF_SERVICE_MESSAGES',
      'function pickLocale',
      'function readSitesAhead',
      'function renderLogin',
      'tessera:overview-drawn',
      'void start();',
    ])
      expect(app, code).toContain(code);
    expect(app).not.toMatch(/^import\s/m);
    // The pages fetched on demand are not in it; it loads them from their own URLs.
    expect(app).not.toContain('function renderBilling');
    expect(app).toContain('import("/ui/views/billing.js")');
    // The module files of the first load are not served one by one any more.
    for (const url of ['/ui/api.js', '/ui/live.js', '/ui/views/overview.js'])
      expect((await hub.api.inject({ method: 'GET', url })).statusCode, url).toBe(404);
  });

  it('a page fetched on demand takes what the first load holds from /ui/app.js, and the rest from files that are served', async () => {
    const app = (await hub.api.inject({ method: 'GET', url: '/ui/app.js' })).body;
    const exported = new Set((/export \{([^}]*)\};\s*$/.exec(app)?.[1] ?? '').split(',').map((name) => name.trim()));
    const seen = new Set<string>();
    const fetchModule = async (url: string): Promise<void> => {
      if (seen.has(url)) return;
      seen.add(url);
      const r = await hub.api.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe('text/javascript; charset=utf-8');
      for (const [, names = '', from = ''] of r.body.matchAll(/import\s*(?:\{([^}]*)\}\s*from\s*)?"([^"]+)"/g)) {
        const target = new URL(from, `http://hub${url}`).pathname;
        if (target === '/ui/app.js')
          for (const name of names.split(',').map((n) => n.trim().split(/\s+/)[0] ?? ''))
            expect(exported, `${url} imports ${name}`).toContain(name);
        else if (!target.startsWith('/ui/vendor/')) await fetchModule(target);
      }
    };
    // The site page: its chart (uPlot) and its commands come with it, through shared chunks.
    await fetchModule('/ui/views/site.js');
    await fetchModule('/ui/views/billing.js');
    expect([...seen].some((url) => url.startsWith('/ui/chunks/'))).toBe(true);
    const site = (await hub.api.inject({ method: 'GET', url: '/ui/views/site.js' })).body;
    expect(site).toContain('from "/ui/app.js"');
    expect(site).toContain('function renderSite');
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
