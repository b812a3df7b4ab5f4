import pg from 'pg';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Dialect, HubDb, Params, RunResult, Sql, Tx } from './hub-db.js';
import { rewritePlaceholders } from './placeholders.js';
import { TransactionScope } from './transaction-scope.js';

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

export interface PostgresOptions {
  /** Connections in the pool (default 8). */
  connections?: number;
  /**
   * A statement's bound (default 10 s): PostgreSQL cancels it past this (statement_timeout),
   * and a server that has not answered a second later is given up: its connection is closed
   * and the call fails with store.unavailable.
   */
  statementTimeoutMs?: number;
  /** Waiting for a free connection or a new one (default 5 s), then store.unavailable. */
  connectTimeoutMs?: number;
  /** While PostgreSQL is unavailable, how often it is asked again (default 2 s). */
  probeEveryMs?: number;
}

const DEFAULTS = { connections: 8, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000, probeEveryMs: 2_000 };
/** Past the server's own statement_timeout: a live server has answered by then. */
const SILENT_SERVER_MARGIN_MS = 1_000;

/** Column types by OID: integers and numeric as numbers, booleans as 1/0, JSON as its text. */
const toNumber = (t: string) => Number(t);
const PARSERS = new Map<number, (text: string) => unknown>([
  [16, (t) => (t === 't' ? 1 : 0)],
  [20, toNumber],
  [1700, toNumber],
  [114, (t) => t],
  [3802, (t) => t],
]);
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    PARSERS.get(oid) ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** One SQL text rewritten for PostgreSQL once, and prepared once per connection under its name. */
interface Prepared {
  name: string;
  text: string;
  names: string[] | undefined;
  count: number;
}

/** SQLSTATE classes and codes that mean the server cannot serve now, not that the statement is wrong. */
const UNAVAILABLE_STATES = /^(08|53|57P0[1-3]|57014)/;
/** Of those: the connection is gone (a broken link, the server shutting down or restarting). */
const CONNECTION_LOST = /^(08|57P0[1-3])/;

/**
 * The hub database on PostgreSQL through a node-postgres pool: every call is asynchronous, so
 * the hub's event loop never waits for the server. Every call is bounded: a connection is
 * waited for at most `connectTimeoutMs`, a statement runs at most `statementTimeoutMs`;
 * past either, or when the server goes away, the call fails with `store.unavailable` (503 with
 * Retry-After), the connection concerned is closed, and the next call takes a fresh one.
 */
export class PostgresHubDb implements HubDb {
  readonly dialect: Dialect = 'postgres';
  readonly name: string;
  private readonly pool: pg.Pool;
  private readonly prepared = new Map<string, Prepared>();
  private readonly scope: TransactionScope;
  private readonly options: typeof DEFAULTS;
  private readonly listening = new WeakSet<pg.PoolClient>();
  /** Connections in a migration transaction: their statements are not bounded in time. */
  private readonly unbounded = new WeakSet<pg.PoolClient>();
  private up = true;
  private probe: NodeJS.Timeout | undefined;
  private asking = false;
  private closing: Promise<void> | undefined;

  constructor(url: string, options: PostgresOptions = {}) {
    this.name = redact(url);
    this.scope = new TransactionScope(this);
    this.options = { ...DEFAULTS, ...options };
    this.pool = new pg.Pool({
      connectionString: url,
      max: this.options.connections,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      statement_timeout: this.options.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      types: TYPES,
    });
    // An idle connection the server closed: the pool drops it and the next call takes a new
    // one. Nothing failed yet, but the server may be going away: asked at once.
    this.pool.on('error', () => this.ask());
  }

  get open(): boolean {
    return this.closing === undefined;
  }

  get available(): boolean {
    return this.up;
  }

  all<R>(sql: string, params?: Params): Promise<R[]> {
    return this.outside((c) => this.query(c, sql, params)) as Promise<R[]>;
  }

  async get<R>(sql: string, params?: Params): Promise<R | undefined> {
    return (await this.all<R>(sql, params))[0];
  }

  column<T>(sql: string, params?: Params): Promise<T[]> {
    return this.outside((c) => this.query(c, sql, params, true)) as Promise<T[]>;
  }

