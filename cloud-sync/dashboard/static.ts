import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { build, stop, type Plugin } from 'esbuild';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import { AuthRoutes } from '../../shared/protocol/api/hub-auth.js';
import { DashboardRoutes } from '../../shared/protocol/api/hub-dashboard.js';
import { OccupancyRoutes } from '../../shared/protocol/api/hub-occupancy.js';
import { PACKAGE_ROOT } from '../../shared/platform/package-root.js';
import { cookieToken } from '../hub/auth/register.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Nothing but the hub itself, and the page's own inline script and style sheet, each allowed by its
 * hash (`inline`: script-src, `style`: style-src).
 */
const securityHeaders = ({ scripts, style }: { scripts: readonly string[]; style: string }) => ({
  'content-security-policy': `default-src 'self'; img-src 'self' data:; style-src 'self' ${style}; script-src ${["'self'", ...scripts].join(' ')}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
});

/** The CSP source of `code`, an inline script or style sheet: its SHA-256. */
const hashSource = (code: string) => `'sha256-${createHash('sha256').update(code).digest('base64')}'`;

/** The CSP source of each inline script of `html` (a `<script>` without attributes). */
const inlineScriptHashes = (html: string): string[] =>
  [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(([, code = '']) => hashSource(code));

interface Asset {
  body: Buffer;
  /** The same, gzipped once at start, for the browsers that accept it (all of them). */
  gzip: Buffer;
  type: string;
  etag: string;
}

/** What the hub serves under `/` and `/ui/`, by URL. */
export type DashboardAssets = ReadonlyMap<string, Asset>;

export const UI_DIR = join(PACKAGE_ROOT, 'cloud-sync', 'dashboard', 'ui');

/** Made once per folder and process: the files do not change under a running hub. */
const made = new Map<string, Promise<DashboardAssets>>();

/**
 * What the hub serves under `/ui/`, by URL: the page, its style sheet, its modules as bundled by
 * `bundleModules` (not the module files themselves), and uPlot from node_modules under `/ui/vendor/`.
 */
export function dashboardAssets(uiDir = UI_DIR): Promise<DashboardAssets> {
  let assets = made.get(uiDir);
  if (!assets) {
    assets = readAssets(uiDir);
    made.set(uiDir, assets);
    assets.catch(() => made.delete(uiDir));
  }
  return assets;
}

async function readAssets(uiDir: string): Promise<Map<string, Asset>> {
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
  for (const entry of readdirSync(uiDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || extname(entry.name) === '.js') continue;
    const file = join(entry.parentPath, entry.name);
    put(urlOf(uiDir, file), readFileSync(file));
  }
  for (const [url, body] of await bundled(uiDir)) put(url, body);
  const require = createRequire(import.meta.url);
  put('/ui/vendor/uPlot.esm.js', readFileSync(require.resolve('uplot/dist/uPlot.esm.js')));
  put('/ui/vendor/uPlot.min.css', readFileSync(require.resolve('uplot/dist/uPlot.min.css')));
  return assets;
}

/** Bundles in progress: esbuild's service process is stopped when the last ends (not left running beside the hub). */
let bundling = 0;

async function bundled(uiDir: string): Promise<Map<string, Buffer>> {
  bundling++;
  try {
    return await bundleModules(uiDir);
  } finally {
    if (--bundling === 0) await stop();
  }
}

/** The entry module, which index.html loads; the bundle of the first load is served at its URL. */
const APP = '/ui/app.js';

/** The URL of a file under ui/. */
const urlOf = (uiDir: string, file: string) => `/ui/${relative(uiDir, file).split(sep).join('/')}`;

/**
 * esbuild's outputs are made in memory under this folder (nothing is written), so that each
 * output's path is its URL; imports between them are relative and stay right under `/ui/`.
 */
const OUT = '/ui';

/**
 * Where the imports of ui/'s modules lead once bundled. An import that leaves ui/ is uPlot, served
 * apart (`/ui/vendor/`). Those of `shared` (URLs) go to the app's bundle, which holds them. With
 * `inline`, a module loaded with `import()` stays a file of its own, at its URL, unless it is one of
 * these (bundled where it is imported then).
 */
function imports(
  uiDir: string,
  { shared, inline }: { shared?: ReadonlySet<string>; inline?: ReadonlySet<string> },
): Plugin {
  return {
    name: 'tessera-dashboard-imports',
    setup(b) {
      b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
        if (!args.importer.startsWith(uiDir + sep)) return undefined;
        const url = new URL(args.path, `http://hub${urlOf(uiDir, args.importer)}`).pathname;
        if (url.startsWith('/ui/vendor/')) return { path: url, external: true };
        if (shared?.has(url)) return { path: APP, external: true };
        if (inline && args.kind === 'dynamic-import' && !inline.has(url)) return { path: url, external: true };
        return undefined;
      });
    },
  };
}

