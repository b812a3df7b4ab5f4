import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHubSqlite } from '../../cloud-sync/hub/db.js';
import { startWalCheckpointer, WRITER_CHECKPOINT_PAGES } from '../../shared/platform/wal-checkpointer.js';
import { silent } from '../support/logger.js';

const dirs: string[] = [];
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-wal-'));
  dirs.push(dir);
  return join(dir, 'hub.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(check: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > 10_000) throw new Error(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the WAL checkpointer (the hub database here; the edge store has the same)', () => {
  it('copies the log into the database from its worker, while the writer no longer checkpoints before 64 MB', async () => {
    const path = tempDb();
    const db = openHubSqlite(path);
    const checkpointer = startWalCheckpointer(db.raw, silent, 20);
    expect(db.raw.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_CHECKPOINT_PAGES);
    const before = statSync(path).size;
    // About 2,000 pages: past SQLite's default threshold, far below the writer's own.
    await db.transaction(async (tx) => {
      for (let i = 0; i < 2000; i++)
        await tx.run("INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES ('t', 'r', 'd', ?, 0)", [
          'x'.repeat(4000),
        ]);
    });
    await until(() => statSync(path).size > before + 4_000_000, 'the database file holds the rows');
    await checkpointer?.stop();
    await checkpointer?.stop();
    expect(await db.value('SELECT COUNT(*) FROM dead_letters')).toBe(2000);
    await db.close();
  });

  it('is not started for an in-memory database', async () => {
    const db = openHubSqlite(':memory:');
    expect(startWalCheckpointer(db.raw, silent)).toBeUndefined();
    await db.close();
  });

  it('when its worker fails, the writer checkpoints as SQLite does by default again', async () => {
    const path = tempDb();
    const db = openHubSqlite(path);
    unlinkSync(path); // the worker cannot open what is no longer there; the writer keeps its open file
    const checkpointer = startWalCheckpointer(db.raw, silent, 20);
    await until(
      () => db.raw.pragma('wal_autocheckpoint', { simple: true }) === 1000,
      'the writer takes checkpoints back',
    );
    await db.run("INSERT INTO dead_letters (topic, reason, detail, payload, at) VALUES ('t', 'r', 'd', 'p', 0)");
    await checkpointer?.stop();
    await db.close();
  });
});
