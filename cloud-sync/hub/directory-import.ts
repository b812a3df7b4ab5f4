import { TesseraError } from '../../shared/platform/errors.js';
import type { HubDb, Sql } from './db.js';
import { keyOf, parseEntity, UPSERT_ENTITY, type Entity, type Exists, type HubDirectory } from './directory.js';
import { SLICE, type Slices } from './slices.js';
import { sqlDialect } from './storage/dialect.js';

/** Keeps, once per import, the rows of these ids of one kind as they are before the import first writes them. */
const keepExisting = (q: Sql) =>
  `INSERT INTO directory_import_undo (entity, id, existed, value, revision, deleted) SELECT entity, id, 1, value, revision, deleted FROM directory_entities WHERE entity = ? AND id IN ${sqlDialect(q).jsonArrayValues('?')} ON CONFLICT (entity, id) DO NOTHING`;
/** Once they are written: those of these ids that had no row before (nothing kept for them yet) are marked new. */
const keepNew = (q: Sql) =>
  `INSERT INTO directory_import_undo (entity, id, existed, revision, deleted) SELECT entity, id, 0, 0, 0 FROM directory_entities WHERE entity = ? AND id IN ${sqlDialect(q).jsonArrayValues('?')} ON CONFLICT (entity, id) DO NOTHING`;

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
  static begin(db: HubDb, directory: HubDirectory, owner: string, now: number): Promise<DirectoryImport> {
    return db.transaction(async (tx) => {
      const revision = (await directory.revision(tx)) + 1;
      const taken = await tx.run(
        'INSERT INTO directory_import (id, owner, revision, started_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        [owner, revision, now],
      );
      if (taken.changes === 0)
        throw new TesseraError('conflict', 'a members import is being applied: try again once it is done');
      // What a committed import's hub had no time to forget: not this import's to restore.
      await clearJournal(tx);
      return new DirectoryImport(db, directory, revision);
    });
  }

  /**
   * Writes the import's entities from `start` on, `SLICE` of them in one transaction (each
   * checked as every directory write is), keeping what each replaced; returns where the next
   * slice starts. The slice's references and the rows it replaces are read a statement per kind.
   */
  writeSlice(items: ReadonlyArray<{ entity: Entity; value: unknown }>, start: number): Promise<number> {
    const end = Math.min(items.length, start + SLICE);
    const slice = items.slice(start, end);
    // What the slice writes and what it refers to, by kind: an item not valid is refused in the loop below.
    const writes = new Map<Entity, Set<string>>();
    const refs = new Map<Entity, Set<string>>();
    const add = (to: Map<Entity, Set<string>>, entity: Entity, id: string) =>
      void (to.get(entity) ?? to.set(entity, new Set()).get(entity))?.add(id);
    for (const { entity, value: input } of slice) {
      const value = parseEntity(entity, input);
      if (value === undefined) continue;
      add(writes, entity, keyOf(entity, value));
      if ('plan' in value) add(refs, 'plan', value.plan);
      if ('employer' in value && value.employer !== undefined) add(refs, 'employer', value.employer);
      if ('member' in value) add(refs, 'member', value.member);
    }
    return this.db.transaction(async (tx) => {
      const live = new Map<Entity, Set<string>>();
      for (const [entity, ids] of refs) live.set(entity, await this.directory.present(tx, entity, ids));
      const written = new Set<string>();
      const exists: Exists = async (entity, id) => {
        if (written.has(`${entity}:${id}`)) return true;
        if (refs.get(entity)?.has(id)) return live.get(entity)?.has(id) ?? false;
        return (await this.directory.get(tx, entity, id)) !== undefined;
      };
      for (const [entity, ids] of writes) await tx.run(keepExisting(tx), [entity, JSON.stringify([...ids])]);
      for (const { entity, value: input } of slice) {
        const value = await this.directory.validated(tx, entity, input, entity, exists);
        const id = keyOf(entity, value);
        await tx.run(UPSERT_ENTITY, [entity, id, JSON.stringify(value), this.revision]);
        written.add(`${entity}:${id}`);
      }
      for (const [entity, ids] of writes) await tx.run(keepNew(tx), [entity, JSON.stringify([...ids])]);
      return end;
    });
  }

  /**
   * Makes the whole import one new revision; `alongside` runs in the same transaction (the audit
   * row). From then on the journal is dead (the directory's revision has reached the import's):
   * `forget` empties it and frees the directory.
   */
  commit(alongside: (tx: Sql) => Promise<void>): Promise<number> {
    return this.db.transaction(async (tx) => {
      await alongside(tx);
      await tx.run('UPDATE directory_revision SET revision = ? WHERE id = 1', [this.revision]);
      return this.revision;
    });
  }

  /** Empties the journal of a committed import a slice at a time (400,000 rows at once hold the hub up), then frees the directory. */
  async forget(slices: Slices): Promise<void> {
    const some = `DELETE FROM directory_import_undo WHERE (entity, id) IN (SELECT entity, id FROM directory_import_undo LIMIT ${SLICE * 4})`;
    while ((await this.db.run(some)).changes > 0) await slices.tick();
    await this.db.run('DELETE FROM directory_import');
  }

  /** Puts back every row the import touched and frees the directory. */
  async rollback(): Promise<void> {
    await restoreImport(this.db);
  }
}

/**
 * At start: an import that the last run of this hub (`owner`, the instance name or '') left
 * half-written is rolled back. Another instance's import under way is left to it.
 */
export async function recoverImport(db: HubDb, owner: string): Promise<boolean> {
  const left = await db.value<string>('SELECT owner FROM directory_import WHERE id = 1');
  if (left === undefined || left !== owner) return false;
  return restoreImport(db);
}

/** Puts back the rows of an import not committed (true), or only forgets one committed. */
function restoreImport(db: HubDb): Promise<boolean> {
  return db.transaction(async (tx) => {
    const state = await tx.value<number>('SELECT revision FROM directory_import WHERE id = 1');
    const current = (await tx.value<number>('SELECT revision FROM directory_revision WHERE id = 1')) ?? 0;
    const committed = state === undefined || current >= state;
    if (!committed) {
      await tx.run(
        'DELETE FROM directory_entities WHERE EXISTS (SELECT 1 FROM directory_import_undo u WHERE u.existed = 0 AND u.entity = directory_entities.entity AND u.id = directory_entities.id)',
      );
      await tx.run(
        'INSERT INTO directory_entities (entity, id, value, revision, deleted) SELECT entity, id, value, revision, deleted FROM directory_import_undo WHERE existed = 1 ON CONFLICT (entity, id) DO UPDATE SET value = excluded.value, revision = excluded.revision, deleted = excluded.deleted',
      );
    }
    await clearJournal(tx);
    await tx.run('DELETE FROM directory_import');
    return !committed;
  });
}

/** Empties the journal at once: TRUNCATE on PostgreSQL; SQLite's DELETE without WHERE is its twin. */
async function clearJournal(q: Sql): Promise<void> {
  await q.exec(q.dialect === 'postgres' ? 'TRUNCATE directory_import_undo' : 'DELETE FROM directory_import_undo');
}
