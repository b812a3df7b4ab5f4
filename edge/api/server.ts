import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { isoInZone } from '../../shared/protocol/schedule.js';
import type { DoorController } from '../doors/door-controller.js';
import type { SimGpio } from '../hardware/sim-gpio.js';
import type { SimReader } from '../hardware/sim-reader.js';
import type { LockerBanks } from '../lockers/locker-banks.js';
import type { EdgeStore } from '../store/store.js';
import { routesOf, serve } from '../../shared/platform/api-contract.js';
import type { ErrorCode } from '../../shared/platform/errors.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { openApiDocument } from '../../shared/platform/openapi.js';
import { EdgeRoutes, type EdgeHealth } from '../../shared/protocol/api/edge.js';
import { registerSimulationRoutes, type SimulatedSite } from './simulation-routes.js';
import { type MetricsSite, registerEdgeMetrics } from './metrics.js';
import { registerConsumableRoutes } from './consumable-routes.js';
import { guardRemoteAccess } from './remote-access.js';
import { refuseCrossOriginWrites } from './cross-origin.js';
import { type LinkSite, type LinkState, linkHealth, linkProblems } from './link-health.js';

/** What the local API needs of the site (edge/site/edge.ts passes itself). */
export type ApiSite = MetricsSite &
  LinkSite &
  SimulatedSite & {
    readonly config: {
      readonly site: { readonly timeZone: string };
      readonly api: { readonly token?: string | undefined };
    };
    readonly store: EdgeStore;
    readonly doors: ReadonlyMap<string, Pick<DoorController, 'state'>>;
    readonly lockers: Pick<LockerBanks, 'describe' | 'release'>;
    /** Each configured reader, and the PC/SC reader bound to it now (null: none). */
    readers(): Array<{ id: string; role: string; attached: string | null }>;
  };

export interface ApiDeps {
  edge: ApiSite;
  log: Logger;
  clock: Clock;
  version: string;
  startedAt: number;
  /** Present in simulation: adds the /simulate routes. */
  sim?: { reader: SimReader; gpio: SimGpio };
  /** The link to the hub, for a site with a broker (its sync worker's state). */
  link?: () => LinkState | undefined;
}

/** What any route may answer besides its own: the remote-access guard (and the cross-origin refusal of a write: auth.forbidden too). */
const edgeCommonErrors = (): ErrorCode[] => ['auth.required', 'auth.invalid', 'auth.forbidden'];

/** The site API's OpenAPI 3.1 document, from the contracts of every route registered on `app`. */
export function edgeOpenApi(app: FastifyInstance) {
  return openApiDocument(routesOf(app), {
    title: 'Tessera site API',
    version: '1',
    description:
      'Loopback by default; from elsewhere `Authorization: Bearer <api.token>`. Errors are JSON `{ code, message, details: [{ path, message }] }`; a code always answers with the same status.',
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    commonErrors: edgeCommonErrors,
  });
}

/** The site's local API (fastify): loopback by default, read-mostly, JSON errors with codes. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const { edge } = deps;
  const zone = edge.config.site.timeZone;
  const app = createJsonApi(deps.log);
  guardRemoteAccess(app, edge.config.api.token);
  refuseCrossOriginWrites(app);

  serve(app, EdgeRoutes.health, () => health(deps));
  serve(app, EdgeRoutes.occupancy, () => {
    const present = edge.store.presence.list();
    const capacity = edge.config.site.capacity;
    return {
      site: edge.config.site.id,
      count: present.length,
      capacity,
      rate: Math.round((present.length / capacity) * 1000) / 1000,
      present: present.map((p) => ({
        memberId: p.member,
        name: p.name ?? null,
        since: isoInZone(p.since, zone),
        door: p.door,
      })),
    };
  });
  serve(app, EdgeRoutes.events, (req) => ({
    events: edge.store.events.list(req.query.after, req.query.limit),
    lastSeq: edge.store.events.lastSeq(),
  }));
  serve(app, EdgeRoutes.doors, () => ({ doors: [...edge.doors.values()].map((d) => d.state()) }));
  serve(app, EdgeRoutes.lockers, () => ({ banks: edge.lockers.describe() }));
  serve(app, EdgeRoutes.release, (req) => {
    const { bank, number } = req.params;
    if (!edge.lockers.describe().some((b) => b.id === bank))
      throw new TesseraError('not_found', `no locker bank "${bank}"`);
    return { released: edge.lockers.release(bank, number, deps.clock.now()) };
  });
  registerConsumableRoutes(app, edge.store, deps.clock);
  registerEdgeMetrics(app, edge, { clock: deps.clock, link: deps.link });
  if (deps.sim) registerSimulationRoutes(app, edge, deps.sim, deps.clock);
  let document: ReturnType<typeof edgeOpenApi> | undefined;
  // Made on first ask, once every route is registered.
  serve(app, EdgeRoutes.document, () => (document ??= edgeOpenApi(app)));
  return app;
}

function health(deps: ApiDeps): EdgeHealth {
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
    status: problems.length === 0 ? ('ok' as const) : ('degraded' as const),
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
