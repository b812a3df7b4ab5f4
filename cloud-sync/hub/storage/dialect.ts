import type { HubDb } from './hub-db.js';
import { dialectOf } from './hub-db.js';

/** The SQL fragments that differ between SQLite and PostgreSQL, for the queries that need them. */
export interface SqlDialect {
  /** The larger of two values: SQLite's two-argument MAX, PostgreSQL's GREATEST. */
  greatest(a: string, b: string): string;
  /** The strings of the JSON array bound at `placeholder` (`?` or `@name`), as a subquery for IN. */
  jsonArrayValues(placeholder: string): string;
  /**
   * Appended to a SELECT of rows the transaction is about to update: PostgreSQL locks them
   * until the commit (several hub instances); SQLite has one writer at a time anyway.
   */
  forUpdate: string;
}

const SQLITE: SqlDialect = {
  greatest: (a, b) => `MAX(${a}, ${b})`,
  jsonArrayValues: (p) => `(SELECT value FROM json_each(${p}))`,
  forUpdate: '',
};

const POSTGRES: SqlDialect = {
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  jsonArrayValues: (p) => `(SELECT json_array_elements_text(CAST(${p} AS json)))`,
  forUpdate: ' FOR UPDATE',
};

export const sqlDialect = (db: HubDb): SqlDialect => (dialectOf(db) === 'postgres' ? POSTGRES : SQLITE);
