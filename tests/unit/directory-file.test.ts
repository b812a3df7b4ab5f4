import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadDirectoryFile } from '../../edge/directory/file.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'firmware-config', 'examples');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests write deliberately ill-typed values into it
type Draft = any;

/** A small valid directory that each test breaks in one way. */
function directory(): Draft {
  return {
    plans: [{ id: 'permanent', name: 'Abonné permanent', access: 'always' }],
    employers: [{ id: 'cc-hautes-terres', name: 'Communauté de communes Hautes Terres' }],
    members: [{ id: 'm-0001', name: 'Sylvie Chazal', plan: 'permanent', employer: 'cc-hautes-terres' }],
    badges: [{ uid: '04A2B3C4D5E6F7', member: 'm-0001' }],
  };
}

function write(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-directory-')), name);
  writeFileSync(path, text);
  return path;
}

/** The `path: message` lines for a broken directory, written both as YAML and as JSON. */
function errorsOf(change: (dir: Draft) => void): string[] {
  const dir = directory();
  change(dir);
  const asYaml = loadDirectoryFile(write('directory.yaml', YAML.stringify(dir)));
  const asJson = loadDirectoryFile(write('directory.json', JSON.stringify(dir, null, 2)));
  if (asYaml.ok || asJson.ok) throw new Error('expected the directory to be refused');
  expect(asYaml.code).toBe('directory.invalid');
  expect(asJson).toEqual(asYaml);
  return asYaml.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('the example directory files', () => {
  it.each([
    ['business-hours', 9, 10],
    ['rural-24-7', 8, 9],
    ['lockers', 9, 10],
  ])('%s.directory.yaml loads', (name, members, badges) => {
    const result = loadDirectoryFile(join(EXAMPLES, `${name}.directory.yaml`));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.value.members).toHaveLength(members);
    expect(result.value.badges).toHaveLength(badges);
    expect(result.value.badges.filter((b) => b.status === 'revoked')).toHaveLength(1);
    expect(result.value.members.map((m) => m.role)).toEqual(expect.arrayContaining(['staff', 'cleaner', 'visitor']));
    expect(result.value.members.some((m) => m.status === 'suspended')).toBe(true);
  });

  it('share windows between plans with a YAML alias', () => {
    const result = loadDirectoryFile(join(EXAMPLES, 'lockers.directory.yaml'));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const [one, two] = result.value.plans;
    expect(two?.access).toEqual(one?.access);
    expect(one?.access).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }]);
  });
});

describe('a directory file in YAML or JSON', () => {
  it('loads the same directory from either, with defaults filled in and UIDs normalised', () => {
    const dir = directory();
    dir.badges[0].uid = '04:a2:b3:c4:d5:e6:f7';
    const fromYaml = loadDirectoryFile(write('directory.yml', YAML.stringify(dir)));
    const fromJson = loadDirectoryFile(write('directory.JSON', JSON.stringify(dir)));
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml).toMatchObject({
      ok: true,
      value: {
        revision: 0,
        plans: [{ sites: 'all', lockers: false }],
        members: [{ role: 'member', status: 'active' }],
        badges: [{ uid: '04A2B3C4D5E6F7', status: 'active' }],
      },
    });
  });

  it('reads a .json file as JSON, so YAML-only syntax there is an error', () => {
    const result = loadDirectoryFile(write('directory.json', 'plans: []\n'));
    expect(result).toMatchObject({ ok: false, code: 'directory.invalid', errors: [{ path: '(document)' }] });
  });
});

describe('a directory error names the path', () => {
  it('a member on a plan that does not exist', () => {
    expect(errorsOf((d) => (d.members[0].plan = 'gold'))).toEqual(['members[0].plan: no plan with id "gold"']);
  });

  it('a badge listed twice, however its UID is spelt', () => {
    expect(errorsOf((d) => d.badges.push({ uid: '04 a2 b3 c4 d5 e6 f7', member: 'm-0001' }))).toEqual([
      'badges[1]: duplicate badge "04A2B3C4D5E6F7"',
    ]);
  });

  it('a UID that is not hex bytes', () => {
    expect(errorsOf((d) => (d.badges[0].uid = '04A2B3Z'))).toEqual([
      'badges[0].uid: expected a badge UID of 4 to 10 bytes in hex, e.g. "04A2B3C4D5E6F7", got "04A2B3Z"',
    ]);
  });

  it('an unknown key, with the key it probably meant', () => {
    expect(errorsOf((d) => (d.members[0].employeur = 'cc-hautes-terres'))).toEqual([
      'members[0].employeur: unknown key "employeur" (did you mean "employer"?)',
    ]);
  });

  it('a badge of a member who is not there, and a day pass that ends before it starts', () => {
    expect(
      errorsOf((d) => {
        d.badges[0].member = 'm-9999';
        d.members[0].validFrom = '2026-10-14';
        d.members[0].validUntil = '2026-10-13';
      }),
    ).toEqual([
      'members[0].validUntil: validUntil is before validFrom, got "2026-10-13"',
      'badges[0].member: no member with id "m-9999"',
    ]);
  });

  it('bad values everywhere, all reported at once', () => {
    expect(
      errorsOf((d) => {
        d.plans[0].access = [{ days: ['lundi'], from: '8h', to: '18:00' }];
        d.members[0].role = 'admin';
        d.members[0].validFrom = '14/10/2026';
      }),
    ).toEqual([
      'plans[0].access[0].days[0]: expected a day, one of mon, tue, wed, thu, fri, sat, sun, got "lundi"',
      'plans[0].access[0].from: expected a time "HH:MM" (00:00 to 24:00), got "8h"',
      'members[0].role: expected one of "member", "staff", "cleaner", "visitor", got "admin"',
      'members[0].validFrom: expected a date "YYYY-MM-DD", got "14/10/2026"',
    ]);
  });

  it('a syntax error, with its line and column in YAML and JSON', () => {
    expect(loadDirectoryFile(write('directory.yaml', 'plans:\n  - id: a\n   name: b\n'))).toMatchObject({
      ok: false,
      code: 'directory.invalid',
      errors: [{ path: '(line 3, column 1)', message: 'YAML syntax: Sequence item without - indicator' }],
    });
    expect(loadDirectoryFile(write('directory.json', '{\n  "plans": [],\n  members\n}'))).toMatchObject({
      ok: false,
      code: 'directory.invalid',
      errors: [{ path: '(line 3, column 3)', message: 'JSON syntax: Expected double-quoted property name' }],
    });
  });

  it('a file that is not valid UTF-8, with the position of the first bad byte', () => {
    const path = write('directory.yaml', '');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('plans: []\nmembers: [{ id: m-1, name: "Ren'),
        Buffer.from([0xe9]),
        Buffer.from('e", plan: p }]\n'),
      ]),
    );
    expect(loadDirectoryFile(path)).toEqual({
      ok: false,
      code: 'directory.invalid',
      errors: [
        {
          path: '(line 2, column 32)',
          message: 'not UTF-8 text: byte 0xE9 at byte offset 41 cannot be decoded; save the file as UTF-8',
        },
      ],
    });
  });

  it('a file that cannot be read', () => {
    const missing = join(tmpdir(), 'tessera-no-such-folder', 'directory.yaml');
    expect(loadDirectoryFile(missing)).toEqual({
      ok: false,
      code: 'directory.unreadable',
      errors: [{ path: '(file)', message: `cannot read ${missing}: file not found` }],
    });
  });
});