/**
 * The page's modules as the browser gets them, bundled by esbuild as the hub starts, in memory from
 * ui/ as it is (no build step; nothing built can fall behind the sources):
 *  - `/ui/app.js`: app.js and every module it imports (what the first load runs) in one file, so
 *    that the first load is the page, this script, the style sheet and the API reads, all at once;
 *    it also exports what those modules export, for the pages loaded later;
 *  - every other module (the pages loaded with `import()` and what they import) at its own URL, as
 *    esbuild splits them (shared code under `/ui/chunks/`), taking whatever belongs to the first
 *    load from `/ui/app.js`: the same module instances, so one live state and one locale.
 * Throws if a page imports a name the app's bundle does not export (a name two of the first load's
 * modules both export is exported by neither).
 */
async function bundleModules(uiDir: string): Promise<Map<string, Buffer>> {
  const common = {
    absWorkingDir: uiDir,
    bundle: true,
    format: 'esm',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
    outbase: uiDir,
  } as const;
  const entry = join(uiDir, 'app.js');
  // What the first load runs: app.js and its static imports, not what it loads with import().
  const graph = await build({
    ...common,
    entryPoints: [entry],
    outdir: OUT,
    metafile: true,
    plugins: [imports(uiDir, { inline: new Set() })],
  });
  const first = Object.keys(graph.metafile.inputs).map((input) => join(uiDir, input));
  const firstUrls = new Set(first.map((file) => urlOf(uiDir, file)));
  const app = await build({
    ...common,
    stdin: {
      // app.js first: the modules run in its order, then it does; the rest are only re-exported.
      contents: [entry, ...first.filter((file) => file !== entry)]
        .map((file, i) => `${i === 0 ? 'import' : 'export * from'} './${relative(uiDir, file).split(sep).join('/')}';`)
        .join('\n'),
      resolveDir: uiDir,
      sourcefile: 'first-load.js',
    },
    outfile: `${OUT}/app.js`,
    metafile: true,
    plugins: [imports(uiDir, { inline: firstUrls })],
  });
  const rest = readdirSync(uiDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && extname(e.name) === '.js')
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !firstUrls.has(urlOf(uiDir, file)));
  const pages = await build({
    ...common,
    entryPoints: rest,
    outdir: OUT,
    splitting: true,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [imports(uiDir, { shared: firstUrls })],
  });
  const exported = new Set(Object.values(app.metafile.outputs).flatMap((o) => o.exports));
  const bundles = new Map<string, Buffer>();
  for (const file of [...app.outputFiles, ...pages.outputFiles]) {
    for (const [, names = ''] of file.text.matchAll(FROM_APP))
      for (const name of names.split(',').map((n) => n.trim().split(/\s+/)[0] ?? ''))
        if (name && !exported.has(name)) throw new Error(`${file.path} imports ${name}, which ${APP} does not export`);
    bundles.set(file.path, Buffer.from(file.contents));
  }
  return bundles;
}

