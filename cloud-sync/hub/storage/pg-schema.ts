import { TesseraError } from '../../../shared/platform/errors.js';
import type { Sql } from './hub-db.js';
import type { PostgresHubDb } from './postgres.js';

/** Any constant: hub instances starting together migrate one at a time. */
export const MIGRATION_LOCK = 7_240_901;

/**
 * Brings the schema up to `migrations.length`, each entry in its own transaction, under a
 * transaction-scoped advisory lock (several hub instances may start at once: the second waits,
 * then finds the entry applied). Neither the entries nor the wait for the lock are bounded in
 * time: an entry may rewrite a large table.
 */
export async function migratePostgres(db: PostgresHubDb, migrations: readonly string[], what: string): Promise<void> {
  const latest = migrations.length;
  const locked = <T>(fn: (tx: Sql) => Promise<T>): Promise<T> =>
    db.migrationTransaction(async (tx) => {
      await tx.run('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      return fn(tx);
    });
  const current = await locked(async (tx) => {
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)',
    );
    await tx.exec('INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
    return version(tx);
  });
  if (current > latest) {
    throw new TesseraError(
      'store.corrupt',
      `${what} is at schema version ${current}, newer than this program knows (${latest}): upgrade Tessera or restore a backup`,
    );
  }
  for (let v = current + 1; v <= latest; v++) {
    await locked(async (tx) => {
      if ((await version(tx)) >= v) return; // another instance applied it meanwhile
      await tx.exec(migrations[v - 1] ?? '');
      await tx.run('UPDATE schema_version SET version = ? WHERE id = 1', [v]);
    });
  }
}

const version = async (tx: Sql): Promise<number> =>
  (await tx.value<number>('SELECT version FROM schema_version WHERE id = 1')) ?? 0;
