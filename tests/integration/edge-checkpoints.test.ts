import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEdge } from '../../edge/site/run.js';
import { WRITER_CHECKPOINT_PAGES } from '../../shared/platform/wal-checkpointer.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';
import { silent } from '../support/logger.js';

const cleanups = cleanupsAfterEach();
const UID = '04C4C4C4C4C4C4';

describe("a running site's database", () => {
  it('is checkpointed by a worker thread, never by a tap after its commit, until the site stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-edge-wal-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // A closed port: the site runs on its own, its sync worker retrying in the background.
    writeFileSync(join(dir, 'site.yaml'), networkSiteYaml({ id: 'murat', mqttUrl: 'mqtt://127.0.0.1:9' }));
    writeFileSync(
      join(dir, 'directory.yaml'),
      [
        'plans: [{ id: always, name: "24/7", access: always }]',
        'members: [{ id: alice, name: Alice Martin, plan: always }]',
        `badges: [{ uid: "${UID}", member: alice }]`,
        '',
      ].join('\n'),
    );
    const dbPath = join(dir, 'edge.db');
    const site = await runEdge({
      configPath: join(dir, 'site.yaml'),
      simulate: true,
      log: silent,
      storagePath: dbPath,
    });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : site.stop()));
    const db = site.edge.store.db;
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_CHECKPOINT_PAGES);
    const before = statSync(dbPath).size;
    // Each tap commits a few pages; a few hundred take the log past SQLite's own threshold of 1,000.
    for (let i = 0; i < 400; i++) {
      const res = await fetch(`${site.url}/simulate/tap`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reader: i % 2 === 0 ? 'front-in' : 'front-out', uid: UID }),
      });
      expect(((await res.json()) as { granted: boolean }).granted).toBe(true);
    }
    // Only the worker can have copied the log into the database file: the writer's bound is far away.
    await eventually(() => statSync(dbPath).size > before, 'the database file holds the taps', 20_000, 50);
    await site.stop();
    stopped = true;
    expect(db.open).toBe(false);
  });
});
