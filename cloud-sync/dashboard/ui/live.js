/**
 * The live state of the dashboard, kept by the hub's server-sent events: occupancy and health
 * per site, open alarms, the latest events. Views subscribe and redraw what changed.
 */
import { get } from './api.js';

/**
 * Until shared/protocol/api has them, these mirror what the hub sends (cloud-sync/dashboard/stream.ts,
 * cloud-sync/hub/occupancy): the `hello` of the stream, then one site's occupancy, health, alarm or event.
 * @typedef {{ id: string, username: string, role: 'operator' | 'site_manager', sites: string[] }} Account
 * @typedef {{ site: string, name: string, timeZone: string | null, capacity: number | null, present: number, rate: number | null }} SiteOccupancy
 * @typedef {{ sites: SiteOccupancy[], total: { present: number, capacity: number, rate: number | null } }} NetworkOccupancy
 * @typedef {'ok' | 'degraded' | 'offline' | 'unknown'} HealthState
 * @typedef {{
 *   site: string, online: boolean | null, state: HealthState, lastEventAt: string | null, statusAt: string | null,
 *   backlog: number | null, missing: number, directory: { revision: number, ageSeconds: number | null, stale: boolean } | null,
 *   clock: { synced: boolean } | null, openAlarms: number, problems: string[],
 * }} SiteHealth
 * @typedef {{
 *   id: number, site: string, kind: string, subject: string, detail: string | null, raisedAt: string, count: number,
 *   clearedAt: string | null, clearedBy: string | null, acknowledgedAt: string | null, acknowledgedBy: string | null, open: boolean,
 * }} Alarm
 * @typedef {import('../../../shared/protocol/events.js').SiteEvent} SiteEvent
 * @typedef {{ account: Account, occupancy: NetworkOccupancy, health: SiteHealth[] }} Hello
 */

/**
 * What changed, as views hear it: the kind, and what it carries.
 * @typedef {{ kind: 'hello', data: Hello } | { kind: 'occupancy', data: SiteOccupancy } | { kind: 'health', data: SiteHealth }
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

export function connect() {
  disconnect();
  source = new EventSource('/events/stream');
  source.addEventListener('hello', (m) => {
    /** @type {Hello} */
    const hello = JSON.parse(m.data);
    state.account = hello.account;
    state.occupancy = new Map(hello.occupancy.sites.map((s) => [s.site, s]));
    state.health = new Map(hello.health.map((h) => [h.site, h]));
    setConnected(true);
    emit({ kind: 'hello', data: hello });
  });
  source.addEventListener('occupancy', (m) => {
    /** @type {SiteOccupancy} */
    const o = JSON.parse(m.data);
    state.occupancy.set(o.site, o);
    emit({ kind: 'occupancy', data: o });
  });
  source.addEventListener('health', (m) => {
    /** @type {SiteHealth} */
    const h = JSON.parse(m.data);
    state.health.set(h.site, h);
    emit({ kind: 'health', data: h });
  });
  source.addEventListener('alarm', (m) => {
    /** @type {Alarm} */
    const a = JSON.parse(m.data);
    state.alarms.set(a.id, a);
    emit({ kind: 'alarm', data: a });
  });
  source.addEventListener('event', (m) => {
    /** @type {SiteEvent} */
    const e = JSON.parse(m.data);
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
