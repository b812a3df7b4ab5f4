import type { Logger } from 'pino';
import { systemClock } from '../../shared/platform/clock.js';
import type { Clock } from '../../shared/platform/clock.js';
import { formatDetails } from '../../shared/platform/validation.js';
import { loadSiteConfig } from '../../firmware-config/load.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { versionHeadline } from '../../firmware-config/version.js';
import { loadDirectoryFileIfChanged } from '../directory/file.js';
import { buildApi } from '../api/server.js';
import { createHardware } from '../hardware/factory.js';
import { EdgeStore } from '../store/store.js';
import { startWalCheckpointer } from '../../shared/platform/wal-checkpointer.js';
import type { SyncWorker } from '../../cloud-sync/edge/sync-worker.js';
import { createEdge } from './edge.js';
import { hubPublicKey } from '../../shared/protocol/signing.js';
import { readDoorKeyFile } from '../badges/door-keys.js';
import { createNtag424Verifier } from './secure-badges.js';
import { startSync } from './sync.js';
import type { CardVerifier } from './tap-handler.js';
import type { Edge } from './edge.js';
import { VERSION } from '../../shared/platform/package-root.js';

export interface RunOptions {
  configPath: string;
  simulate: boolean;
  log: Logger;
  clock?: Clock;
  /** Overrides the config's API port (0 = any free port). */
  port?: number;
  /** Overrides the config's storage path. */
  storagePath?: string;
  /** With simulated GPIO: mirror pin levels to files here (`TESSERA_SIM_GPIO_DIR`). */
  simGpioDir?: string;
}

export interface RunningEdge {
  edge: Edge;
  config: SiteConfig;
  url: string;
  stop(): Promise<void>;
}

/** Exit status for a config that cannot work: systemd must not restart-loop on it. */
export class ConfigRefused extends Error {}

/**
 * Starts a site from its config file: config first (refused before any relay is touched), then
 * hardware, store, directory, edge and API. Returns once the API listens.
 */
export async function runEdge(opts: RunOptions): Promise<RunningEdge> {
  const { log } = opts;
  const clock = opts.clock ?? systemClock;
  const loaded = loadSiteConfig(opts.configPath);
  if (!loaded.ok) {
    log.error({ code: loaded.code, errors: loaded.errors }, `site config refused:\n${formatDetails(loaded.errors)}`);
    // A file of an older version says what to run, and nothing else: its other errors would be the old format's.
    throw new ConfigRefused(
      versionHeadline(opts.configPath, loaded.errors) ??
        `${opts.configPath}: ${loaded.errors.length} error(s)\n${formatDetails(loaded.errors)}`,
    );
  }
  const config = loaded.value;
  // Everything that can refuse the config comes before any hardware is opened.
  const verifier = secureBadgeVerifier(config, log, opts.configPath);
  checkHubKey(config, opts.configPath);
  // A damaged database refuses the start too, before any relay is touched.
  const store = EdgeStore.open(opts.storagePath ?? config.storage.path, config.site.id, config.site.timeZone);
  const hw = await createHardware({
    readers: opts.simulate ? 'simulated' : config.hardware.readers,
    gpio: opts.simulate ? 'simulated' : config.hardware.gpio,
    readerNames: config.readers.map((r) => r.id),
    clock,
    log,
    ...(opts.simGpioDir !== undefined ? { simGpioDir: opts.simGpioDir } : {}),
    ...(config.hardware.gpioChipBase !== undefined ? { gpioChipBase: config.hardware.gpioChipBase } : {}),
  }).catch((err: unknown) => {
    store.close();
    throw err;
  });
  const edge = createEdge({
    config,
    clock,
    log,
    store,
    reader: hw.reader,
    gpio: hw.gpio,
    ...(verifier ? { verifier } : {}),
  });
  loadDirectory(edge, config, log);
  // Checkpoints in a worker thread: no tap waits for one before its door opens.
  const checkpointer = startWalCheckpointer(store.db, log);
  await edge.start();
  // The API reads the link's state once the worker exists (it starts after the API listens).
  const link: { worker?: SyncWorker | undefined } = {};
  const api = buildApi({
    edge,
    log,
    clock,
    version: VERSION,
    startedAt: clock.now(),
    link: () => link.worker?.state(),
    ...(hw.sim ? { sim: hw.sim } : {}),
  });
  const url = await api.listen({ host: config.api.host, port: opts.port ?? config.api.port });
  log.info({ url, simulated: hw.sim !== undefined }, 'local API listening');
  const sync = (link.worker = startSync(config, edge, clock, log));
  let stopping: Promise<void> | undefined;
  return {
    edge,
    config,
    url,
    // Fixed teardown order, so nothing runs on what is already closed: readers and relays, HTTP, flush the outbox and
    // publish offline then MQTT (the sync worker), SQLite.
    stop: () =>
      (stopping ??= (async () => {
        await edge.stop();
        await api.close();
        await sync?.stop();
        await checkpointer?.stop();
        store.close();
      })()),
  };
}

/** A standalone site's directory file; a bad one is refused and the directory in force stays. */
export function loadDirectory(edge: Edge, config: SiteConfig, log: Logger): boolean {
  if (config.directory.source !== 'file') return false;
  const path = config.directory.path;
  const source = `file:${path}`;
  const r = loadDirectoryFileIfChanged(path, edge.store.directory.fileHash(source));
  if (r.ok && 'unchanged' in r) {
    log.info({ source }, 'directory file unchanged since it was imported: the directory in force stays');
    return true;
  }
  if (r.ok) {
    edge.applyDirectory(r.value, source);
    if (r.hash !== undefined) edge.store.directory.recordFileHash(r.hash);
    return true;
  }
  const kept = edge.store.directory.describe();
  log.error(
    { code: r.code, errors: r.errors, kept: kept ? kept.revision : null },
    `directory file refused, ${kept ? 'the previous directory stays in force' : 'no directory in force: every badge is refused'}:\n${formatDetails(r.errors)}`,
  );
  edge.rejectDirectory(path, formatDetails(r.errors));
  return false;
}

/** A pinned hub key that is not an Ed25519 public key refuses the config: no update could ever be trusted. */
function checkHubKey(config: SiteConfig, configPath: string): void {
  const pem = config.broker?.hubPublicKey;
  if (pem === undefined) return;
  try {
    hubPublicKey(pem);
  } catch (err) {
    throw new ConfigRefused(`${configPath}: broker.hubPublicKey: ${(err as Error).message}`);
  }
}

/** The NTAG 424 verifier of a site with `secureBadges`; an unreadable door key file refuses the config. */
function secureBadgeVerifier(config: SiteConfig, log: Logger, configPath: string): CardVerifier | undefined {
  if (!config.secureBadges) return undefined;
  const file = readDoorKeyFile(config.secureBadges.doorKeyFile);
  if (!file.ok) throw new ConfigRefused(`${configPath}: secureBadges.doorKeyFile: ${file.message}`);
  if (file.warning) log.warn(file.warning);
  return createNtag424Verifier(config.secureBadges, file.keys, log.child({ module: 'secure-badges' }));
}
