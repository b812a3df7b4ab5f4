import type Database from 'better-sqlite3';
import type { Db } from '../../../shared/platform/sqlite.js';
import type { Dialect, HubDb, Params, RunResult, Sql, Tx } from './hub-db.js';
import { TransactionScope } from './transaction-scope.js';

type Statement = Database.Statement<unknown[], unknown>;

/** A transaction lets the event loop turn after this much of its work (see `paced`). */
const TRANSACTION_SLICE_MS = 10;

/**
 * The hub database on SQLite: better-sqlite3 (synchronous, a function call per statement)
 * behind the asynchronous interface. One connection, so transactions are serialised: while
 * one is open (its function may await between statements), every other transaction and
 * every statement on the database itself waits its turn, in arrival order; nothing
 * interleaves with an open transaction. Outside a transaction a statement runs at once.
 */
export class SqliteHubDb implements HubDb {
  readonly dialect: Dialect = 'sqlite';
  readonly available = true;
  private readonly rows = new Map<string, Statement>();
  private readonly plucked = new Map<string, Statement>();
  private readonly scope = new TransactionScope(this);
  /** Set while a transaction holds the connection; the callbacks of those waiting for it. */
  private locked = false;
  private readonly waiting: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  /** When the event loop last turned during the transaction under way. */
  private turnedAt = 0;

  /** `raw`: better-sqlite3's database, already migrated (shared/platform/sqlite.ts). */
  constructor(readonly raw: Db) {}

  get name(): string {
    return this.raw.name;
  }

  get open(): boolean {
    return this.raw.open && this.closing === undefined;
  }

  all<R>(sql: string, params?: Params): Promise<R[]> {
    return this.outside(() => this.statement(sql).all(...bind(params)) as R[]);
  }

  get<R>(sql: string, params?: Params): Promise<R | undefined> {
    return this.outside(() => this.statement(sql).get(...bind(params)) as R | undefined);
  }

  column<T>(sql: string, params?: Params): Promise<T[]> {
    return this.outside(() => this.statement(sql, true).all(...bind(params)) as T[]);
  }

  value<T>(sql: string, params?: Params): Promise<T | undefined> {
    return this.outside(() => this.statement(sql, true).get(...bind(params)) as T | undefined);
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.outside(() => ({ changes: this.statement(sql).run(...bind(params)).changes }));
  }

  exec(sql: string): Promise<void> {
    return this.outside(() => void this.raw.exec(sql));
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.scope.inside()) throw this.scope.misuse('transaction');
    await this.acquire();
    try {
      return await this.runTransaction(fn, 0);
    } finally {
      this.release();
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.acquire();
      this.raw.close();
      this.release();
    })();
    return this.closing;
  }

  /** A statement prepared once per SQL text (and once more for its first column only). */
  statement(sql: string, pluck = false): Statement {
    const cache = pluck ? this.plucked : this.rows;
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      if (pluck) stmt.pluck();
      cache.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Runs a statement of a transaction. A transaction's statements resolve one after the other
   * without the event loop turning (promises, not I/O), so a long one would hold everything else
   * (`/health`, MQTT keepalives, the dashboard) for its whole length: past TRANSACTION_SLICE_MS
   * of it, the event loop turns once before the next statement. Others' statements still wait:
   * the connection stays the transaction's.
   */
  paced<T>(fn: () => T): Promise<T> {
    if (performance.now() - this.turnedAt < TRANSACTION_SLICE_MS) return settle(fn);
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.turnedAt = performance.now();
      return fn();
    });
  }

  /** Runs `fn` at `depth` (0: BEGIN IMMEDIATE, else a savepoint), the connection being ours. */
  async runTransaction<T>(fn: (tx: Tx) => Promise<T>, depth: number): Promise<T> {
    if (depth === 0) this.turnedAt = performance.now();
    const savepoint = `tx${depth}`;
    this.raw.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
    const tx = new SqliteTx(this, depth);
    try {
      const out = await this.scope.run(() => fn(tx));
      tx.end();
      if (!this.raw.inTransaction) throw rolledBack();
      this.raw.exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
      return out;
    } catch (err) {
      tx.end();
      if (this.raw.inTransaction)
        this.raw.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      throw err;
    }
  }

  /** A statement on the database itself: at once, or after the open transaction. */
  private outside<T>(op: () => T): Promise<T> {
    if (this.scope.inside()) return Promise.reject(this.scope.misuse('statement'));
    if (!this.locked) return settle(op);
    return this.acquire().then(() => {
      try {
        return op();
      } finally {
        this.release();
      }
    });
  }

  private acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.locked = false;
  }
}

/** A transaction's handle on SQLite: its statements run at once (the connection is its own). */
class SqliteTx implements Sql {
  readonly dialect: Dialect = 'sqlite';
  private ended = false;
  private child = false;

  constructor(
    private readonly db: SqliteHubDb,
    private readonly depth: number,
  ) {}

  all<R>(sql: string, params?: Params): Promise<R[]> {
    return this.op(() => this.db.statement(sql).all(...bind(params)) as R[]);
  }

  get<R>(sql: string, params?: Params): Promise<R | undefined> {
    return this.op(() => this.db.statement(sql).get(...bind(params)) as R | undefined);
  }

  column<T>(sql: string, params?: Params): Promise<T[]> {
    return this.op(() => this.db.statement(sql, true).all(...bind(params)) as T[]);
  }

  value<T>(sql: string, params?: Params): Promise<T | undefined> {
    return this.op(() => this.db.statement(sql, true).get(...bind(params)) as T | undefined);
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.op(() => ({ changes: this.db.statement(sql).run(...bind(params)).changes }));
  }

  exec(sql: string): Promise<void> {
    return this.op(() => void this.db.raw.exec(sql));
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.usable();
    this.child = true;
    try {
      return await this.db.runTransaction(fn, this.depth + 1);
    } finally {
      this.child = false;
    }
  }

  end(): void {
    this.ended = true;
  }

  private op<T>(fn: () => T): Promise<T> {
    return this.db.paced(() => {
      this.usable();
      return fn();
    });
  }

  private usable(): void {
    if (this.ended) throw new TypeError('this transaction has ended: its handle can no longer be used');
    if (this.child) throw new TypeError('a savepoint of this transaction is open: use its handle');
    // What follows would run outside any transaction, each statement committed on its own.
    if (!this.db.raw.inTransaction) throw rolledBack();
  }
}

/**
 * SQLite ends a whole transaction on some failures (RAISE(ROLLBACK), a full disk, an I/O
 * error), savepoints included: the transaction's handle refuses every statement after that.
 */
const rolledBack = () =>
  new Error('SQLite rolled this transaction back after a failure in it: nothing of it was committed');

/** better-sqlite3's arguments: the values of `?`, or the object of `@name`. */
function bind(params: Params | undefined): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? params : [params];
}

function settle<T>(op: () => T): Promise<T> {
  try {
    return Promise.resolve(op());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
