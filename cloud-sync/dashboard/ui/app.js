import { carried, get, post, whenUnauthorized } from './api.js';
import { byId, fill, h } from './dom.js';
import { locale, setLocale, t } from './i18n.js';
import { connect, disconnect, onChange, putCarriedSites, state } from './live.js';
import { renderLogin } from './views/login.js';
import { renderOverview } from './views/overview.js';
/**
 * @typedef {import('./api.js').Failure} Failure
 * @typedef {import('./live.js').Account} Account
 * @typedef {import('./views/login.js').Me} Me
 */

const view = byId('view');
let leaveView = () => {};

/**
 * The pages each role has, in the order of the nav bar (index.html, `data-nav`); the first is its home.
 * A member and an employer's manager see only their self-service pages; the API refuses them the rest.
 * @type {Readonly<Record<Account['role'], readonly string[]>>}
 */
const NAV = {
  operator: ['overview', 'alarms', 'members', 'resources', 'billing'],
  site_manager: ['overview', 'alarms', 'members', 'resources'],
  member: ['me', 'book', 'bookings'],
  employer_manager: ['staff', 'staffBookings', 'invoices'],
};

/**
 * @typedef {(view: HTMLElement, ...args: string[]) => (() => void) | undefined | void} Render
 * @typedef {() => Promise<Render>} Page loads the page's module (once; the browser keeps it) and gives its render
 * @typedef {{ nav: string, pattern: RegExp, page: Page }} Route a page, under the nav entry it belongs to
 */
/**
 * The overview and the login page come with the app: the first thing a visitor sees. Every other
 * page's module is fetched when it first opens, so that the first load fetches only what it draws.
 */
const overview = () => Promise.resolve(renderOverview);
/** Hash routes, the first that matches; each belongs to a nav entry, so that a role reaches only its own. */
/** @type {Route[]} */
const ROUTES = [
  { nav: 'overview', pattern: /^\/$/, page: overview },
  {
    nav: 'overview',
    pattern: /^\/sites\/([a-z0-9][a-z0-9-]*)$/,
    page: () => import('./views/site.js').then((m) => m.renderSite),
  },
  { nav: 'alarms', pattern: /^\/alarms$/, page: () => import('./views/alarms.js').then((m) => m.renderAlarms) },
  { nav: 'members', pattern: /^\/members$/, page: () => import('./views/members.js').then((m) => m.renderMembers) },
  {
    nav: 'resources',
    pattern: /^\/resources$/,
    page: () => import('./views/resources.js').then((m) => m.renderResources),
  },
  { nav: 'billing', pattern: /^\/billing$/, page: () => import('./views/billing.js').then((m) => m.renderBilling) },
  {
    nav: 'billing',
    pattern: /^\/billing\/receivables$/,
    page: () => import('./views/receivables.js').then((m) => m.renderReceivables),
  },
  {
    nav: 'billing',
    pattern: /^\/billing\/seller$/,
    page: () => import('./views/seller.js').then((m) => m.renderSeller),
  },
  {
    nav: 'billing',
    pattern: /^\/billing\/buyers$/,
    page: () => import('./views/buyers.js').then((m) => m.renderBuyers),
  },
  {
    nav: 'billing',
    pattern: /^\/billing\/invoices\/((?:AV-)?\d{4}-\d{6})$/,
    page: () => import('./views/invoice.js').then((m) => (view, n) => m.renderInvoice(view, /** @type {string} */ (n))),
  },
  { nav: 'me', pattern: /^\/me$/, page: () => import('./views/me.js').then((m) => m.renderMe) },
  { nav: 'book', pattern: /^\/book$/, page: () => import('./views/book.js').then((m) => m.renderBook) },
  {
    nav: 'bookings',
    pattern: /^\/bookings$/,
    page: () => import('./views/my-bookings.js').then((m) => m.renderMyBookings),
  },
  { nav: 'staff', pattern: /^\/staff$/, page: () => import('./views/staff.js').then((m) => m.renderStaff) },
  {
    nav: 'staffBookings',
    pattern: /^\/staff\/bookings$/,
    page: () => import('./views/staff.js').then((m) => m.renderStaffBookings),
  },
  {
    nav: 'invoices',
    pattern: /^\/invoices$/,
    page: () => import('./views/staff.js').then((m) => m.renderEmployerInvoices),
  },
  {
    nav: 'invoices',
    pattern: /^\/invoices\/((?:AV-)?\d{4}-\d{6})$/,
    page: () =>
      import('./views/invoice.js').then(
        (m) => (view, n) => m.renderInvoice(view, /** @type {string} */ (n), EMPLOYER_INVOICES),
      ),
  },
];
/** Where an employer's manager reads one of their invoices, and goes back to. */
const EMPLOYER_INVOICES = { api: '/employer/invoices', back: '#/invoices' };

