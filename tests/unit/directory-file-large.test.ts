import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadDirectoryFile, loadDirectoryFileIfChanged } from '../../edge/directory/file.js';

/**
 * Long block lists are composed a few items at a time while the file is read
 * (shared/platform/yaml-parse.ts): these files are long enough for that, and must read exactly
 * as if composed whole.
 */
const MEMBERS = 1_000;

const uidOf = (i: number) => `04${i.toString(16).padStart(12, '0').toUpperCase()}`;

/** The lines of a directory file as an operator writes it: block lists, one member or badge a line. */
function directoryLines(): string[] {
  const lines = [
    'revision: 4',
    'plans:',
    '  - {id: always, name: "24/7", access: always}',
    '  - id: weekdays',
    '    name: Weekdays',
    '    access: [{days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}]',
    'members:',
  ];
  for (let i = 0; i < MEMBERS; i++)
    lines.push(`  - {id: m${i}, name: "Member ${i}", plan: ${i % 3 ? 'always' : 'weekdays'}}  # row ${i}`);
  lines.push('badges:');
  for (let i = 0; i < MEMBERS; i++) lines.push(`  - uid: "${uidOf(i)}"`, `    member: m${i}`);
  return lines;
}

function write(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-directory-large-')), name);
  writeFileSync(path, text);
  return path;
}

const lineOf = (lines: string[], text: string) => lines.indexOf(text) + 1;

describe('a directory file with a thousand members and badges', () => {
  it('reads every member and badge in order, exactly as the same file written as JSON', () => {
    const text = `${directoryLines().join('\n')}\n`;
    const fromYaml = loadDirectoryFile(write('directory.yaml', text));
    const fromJson = loadDirectoryFile(write('directory.json', JSON.stringify(YAML.parse(text))));
    if (!fromYaml.ok) throw new Error(JSON.stringify(fromYaml.errors));
    expect(fromYaml.value.members).toHaveLength(MEMBERS);
    expect(fromYaml.value.badges.map((b) => b.member)).toEqual(fromYaml.value.members.map((m) => m.id));
    expect(fromYaml.value.members[999]).toEqual({
      id: 'm999',
      name: 'Member 999',
      plan: 'weekdays',
      role: 'member',
      status: 'active',
    });
    expect(fromJson).toEqual(fromYaml);
  });

  it('is refused with every error deep in its lists, each naming its entry or its line', () => {
    const lines = directoryLines();
    lines[lineOf(lines, '  - {id: m700, name: "Member 700", plan: always}  # row 700') - 1] =
      '  - {id: m700, name: "Member 700", plan: gold}';
    const badge = lineOf(lines, `    member: m850`);
    lines[badge - 1] = '    member: m1850';
    const result = loadDirectoryFile(write('directory.yaml', `${lines.join('\n')}\n`));
    expect(result).toMatchObject({ ok: false, code: 'directory.invalid' });
    expect(result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'members[700].plan: no plan with id "gold"',
      'badges[850].member: no member with id "m1850"',
    ]);

    const row = lineOf(lines, '  - {id: m301, name: "Member 301", plan: always}  # row 301');
    lines.splice(row, 0, '   member: m301');
    lines.splice(badge + 1, 0, '  -  - {uid: "04"');
    const text = `${lines.join('\n')}\n`;
    const syntax = loadDirectoryFile(write('directory.yaml', text));
    const whole = YAML.parseDocument(text).errors.map(
      (e) => `(line ${e.linePos?.[0].line}, column ${e.linePos?.[0].col})`,
    );
    expect(syntax.ok ? [] : syntax.errors.map((e) => e.path)).toEqual(whole);
    expect(syntax.ok ? [] : syntax.errors.map((e) => e.path.replace(/, column \d+/, ''))).toEqual([
      `(line ${row + 1})`,
      // The unclosed `{` is found where the next item starts.
      `(line ${badge + 3})`,
    ]);
  });

  it('resolves an alias to an anchor written a thousand lines before it', () => {
    const lines = directoryLines();
    lines[lineOf(lines, '  - {id: m1, name: "Member 1", plan: always}  # row 1') - 1] =
      '  - {id: m1, name: &shared "Shared Name", plan: always}';
    lines.push('  - {uid: "04FFFFFFFFFFFF", member: m1}');
    lines[lineOf(lines, '  - {id: m998, name: "Member 998", plan: always}  # row 998') - 1] =
      '  - {id: m998, name: *shared, plan: always}';
    const result = loadDirectoryFile(write('directory.yaml', `${lines.join('\n')}\n`));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.value.members[998]?.name).toBe('Shared Name');
    expect(result.value.badges).toHaveLength(MEMBERS + 1);
  });

  it('is read in pieces: accented names across their edges, a byte-order mark, the hash of its text, a bad byte far in', () => {
    const lines = directoryLines().map((line) => line.replace('name: "Member', 'name: "Hélène Ŵ 🙂'));
    const body = `${lines.join('\n')}\n`;
    // A comment long enough that the 64 KiB edge falls inside a 4-byte character.
    const emoji = Buffer.from(`\uFEFF# \n${body}`).indexOf('🙂', 60_000);
    const text = `# ${'.'.repeat(65_534 - emoji)}\n${body}`;
    expect(Buffer.from(`\uFEFF${text}`).subarray(65_534, 65_538).toString()).toBe('🙂');
    const path = write('directory.yaml', `\uFEFF${text}`);
    const result = loadDirectoryFileIfChanged(path, undefined);
    if (!result.ok || !('value' in result)) throw new Error(JSON.stringify(result));
    expect(result.value.members.map((m) => m.name)).toEqual(lines.flatMap((l) => /"(Hélène[^"]*)"/.exec(l)?.[1] ?? []));
    expect(result.hash).toBe(createHash('sha256').update(text).digest('hex'));

    const bytes = Buffer.from(text);
    const at = bytes.indexOf('m900,');
    bytes[at] = 0xff;
    writeFileSync(path, bytes);
    const line = bytes.subarray(0, at).toString().split('\n').length;
    expect(loadDirectoryFile(path)).toMatchObject({
      ok: false,
      code: 'directory.invalid',
      errors: [{ path: `(line ${line}, column 10)`, message: expect.stringContaining(`0xFF at byte offset ${at}`) }],
    });
  });
});
