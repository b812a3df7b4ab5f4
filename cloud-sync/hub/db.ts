import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openSqlite } from '../../shared/platform/sqlite.js';
import { HUB_MIGRATIONS } from './migrations.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import type { HubDb } from './storage/hub-db.js';
import { isPostgresUrl } from './storage/hub-db.js';
import { migratePostgres } from './storage/pg-schema.js';
import { PostgresHubDb, type PostgresOptions } from './storage/postgres.js';
import { SqliteHubDb } from './storage/sqlite.js';

export type { HubDb, Sql, Tx } from './storage/hub-db.js';

/**
 * The hub's database, up to date: a SQLite file (WAL mode) or ':memory:', or a PostgreSQL
 * database given by its URL (postgres://…). A committed batch survives a process crash, and an
 * ack is published only after its batch committed. `postgres`: the pool's bounds (tests).
 */
export async function openHubDatabase(target: string, postgres?: PostgresOptions): Promise<HubDb> {
  if (!isPostgresUrl(target)) return openHubSqlite(target);
  const db = new PostgresHubDb(target, postgres);
  try {
    await migratePostgres(db, PG_MIGRATIONS, 'the hub database');
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** The hub database as a SQLite file or ':memory:' (the embedded default), with its pragmas. */
export function openHubSqlite(path: string): SqliteHubDb {
  return new SqliteHubDb(openSqlite(path, HUB_MIGRATIONS, 'the hub database'));
}

/** `--db` as given: a PostgreSQL URL as it is, a file made absolute (default var/hub.db). */
export function hubDbTarget(arg: string | undefined): string {
  return arg !== undefined && isPostgresUrl(arg) ? arg : resolve(arg ?? 'var/hub.db');
}

/**
 * Whether there is a hub database to open: opening a missing file would create an empty one, so
 * a mistyped path must be caught first. A PostgreSQL URL always counts: a wrong one fails to connect.
 */
export function hubDbExists(target: string): boolean {
  return isPostgresUrl(target) || existsSync(target);
}

/** `--key` unless given: beside the database file, or var/hub.key when the database is PostgreSQL. */
export function defaultHubKey(db: string): string {
  return resolve(isPostgresUrl(db) ? 'var/hub.key' : join(dirname(db), 'hub.key'));
}