const currentPath = () => location.hash.replace(/^#/, '') || '/';
/** The invitation link's page, open without an account: `#/invite/<token>`. */
const inviteToken = () => /^\/invite\/([^/]+)$/.exec(currentPath())?.[1];

/**
 * The page of the hash for this account: its own, or its home when the hash names another role's.
 * @param {Account} account
 * @returns {{ page: Page, args: string[] }}
 */
function route(account) {
  const mine = NAV[account.role];
  const path = currentPath();
  for (const r of ROUTES) {
    const match = r.pattern.exec(path);
    if (match && mine.includes(r.nav)) return { page: r.page, args: match.slice(1).map(String) };
  }
  const home = /** @type {Route} */ (ROUTES.find((r) => r.nav === mine[0]));
  const homeHash = /** @type {HTMLAnchorElement} */ (document.querySelector(`[data-nav="${home.nav}"]`)).getAttribute(
    'href',
  );
  window.history.replaceState(null, '', homeHash);
  return { page: home.page, args: [] };
}

/** Counts the pages asked for: a page whose module arrives after the next was asked for is not drawn. */
let turn = 0;

async function show() {
  leaveView();
  leaveView = () => {};
  const mine = ++turn;
  const token = inviteToken();
  if (token)
    return drawn(
      mine,
      () => import('./views/invite.js'),
      (m) => m.renderInvite(view, token, signedIn),
    );
  if (!state.account) return;
  const { page, args } = route(state.account);
  markCurrent(currentPath());
  await drawn(mine, page, (render) => (leaveView = render(view, ...args) ?? (() => {})));
}

/**
 * Draws with what `load` gives, unless another page was asked for meanwhile; says so if it failed to load.
 * @template T
 * @param {number} mine the turn of the page
 * @param {() => Promise<T>} load
 * @param {(loaded: T) => unknown} draw
 */
async function drawn(mine, load, draw) {
  try {
    const loaded = await load();
    if (mine === turn) draw(loaded);
  } catch (caught) {
    if (mine === turn) fill(view, h('p.error', t('error.generic', { m: /** @type {Error} */ (caught).message })));
  }
}

/**
 * Marks the nav entry of `path`: the one whose address is the longest start of it.
 * @param {string} path
 */
function markCurrent(path) {
  const starts = (/** @type {HTMLAnchorElement} */ a) => {
    const href = (a.getAttribute('href') ?? '').slice(1);
    return path === href || (href !== '/' && path.startsWith(`${href}/`));
  };
  const links = [...navLinks()].filter((a) => !a.hidden);
  const best =
    links
      .filter(starts)
      .sort((a, b) => (b.getAttribute('href') ?? '').length - (a.getAttribute('href') ?? '').length)[0] ??
    links.find((a) => a.dataset.nav === 'overview');
  for (const a of links) {
    a.classList.toggle('current', a === best);
    if (a === best) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** The links of the nav bar (index.html), each with its page in `data-nav`. */
const navLinks = () => /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll('[data-nav]'));
const localeSelect = () => /** @type {HTMLSelectElement} */ (byId('locale'));

function translateShell() {
  for (const a of navLinks()) a.textContent = t(`nav.${a.dataset.nav}`);
  byId('logout').textContent = t('logout');
  localeSelect().value = locale();
  document.documentElement.lang = locale();
  showLive(state.connected);
}

/** @param {boolean} on */
function showLive(on) {
  const el = byId('live');
  el.textContent = on ? t('live.on') : t('live.off');
  el.classList.toggle('off', !on);
}

/**
 * The live stream (occupancy, alarms, events) is the network staff's.
 * @param {Account} account
 */
const isStaff = (account) => account.role === 'operator' || account.role === 'site_manager';

/** @param {Account} account */
function signedIn(account) {
  state.account = account;
  byId('nav').hidden = false;
  // Each role's pages only: billing is for network operators, a member sees only their own space.
  const mine = NAV[account.role];
  for (const a of navLinks()) a.hidden = !mine.includes(a.dataset.nav ?? '');
  byId('logout').hidden = false;
  const staff = isStaff(account);
  byId('live').hidden = !staff;
  if (staff) connect();
  void show();
}

function signedOut() {
  state.account = null;
  turn++; // a page still loading is not drawn over the login page
  disconnect();
  leaveView();
  leaveView = () => {};
  byId('nav').hidden = true;
  byId('logout').hidden = true;
  byId('live').hidden = true;
  renderLogin(view, signedIn);
}

async function start() {
  translateShell();
  whenUnauthorized(signedOut);
  localeSelect().addEventListener('change', () => {
    setLocale(localeSelect().value);
    translateShell();
    if (state.account || inviteToken()) void show();
    else renderLogin(view, signedIn);
  });
  byId('logout').addEventListener('click', async () => {
    await post('/auth/logout').catch(() => {});
    signedOut();
  });
  window.addEventListener('hashchange', () => (state.account || inviteToken() ? void show() : undefined));
  onChange((change) => change.kind === 'connection' && showLive(change.data));
  // An invitation link opens its page whether or not a session is open in this browser.
  if (inviteToken()) return show();
  try {
    // Who is signed in, and for the network's staff the sites' state, came with the page (a page
    // sent before the visitor signed in carries nothing: the hub answers 401, the login page shows).
    /** @type {Me} */
    const me = carried('/auth/me') ?? (await get('/auth/me'));
    // A one-time password must be replaced first: the login page leads there.
    if (me.account.mustChangePassword) return signedOut();
    if (isStaff(me.account)) putCarriedSites();
    signedIn(me.account);
  } catch (caught) {
    const err = /** @type {Failure} */ (caught);
    if (err.status !== 401) fill(view, h('p.error', t('error.generic', { m: err.message })));
  }
}

void start();