  async value<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.column<T>(sql, params))[0];
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.outside((c) => this.execute(c, sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.outside(async (c) => void (await this.simple(c, sql)));
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.begin(fn, true);
  }

  /**
   * A transaction whose statements are not bounded in time, for schema migrations: one may
   * rewrite a large table (minutes), and the hub instances starting beside it wait for it on
   * the migration lock. Only the connection is waited for within its bound.
   */
  migrationTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.begin(fn, false);
  }

  private async begin<T>(fn: (tx: Tx) => Promise<T>, bounded: boolean): Promise<T> {
    if (this.scope.inside()) throw this.scope.misuse('transaction');
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      await this.simple(client, 'BEGIN');
      if (!bounded) {
        this.unbounded.add(client);
        await this.simple(client, 'SET LOCAL statement_timeout = 0');
      }
      const tx = new PgTx(this, client, 0);
      try {
        const out = await this.scope.run(() => fn(tx));
        tx.end();
        // A statement that failed inside (its error caught by `fn`) aborted the transaction:
        // PostgreSQL then answers COMMIT with ROLLBACK, which must not pass for a commit.
        if ((await this.simple(client, 'COMMIT')).command === 'ROLLBACK')
          throw new PgError(
            'PostgreSQL rolled the transaction back instead of committing it: a statement in it failed (its error was caught inside the transaction)',
            '25P02',
          );
        return out;
      } catch (err) {
        tx.end();
        await this.simple(client, 'ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      }
    } catch (err) {
      if (isUnavailable(err)) broken ??= err as Error;
      throw err;
    } finally {
      this.unbounded.delete(client);
      client.release(broken);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.probe);
      await this.pool.end();
    })();
    return this.closing;
  }

  /** Runs a statement on `client`: its rows (or their first column), bounded in time. */
  async query(client: pg.PoolClient, sql: string, params: Params | undefined, firstColumn = false): Promise<unknown[]> {
    const p = this.preparedOf(sql);
    const result = await this.bounded(
      client,
      client.query({
        name: p.name,
        text: p.text,
        values: bindValues(p, params),
        ...(firstColumn ? { rowMode: 'array' } : {}),
      }),
      sql,
    );
    return firstColumn ? result.rows.map((r: unknown[]) => r[0]) : result.rows;
  }

  async execute(client: pg.PoolClient, sql: string, params: Params | undefined): Promise<RunResult> {
    const p = this.preparedOf(sql);
    const result = await this.bounded(
      client,
      client.query({ name: p.name, text: p.text, values: bindValues(p, params) }),
      sql,
    );
    return { changes: result.rowCount ?? 0 };
  }

  /** Statements without parameters, as one simple query; the last one's result. */
  async simple(client: pg.PoolClient, sql: string): Promise<pg.QueryResult> {
    const result: pg.QueryResult | pg.QueryResult[] = await this.bounded(client, client.query(sql), sql);
    return Array.isArray(result) ? (result[result.length - 1] as pg.QueryResult) : result;
  }

  /** A statement on the database itself: a connection of the pool, for this statement alone. */
  private async outside<T>(op: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.scope.inside()) throw this.scope.misuse('statement');
    const client = await this.checkout();
    let broken: Error | undefined;
    try {
      return await op(client);
    } catch (err) {
      if (isUnavailable(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private async checkout(): Promise<pg.PoolClient> {
    if (this.closing) throw new TypeError(`the database ${this.name} is closed`);
    try {
      const client = await this.pool.connect();
      // A connection lost while checked out emits 'error' besides failing its statement: heard
      // here, or it would end the process (the pool listens only while the connection is idle).
      if (!this.listening.has(client)) {
        this.listening.add(client);
        client.on('error', () => this.markDown());
      }
      return client;
    } catch (err) {
      this.markDown();
      throw new TesseraError(
        'store.unavailable',
        `cannot connect to PostgreSQL at ${this.name}: ${(err as Error).message}`,
      );
    }
  }

  /**
   * The statement's result, or store.unavailable when the server does not answer in time or
   * goes away: the connection is then destroyed (a late answer can no longer be mistaken for
   * the next statement's), which also ends the server's side of a transaction left open.
   */
  private async bounded<R>(client: pg.PoolClient, pending: Promise<R>, sql: string): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      if (this.unbounded.has(client)) return;
      timer = setTimeout(() => {
        const waited = this.options.statementTimeoutMs + SILENT_SERVER_MARGIN_MS;
        reject(new TesseraError('store.unavailable', `PostgreSQL at ${this.name} did not answer within ${waited} ms`));
        // The socket goes at once; the pool forgets the client when it is released with an error.
        (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      }, this.options.statementTimeoutMs + SILENT_SERVER_MARGIN_MS);
    });
    pending.catch(() => undefined); // settled after a timeout: nobody waits for it any more
    try {
      const out = await Promise.race([pending, silent]);
      this.markUp();
      return out;
    } catch (err) {
      const mapped = this.mapError(err, sql);
      if (isUnavailable(mapped)) this.markDown();
      throw mapped;
    } finally {
      clearTimeout(timer);
    }
  }

  private mapError(err: unknown, sql: string): Error {
    if (err instanceof TesseraError || err instanceof TypeError || err instanceof RangeError) return err;
    const e = err as Error & { code?: string };
    const state = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
    if (state !== undefined && !UNAVAILABLE_STATES.test(state))
      return new PgError(`${e.message} (in: ${sql.replace(/\s+/g, ' ').trim().slice(0, 300)})`, state);
    // No SQLSTATE: node-postgres's own word that the socket closed or failed.
    if (state === undefined || CONNECTION_LOST.test(state))
      return new TesseraError('store.unavailable', `lost the connection to PostgreSQL at ${this.name}: ${e.message}`);
    return new TesseraError('store.unavailable', `PostgreSQL at ${this.name} cannot serve now: ${e.message}`);
  }

  private preparedOf(sql: string): Prepared {
    let p = this.prepared.get(sql);
    if (!p) {
      p = { name: `t${this.prepared.size + 1}`, ...rewritePlaceholders(sql) };
      this.prepared.set(sql, p);
    }
    return p;
  }

  private markUp(): void {
    if (this.up) return;
    this.up = true;
    clearInterval(this.probe);
    this.probe = undefined;
  }

  /** Unavailable until a statement succeeds again; asked again regularly meanwhile. */
  private markDown(): void {
    this.up = false;
    if (this.probe !== undefined || this.closing) return;
    this.probe = setInterval(() => this.ask(), this.options.probeEveryMs);
    this.probe.unref();
  }

  /** One `SELECT 1` at a time: its success or failure marks the database up or down. */
  private ask(): void {
    if (this.asking || this.closing) return;
    this.asking = true;
    this.value('SELECT 1')
      .catch(() => undefined)
      .finally(() => (this.asking = false));
  }
}

