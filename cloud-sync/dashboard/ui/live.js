/**
 * The live state of the dashboard, kept by the hub's server-sent events: occupancy and health
 * per site, open alarms, the latest events. Views subscribe and redraw what changed.
 */
import { carried, get } from './api.js';

/**
 * What the hub's live stream sends (shared/protocol/api/hub-dashboard.ts): its `hello`, then one
 * site's occupancy, health, alarm or event at a time.
 * @typedef {import('../../../shared/protocol/api/hub-auth.js').Account} Account
 * @typedef {import('../../../shared/protocol/api/hub-occupancy.js').SiteOccupancy} SiteOccupancy
 * @typedef {import('../../../shared/protocol/api/hub-occupancy.js').SiteHealth} SiteHealth
 * @typedef {import('../../../shared/protocol/api/hub-occupancy.js').Alarm} Alarm
 * @typedef {import('../../../shared/protocol/events.js').SiteEvent} SiteEvent
 * @typedef {import('../../../shared/protocol/api/hub-dashboard.js').StreamHello} Hello
 * @typedef {import('../../../shared/protocol/api/hub-dashboard.js').StreamEvent} StreamEvent
 * @typedef {import('../../../shared/protocol/api/hub-occupancy.js').NetworkOccupancy} NetworkOccupancy GET /occupancy
 * @typedef {import('../../../shared/protocol/api/hub-occupancy.js').SiteHealthList} SiteHealthList GET /site-health
 */

/**
 * What changed, as views hear it: the kind, and what it carries. `start` is the state that came
 * with the page, before the stream's `hello`.
 * @typedef {{ kind: 'start', data: null } | { kind: 'hello', data: Hello } | { kind: 'occupancy', data: SiteOccupancy } | { kind: 'health', data: SiteHealth }
 *   | { kind: 'alarm', data: Alarm } | { kind: 'event', data: SiteEvent } | { kind: 'connection', data: boolean }} Change
 * @typedef {(change: Change) => unknown} Listener
 */

const MAX_FEED = 50;
const whoAmI = () => get('/auth/me');

/**
 * @type {{
 *   account: Account | null, occupancy: Map<string, SiteOccupancy>, health: Map<string, SiteHealth>,
 *   alarms: Map<number, Alarm>, feed: SiteEvent[], connected: boolean,
 * }}
 */
export const state = {
  account: null,
  occupancy: new Map(),
  health: new Map(),
  alarms: new Map(),
  feed: [],
  connected: false,
};

/** @type {Set<Listener>} */
const listeners = new Set();
/**
 * @param {Listener} fn
 * @returns {() => void} that stops listening
 */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
/** @param {Change} change */
const emit = (change) => listeners.forEach((fn) => fn(change));

/** @type {EventSource | undefined} */
let source;
/** Whether a stream has said hello since the page loaded: from then on the stream's state holds. */
let greeted = false;

/**
 * Hands each `kind` event of the stream to `handle`, its data as the hub's schema of that event says.
 * @template {StreamEvent['event']} K
 * @param {EventSource} stream
 * @param {K} kind
 * @param {(data: Extract<StreamEvent, { event: K }>['data']) => void} handle
 */
function listen(stream, kind, handle) {
  stream.addEventListener(kind, (m) => handle(JSON.parse(m.data)));
}

export function connect() {
  disconnect();
  source = new EventSource('/events/stream');
  listen(source, 'hello', (hello) => {
    state.account = hello.account;
    state.occupancy = new Map(hello.occupancy.sites.map((s) => [s.site, s]));
    state.health = new Map(hello.health.map((h) => [h.site, h]));
    greeted = true;
    setConnected(true);
    emit({ kind: 'hello', data: hello });
  });
  listen(source, 'occupancy', (o) => {
    state.occupancy.set(o.site, o);
    emit({ kind: 'occupancy', data: o });
  });
  listen(source, 'health', (h) => {
    state.health.set(h.site, h);
    emit({ kind: 'health', data: h });
  });
  listen(source, 'alarm', (a) => {
    state.alarms.set(a.id, a);
    emit({ kind: 'alarm', data: a });
  });
  listen(source, 'event', (e) => {
    state.feed.unshift(e);
    state.feed.length = Math.min(state.feed.length, MAX_FEED);
    emit({ kind: 'event', data: e });
  });
  source.onerror = () => {
    setConnected(false);
    // Closed for good (the hub answered 401, or the stream ended with its session): ask who we are,
    // which shows the login page if the session is over, or open the stream again.
    if (source?.readyState === EventSource.CLOSED) whoAmI().then(connect, () => {});
  };
}

/**
 * Puts the occupancy and health of the sites that came with the page (the hub's answers to GET
 * /occupancy and /site-health, api.js `carried`) in the state, so that the overview is drawn with
 * them without waiting for the stream to open; its hello replaces them. Without them (the hub
 * refused them, or could not read them as it sent the page), the overview waits for the hello.
 */
export function putCarriedSites() {
  /** @type {NetworkOccupancy | undefined} */
  const occupancy = carried('/occupancy');
  /** @type {SiteHealthList | undefined} */
  const health = carried('/site-health');
  if (!occupancy || !health || greeted) return;
  state.occupancy = new Map(occupancy.sites.map((s) => [s.site, s]));
  state.health = new Map(health.sites.map((h) => [h.site, h]));
  emit({ kind: 'start', data: null });
}

export function disconnect() {
  source?.close();
  source = undefined;
  setConnected(false);
}

/** @param {boolean} on */
function setConnected(on) {
  if (state.connected === on) return;
  state.connected = on;
  emit({ kind: 'connection', data: on });
}

/** The network total over the sites this account sees. */
export function networkTotal() {
  let present = 0;
  let capacity = 0;
  for (const s of state.occupancy.values()) {
    present += s.present;
    capacity += s.capacity ?? 0;
  }
  return { present, capacity, rate: capacity > 0 ? present / capacity : null };
}
