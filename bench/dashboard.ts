import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Response } from 'playwright-core';
import { dashboardAssets } from '../cloud-sync/dashboard/static.js';
import { createHub, type Hub } from '../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../edge/site/run.js';
import { systemClock } from '../shared/platform/clock.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { networkSiteYaml } from '../tests/fixtures/site-yaml.js';
import { loginOver, TEST_ADMIN, type AuthHeaders } from '../tests/harness/hub-auth.js';
import { fmtMs, percentile } from './stats.js';
import { silent } from '../tests/support/logger.js';

const TAPS = Number(process.env.BENCH_DASHBOARD_TAPS ?? 200);
const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 10);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Liveness bound of one step (not a performance threshold). */
const STEP_TIMEOUT_MS = 10_000;
const UIDS = ['04A1A1A1A1A1A1', '04B2B2B2B2B2B2'];

/**
 * Event to dashboard: a tap at a real edge (simulated reader) → edge store → sync worker → MQTT
 * (the hub's embedded broker) → hub ingest → occupancy → SSE client, against the same path up to
 * the hub's live feed (in process, no HTTP). Then the dashboard's first load: bytes and time in
 * Debian's chromium (skipped with a line when it is missing).
 */
export async function benchDashboard(): Promise<string[]> {
  const cpu = cpus();
  const lines = [
    '## Event to dashboard',
    `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; loopback only`,
    '',
  ];
  const net = await startNetwork();
  try {
    lines.push(...(await tapToStream(net)), '', ...(await firstLoad(net.apiUrl, net.admin)));
  } finally {
    await net.stop();
  }
  return lines;
}

interface Net {
  hub: Hub;
  site: RunningEdge;
  apiUrl: string;
  admin: AuthHeaders;
  stop(): Promise<void>;
}

