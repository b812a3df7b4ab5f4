import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, waitForOutput } from '../harness/process.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/tcp.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * deploy/Dockerfile without a container engine: its build stage's COPY lines copied from the
 * repository into a folder of their own, its build command run there (a path missing from the
 * COPY lines, or a build reaching bench/ or tests/, fails it), then the last stage's COPY lines
 * assembled into another folder, from which the CLI runs the hub and a simulated site and the
 * image's HEALTHCHECK command asks their health. `npm ci` and `npm prune` are the repository's
 * node_modules, linked: this machine has no registry to install from.
 */

const ROOT = resolve('.');
const cleanups = cleanupsAfterEach();

interface Stage {
  name: string | undefined;
  workdir: string;
  lines: string[];
}

/** The Dockerfile's instructions by stage, continuation lines joined. */
function stages(): Stage[] {
  const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const result: Stage[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) result.push({ name: from[1], workdir: '/', lines: [] });
    else {
      const stage = result.at(-1);
      if (!stage) throw new Error(`an instruction before FROM: ${line}`);
      const workdir = /^WORKDIR\s+(\S+)$/.exec(line);
      if (workdir?.[1]) stage.workdir = workdir[1];
      stage.lines.push(line);
    }
  }
  return result;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

function copies(stage: Stage): Copy[] {
  return stage.lines
    .filter((l) => l.startsWith('COPY '))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      const from = words[0]?.startsWith('--from=') ? words.shift()?.slice('--from='.length) : undefined;
      if (words.some((w) => w.startsWith('--'))) throw new Error(`a COPY option this test does not know: ${l}`);
      const dest = words.pop();
      if (dest === undefined || words.length === 0) throw new Error(`a COPY without source or destination: ${l}`);
      return { from, sources: words, dest };
    });
}

/** A COPY's destination inside `dir`, which stands for the stage's WORKDIR. */
function target(dir: string, stage: Stage, copy: Copy, source: string): string {
  const dest = copy.dest.startsWith('/') ? copy.dest : join(stage.workdir, copy.dest);
  const inStage =
    copy.dest.endsWith('/') || copy.sources.length > 1 ? join(dest, source.split('/').at(-1) ?? '') : dest;
  if (!inStage.startsWith(`${stage.workdir}/`)) throw new Error(`a COPY outside WORKDIR: ${copy.dest}`);
  return join(dir, inStage.slice(stage.workdir.length));
}

/** The build stage in `dir`: the repository's paths its COPY lines name, and its build command run there. */
function buildStage(dir: string, stage: Stage): void {
  for (const copy of copies(stage)) {
    expect(copy.from, 'the build stage copies from the build context only').toBeUndefined();
    for (const source of copy.sources) {
      const to = target(dir, stage, copy, source);
      mkdirSync(dirname(to), { recursive: true });
      cpSync(join(ROOT, source), to, { recursive: true });
    }
  }
  // `npm ci` would install what package-lock.json lists: the repository's install, linked.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const builds = stage.lines.filter((l) => /^RUN npm run /.test(l));
  expect(builds, 'one `RUN npm run ...` builds the code').toHaveLength(1);
  const script = (builds[0] ?? '').replace(/^RUN npm run /, '').trim();
  const r = spawnSync('npm', ['run', script], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
  expect(r.status, `npm run ${script} in the build stage:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/** The last stage in `dir`: its COPY lines, from the build stage's folder or from the repository. */
function runtimeStage(dir: string, stage: Stage, build: { name: string; dir: string; workdir: string }): void {
  for (const copy of copies(stage)) {
    for (const source of copy.sources) {
      const to = target(dir, stage, copy, source);
      mkdirSync(dirname(to), { recursive: true });
      if (copy.from === undefined) cpSync(join(ROOT, source), to, { recursive: true });
      else {
        expect(copy.from).toBe(build.name);
        expect(source.startsWith(`${build.workdir}/`), `${source} is in the build stage's WORKDIR`).toBe(true);
        const from = join(build.dir, source.slice(build.workdir.length));
        // The build stage's node_modules is the link above: link it again rather than copy it all.
        if (source.endsWith('/node_modules')) symlinkSync(join(ROOT, 'node_modules'), to);
        else cpSync(from, to, { recursive: true });
      }
    }
  }
}

/** The image's ENTRYPOINT and HEALTHCHECK, as the runtime would run them (exec form). */
function execForm(stage: Stage, instruction: RegExp): string[] {
  const line = stage.lines.find((l) => instruction.test(l));
  const json = line === undefined ? undefined : /(\[.*\])\s*$/.exec(line)?.[1];
  if (json === undefined) throw new Error(`no ${instruction} in exec form`);
  return JSON.parse(json) as string[];
}

