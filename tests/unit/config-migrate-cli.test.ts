import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../shared/platform/command.js';
import { validateCommand } from '../../firmware-config/cli.js';
import { migrateCommand } from '../../firmware-config/migrate-cli.js';
import { renderCommand } from '../../firmware-config/render-cli.js';
import { edgeCommand, renumberCommand } from '../../edge/cli.js';
import { captureIo } from '../support/io.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const V1 = join(ROOT, 'tests', 'fixtures', 'config-v1');

/** A folder of its own holding a copy of a version-1 fixture, as an operator's file would be. */
function siteFile(fixture = 'hub-stale-roles', mode = 0o600): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
  const file = join(dir, 'murat.yaml');
  copyFileSync(join(V1, `${fixture}.yaml`), file);
  chmodSync(file, mode);
  return { dir, file };
}

async function run(args: string[]) {
  const io = captureIo();
  const code = await migrateCommand.run(args, io);
  return { code, io };
}

const OUTDATED = (file: string) =>
  `${file}: version 1, this release reads version 2: run \`tessera config migrate --config ${file}\``;

describe('tessera config migrate', () => {
  it('rewrites a version-1 file, says what changed, and keeps the old one beside it with its mode', async () => {
    const { dir, file } = siteFile();
    const before = readFileSync(file, 'utf8');
    const { code, io } = await run(['--config', file]);
    expect(code).toBe(EXIT.OK);
    expect(io.outLines).toEqual([
      'version 1 → 2: the file states its version; directory.staleRoles, ignored, is gone',
      '  added version: 2',
      `  removed directory.staleRoles (["staff","cleaner"]): it was ignored; each role's bound is directory.maxAgeHours, unchanged`,
      `${file}: now version 2; the old file is kept as ${file}.v1.bak`,
    ]);
    expect(readFileSync(`${file}.v1.bak`, 'utf8')).toBe(before);
    expect(statSync(`${file}.v1.bak`).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('# a revoked badge stops opening within a day');
    expect(await validateCommand.run([file], captureIo())).toBe(EXIT.OK);
    // Replaced by a rename: no temporary file is left behind.
    expect(readdirSync(dir).sort()).toEqual(['murat.yaml', 'murat.yaml.v1.bak']);
  });

  it('never overwrites a backup: the next one of the same version gets the next number', async () => {
    const { file } = siteFile();
    writeFileSync(`${file}.v1.bak`, 'an earlier backup\n');
    expect((await run([file])).code).toBe(EXIT.OK);
    expect(readFileSync(`${file}.v1.bak`, 'utf8')).toBe('an earlier backup\n');
    expect(readFileSync(`${file}.v1.2.bak`, 'utf8')).toBe(readFileSync(join(V1, 'hub-stale-roles.yaml'), 'utf8'));
  });

  it("keeps the file's owner, so a file only the service user reads stays readable by it", async () => {
    const { file } = siteFile();
    // As root, give it to another user first, as /etc/tessera/SITE.yaml belongs to the service user.
    if (process.getuid?.() === 0) chownSync(file, 65534, 65534);
    const { uid, gid } = statSync(file);
    expect((await run([file])).code).toBe(EXIT.OK);
    expect(statSync(file)).toMatchObject({ uid, gid });
  });

  it('follows a symlink: the file it names is migrated and the link stays', async () => {
    const { dir, file } = siteFile();
    const link = join(dir, 'current.yaml');
    symlinkSync(file, link);
    expect((await run([link])).code).toBe(EXIT.OK);
    expect(readFileSync(file, 'utf8')).toMatch(/^version: 2 /m);
    expect(readFileSync(link, 'utf8')).toBe(readFileSync(file, 'utf8'));
    expect(existsSync(`${file}.v1.bak`)).toBe(true);
  });

  it('--dry-run prints the migrated file and writes nothing', async () => {
    const { dir, file } = siteFile();
    const before = readFileSync(file, 'utf8');
    const { code, io } = await run([file, '--dry-run']);
    expect(code).toBe(EXIT.OK);
    expect(`${io.outLines.join('\n')}\n`).toBe(
      before
        .replace('site:\n', "version: 2 # this file's format (docs/config.md)\nsite:\n")
        .replace('  staleRoles:\n    - staff     # the host\n    - cleaner\n', ''),
    );
    expect(io.errLines).toContain(`(dry run: ${file} not written)`);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['murat.yaml']);
  });

  it('--json prints one summary object; with --dry-run, the text too', async () => {
    const { file } = siteFile('rural-24-7');
    const dry = await run(['--config', file, '--dry-run', '--json']);
    const planned = JSON.parse(dry.io.outLines.join('\n')) as Record<string, unknown>;
    expect(planned).toMatchObject({ file, from: 1, to: 2, written: false, backup: null, errors: [] });
    expect(planned.text).toMatch(/^version: 2 /m);
    const done = await run(['--config', file, '--json']);
    expect(JSON.parse(done.io.outLines.join('\n'))).toEqual({
      file,
      from: 1,
      to: 2,
      written: true,
      backup: `${file}.v1.bak`,
      steps: [
        {
          from: 1,
          to: 2,
          title: 'the file states its version; directory.staleRoles, ignored, is gone',
          changes: ['added version: 2'],
        },
      ],
      errors: [],
    });
    const again = await run(['--config', file, '--json']);
    expect(JSON.parse(again.io.outLines.join('\n'))).toMatchObject({ from: 2, to: 2, written: false, steps: [] });
  });

  it('a file already at this version: says so, exits 0, writes nothing', async () => {
    const { dir, file } = siteFile();
    expect((await run([file])).code).toBe(EXIT.OK);
    const current = readFileSync(file, 'utf8');
    const { code, io } = await run([file]);
    expect(code).toBe(EXIT.OK);
    expect(io.outLines).toEqual([
      `${file}: already version 2, nothing to do (\`tessera config validate\` checks the rest)`,
    ]);
    expect(readFileSync(file, 'utf8')).toBe(current);
    expect(readdirSync(dir).sort()).toEqual(['murat.yaml', 'murat.yaml.v1.bak']);
  });

  it('a file of a newer version is refused: upgrade Tessera', async () => {
    const { dir, file } = siteFile();
    writeFileSync(file, 'version: 3\nsite: { id: murat }\n');
    const { code, io } = await run([file]);
    expect(code).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([
      `${file}: version 3, this release reads version 2: the file was written for a newer Tessera; upgrade Tessera, or put back the backup \`tessera config migrate\` kept (${file}.v2.bak)`,
    ]);
    expect(readFileSync(file, 'utf8')).toBe('version: 3\nsite: { id: murat }\n');
    expect(readdirSync(dir)).toEqual(['murat.yaml']);
  });

  it('a file that would be invalid after migration is not written, and its errors are shown', async () => {
    const { dir, file } = siteFile();
    const broken = readFileSync(file, 'utf8').replace('line: 17,', 'line: "17a",');
    writeFileSync(file, broken);
    const { code, io } = await run([file]);
    expect(code).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([
      `${file}: after migration to version 2 the file would not be valid; nothing written`,
      'version 1 → 2: the file states its version; directory.staleRoles, ignored, is gone',
      '  added version: 2',
      `  removed directory.staleRoles (["staff","cleaner"]): it was ignored; each role's bound is directory.maxAgeHours, unchanged`,
      `${file}: 1 error`,
      '  doors[0].relay.line: expected an integer 0-27, got "17a"',
    ]);
    expect(readFileSync(file, 'utf8')).toBe(broken);
    expect(readdirSync(dir)).toEqual(['murat.yaml']);
  });

  it('an unreadable file or a bad version key is a config error; a missing FILE a usage error', async () => {
    expect((await run(['/nonexistent/murat.yaml'])).code).toBe(EXIT.CONFIG_INVALID);
    const { file } = siteFile();
    writeFileSync(file, 'version: two\nsite: {}\n');
    const bad = await run([file]);
    expect(bad.code).toBe(EXIT.CONFIG_INVALID);
    expect(bad.io.errLines).toEqual([
      `${file}: 1 error`,
      '  version: expected the file\'s format version, a whole number (this release reads 2), got "two"',
    ]);
    for (const args of [[], ['a.yaml', 'b.yaml'], ['--config', 'a.yaml', 'b.yaml'], ['--force', 'a.yaml']]) {
      const { code, io } = await run(args);
      expect(code).toBe(EXIT.USAGE);
      expect(io.text()).toMatch(/usage: tessera config migrate \[--config\] FILE \[--dry-run\] \[--json\]$/);
    }
  });
});

