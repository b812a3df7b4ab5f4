import { createRequire } from 'node:module';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { HubDb, RunResult, SqlStatement, Transaction } from './hub-db.js';
import { rewritePlaceholders } from './placeholders.js';

/** The part of the `libpq` module (native bindings to PostgreSQL's client library) used here. */
export interface Libpq {
  connectSync(conninfo: string): void;
  finish(): void;
  exec(sql: string): void;
  prepare(name: string, sql: string, params: number): void;
  execPrepared(name: string, params: Array<string | null>): void;
  resultStatus(): string;
  resultErrorMessage(): string;
  resultErrorFields(): { sqlState?: string } | undefined;
  errorMessage(): string;
  /** 0 idle, 1 active, 2 in a transaction, 3 in a failed transaction, 4 unknown (connection bad). */
  transactionStatus(): number;
  ntuples(): number;
  nfields(): number;
  fname(field: number): string;
  ftype(field: number): number;
  getvalue(row: number, field: number): string;
  getisnull(row: number, field: number): boolean;
  cmdTuples(): string;
  /** Asynchronous side (storage/peers.ts): 'readable' events once started. */
  startReader(): void;
  consumeInput(): boolean;
  notifies(): { relname: string; extra: string } | undefined;
  on(event: 'readable', listener: () => void): void;
}

/** A statement PostgreSQL refused (its SQLSTATE in `sqlState`), as better-sqlite3's SqliteError. */
export class PgError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
  ) {
    super(message);
    this.name = 'PgError';
  }
}

const BAD_CONNECTION = 4;

/**
 * libpq's finish() closes its libuv poll handle, which lives inside the connection object, and
 * lets the object be collected before libuv has finished closing it: a collection in between
 * aborts the process (uv__finish_close assertion, seen here). Each finished connection is kept
 * reachable until a timer of the next loop iteration, after libuv's close callbacks ran.
 */
const finishing = new Set<Libpq>();
export function finish(pq: Libpq): void {
  pq.finish();
  finishing.add(pq);
  setTimeout(() => finishing.delete(pq), 10).unref();
}
/** After a lost connection, at most one reconnection attempt per this many ms: each one blocks. */
const RECONNECT_EVERY_MS = 1000;
const STATEMENT_TIMEOUT_MS = 30_000;

type Row = Record<string, unknown>;
type Parse = (text: string) => unknown;

const toNumber: Parse = (t) => Number(t);
/** Column types by OID: integers, floats and numeric (SUM) as numbers, booleans as 1/0, bytea as a Buffer. */
const PARSERS = new Map<number, Parse>([
  [16, (t) => (t === 't' ? 1 : 0)],
  [17, (t) => Buffer.from(t.slice(2), 'hex')],
  [20, toNumber],
  [21, toNumber],
  [23, toNumber],
  [26, toNumber],
  [700, toNumber],
  [701, toNumber],
  [1700, toNumber],
]);

