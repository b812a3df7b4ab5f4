import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../harness/process.js';

describe('the tessera command', () => {
  it('--help lists every subcommand', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['edge', 'demo', 'config validate', 'config migrate', 'badge keys'])
      expect(r.stdout).toContain(name);
  });

  it('--version and -V print the package version; with --json also the Node running it', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect([r.code, r.stdout]).toEqual([0, `tessera ${version}\n`]);
    }
    const json = await runCli(['--version', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ version, node: process.versions.node });
    expect((await runCli(['--version', '--verbose'])).code).toBe(64);
  });

  it('--json: badge keys and config render print their result as one JSON object', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const cases = [
      {
        args: [
          'badge',
          'keys',
          '--master-key',
          '00112233445566778899AABBCCDDEEFF',
          '--uid',
          '04A1B2C3D4E5F6',
          '--json',
        ],
        expected: { uid: '04A1B2C3D4E5F6', keys: expect.arrayContaining([expect.objectContaining({ keyNo: 2 })]) },
      },
      {
        args: ['config', 'render', 'firmware-config/examples/lockers.yaml', '--out', dir, '--json'],
        expected: {
          out: dir,
          unit: expect.stringMatching(/^tessera-edge-.+\.service$/),
          files: expect.arrayContaining([expect.objectContaining({ mode: '644', installPath: expect.any(String) })]),
        },
      },
    ];
    for (const { args, expected } of cases) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(JSON.parse(r.stdout)).toMatchObject(expected);
    }
  });

  it('an unknown command is a usage error that shows the help', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it('edge without --config is a usage error', async () => {
    const r = await runCli(['edge']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--config FILE is required');
  });

  it('edge refuses an invalid config with every error and exit code 2, before touching hardware', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      'version: 2\nsite: {id: x, name: X, timeZone: Mars/Olympus, capacity: 5}\ndoors: [{id: front, relay: {line: "17a"}}]\ndirectory: {source: file, path: d.yaml}\n',
    );
    const r = await runCli(['edge', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('doors[0].relay.line: expected an integer 0-27, got "17a"');
    expect(r.stderr).toContain('site.timeZone');
    expect(r.stdout).not.toContain('edge started');
  });

  it('edge on a version-1 config refuses with the command to run, exit 2; after `config migrate` it validates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    const file = join(dir, 'site.yaml');
    copyFileSync('tests/fixtures/config-v1/rural-24-7.yaml', file);
    const r = await runCli(['edge', '--config', file, '--simulate', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}: version 1, this release reads version 2: run \`tessera config migrate --config ${file}\``,
    );
    expect(r.stdout).not.toContain('edge started');
    expect((await runCli(['config', 'migrate', '--config', file])).code).toBe(0);
    const checked = await runCli(['config', 'validate', file]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('allanche (Tiers-lieu');
  });

  it('edge asked for real hardware this machine lacks (no sysfs GPIO here) says so in one line and suggests --simulate', async () => {
    const r = await runCli(['edge', '--config', 'firmware-config/examples/rural-24-7.yaml', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hardware\.unavailable/);
    expect(r.stderr).toContain('--simulate');
  });
});
