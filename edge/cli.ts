import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { Command, Io } from '../shared/platform/command.js';
import { EXIT } from '../shared/platform/command.js';
import { TesseraError } from '../shared/platform/errors.js';
import { loadDirectoryFile } from './directory/file.js';
import { createLogger } from '../shared/platform/logger.js';
import { PACKAGE_ROOT } from '../shared/platform/package-root.js';
import { guardProcess } from '../shared/platform/process-guard.js';
import { systemdNotifier } from '../shared/platform/systemd-notify.js';
import type { RunningEdge } from './site/run.js';
import { ConfigRefused, loadDirectory, runEdge } from './site/run.js';
import { loadSiteConfig } from '../firmware-config/load.js';
import { versionHeadline } from '../firmware-config/version.js';
import { formatDetails } from '../shared/platform/validation.js';
import { EdgeStore } from './store/store.js';

function usageError(io: Io, message: string, usage: string): number {
  io.err(`tessera: ${message}\nusage: tessera ${usage}`);
  return EXIT.USAGE;
}

/** Starts a site and hands the process's exit paths to the guard; resolves once it listens. */
async function startGuarded(
  io: Io,
  configPath: string,
  simulate: boolean,
  port: number | undefined,
): Promise<RunningEdge | number> {
  const log = createLogger('tessera-edge');
  try {
    const simGpioDir = process.env.TESSERA_SIM_GPIO_DIR;
    const running = await runEdge({
      configPath,
      simulate,
      log,
      ...(port !== undefined ? { port } : {}),
      ...(simGpioDir ? { simGpioDir } : {}),
    });
    const systemd = systemdNotifier({ env: process.env, log });
    const stop = async () => {
      systemd.stopping();
      await running.stop();
    };
    guardProcess(
      { stop, safeState: () => running.edge.safeState() },
      { log, onReload: () => loadDirectory(running.edge, running.config, log) },
    );
    systemd.ready(`${running.config.site.id}: local API on ${running.url}`);
    return running;
  } catch (err) {
    if (err instanceof ConfigRefused) {
      io.err(err.message);
      return EXIT.CONFIG_INVALID;
    }
    if (err instanceof TesseraError && err.code === 'store.corrupt') {
      io.err(`tessera: ${err.message} [${err.code}]`);
      return EXIT.STORE_CORRUPT;
    }
    if (err instanceof TesseraError) {
      io.err(`tessera: ${err.message} [${err.code}]`);
      return EXIT.FAILURE;
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.err(`tessera: the API port is taken: ${(err as Error).message}; set api.port in the config or pass --port`);
      return EXIT.FAILURE;
    }
    throw err;
  }
}

const RUN_OPTIONS = { config: { type: 'string' }, simulate: { type: 'boolean' }, port: { type: 'string' } } as const;

interface RunArgs {
  config: string | undefined;
  simulate: boolean;
  port: number | undefined;
}

/** Parses the options of `edge` and `demo`; `allowed` names those this command takes. Returns an exit code on a usage error. */
function parseRunArgs(
  args: string[],
  io: Io,
  usage: string,
  allowed: ReadonlyArray<keyof typeof RUN_OPTIONS>,
): RunArgs | number {
  let values;
  try {
    ({ values } = parseArgs({ args, options: RUN_OPTIONS }));
  } catch (err) {
    return usageError(io, (err as Error).message, usage);
  }
  const extra = Object.keys(values).find((k) => !allowed.includes(k as keyof typeof RUN_OPTIONS));
  if (extra !== undefined) return usageError(io, `unexpected option --${extra}`, usage);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      return usageError(io, `--port expects 0-65535, got "${values.port}"`, usage);
  }
  return { config: values.config, simulate: values.simulate ?? false, port };
}

export const edgeCommand: Command = {
  name: 'edge',
  summary:
    'Runs a site: readers, doors, lockers, presence and the local API, until SIGINT or SIGTERM. SIGHUP reloads a standalone directory file.',
  usage: 'edge --config FILE [--simulate] [--port N]',
  async run(args, io) {
    const opts = parseRunArgs(args, io, this.usage, ['config', 'simulate', 'port']);
    if (typeof opts === 'number') return opts;
    if (!opts.config) return usageError(io, '--config FILE is required', this.usage);
    const started = await startGuarded(io, opts.config, opts.simulate, opts.port);
    return typeof started === 'number' ? started : new Promise<number>(() => undefined);
  },
};