/** One bound value, as better-sqlite3 takes them: numbers, bigints, strings, buffers, null. */
function toParam(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    // libpq passes C strings: the rest of the text after a NUL would be cut off without a word.
    if (v.includes('\u0000'))
      throw new TesseraError('request.invalid', 'text holding a NUL character cannot be stored (PostgreSQL)');
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot bind ${v}`);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  throw new TypeError(`SQLite3 can only bind numbers, strings, bigints, buffers, and null (got ${typeof v})`);
}

/**
 * One SQL text, prepared on the server once per connection, whatever the number of statement
 * objects made from it (the hub prepares some statements at each call, as better-sqlite3 allows
 * cheaply: here each would be a round trip and a prepared statement left on the server).
 */
interface Prepared {
  id: string;
  text: string;
  count: number;
  names: string[] | undefined;
  /** The connection generation it was prepared on (prepared statements die with their connection). */
  generation: number;
}

class PgStatement implements SqlStatement<unknown[], unknown> {
  plucked = false;

  constructor(
    private readonly db: PostgresDb,
    readonly prepared: Prepared,
  ) {}

  get text(): string {
    return this.prepared.text;
  }

  run(...params: unknown[]): RunResult {
    return { changes: this.db.execute(this, this.bind(params), false).changes };
  }

  get(...params: unknown[]): unknown {
    return this.db.execute(this, this.bind(params), true).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.db.execute(this, this.bind(params), true).rows;
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.all(...params)[Symbol.iterator]();
  }

  pluck(toggle = true): this {
    this.plucked = toggle;
    return this;
  }

  private bind(params: unknown[]): Array<string | null> {
    const { names, count } = this.prepared;
    if (names === undefined) {
      if (params.length !== count)
        throw new RangeError(`${params.length} parameter values for ${count} placeholders: ${this.text}`);
      return params.map(toParam);
    }
    const named = params[0];
    if (params.length !== 1 || typeof named !== 'object' || named === null)
      throw new TypeError(`named parameters need one object: ${this.text}`);
    return names.map((n) => {
      if (!(n in named)) throw new RangeError(`missing named parameter "${n}"`);
      return toParam((named as Record<string, unknown>)[n]);
    });
  }
}

/**
 * The hub database on PostgreSQL, through libpq's synchronous calls: the same blocking contract
 * as better-sqlite3 (one round trip per statement, ~30 µs on loopback), so every hub module runs
 * on it unchanged. Statements are prepared once per connection. A lost connection fails the
 * call in progress with `store.unavailable` and is re-opened on a later call, at most once a
 * second; what the call was doing is rolled back by the server, and the caller's usual
 * failure path applies (an unacknowledged batch is sent again by its site).
 */
export class PostgresDb implements HubDb {
  readonly dialect = 'postgres';
  readonly name: string;
  private pq: Libpq;
  private generation = 0;
  private depth = 0;
  private readonly prepared = new Map<string, Prepared>();
  private broken = false;
  private lastAttempt = 0;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly Pq: new () => Libpq,
  ) {
    this.name = redact(url);
    this.pq = this.connect();
  }

  get open(): boolean {
    return !this.closed;
  }

  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- HubDb's (better-sqlite3's) signature
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(
    sql: string,
  ): P extends unknown[] ? SqlStatement<P, R> : SqlStatement<[P], R> {
    let prepared = this.prepared.get(sql);
    if (!prepared) {
      prepared = { id: `s${this.prepared.size + 1}`, ...rewritePlaceholders(sql), generation: -1 };
      this.prepared.set(sql, prepared);
    }
    return new PgStatement(this, prepared) as never;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- HubDb's (better-sqlite3's) signature
  transaction<F extends (...params: any[]) => unknown>(fn: F): Transaction<F> {
    const run = (...args: Parameters<F>): ReturnType<F> => {
      const level = this.depth;
      this.simple(level === 0 ? 'BEGIN' : `SAVEPOINT tx${level}`);
      this.depth++;
      try {
        const out = fn(...args) as ReturnType<F>;
        if (out instanceof Promise) throw new TypeError('Transaction function cannot return a promise');
        this.depth--;
        this.simple(level === 0 ? 'COMMIT' : `RELEASE tx${level}`);
        return out;
      } catch (err) {
        this.depth = level;
        if (!this.broken) {
          try {
            this.simple(level === 0 ? 'ROLLBACK' : `ROLLBACK TO tx${level}; RELEASE tx${level}`);
          } catch {
            // the original error says more; a failed rollback leaves the connection marked broken
          }
        }
        throw err;
      }
    };
    return Object.assign(run, {
      default: run,
      deferred: run,
      immediate: run,
      exclusive: run,
    }) as unknown as Transaction<F>;
  }

  exec(sql: string): this {
    this.simple(sql);
    return this;
  }

  close(): this {
    if (!this.closed) {
      this.closed = true;
      finish(this.pq);
    }
    return this;
  }

  /** Runs a prepared statement; `rows`: the result set when the statement returns one. */
  execute(stmt: PgStatement, params: Array<string | null>, wantRows: boolean): { rows: unknown[]; changes: number } {
    this.usable();
    const p = stmt.prepared;
    if (p.generation !== this.generation) {
      this.pq.prepare(p.id, p.text, p.count);
      this.check(p.text);
      p.generation = this.generation;
    }
    this.pq.execPrepared(p.id, params);
    this.check(stmt.text);
    const changes = Number(this.pq.cmdTuples()) || 0;
    return { rows: wantRows ? this.rows(stmt.plucked) : [], changes };
  }

  private simple(sql: string): void {
    this.usable();
    this.pq.exec(sql);
    this.check(sql);
  }

  private rows(plucked: boolean): unknown[] {
    const pq = this.pq;
    const n = pq.ntuples();
    const fields = pq.nfields();
    const names: string[] = [];
    const parsers: Array<Parse | undefined> = [];
    for (let f = 0; f < fields; f++) {
      names.push(pq.fname(f));
      parsers.push(PARSERS.get(pq.ftype(f)));
    }
    const value = (r: number, f: number): unknown => {
      if (pq.getisnull(r, f)) return null;
      const text = pq.getvalue(r, f);
      const parse = parsers[f];
      return parse ? parse(text) : text;
    };
    const out: unknown[] = new Array(n);
    for (let r = 0; r < n; r++) {
      if (plucked) {
        out[r] = value(r, 0);
        continue;
      }
      const row: Row = {};
      for (let f = 0; f < fields; f++) row[names[f] as string] = value(r, f);
      out[r] = row;
    }
    return out;
  }

  /** Throws what PostgreSQL said of the last call, if it failed. */
  private check(sql: string): void {
    const status = this.pq.resultStatus();
    if (status !== 'PGRES_FATAL_ERROR' && status !== 'PGRES_BAD_RESPONSE' && status !== 'PGRES_NONFATAL_ERROR') return;
    const message = (this.pq.resultErrorMessage() || this.pq.errorMessage()).trim();
    if (this.pq.transactionStatus() === BAD_CONNECTION) {
      this.broken = true;
      this.depth = 0;
      throw new TesseraError('store.unavailable', `lost the connection to PostgreSQL at ${this.name}: ${message}`);
    }
    throw new PgError(
      `${message} (in: ${sql.replace(/\s+/g, ' ').trim().slice(0, 300)})`,
      this.pq.resultErrorFields()?.sqlState,
    );
  }

  /** Refuses a call on a closed database; re-opens a lost connection, at most once a second. */
  private usable(): void {
    if (this.closed) throw new TypeError('The database connection is not open');
    if (!this.broken) return;
    const now = Date.now();
    if (now - this.lastAttempt < RECONNECT_EVERY_MS)
      throw new TesseraError('store.unavailable', `PostgreSQL at ${this.name} is unreachable: retrying`);
    this.lastAttempt = now;
    finish(this.pq);
    this.pq = this.connect();
    this.broken = false;
  }

  private connect(): Libpq {
    const pq = new this.Pq();
    try {
      pq.connectSync(withTimeouts(this.url));
    } catch (err) {
      this.broken = true;
      this.lastAttempt = Date.now();
      throw new TesseraError(
        'store.unavailable',
        `cannot connect to PostgreSQL at ${this.name}: ${(err as Error).message.trim()}`,
      );
    }
    this.generation++;
    // Notices (such as "already exists, skipping") would go to stderr; a stuck statement ends.
    pq.exec(`SET client_min_messages = warning; SET statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
    return pq;
  }
}