/** A transaction's handle: one connection of the pool, held until the transaction ends. */
class PgTx implements Sql {
  readonly dialect: Dialect = 'postgres';
  private ended = false;
  private child = false;

  constructor(
    private readonly db: PostgresHubDb,
    private readonly client: pg.PoolClient,
    private readonly depth: number,
  ) {}

  all<R>(sql: string, params?: Params): Promise<R[]> {
    return this.op(() => this.db.query(this.client, sql, params)) as Promise<R[]>;
  }

  async get<R>(sql: string, params?: Params): Promise<R | undefined> {
    return (await this.all<R>(sql, params))[0];
  }

  column<T>(sql: string, params?: Params): Promise<T[]> {
    return this.op(() => this.db.query(this.client, sql, params, true)) as Promise<T[]>;
  }

  async value<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.column<T>(sql, params))[0];
  }

  run(sql: string, params?: Params): Promise<RunResult> {
    return this.op(() => this.db.execute(this.client, sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.op(async () => void (await this.db.simple(this.client, sql)));
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.usable();
    const savepoint = `tx${this.depth + 1}`;
    this.child = true;
    try {
      await this.db.simple(this.client, `SAVEPOINT ${savepoint}`);
      const tx = new PgTx(this.db, this.client, this.depth + 1);
      try {
        const out = await fn(tx);
        tx.end();
        await this.db.simple(this.client, `RELEASE ${savepoint}`);
        return out;
      } catch (err) {
        tx.end();
        await this.db.simple(this.client, `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`).catch(() => undefined);
        throw err;
      }
    } finally {
      this.child = false;
    }
  }

  end(): void {
    this.ended = true;
  }

  private async op<T>(fn: () => Promise<T>): Promise<T> {
    this.usable();
    return fn();
  }

  private usable(): void {
    if (this.ended) throw new TypeError('this transaction has ended: its handle can no longer be used');
    if (this.child) throw new TypeError('a savepoint of this transaction is open: use its handle');
  }
}

const isUnavailable = (err: unknown) => err instanceof TesseraError && err.code === 'store.unavailable';

/** The values of a statement's `$n`, from `?` values in order or one object of `@name` ones. */
function bindValues(p: Prepared, params: Params | undefined): unknown[] {
  if (p.names === undefined) {
    const values = (params ?? []) as readonly unknown[];
    if (!Array.isArray(values) || values.length !== p.count)
      throw new RangeError(
        `${Array.isArray(values) ? values.length : 'named'} parameter values for ${p.count} placeholders: ${p.text}`,
      );
    return values.map(toParam);
  }
  if (params === undefined || Array.isArray(params)) throw new TypeError(`named parameters need one object: ${p.text}`);
  const named = params as Record<string, unknown>;
  return p.names.map((n) => {
    if (!(n in named)) throw new RangeError(`missing named parameter "${n}"`);
    return toParam(named[n]);
  });
}

/** One bound value, as better-sqlite3 takes them: numbers, bigints, strings, buffers, null. */
function toParam(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    // PostgreSQL text cannot hold a NUL character: refused here, as SQLite's rules are not the same.
    if (v.includes('\u0000'))
      throw new TesseraError('request.invalid', 'text holding a NUL character cannot be stored (PostgreSQL)');
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot bind ${v}`);
    return v;
  }
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v;
  throw new TypeError(`SQLite3 can only bind numbers, strings, bigints, buffers, and null (got ${typeof v})`);
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
