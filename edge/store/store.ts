import type { Db } from '../../shared/platform/sqlite.js';
import { openDatabase } from './db.js';
import { BookingRepo } from './booking-repo.js';
import { CommandRepo } from './command-repo.js';
import { DaysElsewhereRepo } from './days-elsewhere-repo.js';
import { DirectoryRepo } from './directory-repo.js';
import { EventLog } from './event-log.js';
import { LockerRepo } from './locker-repo.js';
import { PresenceRepo } from './presence-repo.js';
import { SunCounters } from './sun-counters.js';
import { ParkedEvents } from './parked.js';

/** The site's SQLite store: one database, one writer, and a transaction for each state change. */
export class EdgeStore {
  readonly events: EventLog;
  readonly directory: DirectoryRepo;
  readonly bookings: BookingRepo;
  readonly presence: PresenceRepo;
  readonly daysElsewhere: DaysElsewhereRepo;
  readonly lockers: LockerRepo;
  readonly sunCounters: SunCounters;
  readonly parked: ParkedEvents;
  readonly commands: CommandRepo;
  private closed = false;
  private readonly committedListeners = new Set<() => void>();
  /** One transaction function for every call (better-sqlite3 nests it as a savepoint when called inside one). */
  private readonly runInTransaction: <T>(fn: () => T) => T;
  /** The same, begun IMMEDIATE: the write lock taken at its start. */
  private readonly runImmediate: <T>(fn: () => T) => T;

  constructor(
    readonly db: Db,
    site: string,
    /** The site's IANA zone: every time the site writes carries its offset. */
    readonly timeZone: string,
  ) {
    this.events = new EventLog(db, site, timeZone);
    this.directory = new DirectoryRepo(db);
    this.bookings = new BookingRepo(db);
    this.presence = new PresenceRepo(db);
    this.daysElsewhere = new DaysElsewhereRepo(db);
    this.lockers = new LockerRepo(db);
    this.sunCounters = new SunCounters(db);
    this.parked = new ParkedEvents(db);
    this.commands = new CommandRepo(db);
    const run = db.transaction((fn: () => unknown) => fn());
    this.runInTransaction = <T>(fn: () => T) => run(fn) as T;
    this.runImmediate = <T>(fn: () => T) => run.immediate(fn) as T;
  }

  static open(path: string, site: string, timeZone: string): EdgeStore {
    return new EdgeStore(openDatabase(path), site, timeZone);
  }

  /** Runs `fn` in one transaction: the state change and its events commit together or not at all. */
  transaction<T>(fn: () => T): T {
    return this.run(fn, this.runInTransaction);
  }

  /**
   * As `transaction`, for one that reads what it then writes over (a tap reads the badge's holder,
   * presence and occupancy, decides, and records): the write lock is taken when it begins, so no
   * other connection writes between its reads and its writes, and its reads share its lock rather
   * than each taking one of its own. Inside a transaction, a savepoint of it as `transaction`.
   */
  readThenWrite<T>(fn: () => T): T {
    return this.run(fn, this.runImmediate);
  }

  private run<T>(fn: () => T, begin: <R>(fn: () => R) => R): T {
    if (this.db.inTransaction) return this.runInTransaction(fn);
    let committed = false;
    try {
      const result = begin(fn);
      committed = true;
      return result;
    } finally {
      // Told once the events are on disk; a rolled-back transaction's appends are forgotten.
      if (this.events.takeAppended() && committed) this.eventsCommitted();
    }
  }

  /**
   * `listener` runs after each transaction that appended events has committed: the sync worker
   * sends them then instead of at its next poll. Returns the function that removes it.
   */
  onEventsCommitted(listener: () => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  private eventsCommitted(): void {
    for (const listener of this.committedListeners) listener();
  }

  /** Idempotent. Checkpoints the WAL so the database file is whole on its own. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
