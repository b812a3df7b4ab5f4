import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Db } from './sqlite.js';

/**
 * Copies a database's write-ahead log back into the database from a worker thread, so the
 * writing thread no longer does it after its commits. SQLite runs a checkpoint after the commit
 * that takes the log past 1,000 pages, with its fsyncs, in the thread that committed:
 * - at the hub, on the ingest benchmark's insert pattern (100 sites, 700-event commits), they
 *   took more than half the ingest thread's storage time;
 * - at a site, every 150 or so taps one tap waited for a checkpoint before its door opened: the
 *   tail of the tap's latency (tens of milliseconds on an SD card).
 *
 * The writing connection keeps a far larger automatic checkpoint as a bound: under continuous
 * writes a passive checkpoint can never reset the log (a writer is always ahead of it), and the
 * one the writer runs itself does. By then the worker has copied nearly every page already.
 */
export interface WalCheckpointer {
  /** Stops the worker after a last checkpoint; idempotent. The database stays open. */
  stop(): Promise<void>;
}

/** Automatic checkpoint of the writing connection while the worker runs: 16,384 pages (64 MB). */
export const WRITER_CHECKPOINT_PAGES = 16_384;
/** SQLite's default, restored if the worker fails. */
const DEFAULT_CHECKPOINT_PAGES = 1000;

// Plain CommonJS run by the worker (eval): no module of ours to locate in src/ or dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)');
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
`;

/**
 * Starts the worker for the database that `raw` has open (its writing connection); undefined for
 * a database in memory. The connection's pragmas are set on better-sqlite3 directly: they are
 * the connection's settings, not statements of a transaction.
 */
export function startWalCheckpointer(raw: Db, log: Logger, everyMs = 200): WalCheckpointer | undefined {
  if (raw.memory) return undefined;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path: raw.name, everyMs },
  });
  worker.unref(); // a database never closed must not keep its process alive
  raw.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
  let stopping: Promise<void> | undefined;
  let exited = false;
  // The worker failing costs speed, never data: the writer checkpoints as SQLite's default again.
  const fallBack = (why: string) => {
    if (stopping || !raw.open) return;
    raw.pragma(`wal_autocheckpoint = ${DEFAULT_CHECKPOINT_PAGES}`);
    log.warn({ why }, 'WAL checkpoint worker stopped: the writing connection checkpoints itself again');
  };
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => {
    exited = true;
    fallBack(`exit ${code}`);
  });
  return {
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        if (exited) return resolve();
        const done = () => {
          clearTimeout(bound);
          resolve();
        };
        // A worker stuck in a checkpoint is not worth a hung shutdown: SQLite checkpoints at close.
        const bound = setTimeout(() => void worker.terminate().then(done, done), 5000);
        worker.once('message', () => void worker.terminate().then(done, done));
        worker.once('exit', done);
        worker.postMessage('stop');
      });
      return stopping;
    },
  };
}
