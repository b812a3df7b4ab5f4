import type { Db } from '../../edge/store/db.js';
import { openSqlite } from '../../edge/store/db.js';
import { HUB_MIGRATIONS } from './migrations.js';

export type HubDb = Db;

/**
 * The hub's database, in WAL mode and up to date. A committed batch survives a process crash,
 * and an ack is published only after its batch committed.
 */
export function openHubDatabase(path: string): HubDb {
  return openSqlite(path, HUB_MIGRATIONS, 'the hub database');
}
