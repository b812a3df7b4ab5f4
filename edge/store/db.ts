import { openSqlite, type Db } from '../../shared/platform/sqlite.js';
import { MIGRATIONS } from './migrations.js';

/**
 * The site's database, checked whole (`quick_check`) before use: a truncated or overwritten file
 * is refused at start with `store.corrupt`, not found out at a tap. The site's store is small.
 */
export function openDatabase(path: string): Db {
  return openSqlite(path, MIGRATIONS, 'the site database', { check: true });
}
