import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens the site's database in WAL mode and brings its schema up to date. `synchronous=NORMAL`
 * in WAL survives a process crash (kill -9) without losing a committed transaction; a power cut
 * may roll back the last commits but never leaves a gap in `seq` (docs/edge.md).
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.length;
  if (current > latest) {
    throw new TesseraError(
      'store.corrupt',
      `the database is at schema version ${current}, newer than this program knows (${latest}): upgrade Tessera or restore a backup`,
    );
  }
  for (let version = current + 1; version <= latest; version++) {
    const sql = MIGRATIONS[version - 1] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
