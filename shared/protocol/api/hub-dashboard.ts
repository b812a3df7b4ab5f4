import { z } from 'zod';
import { defineRoute } from './common.js';
import { Account } from './hub-auth.js';
import { LIVE_EVENTS, NetworkOccupancy, SiteHealth } from './hub-occupancy.js';

/** The operator's dashboard on the hub: its page and files, and its live stream (cloud-sync/dashboard/). */

/** The first event of a live stream: who is watching, and the occupancy and health of the sites they may see. */
export const StreamHello = z.object({ account: Account, occupancy: NetworkOccupancy, health: z.array(SiteHealth) });
export type StreamHello = z.infer<typeof StreamHello>;

/** Every server-sent event of `GET /events/stream` by its name: `hello` first, then the live feed's. */
export const STREAM_EVENTS = { hello: StreamHello, ...LIVE_EVENTS } as const;
export type StreamEventName = keyof typeof STREAM_EVENTS;
export type StreamEvent = {
  [K in StreamEventName]: { event: K; data: z.infer<(typeof STREAM_EVENTS)[K]> };
}[StreamEventName];

export const DashboardRoutes = {
  page: defineRoute({
    method: 'GET',
    url: '/',
    operationId: 'getDashboardPage',
    tags: ['dashboard'],
    summary: 'The dashboard page',
    response: {},
    produces: {
      'text/html': {
        description:
          "the single page; for a signed-in visitor, with the API's answers to GET /auth/me, /occupancy and /site-health for its session",
      },
    },
    public: true,
  }),
  file: defineRoute({
    method: 'GET',
    url: '/ui/*',
    operationId: 'getDashboardFile',
    tags: ['dashboard'],
    summary: "The dashboard's scripts, styles and chart library (the path may hold slashes)",
    response: { 304: null },
    produces: {
      'text/javascript': { description: 'a module of the page' },
      'text/css': { description: 'a style sheet' },
      'image/svg+xml': { description: 'an icon' },
    },
    errors: ['not_found'],
    public: true,
  }),
  stream: defineRoute({
    method: 'GET',
    url: '/events/stream',
    operationId: 'streamLiveEvents',
    tags: ['dashboard'],
    summary: 'Live server-sent events: hello, then occupancy, event, alarm and health messages',
    response: {},
    produces: {
      'text/event-stream': {
        description: 'server-sent events, each `event: <name>` with its JSON `data`; a heartbeat comment every 15 s',
        events: STREAM_EVENTS,
      },
    },
    errors: ['auth.rate_limited'],
  }),
};
