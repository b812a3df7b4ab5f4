import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SiteConfig } from '../../firmware-config/schema.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { SimReader } from '../../edge/hardware/sim-reader.js';
import { loadDirectoryFileIfChanged } from '../../edge/directory/file.js';
import { createEdge } from '../../edge/site/edge.js';
import { loadDirectory } from '../../edge/site/run.js';
import { EdgeStore } from '../../edge/store/store.js';
import { silent } from '../support/logger.js';
import { tempDir } from '../support/temp-dir.js';

const directory = (members: number, revision = 1) => ({
  revision,
  plans: [{ id: 'always', name: '24/7', access: 'always' }],
  members: Array.from({ length: members }, (_, i) => ({ id: `m${i}`, name: `Member ${i}`, plan: 'always' })),
  badges: Array.from({ length: members }, (_, i) => ({
    uid: `04A2B3C4D5E6${i.toString(16).padStart(2, '0')}`,
    member: `m${i}`,
  })),
});

function site(dir: string) {
  const path = join(dir, 'directory.yaml');
  const config = SiteConfig.parse({
    site: { id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 },
    readers: [{ id: 'in', match: 'in', role: 'entry', door: 'front' }],
    doors: [{ id: 'front', relay: { line: 17 } }],
    directory: { source: 'file', path },
  });
  const clock = new ManualClock('2026-03-29T08:00:00Z');
  const open = () => {
    const store = EdgeStore.open(join(dir, 'edge.db'), 'murat', 'Europe/Paris');
    const reader = new SimReader(['in'], clock);
    const edge = createEdge({ config, clock, log: silent, store, reader, gpio: new SimGpio(clock) });
    return { store, edge, reader };
  };
  return { path, config, clock, open };
}

describe('a directory file already imported is not parsed again', () => {
  it('skips an unchanged file at a restart, and imports a changed one', () => {
    const s = site(tempDir());
    writeFileSync(s.path, YAML.stringify(directory(3)));
    let { store, edge } = s.open();
    expect(loadDirectory(edge, s.config, silent)).toBe(true);
    const first = store.directory.describe();
    expect(first).toMatchObject({ revision: 1, members: 3, badges: 3 });
    expect(store.directory.fileHash(`file:${s.path}`)).toMatch(/^[0-9a-f]{64}$/);
    store.close();

    // A restart with the same file: the directory in force stays, loaded when it was.
    s.clock.advance(60_000);
    ({ store, edge } = s.open());
    expect(loadDirectory(edge, s.config, silent)).toBe(true);
    expect(store.directory.describe()).toEqual(first);
    expect(store.directory.lookup('04A2B3C4D5E601')?.member?.id).toBe('m1');

    // The file edited: imported again.
    s.clock.advance(60_000);
    writeFileSync(s.path, YAML.stringify(directory(5, 2)));
    expect(loadDirectory(edge, s.config, silent)).toBe(true);
    expect(store.directory.describe()).toMatchObject({ revision: 2, members: 5, loadedAt: s.clock.now() });
    store.close();
  });

  it('imports the same file again once anything changed the directory since', () => {
    const s = site(tempDir());
    writeFileSync(s.path, YAML.stringify(directory(3)));
    const { store, edge } = s.open();
    loadDirectory(edge, s.config, silent);
    const source = `file:${s.path}`;
    const hash = store.directory.fileHash(source);
    expect(hash).toBeDefined();
    // Another source of the same name does not match.
    expect(store.directory.fileHash('file:/elsewhere.yaml')).toBeUndefined();
    // A member removed behind the file's back (as an erasure does): the hash is forgotten...
    store.transaction(() => store.db.prepare("DELETE FROM badges WHERE member = 'm1'").run());
    expect(store.directory.fileHash(source)).toBeUndefined();
    expect(store.directory.lookup('04A2B3C4D5E601')).toBeUndefined();
    // ...so the same file is imported again, as it always was.
    s.clock.advance(60_000);
    expect(loadDirectory(edge, s.config, silent)).toBe(true);
    expect(store.directory.lookup('04A2B3C4D5E601')?.member?.id).toBe('m1');
    expect(store.directory.fileHash(source)).toBe(hash);
    for (const change of [
      "UPDATE members SET body = json_set(body, '$.name', 'X') WHERE id = 'm2'",
      "INSERT INTO plans (id, body) VALUES ('p2', '{}')",
      "DELETE FROM plans WHERE id = 'p2'",
    ]) {
      store.directory.recordFileHash('abc');
      store.transaction(() => store.db.prepare(change).run());
      expect(store.directory.fileHash(source), change).toBeUndefined();
    }
    store.close();
  });

  it('reads the file once: unchanged for its own hash, parsed otherwise, refused when broken', () => {
    const dir = tempDir();
    const path = join(dir, 'directory.yaml');
    writeFileSync(path, YAML.stringify(directory(2)));
    const parsed = loadDirectoryFileIfChanged(path, undefined);
    expect(parsed.ok && 'value' in parsed && parsed.value.members.length).toBe(2);
    const hash = parsed.ok && 'hash' in parsed ? parsed.hash : undefined;
    expect(loadDirectoryFileIfChanged(path, hash)).toEqual({ ok: true, unchanged: true });
    writeFileSync(path, 'members: [{id: m0}]\n');
    expect(loadDirectoryFileIfChanged(path, hash)).toMatchObject({ ok: false, code: 'directory.invalid' });
    expect(loadDirectoryFileIfChanged(join(dir, 'missing.yaml'), hash)).toMatchObject({
      ok: false,
      code: 'directory.unreadable',
    });
  });
});