/** Waits for a child's exit; a child that does not exit says which one it was, and what it wrote. */
async function exited(child: ReturnType<typeof run>, what: string, ms: number) {
  try {
    return await finished(child, ms);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}\n${child.output.stdout}\n${child.output.stderr}`);
  }
}

function run(cwd: string, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const [command = '', ...args] = argv;
  const child = spawn(command === 'node' ? process.execPath : command, args, {
    cwd,
    env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
  return Object.assign(child, { output });
}

describe('deploy/Dockerfile, assembled without a container engine', () => {
  it('builds from what its build stage copies, without bench/ or tests/, and the last stage runs the hub and a simulated site', async () => {
    const all = stages();
    expect(all).toHaveLength(2);
    const [build, runtime] = all as [Stage, Stage];
    expect(build.name).toBe('build');
    const copied = copies(build).flatMap((c) => c.sources);
    expect(copied).not.toContain('bench');
    expect(copied).not.toContain('tests');

    const buildDir = tempDir('tessera-image-build-');
    buildStage(buildDir, build);
    expect(readdirSync(join(buildDir, 'dist')).sort()).toEqual(
      ['cli', 'cloud-sync', 'demo', 'edge', 'firmware-config', 'shared'].sort(),
    );
    // pg stays after `npm prune --omit=dev`: a runtime dependency, not a development one.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).toContain('pg');
    expect(build.lines.some((l) => /^RUN npm prune --omit=dev\b/.test(l))).toBe(true);

    const app = tempDir('tessera-image-app-');
    runtimeStage(app, runtime, { name: 'build', dir: buildDir, workdir: build.workdir });
    expect(runtime.lines).toContain('USER node');
    const entrypoint = execForm(runtime, /^ENTRYPOINT /);
    expect(entrypoint).toEqual(['node', 'bin/tessera.js']);

    for (const args of [['--help'], ['hub', '--help'], ['edge', '--help']]) {
      const r = await exited(run(app, [...entrypoint, ...args]), args.join(' '), 60_000);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const example = join(app, 'firmware-config', 'examples', 'business-hours.yaml');
    const valid = await exited(run(app, [...entrypoint, 'config', 'validate', example]), 'config validate', 60_000);
    expect(valid.code, valid.stdout + valid.stderr).toBe(0);

    // The hub, and the image's health check against it.
    const data = tempDir('tessera-image-data-');
    const hub = run(app, [...entrypoint, 'hub', '--db', join(data, 'hub.db'), '--broker-port', '0', '--api-port', '0']);
    cleanups.push(() => hub.kill('SIGKILL'));
    const api = (await waitForOutput(hub, /API:\s+(http:\/\/\S+)/, 60_000))[1] ?? '';
    expect(runtime.lines.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/ CMD \[/);
    const healthcheck = execForm(runtime, /^HEALTHCHECK /);
    const check = (url: string) =>
      exited(run(app, healthcheck, { TESSERA_HEALTH_URL: url }), `the health check of ${url}`, 60_000).then(
        (r) => r.code,
      );
    expect(await check(`${api}/health`)).toBe(0);
    // The check can fail: a port where nothing answers.
    expect(await check(`${api.replace(/:\d+$/, ':1')}/health`)).toBe(1);

    // A simulated site from the compose demo's config, its paths moved from /app and /var/lib/tessera.
    const config = join(data, 'murat.yaml');
    writeFileSync(
      config,
      readFileSync(join(ROOT, 'deploy', 'sites', 'murat.yaml'), 'utf8')
        .replaceAll('/app/', `${app}/`)
        .replaceAll('/var/lib/tessera/', `${data}/`)
        .replace(/host: 0\.0\.0\.0/, 'host: 127.0.0.1'),
    );
    expect(existsSync(join(app, 'firmware-config', 'examples', 'business-hours.directory.yaml'))).toBe(true);
    const port = await freePort();
    const site = run(app, [...entrypoint, 'edge', '--config', config, '--simulate', '--port', String(port)]);
    cleanups.push(() => site.kill('SIGKILL'));
    const local = `http://127.0.0.1:${port}`;
    await eventually(
      () =>
        fetch(`${local}/health`).then(
          (r) => r.ok,
          () => site.exitCode !== null,
        ),
      'the site listening',
      60_000,
      200,
    );
    expect(site.exitCode, site.output.stderr).toBeNull();
    expect(await check(`${local}/health`)).toBe(0);

    hub.kill('SIGTERM');
    site.kill('SIGTERM');
    expect((await exited(hub, 'the hub, stopping', 60_000)).code).toBe(0);
    expect((await exited(site, 'the site, stopping', 60_000)).code).toBe(0);
  }, 900_000);
});
