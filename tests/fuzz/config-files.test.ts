import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadDirectoryFile } from '../../edge/directory/file.js';
import { parseDocument, parseText } from '../../shared/platform/yaml-document.js';
import { parseSiteConfig } from '../../firmware-config/load.js';
import { migrateText } from '../../firmware-config/migrate.js';
import { CONFIG_VERSION, declaredVersion } from '../../firmware-config/version.js';
import { Directory } from '../../shared/protocol/directory.js';
import { byteDamage, damage, garbage, must, mutationsOf, prototypeIsClean, same, toJsonText, weird } from './kit.js';
import { fuzz, inputs, part } from '../support/fuzz.js';

const EXAMPLES = ['rural-24-7', 'lockers', 'business-hours'];
const read = (name: string) => readFileSync(join('firmware-config/examples', name), 'utf8');
const SITE_TEXTS = EXAMPLES.map((n) => read(`${n}.yaml`));
const DIRECTORY_TEXTS = EXAMPLES.map((n) => read(`${n}.directory.yaml`));
const V1_TEXTS = [...EXAMPLES, 'hub-stale-roles'].map((n) =>
  readFileSync(join('tests/fixtures/config-v1', `${n}.yaml`), 'utf8'),
);
const N = { site: inputs(6_000), directory: inputs(5_000), migrate: inputs(3_000) };
/** Of the directory files' inputs, these are written to disk and read back by loadDirectoryFile. */
const FROM_DISK = Math.min(1000, Math.ceil(N.directory / 10));

/** YAML's own traps: aliases and alias bombs, merge keys, tags, several documents, tabs, odd scalars. */
const YAML_TRAPS = [
  'a: &a [*a]',
  'x: &x\n  - *x\n  - *x',
  `a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]`,
  '<<: {site: {id: x}}',
  '!!js/function "function () { return 1 }"',
  '!!binary aGVsbG8=',
  '!<tag:yaml.org,2002:python/object/apply:os.system> ["ls"]',
  '--- a\n--- b',
  '\tsite:\n\t\tid: x',
  '? [complex, key]\n: value',
  '__proto__: {polluted: true}',
  'site: {id: murat, __proto__: {polluted: true}}',
  // Past the 64 levels yaml-limits.ts allows (20,000 levels are unit-tested: each costs 0.1 s to refuse).
  `${'['.repeat(100)}${']'.repeat(100)}`,
  `${'- '.repeat(100)}x`,
  `${'? '.repeat(30)}x`,
  'line: 0x11\ncapacity: 1_000\non: yes\nno: off\nnull: ~\ndate: 2026-11-23',
  '%YAML 1.1\n---\nsite: x',
  '"\\uD800"',
];

type LineEdit = { op: 'drop' | 'dup' | 'indent' | 'value' | 'insert' | 'swap'; line: number; text: string };
const lineText = fc.oneof(
  fc.constantFrom(...YAML_TRAPS),
  weird.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))),
  fc.string({ maxLength: 30 }),
);
const lineEdit: fc.Arbitrary<LineEdit> = fc.record({
  op: fc.constantFrom('drop', 'dup', 'indent', 'value', 'value', 'insert', 'swap'),
  line: fc.nat(),
  text: lineText,
}) as fc.Arbitrary<LineEdit>;

/** A YAML text with lines dropped, repeated, re-indented, swapped, a value replaced or a line inserted. */
function editLines(text: string, edits: LineEdit[]): string {
  const lines = text.split('\n');
  for (const e of edits) {
    const i = e.line % lines.length;
    const line = lines[i] ?? '';
    if (e.op === 'drop') lines.splice(i, 1);
    else if (e.op === 'dup') lines.splice(i, 0, line);
    else if (e.op === 'indent') lines[i] = e.line % 2 ? `  ${line}` : line.replace(/^ {1,2}/, '');
    else if (e.op === 'value')
      lines[i] = line.includes(':') ? `${line.slice(0, line.indexOf(':') + 1)} ${e.text}` : e.text;
    else if (e.op === 'insert') lines.splice(i, 0, e.text);
    else [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length] ?? '', line];
  }
  return lines.join('\n');
}

/** A document's inputs: edited YAML, its data mutated and written as JSON (read as .json or as YAML flow), damaged bytes, garbage. */
function documents(texts: readonly string[]): fc.Arbitrary<{ text: string; source: string }> {
  const data = texts.map((t) => YAML.parse(t) as unknown);
  const asJson = fc
    .tuple(mutationsOf(...data), fc.constantFrom('site.json', 'site.json', 'site.yaml'))
    .map(([v, source]) => ({ text: toJsonText(v), source }));
  const edited = fc
    .tuple(fc.constantFrom(...texts), fc.array(lineEdit, { minLength: 1, maxLength: 4 }))
    .map(([t, es]) => ({ text: editLines(t, es), source: 'site.yaml' }));
  const damaged = fc
    .tuple(fc.constantFrom(...texts), byteDamage)
    .map(([t, d]) => ({ text: damage(t, d).toString('utf8'), source: 'site.yaml' }));
  const random = fc
    .oneof(
      garbage.map((b) => b.toString('utf8')),
      fc.array(lineText, { maxLength: 6 }).map((ls) => ls.join('\n')),
    )
    .map((text) => ({ text, source: 'site.yaml' }));
  return fc.oneof(
    { weight: 4, arbitrary: asJson },
    { weight: 3, arbitrary: edited },
    { weight: 2, arbitrary: damaged },
    { weight: 1, arbitrary: random },
  );
}

