import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** The site's database. */
export function openDatabase(path: string): Db {
  return openSqlite(path, MIGRATIONS, 'the database');
}

/**
 * Opens a SQLite database in WAL mode and applies `migrations` it has not seen (PRAGMA
 * user_version), each in its own transaction. `synchronous=NORMAL` in WAL survives a process
 * crash (kill -9) without losing a committed transaction; a power cut may roll back the last
 * commits but never leaves a gap in a sequence (docs/edge.md). Used by the edge and the hub.
 */
export function openSqlite(path: string, migrations: readonly string[], what: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations, what);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: Db, migrations: readonly string[], what: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) {
    throw new TesseraError('store.corrupt', `${what} is at schema version ${current}, newer than this program knows (${latest}): upgrade Tessera or restore a backup`);
  }
  for (let version = current + 1; version <= latest; version++) {
    const sql = migrations[version - 1] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
