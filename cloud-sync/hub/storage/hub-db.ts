import type Database from 'better-sqlite3';

/**
 * The hub's storage behind one small interface (docs/scaling.md): the subset of better-sqlite3's API the
 * hub uses, synchronous, so that SQLite (the embedded default) is used as it is and PostgreSQL
 * (storage/postgres.ts, libpq's synchronous calls) implements the same contract.
 *
 * SQL written for it is portable between the two: `?` or `@name` placeholders, upserts with
 * `ON CONFLICT`, `RETURNING`, `CAST(? AS BIGINT)` where a parameter's type is not clear from
 * its context. The few SQLite functions without a PostgreSQL twin of the same name are either
 * defined in the PostgreSQL schema (json_extract, instr, json_valid: storage/pg-schema.ts) or
 * written through `dialect.ts`.
 */
export interface RunResult {
  changes: number;
}

export interface SqlStatement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
  /** From now on each row is its first column's value. */
  pluck(toggle?: boolean): this;
}

export interface HubDb {
  /** A file path, ':memory:', or the PostgreSQL URL without its password. */
  readonly name: string;
  readonly open: boolean;
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- better-sqlite3's own signature: an object binds named parameters
  prepare<P extends unknown[] | {} = unknown[], R = unknown>(
    sql: string,
  ): P extends unknown[] ? SqlStatement<P, R> : SqlStatement<[P], R>;
  /**
   * A function that runs `fn` in a transaction: committed when it returns, rolled back when it
   * throws; a call inside another transaction is a savepoint.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's signature
  transaction<F extends (...params: any[]) => unknown>(fn: F): Transaction<F>;
  /** Runs one or more statements without parameters. */
  exec(sql: string): this;
  close(): this;
}

/** better-sqlite3's type; on PostgreSQL its four variants are one plain transaction. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's constraint
export type Transaction<F extends (...params: any[]) => unknown> = Database.Transaction<F>;

export type Dialect = 'sqlite' | 'postgres';

/** The PostgreSQL implementation marks itself; better-sqlite3's Database is the SQLite one. */
export function dialectOf(db: HubDb): Dialect {
  return (db as { dialect?: Dialect }).dialect ?? 'sqlite';
}

/** The SQLite implementation: better-sqlite3's own Database, with its pragmas and file. */
export const isSqlite = (db: HubDb): db is Database.Database => dialectOf(db) === 'sqlite';

export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);