async function startNetwork(): Promise<Net> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-dash-'));
  const hub = await createHub({
    dbPath: join(dir, 'hub.db'),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
  });
  const { mqttUrl, apiUrl } = await hub.start();
  await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 50 });
  writeFileSync(join(dir, 'site.yaml'), networkSiteYaml({ id: 'murat', mqttUrl, hubPublicKeyPem: hub.publicKeyPem }));
  const site = await runEdge({ configPath: join(dir, 'site.yaml'), simulate: true, log: silent });
  const admin = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
  const put = (path: string, body: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await put('/directory/plans/always', { name: '24/7', access: 'always' });
  for (const [i, uid] of UIDS.entries()) {
    await put(`/directory/members/m${i}`, { name: `Member ${i}`, plan: 'always' });
    await put(`/directory/badges/${uid}`, { member: `m${i}` });
  }
  const start = Date.now();
  while ((await tap(site, UIDS[0] ?? '', 'front-out')).reason === 'unknown_badge') {
    if (Date.now() - start > STEP_TIMEOUT_MS) throw new Error('the site never got the directory');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    hub,
    site,
    apiUrl,
    admin,
    async stop() {
      await site.stop();
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function tap(site: RunningEdge, uid: string, reader: string): Promise<{ granted: boolean; reason: string }> {
  const res = await fetch(`${site.url}/simulate/tap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reader, uid }),
  });
  return (await res.json()) as { granted: boolean; reason: string };
}

/** Waits for the next SSE `occupancy` message on an open stream; resolves with its arrival time. */
function occupancyStream(apiUrl: string, admin: AuthHeaders): Promise<{ next(): Promise<number>; close(): void }> {
  const abort = new AbortController();
  return fetch(`${apiUrl}/events/stream`, {
    headers: { authorization: admin.authorization },
    signal: abort.signal,
  }).then((res) => {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    return {
      async next() {
        for (;;) {
          const i = buffer.indexOf('event: occupancy\n');
          const end = i >= 0 ? buffer.indexOf('\n\n', i) : -1;
          if (end >= 0) {
            buffer = buffer.slice(end + 2);
            return performance.now();
          }
          const r = await reader.read();
          if (r.done) throw new Error('the stream ended');
          buffer += decoder.decode(r.value, { stream: true });
        }
      },
      close: () => abort.abort(),
    };
  });
}

async function tapToStream(net: Net): Promise<string[]> {
  const stream = await occupancyStream(net.apiUrl, net.admin);
  const feedAt: number[] = [];
  const off = net.hub.live.feed.subscribe((m) => m.kind === 'occupancy' && feedAt.push(performance.now()));
  const toFeed: number[] = [];
  const toStream: number[] = [];
  try {
    for (let i = 0; i < TAPS; i++) {
      // In, then out: every tap changes the occupancy.
      const reader = i % 2 === 0 ? 'front-in' : 'front-out';
      // A random pause first: taps are not in step with the timers on the way (the edge's
      // status and ack-timeout tick, the hub's occupancy publication), so every phase is sampled.
      await new Promise((r) => setTimeout(r, Math.random() * 250));
      const arrived = stream.next();
      const t0 = performance.now();
      const result = await tap(net.site, UIDS[0] ?? '', reader);
      if (!result.granted && reader === 'front-in') throw new Error(`tap refused: ${result.reason}`);
      const t1 = await Promise.race([
        arrived,
        new Promise<number>((_, reject) =>
          setTimeout(() => reject(new Error('no occupancy message')), STEP_TIMEOUT_MS),
        ),
      ]);
      toStream.push(t1 - t0);
      const f = feedAt.shift();
      if (f !== undefined) toFeed.push(f - t0);
      feedAt.length = 0;
    }
  } finally {
    off();
    stream.close();
  }
  toFeed.sort((a, b) => a - b);
  toStream.sort((a, b) => a - b);
  const row = (what: string, s: number[]) =>
    `| ${what} | ${fmtMs(percentile(s, 50))} | ${fmtMs(percentile(s, 95))} | ${fmtMs(s[s.length - 1] ?? NaN)} |`;
  return [
    `### Tap at the edge → occupancy change at an SSE client (${TAPS} taps, goal p95 < 50 ms)`,
    '',
    '| path | p50 | p95 | max |',
    '|---|---|---|---|',
    row('tap → hub live feed (baseline: edge, sync, MQTT, ingest, projection)', toFeed),
    row('tap → SSE client (the same + HTTP stream)', toStream),
    `| ratio (SSE client / baseline) | ${(percentile(toStream, 50) / percentile(toFeed, 50)).toFixed(2)}× | ${(percentile(toStream, 95) / percentile(toFeed, 95)).toFixed(2)}× | |`,
    '',
    `SSE over the baseline, p95: ${fmtMs(percentile(toStream, 95) - percentile(toFeed, 95))}. p95 ${percentile(toStream, 95) < 50 ? 'meets' : 'MISSES'} the 50 ms goal (the edge sends an event as its transaction commits).`,
  ];
}

interface Load {
  ms: number;
  files: number;
  sent: number;
  decoded: number;
}

/**
 * Says on the page's console when the overview first drew (its `tessera:overview-drawn` mark): run
 * in each page as its document starts, so that the bench learns of the mark without evaluating
 * anything in the page while it loads (a Playwright evaluation there is work queued on the
 * renderer's main thread ahead of the page's own).
 */
const MARK = 'tessera:overview-drawn';
const SAY_MARK = `new PerformanceObserver((list, observer) => {
  if (list.getEntriesByName(${JSON.stringify(MARK)}).length === 0) return;
  observer.disconnect();
  console.debug(${JSON.stringify(MARK)});
}).observe({ type: 'mark', buffered: true });`;

/**
 * One cold load of `path` (a fresh context: an empty cache, as on a first visit; logged in by the
 * session cookie); `ready` returns its time on the browser's own clock, from the start of the
 * navigation (no Playwright round trip in it); counts the page and the dashboard files it fetched,
 * their bodies read once it is ready (not while it loads).
 */
async function coldLoad(
  browser: Browser,
  apiUrl: string,
  token: string,
  path: string,
  ready: (page: Page, url: string) => Promise<number>,
): Promise<Load> {
  const context = await browser.newContext();
  try {
    await context.addCookies([{ name: 'tessera_session', value: token, url: apiUrl }]);
    // In both loads, so that they run the same script.
    await context.addInitScript(SAY_MARK);
    const page = await context.newPage();
    const responses: Response[] = [];
    page.on('response', (r) => {
      // The page and its files; not the API answers nor the SSE stream, whose body never ends.
      const at = new URL(r.url()).pathname;
      if (at === path || at.startsWith('/ui/')) responses.push(r);
    });
    const ms = await ready(page, `${apiUrl}${path}`);
    const all = await Promise.all(
      responses.map((r) =>
        Promise.all([r.request().sizes(), r.body()]).then(([s, b]) => ({
          sent: s.responseBodySize,
          decoded: b.length,
        })),
      ),
    );
    return {
      ms,
      files: all.length,
      sent: all.reduce((n, x) => n + x.sent, 0),
      decoded: all.reduce((n, x) => n + x.decoded, 0),
    };
  } finally {
    await context.close();
  }
}

/** Loads `url`; the end of its load event, ms from the start of its navigation. */
async function loadEventEnd(page: Page, url: string): Promise<number> {
  await page.goto(url);
  return Number(await page.evaluate("performance.getEntriesByType('navigation')[0]?.loadEventEnd"));
}

/** Loads `url`; when the overview first drew the site cards (its mark), ms from the start of the navigation. */
async function overviewDrawn(page: Page, url: string): Promise<number> {
  const drawn = page.waitForEvent('console', { predicate: (m) => m.text() === MARK, timeout: STEP_TIMEOUT_MS });
  await page.goto(url);
  await drawn;
  return page.evaluate((name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN, MARK);
}

/**
 * The dashboard's first load: every file it fetches (bytes sent, gzipped, and decoded), and the
 * time to a drawn overview in chromium; against, in turn with it, a cold load of the hub's
 * /health (one small JSON answer) in the same browser: what any first visit costs there.
 */
async function firstLoad(apiUrl: string, admin: AuthHeaders): Promise<string[]> {
  const head = ['### Dashboard first load', ''];
  const assets = await dashboardAssets();
  const uplot = ['/ui/vendor/uPlot.esm.js', '/ui/vendor/uPlot.min.css'].map((u) => assets.get(u));
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const chartLine = `The site page loads uPlot on demand: ${kib(uplot.reduce((n, a) => n + (a?.gzip.length ?? 0), 0))} gzipped (${kib(uplot.reduce((n, a) => n + (a?.body.length ?? 0), 0))} decoded).`;
  if (!existsSync(CHROMIUM))
    return [...head, `skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`, chartLine];
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const token = admin.authorization.replace(/^Bearer /, '');
    const [dashboard, bare]: [Load[], Load[]] = [[], []];
    for (let i = 0; i < LOADS; i++) {
      bare.push(await coldLoad(browser, apiUrl, token, '/health', loadEventEnd));
      dashboard.push(await coldLoad(browser, apiUrl, token, '/', overviewDrawn));
    }
    const ms = (loads: Load[]) => loads.map((l) => l.ms).sort((a, b) => a - b);
    const [d, b] = [ms(dashboard), ms(bare)];
    const last = dashboard.at(-1);
    const row = (what: string, s: number[], l: Load | undefined) =>
      `| ${what} | ${fmtMs(percentile(s, 50))} | ${fmtMs(s.at(-1) ?? NaN)} | ${l?.files ?? '?'} | ${kib(l?.sent ?? NaN)} | ${kib(l?.decoded ?? NaN)} |`;
    return [
      ...head,
      `${LOADS} cold load${LOADS === 1 ? '' : 's'} of each, in turn, each timed by the browser from the start of its navigation: the dashboard to its drawn network overview (login cookie set; the mark the overview makes when it first draws the site cards, from the page's first reads or the live stream's hello), /health to the end of its load event.`,
      '',
      '| load | p50 | max | files | sent (gzip) | decoded |',
      '|---|---|---|---|---|---|',
      row('dashboard: / → drawn overview', d, last),
      row('baseline: /health (one JSON answer), to its load event', b, bare.at(-1)),
      `| ratio (dashboard / baseline) | ${(percentile(d, 50) / percentile(b, 50)).toFixed(1)}× | ${((d.at(-1) ?? NaN) / (b.at(-1) ?? NaN)).toFixed(1)}× | | | |`,
      '',
      chartLine,
    ];
  } finally {
    await browser.close();
  }
}
