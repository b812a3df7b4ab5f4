import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TesseraError } from './errors.js';

export type Db = Database.Database;

/** SQLite's answers for a file that is not a database, or one whose pages do not hold together. */
const DAMAGED = /^SQLITE_(NOTADB|CORRUPT)/;

/**
 * Opens a SQLite database in WAL mode and applies `migrations` it has not seen (PRAGMA
 * user_version), each in its own transaction. `synchronous=NORMAL` in WAL survives a process
 * crash (kill -9) without losing a committed transaction; a power cut may roll back the last
 * commits but never leaves a gap in a sequence (docs/edge.md). Used by the edge and the hub.
 * A damaged file is a `store.corrupt` error naming it, in one line.
 */
export function openSqlite(
  path: string,
  migrations: readonly string[],
  what: string,
  opts: { check?: boolean } = {},
): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    if (opts.check === true) checkWhole(db);
    migrate(db, migrations, what);
    return db;
  } catch (err) {
    db?.close();
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !DAMAGED.test(code)) throw err;
    throw new TesseraError(
      'store.corrupt',
      `${what} ${path} is damaged or is not a SQLite database (${(err as Error).message}): move it aside, then restore a backup or start with an empty one (docs/edge.md, "A lost or damaged database")`,
    );
  }
}

function checkWhole(db: Db): void {
  const found = db.pragma('quick_check(1)', { simple: true });
  if (found !== 'ok') throw Object.assign(new Error(String(found).split('\n', 1)[0]), { code: 'SQLITE_CORRUPT' });
}

function migrate(db: Db, migrations: readonly string[], what: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) {
    throw new TesseraError(
      'store.corrupt',
      `${what} is at schema version ${current}, newer than this program knows (${latest}): upgrade Tessera or restore a backup`,
    );
  }
  for (let version = current + 1; version <= latest; version++) {
    const sql = migrations[version - 1] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
