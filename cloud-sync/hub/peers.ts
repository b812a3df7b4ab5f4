import type { Logger } from 'pino';
import { normalize, type SeqRange } from './seq-ranges.js';
import type { HubDb } from './storage/hub-db.js';
import { finish, loadLibpq, redact, withTimeouts, type Libpq } from './storage/postgres.js';

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
const RECONNECT_MS = 1000;
/** Notices arriving within this many ms are told together: one read of who is in for all of them. */
const COALESCE_MS = 20;

export interface PeerNotice {
  instance: string;
  site: string;
  ranges: SeqRange[];
}

/** HubStore's `announce` for instance `instance`: one or more NOTIFY in the current transaction. */
export function peerAnnouncer(db: HubDb, instance: string): (site: string, seqs: readonly number[]) => void {
  const notify = db.prepare<[string, string]>('SELECT pg_notify(?, ?)');
  return (site, seqs) => {
    const ranges = normalize(seqs.map((s): SeqRange => [s, s]));
    for (let i = 0; i < ranges.length; i += RANGES_PER_NOTICE)
      notify.run(
        PEER_CHANNEL,
        JSON.stringify({ instance, site, ranges: ranges.slice(i, i + RANGES_PER_NOTICE) } satisfies PeerNotice),
      );
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

export interface PeerListenerDeps {
  url: string;
  /** This instance: its own notices are not news. */
  instance: string;
  log: Logger;
  /** Events other instances stored: the notices of the last few ms, told together. */
  onNotices: (notices: readonly PeerNotice[]) => void;
  /** The listening connection was lost and is back: notices may have been missed meanwhile. */
  onResync: () => void;
}

/** LISTENs for the other instances' notices on a connection of its own, reconnecting once a second when lost. */
export class PeerListener {
  private pq: Libpq | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: PeerNotice[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly deps: PeerListenerDeps) {
    this.log = deps.log.child({ module: 'peers' });
  }

  /** Connects and listens; throws store.unavailable if the first connection fails. */
  start(): void {
    this.listen();
    this.log.info({ instance: this.deps.instance, db: redact(this.deps.url) }, 'listening for the other hub instances');
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.flushTimer);
    if (this.pq) finish(this.pq);
    this.pq = undefined;
  }

  private listen(): void {
    const Pq = loadLibpq();
    const pq = new Pq();
    try {
      pq.connectSync(withTimeouts(this.deps.url));
    } catch (err) {
      finish(pq);
      throw err;
    }
    pq.exec(`LISTEN ${PEER_CHANNEL}`);
    if (pq.resultStatus() !== 'PGRES_COMMAND_OK') throw new Error(`LISTEN refused: ${pq.errorMessage()}`);
    pq.on('readable', () => this.read(pq));
    pq.startReader();
    this.pq = pq;
  }

  private read(pq: Libpq): void {
    if (pq !== this.pq) return;
    if (!pq.consumeInput()) return this.lost(pq);
    this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
    for (let n = pq.notifies(); n; n = pq.notifies()) {
      const notice = parseNotice(n.extra);
      if (!notice) this.log.warn({ bytes: n.extra.length }, 'unreadable notice from a hub instance ignored');
      else if (notice.instance !== this.deps.instance) this.pending.push(notice);
    }
  }

  /** A failure here would be thrown from a timer: logged, the live views catch up at the next notice. */
  private flush(): void {
    this.flushTimer = undefined;
    const notices = this.pending;
    this.pending = [];
    if (notices.length === 0 || this.stopped) return;
    try {
      this.deps.onNotices(notices);
    } catch (err) {
      this.log.warn(
        { err, notices: notices.length },
        'could not bring the live views up to date with the other instances',
      );
    }
  }

  private lost(pq: Libpq): void {
    this.log.warn(
      { err: pq.errorMessage().trim() },
      'lost the connection that listens for the other hub instances: reconnecting',
    );
    finish(pq);
    this.pq = undefined;
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      try {
        this.listen();
        this.log.info('listening for the other hub instances again');
        this.deps.onResync();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'cannot listen for the other hub instances yet');
        this.retry();
      }
    }, RECONNECT_MS);
    this.timer.unref();
  }
}
