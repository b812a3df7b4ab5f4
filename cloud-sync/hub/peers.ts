import pg from 'pg';
import type { Logger } from 'pino';
import { TesseraError } from '../../shared/platform/errors.js';
import { normalize, type SeqRange } from './seq-ranges.js';
import type { Tx } from './storage/hub-db.js';
import { redact } from './storage/postgres.js';

/**
 * Several hub instances on one PostgreSQL database (docs/scaling.md): the instance that stores
 * events tells the others through NOTIFY, sent inside the ingest transaction (so delivered at
 * its commit, and never for one rolled back); each other instance LISTENs on a connection of
 * its own and brings its live side (occupancy in memory, SSE clients) up to date from the
 * database. Notifications carry only (instance, site, seq ranges): the events are read back.
 */
export const PEER_CHANNEL = 'tessera_applied';
/** Ranges per notification: PostgreSQL refuses payloads of 8,000 bytes or more. */
const RANGES_PER_NOTICE = 300;
/** After a lost connection, at most one attempt to listen again per this many ms. */
const RECONNECT_MS = 1000;
/** Notices arriving within this many ms are told together: one read of who is in for all of them. */
const COALESCE_MS = 20;
/** A connection attempt gives up after this long. */
const CONNECT_TIMEOUT_MS = 5000;
/** The listening connection is idle most of the time: TCP keepalives find a server gone silent. */
const KEEPALIVE_MS = 10_000;

export interface PeerNotice {
  instance: string;
  site: string;
  ranges: SeqRange[];
}

/** HubStore's `announce` for instance `instance`: one or more NOTIFY in the ingest transaction. */
export function peerAnnouncer(instance: string): (tx: Tx, site: string, seqs: readonly number[]) => Promise<void> {
  return async (tx, site, seqs) => {
    const ranges = normalize(seqs.map((s): SeqRange => [s, s]));
    for (let i = 0; i < ranges.length; i += RANGES_PER_NOTICE)
      await tx.run('SELECT pg_notify(?, ?)', [
        PEER_CHANNEL,
        JSON.stringify({ instance, site, ranges: ranges.slice(i, i + RANGES_PER_NOTICE) } satisfies PeerNotice),
      ]);
  };
}

function parseNotice(extra: string): PeerNotice | undefined {
  try {
    const n = JSON.parse(extra) as Partial<PeerNotice>;
    const ranges =
      Array.isArray(n.ranges) && n.ranges.every((r) => Array.isArray(r) && r.length === 2 && r.every(Number.isInteger))
        ? (n.ranges as SeqRange[])
        : undefined;
    return typeof n.instance === 'string' && typeof n.site === 'string' && ranges
      ? { instance: n.instance, site: n.site, ranges }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The listening connection's application_name, as PostgreSQL shows it. */
export const peerConnectionName = (instance: string) => `tessera hub ${instance}: peers`;

export interface PeerListenerDeps {
  url: string;
  /** This instance: its own notices are not news. */
  instance: string;
  log: Logger;
  /**
   * Events other instances stored: the notices of the last few ms, told together. Its promise
   * is waited for before the next notices are told; a rejection is logged.
   */
  onNotices: (notices: readonly PeerNotice[]) => void | Promise<void>;
  /** The listening connection was lost and is back: notices may have been missed meanwhile. */
  onResync: () => void | Promise<void>;
}

/**
 * LISTENs for the other instances' notices on a connection of its own (not one of the pool's:
 * it stays open, idle, for as long as the hub runs), reconnecting at most once a second when lost.
 */
export class PeerListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: PeerNotice[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** The listener's work under way (notices or a resync): the next waits for it. */
  private telling: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly deps: PeerListenerDeps) {
    this.log = deps.log.child({ module: 'peers' });
  }

  /** Connects and listens; rejects with store.unavailable if the first connection fails. */
  async start(): Promise<void> {
    await this.listen();
    this.log.info({ instance: this.deps.instance, db: redact(this.deps.url) }, 'listening for the other hub instances');
  }

  /** Stops listening; resolves once the connection is closed and the listener's work under way is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.flushTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    await this.telling;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.deps.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_MS,
      // Which connection this is, in pg_stat_activity.
      application_name: peerConnectionName(this.deps.instance),
    });
    // Heard from the start: an 'error' nobody listens to would end the process.
    client.on('error', (err) => this.lost(client, err.message));
    client.on('end', () => this.lost(client, 'connection closed'));
    client.on('notification', (n) => this.read(client, n.payload ?? ''));
    try {
      await client.connect();
      await client.query(`LISTEN ${PEER_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new TesseraError(
        'store.unavailable',
        `cannot listen for the other hub instances at ${redact(this.deps.url)}: ${(err as Error).message}`,
      );
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private read(client: pg.Client, payload: string): void {
    if (client !== this.client) return;
    const notice = parseNotice(payload);
    if (!notice) this.log.warn({ bytes: payload.length }, 'unreadable notice from a hub instance ignored');
    else if (notice.instance !== this.deps.instance) this.pending.push(notice);
    this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  /** Told after the work before it; a failure is logged: the live views catch up at the next notice. */
  private flush(): void {
    this.flushTimer = undefined;
    const notices = this.pending;
    this.pending = [];
    if (notices.length === 0 || this.stopped) return;
    this.tell(
      () => this.deps.onNotices(notices),
      (err) =>
        this.log.warn(
          { err, notices: notices.length },
          'could not bring the live views up to date with the other instances',
        ),
    );
  }

  private tell(work: () => void | Promise<void>, failed: (err: unknown) => void): void {
    this.telling = this.telling.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (err) {
        failed(err);
      }
    });
  }

  /** The listening connection is gone (its own error, or the server's end): another, a second later. */
  private lost(client: pg.Client, why: string): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.log.warn({ err: why }, 'lost the connection that listens for the other hub instances: reconnecting');
    client.end().catch(() => undefined);
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.listen().then(
        () => {
          if (this.stopped) return;
          this.log.info('listening for the other hub instances again');
          this.tell(
            () => this.deps.onResync(),
            (err) => this.log.warn({ err }, 'could not read the live views again after a reconnection'),
          );
        },
        (err: unknown) => {
          this.log.warn({ err: (err as Error).message }, 'cannot listen for the other hub instances yet');
          this.retry();
        },
      );
    }, RECONNECT_MS);
    this.timer.unref();
  }
}
