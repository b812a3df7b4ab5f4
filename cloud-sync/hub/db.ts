import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import { HUB_MIGRATIONS } from './migrations.js';

export type HubDb = Database.Database;

/**
 * Opens the hub's database in WAL mode and brings its schema up to date. `synchronous=NORMAL`
 * in WAL keeps every committed batch through a process crash; an ack is published only after
 * the batch committed.
 */
export function openHubDatabase(path: string): HubDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: HubDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = HUB_MIGRATIONS.length;
  if (current > latest) {
    throw new TesseraError(
      'store.corrupt',
      `the hub database is at schema version ${current}, newer than this program knows (${latest}): upgrade Tessera or restore a backup`,
    );
  }
  for (let version = current + 1; version <= latest; version++) {
    const sql = HUB_MIGRATIONS[version - 1] ?? '';
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
