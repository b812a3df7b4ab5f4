import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { dashboardAssets, registerDashboardFiles, UI_DIR } from '../../cloud-sync/dashboard/static.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { FAST_PASSWORD_COST, login, loginAs, signedInHub, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { tempDir } from '../support/temp-dir.js';

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

  it("the page's inline script and style sheet are allowed by their hashes, and nothing else inline", async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/' });
    const inline = [...r.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(inline).toHaveLength(1);
    const csp = String(r.headers['content-security-policy']);
    const sources = (directive: string) => new RegExp(`${directive} ([^;]*)`).exec(csp)?.[1]?.split(' ');
    const hash = (code: string) => `'sha256-${createHash('sha256').update(code).digest('base64')}'`;
    expect(sources('script-src')).toEqual(["'self'", ...inline.map(hash)]);
    // The style sheet is in the page, as ui/style.css holds it, and no longer fetched.
    const styles = [...r.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(styles).toEqual([readFileSync(join(UI_DIR, 'style.css'), 'utf8')]);
    expect(r.body).not.toContain('/ui/style.css');
    expect(sources('style-src')).toEqual(["'self'", hash(styles[0] ?? '')]);
    expect(csp).not.toContain('unsafe-inline');
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
      'function putCarriedSites',
      'function carried',
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

describe('the page carries the first view’s reads for a signed-in visitor', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    ({ hub, admin } = await signedInHub(silent));
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 50 });
    await hub.sites.upsert({ id: 'lyon', name: 'Lyon', timeZone: 'Europe/Paris', capacity: 20 });
  });
  afterEach(() => hub.stop());

  const READS = ['/auth/me', '/occupancy', '/site-health'];
  /** GET / with `headers`: the page, and the answers it carries (its JSON element, parsed). */
  const page = async (headers: Record<string, string> = {}) => {
    const r = await hub.api.inject({ method: 'GET', url: '/', headers });
    expect(r.statusCode).toBe(200);
    const elements = [...r.body.matchAll(/<script type="application\/json" id="answers">([\s\S]*?)<\/script>/g)];
    expect(elements).toHaveLength(1);
    return { r, answers: JSON.parse(elements[0]?.[1] ?? '') as Record<string, unknown> };
  };
  const answer = async (url: string, cookie: string) =>
    (await hub.api.inject({ method: 'GET', url, headers: { cookie } })).json<unknown>();

  it("holds the hub's answers to GET /auth/me, /occupancy and /site-health for the session cookie, and is never stored by a cache", async () => {
    const { r, answers } = await page({ cookie: admin.cookie });
    expect(Object.keys(answers).sort()).toEqual([...READS].sort());
    for (const url of READS) expect(answers[url], url).toEqual(await answer(url, admin.cookie));
    expect((answers['/occupancy'] as { sites: unknown[] }).sites).toHaveLength(2);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(String(r.headers.vary)).toContain('cookie');
    expect(r.headers.etag).toBeUndefined();
  });

  it('holds only what the hub answers that account: a site manager’s own sites, nothing of the sites for a member', async () => {
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
    const forManager = (await page({ cookie: manager.cookie })).answers;
    expect(forManager['/occupancy']).toEqual(await answer('/occupancy', manager.cookie));
    expect((forManager['/occupancy'] as { sites: Array<{ site: string }> }).sites.map((s) => s.site)).toEqual([
      'murat',
    ]);
    expect(JSON.stringify(forManager)).not.toContain('Lyon');

    const put = (url: string, payload: object) => hub.api.inject({ method: 'PUT', url, headers: admin, payload });
    expect((await put('/directory/plans/always', { name: '24/7', access: 'always' })).statusCode).toBe(200);
    expect((await put('/directory/members/alice', { name: 'Alice', plan: 'always' })).statusCode).toBe(200);
    const created = await hub.api.inject({
      method: 'POST',
      url: '/accounts',
      headers: admin,
      payload: {
        username: 'alice',
        role: 'member',
        member: 'alice',
        password: 'alice-password-1',
        mustChangePassword: false,
      },
    });
    expect(created.statusCode).toBe(201);
    const member = await login(hub.api, 'alice', 'alice-password-1');
    const forMember = (await page({ cookie: member.cookie })).answers;
    expect(Object.keys(forMember)).toEqual(['/auth/me']);
    expect(forMember['/auth/me']).toEqual(await answer('/auth/me', member.cookie));
  });

  it('holds nothing without a valid session cookie: none, another cookie, an unknown or ended session, a bearer token alone', async () => {
    const other = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    await hub.api.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: other.cookie } });
    const visits: Array<Record<string, string>> = [
      {},
      { cookie: 'theme=dark; lang=fr' },
      { cookie: `tessera_session=${'A'.repeat(43)}` },
      { cookie: other.cookie },
      { authorization: admin.authorization },
    ];
    for (const headers of visits) expect((await page(headers)).answers, JSON.stringify(headers)).toEqual({});
  });

  it('a site whose name closes the element and opens a script stays text: the page holds only its own scripts', async () => {
    const name = '</script><script>alert(1)</script><!--<script>';
    await hub.sites.upsert({ id: 'evil', name, timeZone: 'Europe/Paris', capacity: 5 });
    const { r, answers } = await page({ cookie: admin.cookie });
    const sites = (answers['/occupancy'] as { sites: Array<{ site: string; name: string }> }).sites;
    expect(sites.find((s) => s.site === 'evil')?.name).toBe(name);
    // The module, the Intl line, the answers: nothing else opens a script.
    expect([...r.body.matchAll(/<script\b/gi)]).toHaveLength(3);
    expect(r.body).not.toContain('alert(1)</script>');
  });

  it('is gzipped when the browser accepts it, the same page', async () => {
    const plain = await hub.api.inject({ method: 'GET', url: '/', headers: { cookie: admin.cookie } });
    const zipped = await hub.api.inject({
      method: 'GET',
      url: '/',
      headers: { cookie: admin.cookie, 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(plain.body);
  });

  it('a page without the style sheet’s line is refused as the hub starts, not served without its styles', async () => {
    const dir = tempDir('tessera-ui-');
    cpSync(UI_DIR, dir, { recursive: true });
    const html = join(dir, 'index.html');
    writeFileSync(html, readFileSync(html, 'utf8').replace('<link rel="stylesheet" href="/ui/style.css" />', ''));
    const assets = await dashboardAssets(dir);
    const app = Fastify();
    try {
      expect(() => registerDashboardFiles(app, assets)).toThrow(/style\.css/);
    } finally {
      await app.close();
    }
  });
});
