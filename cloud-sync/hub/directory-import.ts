import { TesseraError } from '../../shared/platform/errors.js';
import type { HubDb } from './db.js';
import { keyOf, UPSERT_ENTITY, type Entity, type HubDirectory } from './directory.js';
import { SLICE, type Slices } from './slices.js';
import { dialectOf } from './storage/hub-db.js';

/**
 * A big members import written in slices, each its own short transaction, so that the event
 * loop breathes between them, yet all or nothing for everyone else: its rows carry the next
 * revision, which the directory announces (and so sites receive) only at the commit; no other
 * directory write is taken meanwhile (409), and the sites are sent nothing; every row touched is
 * kept as it was in `directory_import_undo`, so that a failure, or a hub stopped or killed
 * half-way, puts the directory back as it was (at once, or at the next start).
 */
export class DirectoryImport {
  private constructor(
    private readonly db: HubDb,
    private readonly directory: HubDirectory,
    readonly revision: number,
  ) {}

  /** Takes the directory for one import; refuses (409) while another is under way. */
  static begin(db: HubDb, directory: HubDirectory, owner: string, now: number): DirectoryImport {
    return db.transaction(() => {
      const revision = directory.revision() + 1;
      const taken = db
        .prepare(
          'INSERT INTO directory_import (id, owner, revision, started_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        )
        .run(owner, revision, now);
      if (taken.changes === 0)
        throw new TesseraError('conflict', 'a members import is being applied: try again once it is done');
      // What a committed import's hub had no time to forget: not this import's to restore.
      clearJournal(db);
      return new DirectoryImport(db, directory, revision);
    })();
  }

  /**
   * Writes the import's entities from `start` on (each checked as every directory write is),
   * keeping what each replaced, in one transaction that ends once `deadline` (performance.now())
   * has passed; returns where the next slice starts.
   */
  writeSlice(items: ReadonlyArray<{ entity: Entity; value: unknown }>, start: number, deadline: number): number {
    const prior = this.db.prepare<[string, string], { value: string | null; revision: number; deleted: number }>(
      'SELECT value, revision, deleted FROM directory_entities WHERE entity = ? AND id = ?',
    );
    const keep = this.db.prepare(
      'INSERT INTO directory_import_undo (entity, id, existed, value, revision, deleted) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entity, id) DO NOTHING',
    );
    const write = this.db.prepare(UPSERT_ENTITY);
    return this.db.transaction(() => {
      let at = start;
      for (; at < items.length && (at === start || performance.now() < deadline); at++) {
        const { entity, value: input } = items[at] as { entity: Entity; value: unknown };
        const value = this.directory.validated(entity, input);
        const id = keyOf(entity, value);
        const was = prior.get(entity, id);
        keep.run(entity, id, was ? 1 : 0, was?.value ?? null, was?.revision ?? 0, was?.deleted ?? 0);
        write.run(entity, id, JSON.stringify(value), this.revision);
      }
      return at;
    })();
  }

  /**
   * Makes the whole import one new revision; `alongside` runs in the same transaction (the audit
   * row). From then on the journal is dead (the directory's revision has reached the import's):
   * `forget` empties it and frees the directory.
   */
  commit(alongside: () => void): number {
    return this.db.transaction(() => {
      alongside();
      this.db.prepare('UPDATE directory_revision SET revision = ? WHERE id = 1').run(this.revision);
      return this.revision;
    })();
  }

  /** Empties the journal of a committed import a slice at a time (400,000 rows at once hold the hub up), then frees the directory. */
  async forget(slices: Slices): Promise<void> {
    const some = this.db.prepare(
      `DELETE FROM directory_import_undo WHERE (entity, id) IN (SELECT entity, id FROM directory_import_undo LIMIT ${SLICE * 4})`,
    );
    while (some.run().changes > 0) await slices.tick();
    this.db.exec('DELETE FROM directory_import');
  }

  /** Puts back every row the import touched and frees the directory. */
  rollback(): void {
    restoreImport(this.db);
  }
}

/**
 * At start: an import that the last run of this hub (`owner`, the instance name or '') left
 * half-written is rolled back. Another instance's import under way is left to it.
 */
export function recoverImport(db: HubDb, owner: string): boolean {
  const left = db.prepare<[], { owner: string }>('SELECT owner FROM directory_import WHERE id = 1').get();
  if (left === undefined || left.owner !== owner) return false;
  return restoreImport(db);
}

/** Puts back the rows of an import not committed (true), or only forgets one committed. */
function restoreImport(db: HubDb): boolean {
  return db.transaction(() => {
    const state = db.prepare<[], { revision: number }>('SELECT revision FROM directory_import WHERE id = 1').get();
    const current =
      db.prepare<[], { revision: number }>('SELECT revision FROM directory_revision WHERE id = 1').get()?.revision ?? 0;
    const committed = state === undefined || current >= state.revision;
    if (!committed) {
      db.exec(
        'DELETE FROM directory_entities WHERE EXISTS (SELECT 1 FROM directory_import_undo u WHERE u.existed = 0 AND u.entity = directory_entities.entity AND u.id = directory_entities.id)',
      );
      db.exec(
        'INSERT INTO directory_entities (entity, id, value, revision, deleted) SELECT entity, id, value, revision, deleted FROM directory_import_undo WHERE existed = 1 ON CONFLICT (entity, id) DO UPDATE SET value = excluded.value, revision = excluded.revision, deleted = excluded.deleted',
      );
    }
    clearJournal(db);
    db.exec('DELETE FROM directory_import');
    return !committed;
  })();
}

/** Empties the journal at once: TRUNCATE on PostgreSQL; SQLite's DELETE without WHERE is its twin. */
function clearJournal(db: HubDb): void {
  db.exec(dialectOf(db) === 'postgres' ? 'TRUNCATE directory_import_undo' : 'DELETE FROM directory_import_undo');
}
