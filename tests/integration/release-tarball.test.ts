import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, waitForOutput } from '../harness/process.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The release tarball a Pi installs (docs/operations.md, "A site from the release tarball"):
 * `npm pack` in a copy of the repository (its prepack builds there, not in this tree's dist/),
 * then the tarball extracted and run with the repository's node_modules standing for the
 * `npm ci --omit=dev` the Pi runs.
 */

const ROOT = resolve('.');
const cleanups = cleanupsAfterEach();

/** The repository's files as a clone would have them (tracked, and new ones not ignored). */
function copyRepository(to: string): void {
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .stdout.split('\0')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)));
  expect(files).toContain('package.json');
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(ROOT, file), join(to, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
}

function node(cwd: string, args: string[]) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
  return Object.assign(child, { output });
}

describe('the release tarball (npm pack)', () => {
  it('holds the compiled code, bin, the dashboard, the examples, the docs and the shrinkwrap, no TypeScript, tests nor benchmarks, and runs once extracted', async () => {
    const src = tempDir('tessera-pack-src-');
    copyRepository(src);
    const out = tempDir('tessera-pack-out-');
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', out], {
      cwd: src,
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(pack.status, pack.stderr).toBe(0);
    // npm prints the prepack's own output before its JSON.
    const json = pack.stdout.slice(pack.stdout.indexOf('[\n'));
    const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = (info?.files ?? []).map((f) => f.path);

    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => /^(dist\/)?(tests|bench)\//.test(f))).toEqual([]);
    expect([...new Set(files.filter((f) => f.startsWith('dist/')).map((f) => f.split('/')[1]))].sort()).toEqual(
      ['cli', 'cloud-sync', 'demo', 'edge', 'firmware-config', 'shared'].sort(),
    );
    for (const needed of [
      'package.json',
      'npm-shrinkwrap.json',
      'bin/tessera.js',
      'dist/cli/tessera.js',
      'dist/cloud-sync/hub-process/cli.js',
      'cloud-sync/dashboard/ui/index.html',
      'firmware-config/examples/business-hours.yaml',
      'firmware-config/examples/business-hours.directory.yaml',
      'docs/deploy-pi.md',
      'docs/operations.md',
    ])
      expect(files, needed).toContain(needed);
    // postpack took the shrinkwrap away again: only the tarball carries it.
    expect(existsSync(join(src, 'npm-shrinkwrap.json'))).toBe(false);

    const ext = tempDir('tessera-pack-ext-');
    const tar = spawnSync('tar', ['-xzf', join(out, info?.filename ?? ''), '-C', ext, '--strip-components=1']);
    expect(tar.status, tar.stderr.toString()).toBe(0);
    // `npm ci --omit=dev` on the Pi installs exactly the versions this tree was tested with.
    expect(readFileSync(join(ext, 'npm-shrinkwrap.json'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
    );
    symlinkSync(join(ROOT, 'node_modules'), join(ext, 'node_modules'));

    const help = await finished(node(ext, ['bin/tessera.js', '--help']), 60_000);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('config validate');
    const valid = await finished(
      node(ext, ['bin/tessera.js', 'config', 'validate', 'firmware-config/examples/business-hours.yaml']),
      60_000,
    );
    expect(valid.code, valid.stdout + valid.stderr).toBe(0);

    // The hub from the extracted package serves the dashboard it carries.
    const hub = node(ext, [
      'bin/tessera.js',
      'hub',
      '--db',
      join(tempDir(), 'hub.db'),
      '--broker-port',
      '0',
      '--api-port',
      '0',
    ]);
    cleanups.push(() => hub.kill('SIGKILL'));
    const api = (await waitForOutput(hub, /API:\s+(http:\/\/\S+)/, 60_000))[1] ?? '';
    const page = await fetch(`${api}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    hub.kill('SIGTERM');
    expect((await finished(hub, 30_000)).code).toBe(0);
  }, 900_000);
});
