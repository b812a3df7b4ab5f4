import { parseArgs } from 'node:util';
import { join } from 'node:path';
import type { Command, Io } from '../cli/command.js';
import { EXIT } from '../cli/command.js';
import { TesseraError } from '../shared/errors.js';
import { loadDirectoryFile } from './directory/file.js';
import { createLogger } from './site/logger.js';
import { PACKAGE_ROOT } from './site/package-root.js';
import { guardProcess } from './site/process-guard.js';
import type { RunningEdge } from './site/run.js';
import { ConfigRefused, loadDirectory, runEdge } from './site/run.js';

function usageError(io: Io, message: string, usage: string): number {
  io.err(`tessera: ${message}\nusage: tessera ${usage}`);
  return EXIT.USAGE;
}

/** Starts a site and hands the process's exit paths to the guard; resolves once it listens. */
async function startGuarded(io: Io, configPath: string, simulate: boolean, port: number | undefined): Promise<RunningEdge | number> {
  const log = createLogger('tessera-edge');
  try {
    const simGpioDir = process.env.TESSERA_SIM_GPIO_DIR;
    const running = await runEdge({ configPath, simulate, log, ...(port !== undefined ? { port } : {}), ...(simGpioDir ? { simGpioDir } : {}) });
    guardProcess(
      { stop: running.stop, safeState: () => running.edge.safeState() },
      { log, onReload: () => loadDirectory(running.edge, running.config, log) },
    );
    return running;
  } catch (err) {
    if (err instanceof ConfigRefused) {
      io.err(err.message);
      return EXIT.CONFIG_INVALID;
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

function parsePort(value: string | undefined): number | undefined | 'bad' {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 'bad';
}

export const edgeCommand: Command = {
  name: 'edge',
  summary: 'Runs a site: readers, doors, lockers, presence and the local API, until SIGINT or SIGTERM. SIGHUP reloads a standalone directory file.',
  usage: 'edge --config FILE [--simulate] [--port N]',
  async run(args, io) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { config: { type: 'string' }, simulate: { type: 'boolean', default: false }, port: { type: 'string' } } }));
    } catch (err) {
      return usageError(io, (err as Error).message, this.usage);
    }
    if (!values.config) return usageError(io, '--config FILE is required', this.usage);
    const port = parsePort(values.port);
    if (port === 'bad') return usageError(io, `--port expects 0-65535, got "${values.port}"`, this.usage);
    const started = await startGuarded(io, values.config, values.simulate, port);
    return typeof started === 'number' ? started : new Promise<number>(() => undefined);
  },
};

export const DEMO_CONFIG = join(PACKAGE_ROOT, 'firmware-config', 'examples', 'business-hours.yaml');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Runs the business-hours example centre on simulated hardware and prints how to tap a badge.',
  usage: 'demo [--port N]',
  async run(args, io) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { port: { type: 'string' } } }));
    } catch (err) {
      return usageError(io, (err as Error).message, this.usage);
    }
    const port = parsePort(values.port);
    if (port === 'bad') return usageError(io, `--port expects 0-65535, got "${values.port}"`, this.usage);
    let started = await startGuarded(io, DEMO_CONFIG, true, port);
    // The example's port may be taken on this machine: any free port will do for a demo.
    if (started === EXIT.FAILURE && port === undefined) started = await startGuarded(io, DEMO_CONFIG, true, 0);
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