export const DEMO_CONFIG = join(PACKAGE_ROOT, 'firmware-config', 'examples', 'business-hours.yaml');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Runs the business-hours example centre on simulated hardware and prints how to tap a badge.',
  usage: 'demo [--port N]',
  async run(args, io) {
    const opts = parseRunArgs(args, io, this.usage, ['port']);
    if (typeof opts === 'number') return opts;
    let started = await startGuarded(io, DEMO_CONFIG, true, opts.port);
    // The example's port may be taken on this machine: any free port will do for a demo.
    if (started === EXIT.FAILURE && opts.port === undefined) started = await startGuarded(io, DEMO_CONFIG, true, 0);
    if (typeof started === 'number') return started;
    printDemoHelp(io, started);
    return new Promise<number>(() => undefined);
  },
};

function printDemoHelp(io: Io, running: RunningEdge): void {
  const { config, url } = running;
  const entry = config.readers.find((r) => r.role === 'entry');
  const exit = config.readers.find((r) => r.role === 'exit');
  const dir = config.directory.source === 'file' ? loadDirectoryFile(config.directory.path) : undefined;
  const badge = dir?.ok ? dir.value.badges.find((b) => b.status === 'active') : undefined;
  const tap = (reader: string | undefined) =>
    `curl -s -X POST ${url}/simulate/tap -H 'content-type: application/json' -d '{"reader":"${reader ?? 'READER'}","uid":"${badge?.uid ?? 'UID'}"}'`;
  io.out(
    [
      '',
      `Tessera demo: "${config.site.name}" (${config.site.id}, ${config.site.timeZone}) on simulated hardware`,
      `Local API: ${url}   (health: ${url}/health)`,
      '',
      `Tap a badge at the entrance:  ${tap(entry?.id)}`,
      ...(exit ? [`Tap it at the exit:           ${tap(exit.id)}`] : []),
      `Who is in:                    curl -s ${url}/occupancy`,
      `The event log:                curl -s '${url}/events?after=0&limit=20'`,
      `Doors:                        curl -s ${url}/doors`,
      '',
      `Members and badges: ${config.directory.source === 'file' ? config.directory.path : 'from the hub'}. Ctrl-C stops.`,
      '',
    ].join('\n'),
  );
}

const RENUMBER_USAGE = 'edge renumber --after N --config FILE [--json]';

/**
 * `tessera edge renumber --after N --config FILE`: after a lost database, continues the site's
 * numbering after the hub's last seq N, which the operator confirms by typing it. The events
 * recorded since the loss move after N and reach the hub; a running edge notices and sends again.
 */
export const renumberCommand: Command = {
  name: 'edge renumber',
  summary: "after a lost site database: continue the event numbering after the hub's last seq, which you confirm",
  usage: RENUMBER_USAGE,
  async run(args, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: { after: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
      }));
    } catch (err) {
      return usageError(io, (err as Error).message, RENUMBER_USAGE);
    }
    const after = Number(values.after);
    if (values.after === undefined || !/^\d+$/.test(values.after) || !Number.isSafeInteger(after))
      return usageError(io, "--after N (the hub's last seq for this site) is required", RENUMBER_USAGE);
    if (!values.config) return usageError(io, '--config FILE is required', RENUMBER_USAGE);
    const loaded = loadSiteConfig(values.config);
    if (!loaded.ok) {
      io.err(
        versionHeadline(values.config, loaded.errors) ??
          `${values.config}: ${loaded.errors.length} error(s)\n${formatDetails(loaded.errors)}`,
      );
      return EXIT.CONFIG_INVALID;
    }
    const { site, storage } = loaded.value;
    let store: EdgeStore | undefined;
    try {
      store = EdgeStore.open(storage.path, site.id, site.timeZone);
      const r = store.events.renumberAfter(after, Date.now());
      const moved =
        r.to >= r.from ? `the ${r.to - r.from + 1} event(s) recorded since the loss are now ${r.from}-${r.to}; ` : '';
      const skipped = r.skipped ? `seqs ${r.skipped.from}-${r.skipped.to} are declared lost; ` : '';
      if (values.json === true) {
        const renumbered = r.to >= r.from ? { from: r.from, to: r.to } : null;
        io.out(JSON.stringify({ site: site.id, renumbered, lost: r.skipped ?? null, next: r.to + 1 }));
        return EXIT.OK;
      }
      io.out(
        `${site.id}: ${moved}${skipped}the next event is ${r.to + 1}. The edge sends again (a running edge within a second).`,
      );
      return EXIT.OK;
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      io.err(`tessera: ${err.message} [${err.code}]`);
      return err.code === 'store.corrupt' ? EXIT.STORE_CORRUPT : EXIT.FAILURE;
    } finally {
      store?.close();
    }
  },
};
