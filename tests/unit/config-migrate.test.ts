import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseSiteConfig } from '../../firmware-config/load.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { migrateText, STEPS } from '../../firmware-config/migrate.js';
import { CONFIG_VERSION } from '../../firmware-config/version.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const V1 = join(ROOT, 'tests', 'fixtures', 'config-v1');
const v1Text = (name: string) => readFileSync(join(V1, `${name}.yaml`), 'utf8');
const BASE = '/etc/tessera';

/**
 * How version 1 read a file: the keys of version 2, no `version`, and `directory.staleRoles` (a
 * list of roles) accepted and ignored. Read from the parsed data, apart from the text edits the
 * migration makes, so that a wrong edit cannot hide behind the same mistake here.
 */
function readAsVersion1(text: string): SiteConfig {
  const data = YAML.parse(text) as Record<string, unknown> & { directory?: Record<string, unknown> };
  expect(data).not.toHaveProperty('version');
  const stale = data.directory?.staleRoles;
  if (stale !== undefined) {
    expect(Array.isArray(stale) && stale.every((r) => ['member', 'staff', 'cleaner', 'visitor'].includes(r))).toBe(
      true,
    );
    delete data.directory?.staleRoles;
  }
  const result = parseSiteConfig(JSON.stringify({ ...data, version: CONFIG_VERSION }), 'v1.json', BASE);
  if (!result.ok) throw new Error(`not a valid version-1 file: ${JSON.stringify(result.errors)}`);
  return result.value;
}

function migrated(text: string, from = 1): string {
  const m = migrateText(text, from);
  if (!m.ok) throw new Error(JSON.stringify(m.errors));
  return m.text;
}

const commentsOf = (text: string) => text.match(/#.*$/gm) ?? [];

describe('the steps from one version of the site config to the next', () => {
  it('one step per version, in order, up to the version this release reads', () => {
    expect(STEPS.map((s) => s.from)).toEqual(Array.from({ length: CONFIG_VERSION - 1 }, (_, i) => i + 1));
  });

  it('1 → 2 takes out directory.staleRoles in block style, keeping every other line and comment', () => {
    const text = v1Text('hub-stale-roles');
    const { text: out, changes } = STEPS[0]!.apply(text);
    expect(changes).toEqual([
      'removed directory.staleRoles (["staff","cleaner"]): it was ignored; each role\'s bound is directory.maxAgeHours, unchanged',
    ]);
    expect(out).toBe(text.replace('  staleRoles:\n    - staff     # the host\n    - cleaner\n', ''));
  });

  it('1 → 2 takes it out of a flow mapping, first, middle or last, and out of a JSON file', () => {
    const apply = (t: string) => STEPS[0]!.apply(t).text;
    expect(apply('directory: {staleRoles: [staff], source: hub}\n')).toBe('directory: {source: hub}\n');
    expect(apply('directory: {source: hub, staleRoles: [staff], maxAgeHours: 3}\n')).toBe(
      'directory: {source: hub, maxAgeHours: 3}\n',
    );
    expect(apply('directory: { source: hub, staleRoles: [] }\n')).toBe('directory: { source: hub }\n');
    const json = '{\n  "directory": {\n    "source": "hub",\n    "staleRoles": ["staff"]\n  }\n}\n';
    expect(apply(json)).toBe('{\n  "directory": {\n    "source": "hub"\n  }\n}\n');
  });

  it('1 → 2 leaves a file without staleRoles as it is (the chain adds the version)', () => {
    const text = v1Text('lockers');
    expect(STEPS[0]!.apply(text)).toEqual({ text, changes: [] });
  });
});

describe('migrating a version-1 file to the current version', () => {
  it.each(['business-hours', 'lockers', 'rural-24-7', 'hub-stale-roles'])(
    '%s: the result is valid and loads to the same config as version 1 read the old file',
    (name) => {
      const text = v1Text(name);
      const result = parseSiteConfig(migrated(text), `${name}.yaml`, BASE);
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      expect(result.value).toEqual(readAsVersion1(text));
    },
  );

  it.each(['business-hours', 'lockers', 'rural-24-7'])(
    '%s: only the version line is new; every comment, blank line and alignment stays',
    (name) => {
      const text = v1Text(name);
      const out = migrated(text);
      expect(out.replace(/^version: 2 # .*\n/m, '')).toBe(text);
      expect(out).toMatch(/\n\nversion: 2 # this file's format \(docs\/config\.md\)\nsite:\n/);
    },
  );

  it('the committed examples are what migrating their version-1 copies gives, but for the frozen header', () => {
    for (const name of ['business-hours', 'lockers', 'rural-24-7']) {
      const frozen = v1Text(name).split('\n').slice(3).join('\n');
      expect(migrated(frozen)).toBe(readFileSync(join(ROOT, 'firmware-config', 'examples', `${name}.yaml`), 'utf8'));
    }
  });

  it('says what each step changed', () => {
    const m = migrateText(v1Text('hub-stale-roles'), 1);
    expect(m).toMatchObject({
      ok: true,
      from: 1,
      to: 2,
      steps: [
        {
          from: 1,
          to: 2,
          changes: [
            'added version: 2',
            expect.stringMatching(/^removed directory\.staleRoles \(\["staff","cleaner"\]\)/),
          ],
        },
      ],
    });
    expect(commentsOf(migrated(v1Text('hub-stale-roles')))).toEqual([
      ...commentsOf(v1Text('hub-stale-roles')).slice(0, 2),
      "# this file's format (docs/config.md)",
      ...commentsOf(v1Text('hub-stale-roles'))
        .filter((c) => c !== '# the host')
        .slice(2),
    ]);
  });

  it('puts the version first: after the comments that open the file, or first in a JSON object', () => {
    expect(migrated('# Murat\nsite: {id: murat}\n')).toBe(
      "# Murat\nversion: 2 # this file's format (docs/config.md)\nsite: {id: murat}\n",
    );
    expect(migrated('{\n  "site": {"id": "murat"}\n}\n')).toBe('{\n  "version": 2,\n  "site": {"id": "murat"}\n}\n');
    expect(migrated('{"site": {"id": "murat"}}')).toBe('{"version": 2, "site": {"id": "murat"}}');
    expect(migrated('site:\r\n  id: murat\r\n')).toBe(
      "version: 2 # this file's format (docs/config.md)\r\nsite:\r\n  id: murat\r\n",
    );
  });

  it('sets a version key that is already there rather than adding a second', () => {
    expect(migrated('version: 1   # kept\nsite: {id: murat}\n')).toBe('version: 2   # kept\nsite: {id: murat}\n');
  });

  it('a JSON file stays JSON', () => {
    const data = YAML.parse(v1Text('hub-stale-roles')) as object;
    const out = migrated(JSON.stringify(data, null, 2));
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed.version).toBe(2);
    expect(parsed.directory).toEqual({ source: 'hub', maxAgeHours: { member: 24 } });
  });

  it('refuses what it cannot migrate: a version it does not know, a document that is not a mapping', () => {
    expect(migrateText('version: 3\n', 3)).toMatchObject({
      ok: false,
      errors: [{ message: 'no migration from version 3' }],
    });
    expect(migrateText('- site\n', 1)).toMatchObject({
      ok: false,
      errors: [{ message: 'the file is not a mapping of keys to values' }],
    });
  });

  it('a current file has nothing to do', () => {
    const text = readFileSync(join(ROOT, 'firmware-config', 'examples', 'lockers.yaml'), 'utf8');
    expect(migrateText(text, CONFIG_VERSION)).toEqual({ ok: true, from: 2, to: 2, text, steps: [] });
  });
});
