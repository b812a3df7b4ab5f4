import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './tcp.js';

const run = promisify(execFile);

/**
 * The folder of PostgreSQL's server programs (initdb, pg_ctl): Debian's
 * /usr/lib/postgresql/<version>/bin, the newest, else wherever PATH finds initdb; undefined
 * when neither has it.
 */
export function pgServerBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? undefined : found.replace(/\/initdb$/, '');
}

/** A private PostgreSQL server of a test: its own data folder and port, trust authentication on 127.0.0.1. */
export interface PgCluster {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart -m fast`: sessions ended, a checkpoint, the server up again; resolves once it accepts connections. */
  restart(): Promise<void>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** The server's log so far (for a failing test's message). */
  log(): string;
  /** Stops the server at once and removes its folder. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * initdb and pg_ctl into a fresh folder under the system's temporary one, on a free port. As
 * root (PostgreSQL refuses to run as root), the programs run as the `postgres` user, which
 * then owns the folder. The calls are asynchronous: the test's event loop goes on meanwhile.
 */
export async function startPgCluster(bin = pgServerBin()): Promise<PgCluster> {
  if (bin === undefined) throw new Error('no initdb: install PostgreSQL (Debian: apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root, and there is no postgres user to run PostgreSQL as');
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  const pg = async (program: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]]
      : [join(bin, program), args];
    try {
      await run(file, argv, { cwd: dir, timeout: 120_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`${program} ${args.join(' ')} failed: ${e.stderr ?? e.message}\n${readLog()}`);
    }
  };
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const port = await freePort();
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  const start = () => pg('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60', '-o', options]);
  const stop = (mode: 'fast' | 'immediate' = 'fast') =>
    pg('pg_ctl', ['stop', '-D', data, '-m', mode, '-w', '-t', '60']);
  let destroyed = false;
  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    // -l again: without it the new server writes to pg_ctl's output, held open until it stops.
    restart: () => pg('pg_ctl', ['restart', '-D', data, '-l', logFile, '-m', 'fast', '-w', '-t', '60', '-o', options]),
    stop,
    start,
    log: readLog,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
