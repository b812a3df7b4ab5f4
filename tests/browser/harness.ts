import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { systemClock, type Clock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { FAST_PASSWORD_COST, TEST_ADMIN, loginOver, type AuthHeaders } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { eventuallyWithin } from '../support/eventually.js';
import { silent } from '../support/logger.js';

/** Debian's chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, 'artifacts');

/**
 * Whether the browser tests run: under CI they must (a missing chromium fails them loudly);
 * elsewhere they are skipped with a line saying what to install.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true')
    throw new Error(
      `browser tests: no chromium at ${CHROMIUM} under CI: .ci/run installs it with "apt-get install -y chromium"`,
    );
  console.warn(
    `browser tests skipped: no chromium at ${CHROMIUM} (install it with "apt-get install -y chromium", or set CHROMIUM_PATH)`,
  );
  return false;
}

const cleanups: Array<() => Promise<void> | void> = [];
export async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** A phone's screen (an iPhone 12 to 15), for the phone-first pages. */
export const PHONE = { width: 390, height: 844 } as const;

export interface BrowserOptions {
  viewport?: { width: number; height: number };
  /** The `prefers-color-scheme` the page sees: the dashboard has a dark palette of its own. */
  colorScheme?: 'light' | 'dark';
}

/** Chromium headless with a fresh profile, nothing fetched from outside (the flags of docs/dashboard.md). */
export async function openBrowser(options: BrowserOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: options.viewport ?? { width: 1100, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  cleanups.push(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  cleanups.push(() => {
    // A script error or a refused style or script (CSP) in the dashboard fails the test.
    const real = problems.filter((p) => !/401|Failed to load resource/.test(p));
    if (real.length > 0) throw new Error(`browser errors: ${real.join('\n')}`);
  });
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A hub alone, first start without an initial admin: it makes `admin` with a one-time password. */
export async function startFreshHub(): Promise<{ hub: Hub; apiUrl: string; oneTimePassword: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
  const hub = await createHub({
    dbPath: await lastingHubDb(dir),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
  });
  const { apiUrl } = await hub.start();
  cleanups.push(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  if (!hub.oneTimeAdmin) throw new Error('a fresh hub made no one-time admin');
  return { hub, apiUrl, oneTimePassword: hub.oneTimeAdmin.password };
}

export interface OperatorHub {
  hub: Hub;
  apiUrl: string;
  admin: AuthHeaders;
  /** An authenticated call to the hub API, as the operator. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** A new session for `call`, once the hub's clock has moved past the end of the first. */
  logInAgain(): Promise<void>;
}

/** The system's clock moved forward by `shiftMs` (changed at will): a hub living days later than the browser's test. */
export class ShiftedClock implements Clock {
  shiftMs = 0;
  now(): number {
    return Date.now() + this.shiftMs;
  }
  setTimeout(fn: () => void, ms: number) {
    return systemClock.setTimeout(fn, ms);
  }
  setInterval(fn: () => void, ms: number) {
    return systemClock.setInterval(fn, ms);
  }
}

export interface Network extends OperatorHub, SimulatedSite {
  mqttUrl: string;
}

/** A hub (embedded broker, free ports) started with the test operator, logged in; `clock`: the system's unless given. */
export async function startHub({ clock = systemClock }: { clock?: Clock } = {}): Promise<
  OperatorHub & { mqttUrl: string }
> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
  const hub = await createHub({
    dbPath: await lastingHubDb(dir),
    clock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
  });
  const { mqttUrl, apiUrl } = await hub.start();
  cleanups.push(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  let admin = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { ...admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as unknown };
  };
  const logInAgain = async () => {
    admin = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
  };
  return {
    hub,
    apiUrl,
    mqttUrl,
    get admin() {
      return admin;
    },
    call,
    logInAgain,
  };
}

/** A real edge of the network, simulated: its taps and door contact through its local API. */
export interface SimulatedSite {
  site: RunningEdge;
  /** Opens or closes the door contact of the site's door `front` (simulation). */
  door(open: boolean): Promise<void>;
  /** A tap on the site's simulated reader, through its local API. */
  tap(uid: string, reader?: string): Promise<{ granted: boolean; reason: string }>;
}

/** A room with a reader of its own at its door, added to a site's config. */
export interface RoomReader {
  /** The reader's id, its door's, and the resource it opens for. */
  reader: string;
  door: string;
  resource: string;
}

/**
 * Starts a real edge for `siteId` on the hub's broker (the network fixture's door, with a
 * contact so that it can be forced), declared at the hub first; `rooms` add room readers.
 */
export async function startSite(
  net: Pick<OperatorHub, 'hub'> & { mqttUrl: string },
  siteId: string,
  name: string,
  rooms: readonly RoomReader[] = [],
): Promise<SimulatedSite> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-browser-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await net.hub.sites.upsert({ id: siteId, name, timeZone: 'Europe/Paris', capacity: 10 });
  const config = join(dir, 'site.yaml');
  const yaml = networkSiteYaml({
    id: siteId,
    mqttUrl: net.mqttUrl,
    hubPublicKeyPem: net.hub.publicKeyPem,
    heartbeatSeconds: 5,
  });
  const readers = rooms.map(
    (r, i) => `, { id: ${r.reader}, match: "00 1${i}", role: room, door: ${r.door}, resource: ${r.resource} }`,
  );
  const doors = rooms.map((r, i) => `, { id: ${r.door}, relay: { line: ${20 + i} } }`);
  writeFileSync(
    config,
    yaml
      .replace('role: exit, door: front }', `role: exit, door: front }${readers.join('')}`)
      .replace('relay: { line: 17 } }', `relay: { line: 17 }, contact: { line: 27, debounceMs: 0 } }${doors.join('')}`),
  );
  const site = await runEdge({ configPath: config, simulate: true, log: silent });
  cleanups.push(() => site.stop());
  const tap = async (uid: string, reader = 'front-in') => {
    const res = await fetch(`${site.url}/simulate/tap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reader, uid }),
    });
    return (await res.json()) as { granted: boolean; reason: string };
  };
  const door = async (open: boolean) => {
    const res = await fetch(`${site.url}/simulate/doors/front`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ open }),
    });
    if (res.status !== 200) throw new Error(`door contact refused: ${res.status} ${await res.text()}`);
  };
  return { site, tap, door };
}

/** A hub and one real edge connected to it, as in tests/integration/network.test.ts. */
export async function startNetwork(siteId = 'murat'): Promise<Network> {
  const hub = await startHub();
  const site = await startSite(hub, siteId, 'Télécentre de Murat');
  return { ...hub, ...site };
}

/** Alice on a 24/7 plan with badge `uid`, once the site has her: she went in and out once. */
export async function seedAlice(net: Network, uid: string): Promise<void> {
  await net.call('PUT', '/directory/plans/always', { name: '24/7', access: 'always' });
  await net.call('PUT', '/directory/members/alice', { name: 'Alice Martin', plan: 'always' });
  await net.call('PUT', `/directory/badges/${uid}`, { member: 'alice' });
  await eventually(async () => (await net.tap(uid)).granted, 'the badge opens the site');
  await net.tap(uid, 'front-out');
}

/** The door relay as the simulated edge drives it: the door `front` is unlocked while it is energised. */
export function relayEnergised(net: Network): boolean {
  return net.site.edge.doors.get('front')?.state().mode === 'unlocked';
}

/**
 * A new browser, logged in as `username` (the test operator unless given), on the page of the site
 * `murat` opened from the overview, once the first item of its list under `heading` is shown.
 */
export async function openSitePage(
  net: Network,
  heading: string,
  password: string = TEST_ADMIN.password,
  username: string = TEST_ADMIN.username,
): Promise<Page> {
  const { page } = await openBrowser();
  await logIn(page, net.apiUrl, password, username);
  await page.locator('a.card.site[data-site="murat"]').click();
  await page.locator(`h2:has-text("${heading}") + ul > li`).first().waitFor();
  return page;
}

/** The page of the site `murat` as openSitePage opens it, for Manon, its site manager (created here). */
export async function openSiteAsSiteManager(net: Network, heading: string): Promise<Page> {
  const created = await net.call('POST', '/accounts', {
    username: 'manon',
    role: 'site_manager',
    sites: ['murat'],
    password: 'manon-password-1',
    mustChangePassword: false,
  });
  expect(created.status).toBe(201);
  return openSitePage(net, heading, 'manon-password-1', 'manon');
}

/** Polls until `check` holds, bounded in time: the liveness bound of a test, not a performance threshold. */
export const eventually = eventuallyWithin(15_000, 50);

export async function logIn(
  page: Page,
  apiUrl: string,
  password: string = TEST_ADMIN.password,
  username: string = TEST_ADMIN.username,
): Promise<void> {
  await page.goto(`${apiUrl}/`);
  await page.getByLabel(/Identifiant|Username/).fill(username);
  await page.getByLabel(/Mot de passe|Password/).fill(password);
  await page.getByRole('button', { name: /Se connecter|Log in/ }).click();
}