/** The names a bundled page imports from the app's bundle, as esbuild writes that import. */
const FROM_APP = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*"${APP.replaceAll('.', '\\.')}"`, 'g');

/** Where index.html takes its style sheet; the page is served with the sheet in its place. */
const STYLE_LINK = '<link rel="stylesheet" href="/ui/style.css" />';

/** The sites' state the overview is drawn with before the live stream opens, answered with the page. */
const SITE_READS = [OccupancyRoutes.network.url, OccupancyRoutes.healthAll.url];

const gzipped = promisify(gzip);

/**
 * The hub's answers to the first view's reads for the visitor's session cookie (who is signed in,
 * then the sites' state), as JSON for a `<script type="application/json">` element: asked of the
 * hub's own routes in process (the same authentication, roles and answers as over HTTP), only those
 * it answered 200, `<` escaped so that no text in them (a site's name) can close the element. `{}`
 * without a session cookie, and without reading the sites when the session is not valid.
 */
async function carriedAnswers(app: FastifyInstance, req: FastifyRequest): Promise<string> {
  const cookie = req.headers.cookie;
  if (cookieToken(cookie) === undefined) return '{}';
  const ask = (url: string) =>
    app.inject({ method: 'GET', url, headers: { cookie }, remoteAddress: req.ip }).then(
      (r) => (r.statusCode === 200 ? `${JSON.stringify(url)}:${r.body}` : undefined),
      () => undefined,
    );
  const me = await ask(AuthRoutes.me.url);
  if (me === undefined) return '{}';
  const sites = await Promise.all(SITE_READS.map(ask));
  return `{${[me, ...sites].filter((a) => a !== undefined).join(',')}}`.replaceAll('<', '\\u003c');
}

/**
 * The dashboard's static files: `/` is the single page, `/ui/*` its modules and styles, read and
 * bundled once at start (dashboardAssets) and served from memory with an ETag (no file system path
 * taken from the URL). These routes are public (auth/register.ts).
 *
 * The page is made for each visit: its style sheet inline, and for a signed-in visitor the hub's
 * answers to the first view's reads (`carriedAnswers`), so that the first load fetches one script
 * and nothing else before the overview is drawn. It carries the visitor's data, so it is never
 * stored by a cache (`no-store`).
 */
export function registerDashboardFiles(app: FastifyInstance, assets: DashboardAssets): void {
  const html = assets.get('/ui/index.html')?.body.toString() ?? '';
  const css = assets.get('/ui/style.css')?.body.toString() ?? '';
  if (!html.includes(STYLE_LINK)) throw new Error(`index.html has no ${STYLE_LINK} to put its style sheet in`);
  const [head = '', tail = ''] = html.replace(STYLE_LINK, () => `<style>${css}</style>`).split('</head>');
  const headers = securityHeaders({ scripts: inlineScriptHashes(html), style: hashSource(css) });
  const answer = (url: string) => (req: FastifyRequest, reply: FastifyReply) => {
    const asset = assets.get(url);
    if (!asset) return reply.callNotFound();
    void reply.headers({ ...headers, etag: asset.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' });
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    if (acceptsGzip(req)) return reply.type(asset.type).header('content-encoding', 'gzip').send(asset.gzip);
    return reply.type(asset.type).send(asset.body);
  };
  serve(app, DashboardRoutes.page, async (req, reply) => {
    const answers = await carriedAnswers(app, req);
    const page = Buffer.from(`${head}<script type="application/json" id="answers">${answers}</script></head>${tail}`);
    void reply.headers({ ...headers, 'cache-control': 'no-store', vary: 'cookie, accept-encoding' });
    void reply.type('text/html; charset=utf-8');
    if (acceptsGzip(req)) return reply.header('content-encoding', 'gzip').send(await gzipped(page));
    return reply.send(page);
  });
  serve(app, DashboardRoutes.file, (req, reply) => answer(req.url.split('?', 1)[0] ?? '')(req, reply));
}

const acceptsGzip = (req: FastifyRequest) => /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
