import type { Sql } from './hub-db.js';

/** The SQL fragments that differ between SQLite and PostgreSQL, for the queries that need them. */
export interface SqlDialect {
  /** The larger of two values: SQLite's two-argument MAX, PostgreSQL's GREATEST. */
  greatest(a: string, b: string): string;
  /** The strings of the JSON array bound at `placeholder` (`?` or `@name`), as a subquery for IN. */
  jsonArrayValues(placeholder: string): string;
  /**
   * Whether the text `expr` is one of the strings of the JSON array bound at `placeholder`. On
   * PostgreSQL `= ANY (ARRAY(…))`, which an index on `expr` serves; `IN jsonArrayValues(…)` is
   * planned as a join over every row instead (the planner takes the array for a hundred values).
   */
  inJsonArray(expr: string, placeholder: string): string;
  /**
   * The text at `key` (a top-level key, or keys joined by '.') of the JSON column `column`, NULL
   * where absent: `json_extract` on SQLite, `#>>` on PostgreSQL (the column cast to jsonb: a
   * no-op on a jsonb column, a parse on a text one).
   */
  jsonText(column: string, key: string): string;
  /** Whether the text `needle` occurs in the text `haystack` (both SQL expressions). */
  contains(haystack: string, needle: string): string;
  /**
   * Whether the JSON column `column` holds valid JSON, which `jsonText` needs on SQLite, whose
   * JSON columns are text (json_extract fails on malformed text): `json_valid` there; TRUE on
   * PostgreSQL, for a jsonb column (valid by construction) only.
   */
  jsonValid(column: string): string;
  /**
   * Appended to a SELECT of rows the transaction is about to update: PostgreSQL locks them
   * until the commit (several hub instances); SQLite has one writer at a time anyway.
   */
  forUpdate: string;
  /**
   * Run first in a transaction that writes events, so that an erasure and an ingest never cross
   * (several hub instances, or one hub's pool of connections): PostgreSQL's table locks, where an
   * ingest (ROW EXCLUSIVE, which ingests share) waits for an erasure under way and an erasure
   * (SHARE ROW EXCLUSIVE) for the ingests under way. Undefined on SQLite: one writer at a time.
   */
  lockEvents(purpose: 'ingest' | 'erasure'): string | undefined;
  /**
   * The text whose UTF-8 bytes are bound at `placeholder` (a Buffer), for a TEXT column: a long
   * text is written without ever being a JS string. SQLite casts the blob (read as the database's
   * UTF-8), PostgreSQL converts the bytea (checking it is UTF-8).
   */
  utf8Text(placeholder: string): string;
  /**
   * After a table in FROM: read it through `index`. SQLite's planner, without statistics, takes a
   * table's primary key over a partial index on the same columns, however few rows the index
   * holds; PostgreSQL's plans from its statistics and has no such clause.
   */
  indexedBy(index: string): string;
}

const SQLITE: SqlDialect = {
  greatest: (a, b) => `MAX(${a}, ${b})`,
  jsonArrayValues: (p) => `(SELECT value FROM json_each(${p}))`,
  inJsonArray: (expr, p) => `${expr} IN (SELECT value FROM json_each(${p}))`,
  jsonText: (column, key) => `json_extract(${column}, '$.${checkedKey(key)}')`,
  contains: (haystack, needle) => `instr(${haystack}, ${needle}) > 0`,
  jsonValid: (column) => `json_valid(${column})`,
  forUpdate: '',
  lockEvents: () => undefined,
  utf8Text: (p) => `CAST(${p} AS TEXT)`,
  indexedBy: (index) => `INDEXED BY ${index}`,
};

const POSTGRES: SqlDialect = {
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  jsonArrayValues: (p) => `(SELECT jsonb_array_elements_text(CAST(${p} AS jsonb)))`,
  inJsonArray: (expr, p) => `${expr} = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(${p} AS jsonb))))`,
  jsonText: (column, key) => `(CAST(${column} AS jsonb) #>> '{${checkedKey(key).split('.').join(',')}}')`,
  contains: (haystack, needle) => `strpos(${haystack}, ${needle}) > 0`,
  jsonValid: () => 'TRUE',
  forUpdate: ' FOR UPDATE',
  lockEvents: (purpose) =>
    `LOCK TABLE events IN ${purpose === 'ingest' ? 'ROW EXCLUSIVE' : 'SHARE ROW EXCLUSIVE'} MODE`,
  utf8Text: (p) => `convert_from(CAST(${p} AS bytea), 'UTF8')`,
  indexedBy: () => '',
};

/** Keys are written by us, never by a user: letters, digits and underscores only. */
function checkedKey(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(key)) throw new Error(`not a JSON key path: ${key}`);
  return key;
}

export const sqlDialect = (db: Sql): SqlDialect => (db.dialect === 'postgres' ? POSTGRES : SQLITE);
