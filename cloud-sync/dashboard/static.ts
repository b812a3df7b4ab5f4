import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { DashboardRoutes } from '../../shared/protocol/api/hub-dashboard.js';
import { PACKAGE_ROOT } from '../../shared/platform/package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/** The dashboard holds no data itself: every figure comes from the authenticated API. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Asset {
  body: Buffer;
  /** The same, gzipped once at start, for the browsers that accept it (all of them). */
  gzip: Buffer;
  type: string;
  etag: string;
}

export const UI_DIR = join(PACKAGE_ROOT, 'cloud-sync', 'dashboard', 'ui');

/** Every file under ui/ by its URL (`/ui/...`), plus uPlot from node_modules under `/ui/vendor/`. */
export function dashboardAssets(uiDir = UI_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const put = (url: string, body: Buffer) => {
    const type = TYPES[extname(url)];
    if (type === undefined) return;
    assets.set(url, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  };
  const add = (url: string, file: string) => {
    if (TYPES[extname(file)] !== undefined) put(url, readFileSync(file));
  };
  for (const entry of readdirSync(uiDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    add(`/ui/${relative(uiDir, file).split(sep).join('/')}`, file);
  }
  const require = createRequire(import.meta.url);
  add('/ui/vendor/uPlot.esm.js', require.resolve('uplot/dist/uPlot.esm.js'));
  add('/ui/vendor/uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'));
  const page = assets.get(PAGE);
  if (page) put(PAGE, Buffer.from(withModulePreloads(page.body.toString(), staticGraph(assets, APP))));
  return assets;
}

const PAGE = '/ui/index.html';
const APP = '/ui/app.js';
/** A module's static imports (`import … from './x.js'`, `import './x.js'`), not `import()` nor JSDoc types. */
const STATIC_IMPORT = /^(?:import|export)\s(?:[^'";]*?\sfrom\s)?'(\.{1,2}\/[^']+)'/gm;

/** The URLs of every module `entry` imports, directly or not, without `import()`: what runs before it. */
function staticGraph(assets: Map<string, Asset>, entry: string): string[] {
  const seen = new Set([entry]);
  for (const url of seen) {
    const source = assets.get(url)?.body.toString() ?? '';
    for (const [, spec = ''] of source.matchAll(STATIC_IMPORT)) seen.add(new URL(spec, `http://hub${url}`).pathname);
  }
  seen.delete(entry);
  return [...seen];
}

/**
 * The page with a `modulepreload` link per module of the app's graph: the browser fetches them all
 * at once from the page, instead of one level of imports after another.
 */
function withModulePreloads(html: string, modules: string[]): string {
  const links = modules.map((url) => `<link rel="modulepreload" href="${url}" />\n    `).join('');
  const script = `<script type="module" src="${APP}">`;
  if (!html.includes(script)) throw new Error(`${PAGE} has no ${script}`);
  return html.replace(script, `${links}${script}`);
}

/**
 * The dashboard's static files: `/` is the single page, `/ui/*` its modules and styles, read
 * once at start and served from memory with an ETag (no build step, no file system path taken
 * from the URL). These routes are public (auth/register.ts); they carry no data.
 */
export function registerDashboardFiles(app: FastifyInstance, assets = dashboardAssets()): void {
  const answer = (url: string) => (req: FastifyRequest, reply: FastifyReply) => {
    const asset = assets.get(url);
    if (!asset) return reply.callNotFound();
    void reply.headers({ ...SECURITY_HEADERS, etag: asset.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' });
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? ''))
      return reply.type(asset.type).header('content-encoding', 'gzip').send(asset.gzip);
    return reply.type(asset.type).send(asset.body);
  };
  serve(app, DashboardRoutes.page, answer('/ui/index.html'));
  serve(app, DashboardRoutes.file, (req, reply) => answer(req.url.split('?', 1)[0] ?? '')(req, reply));
}