describe('a version-1 file elsewhere: one line saying what to run, exit 2', () => {
  let level: string | undefined;
  beforeEach(() => {
    level = process.env.TESSERA_LOG_LEVEL;
    process.env.TESSERA_LOG_LEVEL = 'silent';
  });
  afterEach(() => {
    if (level === undefined) delete process.env.TESSERA_LOG_LEVEL;
    else process.env.TESSERA_LOG_LEVEL = level;
  });

  it('tessera config validate', async () => {
    const { file } = siteFile('lockers');
    const io = captureIo();
    expect(await validateCommand.run([file], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([OUTDATED(file)]);
    expect(io.outLines).toEqual([]);
  });

  it('tessera config validate --json: valid, version and errors with their paths', async () => {
    const { file } = siteFile('lockers');
    const old = captureIo();
    expect(await validateCommand.run(['--config', file, '--json'], old)).toBe(EXIT.CONFIG_INVALID);
    expect(JSON.parse(old.outLines.join('\n'))).toEqual({
      file,
      valid: false,
      version: 1,
      reads: 2,
      errors: [{ path: 'version', message: OUTDATED(file).slice(file.length + 2) }],
    });
    expect((await run([file])).code).toBe(EXIT.OK);
    const current = captureIo();
    expect(await validateCommand.run([file, '--json'], current)).toBe(EXIT.OK);
    expect(JSON.parse(current.outLines.join('\n'))).toEqual({ file, valid: true, version: 2, reads: 2, errors: [] });
    writeFileSync(file, readFileSync(file, 'utf8').replace('capacity: 16', 'capacity: 0'));
    const invalid = captureIo();
    expect(await validateCommand.run([file, '--json'], invalid)).toBe(EXIT.CONFIG_INVALID);
    expect(JSON.parse(invalid.outLines.join('\n'))).toMatchObject({
      valid: false,
      version: 2,
      errors: [{ path: 'site.capacity', message: 'expected an integer 1-100000, got 0' }],
    });
  });

  it('a path with a space is quoted in the command to run', async () => {
    const { dir } = siteFile();
    const file = join(dir, 'my site.yaml');
    copyFileSync(join(V1, 'lockers.yaml'), file);
    const io = captureIo();
    expect(await validateCommand.run([file], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([
      `${file}: version 1, this release reads version 2: run \`tessera config migrate --config '${file}'\``,
    ]);
  });

  it('tessera edge refuses to start, before any hardware', async () => {
    const { file } = siteFile('rural-24-7');
    const io = captureIo();
    expect(await edgeCommand.run(['--config', file, '--simulate', '--port', '0'], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([OUTDATED(file)]);
  });

  it('tessera config render refuses with the same line, and renders nothing', async () => {
    const { dir, file } = siteFile('lockers');
    const out = join(dir, 'rendered');
    const io = captureIo();
    expect(await renderCommand.run([file, '--out', out], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([OUTDATED(file)]);
    expect(existsSync(out)).toBe(false);
  });

  it('tessera edge renumber refuses too', async () => {
    const { file } = siteFile('rural-24-7');
    const io = captureIo();
    expect(await renumberCommand.run(['--after', '1', '--config', file], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([OUTDATED(file)]);
  });
});
