import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { z } from 'zod';
import { isoInZone } from '../../shared/protocol/schedule.js';
import type { Edge } from '../site/edge.js';
import type { SimGpio } from '../hardware/sim-gpio.js';
import type { SimReader } from '../hardware/sim-reader.js';
import { parseOr400, sendError } from '../../shared/platform/http-errors.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { registerSimulationRoutes } from './simulation-routes.js';
import { registerEdgeMetrics } from './metrics.js';
import { registerConsumableRoutes } from './consumable-routes.js';
import { guardRemoteAccess } from './remote-access.js';
import { refuseCrossOriginWrites } from './cross-origin.js';
import { type LinkState, linkHealth, linkProblems } from './link-health.js';

export interface ApiDeps {
  edge: Edge;
  log: Logger;
  clock: Clock;
  version: string;
  startedAt: number;
  /** Present in simulation: adds the /simulate routes. */
  sim?: { reader: SimReader; gpio: SimGpio };
  /** The link to the hub, for a site with a broker (its sync worker's state). */
  link?: () => LinkState | undefined;
}

const EventsQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const LockerParams = z.strictObject({ bank: z.string().min(1), number: z.coerce.number().int().min(1) });

/** The site's local API (fastify): loopback by default, read-mostly, JSON errors with codes. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const { edge } = deps;
  const zone = edge.config.site.timeZone;
  const app = createJsonApi(deps.log);
  guardRemoteAccess(app, edge.config.api.token);
  refuseCrossOriginWrites(app);

  app.get('/health', () => health(deps));
  app.get('/occupancy', () => {
    const present = edge.store.presence.list();
    const capacity = edge.config.site.capacity;
    return {
      site: edge.config.site.id,
      count: present.length,
      capacity,
      rate: Math.round((present.length / capacity) * 1000) / 1000,
      present: present.map((p) => ({ memberId: p.member, name: p.name ?? null, since: isoInZone(p.since, zone), door: p.door })),
    };
  });
  app.get('/events', (req, reply) => {
    const q = parseOr400(reply, EventsQuery, req.query, 'query');
    if (!q) return reply;
    const events = edge.store.events.list(q.after, q.limit);
    return { events, lastSeq: edge.store.events.lastSeq() };
  });
  app.get('/doors', () => ({ doors: [...edge.doors.values()].map((d) => d.state()) }));
  app.get('/lockers', () => ({ banks: edge.lockers.describe() }));
  app.post('/lockers/:bank/:number/release', (req, reply) => {
    const p = parseOr400(reply, LockerParams, req.params, 'locker');
    if (!p) return reply;
    if (!edge.lockers.describe().some((b) => b.id === p.bank)) return sendError(reply, 'not_found', `no locker bank "${p.bank}"`);
    return { released: edge.lockers.release(p.bank, p.number, deps.clock.now()) };
  });
  registerConsumableRoutes(app, edge.store, deps.clock);
  registerEdgeMetrics(app, edge);
  if (deps.sim) registerSimulationRoutes(app, edge, deps.sim, deps.clock);
  return app;
}

function health(deps: ApiDeps) {
  const { edge } = deps;
  const doors = [...edge.doors.values()].map((d) => d.state());
  const alarms = doors.filter((d) => d.alarm !== null).map((d) => ({ door: d.id, alarm: d.alarm }));
  const directory = edge.store.directory.describe() ?? null;
  const readers = edge.readers();
  const hubSeq = edge.store.events.behindHub() ?? null;
  const link = deps.link?.();
  const problems = [
    ...(alarms.length > 0 ? ['door.alarm'] : []),
    ...(directory === null ? ['directory.missing'] : []),
    ...(readers.some((r) => r.attached === null) ? ['reader.detached'] : []),
    ...linkProblems(edge, link),
    // The hub holds more of this site's events than its database: nothing is sent until renumbered.
    ...(hubSeq !== null ? ['sync.log_behind_hub'] : []),
  ];
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    problems,
    site: edge.config.site.id,
    version: deps.version,
    simulated: deps.sim !== undefined,
    uptimeSeconds: Math.floor((deps.clock.now() - deps.startedAt) / 1000),
    directory,
    lastSeq: edge.store.events.lastSeq(),
    sync: { lastSeq: edge.store.events.lastSeq(), ackedSeq: edge.store.events.ackedSeq(), hubSeq },
    occupancy: edge.store.presence.occupancy(),
    readers,
    doors,
    alarms,
    taps: { ...edge.taps.counts, byReason: Object.fromEntries(edge.taps.byReason) },
    link: linkHealth(edge, link),
    /** Device faults since start by kind: refused directory updates and commands, relay write failures, unreadable UIDs... */
    faults: Object.fromEntries(edge.faults),
  };
}
