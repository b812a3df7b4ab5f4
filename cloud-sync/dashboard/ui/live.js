/**
 * The live state of the dashboard, kept by the hub's server-sent events: occupancy and health
 * per site, open alarms, the latest events. Views subscribe and redraw what changed.
 */
import { get } from './api.js';

const MAX_FEED = 50;
const whoAmI = () => get('/auth/me');

export const state = {
  account: null,
  occupancy: new Map(),
  health: new Map(),
  alarms: new Map(),
  feed: [],
  connected: false,
};

const listeners = new Set();
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
const emit = (kind, data) => listeners.forEach((fn) => fn(kind, data));

let source;

export function connect() {
  disconnect();
  source = new EventSource('/events/stream');
  source.addEventListener('hello', (m) => {
    const hello = JSON.parse(m.data);
    state.account = hello.account;
    state.occupancy = new Map(hello.occupancy.sites.map((s) => [s.site, s]));
    state.health = new Map(hello.health.map((h) => [h.site, h]));
    setConnected(true);
    emit('hello', hello);
  });
  source.addEventListener('occupancy', (m) => {
    const o = JSON.parse(m.data);
    state.occupancy.set(o.site, o);
    emit('occupancy', o);
  });
  source.addEventListener('health', (m) => {
    const h = JSON.parse(m.data);
    state.health.set(h.site, h);
    emit('health', h);
  });
  source.addEventListener('alarm', (m) => {
    const a = JSON.parse(m.data);
    state.alarms.set(a.id, a);
    emit('alarm', a);
  });
  source.addEventListener('event', (m) => {
    const e = JSON.parse(m.data);
    state.feed.unshift(e);
    state.feed.length = Math.min(state.feed.length, MAX_FEED);
    emit('event', e);
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

function setConnected(on) {
  if (state.connected === on) return;
  state.connected = on;
  emit('connection', on);
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
