import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command, Io } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { readTextFile } from '../shared/platform/yaml-document.js';
import { parseSiteConfig } from './load.js';
import { printRefusal } from './cli.js';
import type { RenderedFile, RenderTarget } from './render.js';
import { renderSiteFiles, unitName } from './render.js';

const USAGE =
  'config render FILE --out DIR [--config-path PATH] [--install-dir DIR] [--user NAME] [--node PATH] [--json]';

const OPTIONS = {
  out: { type: 'string' },
  'config-path': { type: 'string' },
  'install-dir': { type: 'string' },
  user: { type: 'string' },
  node: { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface RenderArgs {
  file: string;
  out: string;
  json: boolean;
  target: Omit<RenderTarget, 'configPath'> & { configPath: string | undefined };
}

function parseRenderArgs(args: string[]): RenderArgs | string {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    return (err as Error).message;
  }
  const { values, positionals } = parsed;
  const [file] = positionals;
  if (file === undefined || positionals.length !== 1) return 'one config FILE is required';
  if (values.out === undefined) return '--out DIR is required';
  for (const flag of ['config-path', 'install-dir', 'node'] as const) {
    const value = values[flag];
    // The unit names paths on the Pi: a relative one would be read from systemd's "/".
    if (value !== undefined && !isAbsolute(value))
      return `--${flag} expects an absolute path on the target, got "${value}"`;
  }
  if (values.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(values.user))
    return `--user expects a system user name, got "${values.user}"`;
  return {
    file,
    out: values.out,
    json: values.json === true,
    target: {
      configPath: values['config-path'],
      installDir: values['install-dir'] ?? '/opt/tessera',
      user: values.user ?? 'tessera',
      nodePath: values.node ?? '/usr/bin/node',
    },
  };
}

export const renderCommand: Command = {
  name: 'config render',
  summary:
    'Writes the deployment files of a site: systemd unit, environment file, Mosquitto password and ACL lines, modprobe blacklist for ACR122U-class readers.',
  usage: USAGE,
  async run(args, io) {
    const opts = parseRenderArgs(args);
    if (typeof opts === 'string') {
      io.err(`tessera: ${opts}\nusage: tessera ${USAGE}`);
      return EXIT.USAGE;
    }
    const read = readTextFile(opts.file, 'config.unreadable', 'config.invalid');
    // Relative paths in the config (storage, directory file) are read from where it will live.
    const configPath = opts.target.configPath ?? `/etc/tessera/${basename(opts.file)}`;
    const loaded = read.ok ? parseSiteConfig(read.value, opts.file, dirname(configPath)) : read;
    if (!loaded.ok) {
      printRefusal(io, opts.file, loaded.errors);
      return EXIT.CONFIG_INVALID;
    }
    const files = renderSiteFiles(loaded.value, { ...opts.target, configPath });
    writeFiles(resolve(opts.out), files);
    const storage = loaded.value.storage.path;
    if (!storage.startsWith('/var/lib/'))
      io.err(
        `note: the store resolves to ${storage} on the target; the folder must exist and be the service user's (storage.path: /var/lib/tessera/${loaded.value.site.id}.db lets systemd make it)`,
      );
    const plan = { out: resolve(opts.out), site: loaded.value.site.id, unit: unitName(loaded.value), configPath };
    if (opts.json) io.out(JSON.stringify({ ...plan, files: files.map(listed) }));
    else printPlan(io, plan, files);
    return EXIT.OK;
  },
};

function writeFiles(out: string, files: RenderedFile[]): void {
  mkdirSync(out, { recursive: true });
  for (const f of files) {
    const path = join(out, f.name);
    writeFileSync(path, f.text, { mode: f.mode });
    // An existing file keeps its old mode through writeFileSync: set it.
    chmodSync(path, f.mode);
  }
}

/** A rendered file as --json lists it: its mode in octal, as `ls -l` and `install -m` write it. */
function listed(f: RenderedFile): { name: string; installPath: string; mode: string } {
  return { name: f.name, installPath: f.installPath, mode: f.mode.toString(8) };
}

function printPlan(
  io: Io,
  plan: { out: string; site: string; unit: string; configPath: string },
  files: RenderedFile[],
): void {
  const width = Math.max(...files.map((f) => f.name.length));
  io.out(`Rendered ${files.length} files for ${plan.site} in ${plan.out}:`);
  for (const f of files) io.out(`  ${f.name.padEnd(width)}  -> ${f.installPath}`);
  io.out(
    `Then: copy the config to ${plan.configPath}, \`sudo systemctl daemon-reload && sudo systemctl enable --now ${plan.unit}\` (docs/deploy-pi.md).`,
  );
}
