/**
 * The hub's storage behind one asynchronous interface (docs/scaling.md): SQLite through
 * better-sqlite3 (the embedded default, storage/sqlite.ts) and PostgreSQL through a
 * node-postgres pool (storage/postgres.ts) implement it, so that a hub on PostgreSQL never waits
 * for its database on the event loop.
 *
 * SQL written for it is portable between the two: `?` or `@name` placeholders (PostgreSQL's
 * `$n` are made from them), upserts with `ON CONFLICT`, `RETURNING`, `CAST(? AS BIGINT)` where a
 * parameter's type is not clear from its context. What differs is written through `dialect.ts`.
 *
 * Values read back are the same on both: integers (BIGINT included) and numeric results as
 * numbers, booleans as 1 or 0, JSON columns as their text, BYTEA/BLOB as Buffers.
 */

/** Positional values for `?` placeholders, or one object for `@name` ones. */
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export type Dialect = 'sqlite' | 'postgres';

/** What runs SQL: the database itself (each statement on its own) or a transaction's handle. */
export interface Sql {
  readonly dialect: Dialect;
  /** Every row. */
  all<R = Record<string, unknown>>(sql: string, params?: Params): Promise<R[]>;
  /** The first row, if any. */
  get<R = Record<string, unknown>>(sql: string, params?: Params): Promise<R | undefined>;
  /** The first column of every row. */
  column<T = unknown>(sql: string, params?: Params): Promise<T[]>;
  /** The first column of the first row, if any. */
  value<T = unknown>(sql: string, params?: Params): Promise<T | undefined>;
  /** A statement whose rows are not wanted. */
  run(sql: string, params?: Params): Promise<RunResult>;
  /** One or more statements without parameters (schema changes). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction, with its handle: committed when `fn` resolves, rolled back when
   * it rejects (on a transaction's handle: a savepoint). Every statement of the transaction goes
   * through `tx`; using the database itself inside it is a programming error and throws.
   * Nothing but SQL should be awaited inside: on SQLite the database waits for the transaction.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

/** A transaction's handle, valid until its function settles. */
export type Tx = Sql;

export interface HubDb extends Sql {
  /** A file path, ':memory:', or the PostgreSQL URL without its password. */
  readonly name: string;
  /** False once closed. */
  readonly open: boolean;
  /**
   * Whether the database answered the last time it was asked (PostgreSQL; SQLite always
   * does): what `/health` shows without waiting for it.
   */
  readonly available: boolean;
  /** Waits for the transactions under way, then closes. Idempotent. */
  close(): Promise<void>;
}

export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);