const tmp = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('fuzz: site config files (firmware-config/load.ts)', () => {
  const PARTS = 2;
  for (let p = 1; p <= PARTS; p++) {
    it(`every file is a config with absolute paths, or config.invalid with each error's path and message (part ${p} of ${PARTS}, ${part(N.site, PARTS)} inputs)`, () => {
      fuzz(
        fc.property(documents(SITE_TEXTS), ({ text, source }) => {
          const r = parseSiteConfig(text, source, '/etc/tessera');
          if (r.ok) return must(isAbsolute(r.value.storage.path), 'a config whose storage path is not absolute');
          must(
            r.code === 'config.invalid' && r.errors.length > 0,
            () => `refused as ${r.code} with ${r.errors.length} errors`,
          );
          for (const e of r.errors)
            must(
              typeof e.path === 'string' && typeof e.message === 'string',
              () => `an error without its path: ${JSON.stringify(e)}`,
            );
        }),
        part(N.site, PARTS),
      );
      expect(prototypeIsClean()).toBe(true);
    });
  }
});

/** What a version-1 document means to version 2: the same data, `staleRoles` left out, the version stated. */
function asVersion2(data: unknown): unknown {
  // Changed in place (a copy would turn YAML's !!binary Buffers into plain Uint8Arrays).
  const copy = data as Record<string, unknown>;
  const directory = copy.directory;
  if (directory !== null && typeof directory === 'object' && !Array.isArray(directory))
    delete (directory as Record<string, unknown>).staleRoles;
  return { ...copy, version: CONFIG_VERSION };
}

describe('fuzz: config migrate (firmware-config/migrate.ts)', () => {
  it(`an older file migrates to the same data, version stated and staleRoles out, or is refused with a reason; never a throw (${N.migrate} inputs)`, () => {
    fuzz(
      fc.property(documents(V1_TEXTS), ({ text, source }) => {
        const before = parseText(text, source);
        if (!before.ok) return;
        const declared = declaredVersion(before.data);
        if (!declared.ok || declared.version >= CONFIG_VERSION) return;
        const m = migrateText(text, declared.version);
        if (!m.ok) return must(m.errors.length > 0, 'refused without a reason');
        const after = parseText(m.text, source);
        must(after.ok, () => `the migrated text does not parse: ${JSON.stringify(after.ok ? [] : after.errors)}`);
        same(after.data, asVersion2(before.data), 'the migrated data');
      }),
      N.migrate,
    );
    expect(prototypeIsClean()).toBe(true);
  });
});

describe('fuzz: directory files (edge/directory/file.ts)', () => {
  it(`every file is a directory, or directory.invalid with its errors, parsed as loadDirectoryFile parses a read file (${N.directory - FROM_DISK} inputs)`, () => {
    fuzz(
      fc.property(documents(DIRECTORY_TEXTS), ({ text, source }) => {
        const r = parseDocument(text, source.replace('site', 'directory'), Directory, 'directory.invalid');
        if (r.ok) return must(Directory.safeParse(r.value).success, 'a directory accepted that its schema refuses');
        must(
          r.code === 'directory.invalid' && r.errors.length > 0,
          () => `refused as ${r.code} with ${r.errors.length} errors`,
        );
      }),
      N.directory - FROM_DISK,
    );
    expect(prototypeIsClean()).toBe(true);
  });

  it(`read from disk: the same, and unreadable files are directory.unreadable (${FROM_DISK} inputs)`, () => {
    fuzz(
      fc.property(
        fc.oneof(
          { weight: 9, arbitrary: documents(DIRECTORY_TEXTS) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        fc.nat(50),
        (doc, n) => {
          const path = join(tmp, `d${n}${doc?.source.endsWith('.json') ? '.json' : '.yaml'}`);
          rmSync(path, { force: true });
          if (doc) writeFileSync(path, doc.text);
          const r = loadDirectoryFile(doc ? path : join(tmp, 'missing', 'directory.yaml'));
          must(
            r.ok || r.code === (doc ? 'directory.invalid' : 'directory.unreadable'),
            () => `refused as ${r.ok ? '' : r.code}`,
          );
        },
      ),
      FROM_DISK,
    );
  });
});
