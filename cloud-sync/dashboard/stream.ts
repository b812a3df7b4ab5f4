import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { serve } from '../../shared/platform/api-contract.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { DashboardRoutes, type StreamEvent } from '../../shared/protocol/api/hub-dashboard.js';
import { sessionAccount } from '../hub/auth/guards.js';
import { sessionToken } from '../hub/auth/register.js';
import type { HubLive } from '../hub/occupancy/live.js';
import { visibleTo } from '../hub/occupancy/routes.js';
import { eventFor } from '../hub/whole-uids.js';

export interface StreamDeps {
  live: HubLive;
  clock: Clock;
  log: Logger;
  /** A comment line this often keeps proxies and the browser from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /** A client that lets this many bytes pile up unread is cut off; it reconnects and reloads (default 1 MB). */
  maxBufferedBytes?: number;
  /** Streams one session may hold open at once; one more is refused with 429 (default 8: a few tabs). */
  maxPerSession?: number;
  /** Whether the request's session is still valid: checked at each heartbeat, a stream ends with its session. */
  /** Whether the stream's session still holds (read again at each heartbeat). */
  sessionValid: (req: FastifyRequest) => Promise<boolean>;
}

export const STREAMS_PER_SESSION = 8;

/**
 * `GET /events/stream`: server-sent events for the dashboard. First a `hello` with the account and
 * the current occupancy and health of its sites, then `occupancy`, `event`, `alarm` and `health`
 * messages as they happen, only about the sites the account may see; a heartbeat comment every
 * 15 s. A stream ends with its session (logout, expiry), checked at each heartbeat, and every stream
 * is ended when the hub stops, so that closing the server does not wait on them. Each stream holds
 * a socket, a feed listener and a heartbeat timer: one session holds at most `maxPerSession`.
 */
export function registerEventStream(app: FastifyInstance, deps: StreamDeps): void {
  const log = deps.log.child({ module: 'stream' });
  const streams = new Set<ServerResponse>();
  const maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
  const slots = new SessionSlots(deps.maxPerSession ?? STREAMS_PER_SESSION);
  app.addHook('preClose', (done) => {
    for (const res of [...streams]) res.end();
    done();
  });

  serve(app, DashboardRoutes.stream, (req, reply) => {
    const account = sessionAccount(req);
    // Keyed by the session token, not the account: two people sharing nothing but a role do not share a bound.
    const session = sessionToken(req) ?? req.account.id;
    if (!slots.take(session)) {
      log.warn({ account: req.account.username }, 'live stream refused: too many open for one session');
      throw new TesseraError(
        'auth.rate_limited',
        `this session already holds ${slots.max} live streams: close one first`,
      );
    }
    const visible = visibleTo(req);
    const res = reply.raw;
    void reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    streams.add(res);
    // Ending stops every writer at once: nothing is written after the end (a write after end is an error event).
    const end = () => {
      unsubscribe();
      heartbeat.cancel();
      if (streams.delete(res)) slots.give(session);
      if (!res.writableEnded) res.end();
    };
    const write = (text: string) => {
      if (res.writableEnded || res.destroyed) return;
      if (res.writableLength <= maxBuffered) return void res.write(text);
      log.warn({ account: req.account.username }, 'a live client reads too slowly: its stream is closed');
      end();
    };
    // Typed by the stream's contract: each event name with the data it carries.
    const format = ({ event, data }: StreamEvent) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    write('retry: 3000\n\n');
    // What changes while hello is read is sent after it: subscribed first, held until hello is out,
    // within the same bound as the socket's buffer (hello may wait on a slow database).
    const held: string[] = [];
    let heldBytes = 0;
    let greeted = false;
    const unsubscribe = deps.live.feed.subscribe((m) => {
      if (!visible(m.site)) return;
      const data = m.kind === 'event' ? eventFor(req.account, m.data) : m.data;
      const text = format({ event: m.kind, data } as StreamEvent);
      if (greeted) return write(text);
      held.push(text);
      heldBytes += text.length;
      if (heldBytes > maxBuffered) {
        log.warn(
          { account: req.account.username },
          'a live client waits for its first state too long: its stream is closed',
        );
        end();
      }
    });
    Promise.all([deps.live.projection.network(visible), deps.live.healthAll(visible)]).then(
      ([occupancy, health]) => {
        write(format({ event: 'hello', data: { account, occupancy, health } }));
        greeted = true;
        held.splice(0).forEach(write);
      },
      (err: unknown) => {
        log.warn({ err }, 'live stream: the first state could not be read; the client reconnects');
        end();
      },
    );
    // A session ended (logout, password change, expiry) ends its streams at the next heartbeat;
    // while the database cannot say, the stream goes on and is asked again at the next one.
    const heartbeat = deps.clock.setInterval(() => {
      deps.sessionValid(req).then(
        (valid) => (valid ? write(': heartbeat\n\n') : end()),
        (err: unknown) => {
          log.debug({ err }, 'live stream: session not checked (store unavailable)');
          write(': heartbeat\n\n');
        },
      );
    }, deps.heartbeatMs ?? 15_000);
    res.on('close', end);
    res.on('error', (err) => log.debug({ err: err.message }, 'live stream error'));
  });
}

/** How many streams each session holds, and the bound. */
class SessionSlots {
  private readonly held = new Map<string, number>();
  constructor(readonly max: number) {}

  take(session: string): boolean {
    const n = this.held.get(session) ?? 0;
    if (n >= this.max) return false;
    this.held.set(session, n + 1);
    return true;
  }

  give(session: string): void {
    const n = (this.held.get(session) ?? 1) - 1;
    if (n <= 0) this.held.delete(session);
    else this.held.set(session, n);
  }
}
