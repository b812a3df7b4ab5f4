import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { HubLive } from '../hub/occupancy/live.js';
import { registerDashboardFiles } from './static.js';
import { registerEventStream } from './stream.js';

/** The operator's dashboard on the hub API: its static files at `/` and `/ui/`, and the live stream. */
export function registerDashboard(app: FastifyInstance, deps: { live: HubLive; clock: Clock; log: Logger }): void {
  registerDashboardFiles(app);
  registerEventStream(app, deps);
}