/**
 * Every call blocks the event loop until PostgreSQL answers: unless the URL says otherwise, a
 * connection attempt gives up after 5 s and a connection whose server stopped acknowledging
 * what is sent to it after 10 s (tcp_user_timeout), rather than never.
 */
export function withTimeouts(url: string): string {
  const add = [
    ['connect_timeout', '5'],
    ['tcp_user_timeout', '10000'],
  ].filter(([key]) => !new RegExp(`[?&]${key}=`).test(url));
  return add.length === 0 ? url : `${url}${url.includes('?') ? '&' : '?'}${add.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Connects to `url` (libpq's URL form: postgres://user:password@host:port/db?options). */
export function connectPostgres(url: string): PostgresDb {
  return new PostgresDb(url, loadLibpq());
}

/** The libpq module, or store.unavailable saying what to install. */
export function loadLibpq(): new () => Libpq {
  try {
    return createRequire(import.meta.url)('libpq') as new () => Libpq;
  } catch (err) {
    throw new TesseraError(
      'store.unavailable',
      `PostgreSQL storage needs the optional module libpq, which is not built here (${(err as Error).message.split('\n')[0] ?? ''}): install PostgreSQL's client headers (Debian: apt-get install libpq-dev) and run 'npm rebuild libpq'`,
    );
  }
}
