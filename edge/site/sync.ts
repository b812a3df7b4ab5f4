import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { VERSION } from '../../shared/platform/package-root.js';
import { hubPublicKey } from '../../shared/protocol/signing.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { createSyncWorker } from '../../cloud-sync/edge/sync-worker.js';
import type { BrokerOptions, SyncWorker } from '../../cloud-sync/edge/sync-worker.js';
import { HubCommands } from '../commands/hub-commands.js';
import { DaysElsewhereUpdates } from '../directory/days-elsewhere.js';
import { HubDirectoryUpdates } from '../directory/hub-updates.js';
import { plausibleTime, type Edge } from './edge.js';

type BrokerConfig = NonNullable<SiteConfig['broker']>;

/** What the sync worker reads of the config's broker section: not the hub key (the site checks signatures), nor the /health bounds. */
export function brokerOptions(broker: BrokerConfig): BrokerOptions {
  return {
    url: broker.url,
    username: broker.username,
    password: broker.password,
    ca: broker.ca,
    topicPrefix: broker.topicPrefix,
    batchSize: broker.batchSize,
    window: broker.window,
    ackTimeoutSeconds: broker.ackTimeoutSeconds,
    heartbeatSeconds: broker.heartbeatSeconds,
    offlineAfterMissed: broker.offlineAfterMissed,
    keepaliveSeconds: broker.keepaliveSeconds,
  };
}

/**
 * The outbox's way to the hub, and the hub's directory and commands' way in, for a site with a
 * `broker` config (docs/sync.md). Commands need the pinned hub key: without it none is heard.
 */
export function startSync(config: SiteConfig, edge: Edge, clock: Clock, log: Logger): SyncWorker | undefined {
  const { broker, directory } = config;
  if (broker === undefined) return undefined;
  const fromHub = directory.source === 'hub' && broker.hubPublicKey !== undefined;
  const publicKey = broker.hubPublicKey === undefined ? undefined : hubPublicKey(broker.hubPublicKey);
  const worker = createSyncWorker({
    site: config.site.id,
    broker: brokerOptions(broker),
    store: edge.store,
    clock,
    log,
    version: VERSION,
    clockSynced: () => plausibleTime(clock.now()),
    doors: [...edge.doors.keys()],
    readers: config.readers.map((r) => r.id),
    ...(fromHub
      ? {
          directory: new HubDirectoryUpdates({
            site: config.site.id,
            publicKey: hubPublicKey(broker.hubPublicKey ?? ''),
            edge,
            log: log.child({ module: 'directory' }),
          }),
          daysElsewhere: new DaysElsewhereUpdates({
            site: config.site.id,
            publicKey: hubPublicKey(broker.hubPublicKey ?? ''),
            edge,
            log: log.child({ module: 'directory' }),
          }),
          // Stale, for the status and the hub's warning, from the first role a door would refuse.
          staleAfterSeconds: Math.min(...Object.values(directory.maxAgeHours)) * 3600,
        }
      : {}),
    capacity: config.site.capacity,
    ...(publicKey
      ? {
          commands: new HubCommands({
            site: config.site.id,
            publicKey,
            edge,
            clock,
            log: log.child({ module: 'commands' }),
          }),
        }
      : {}),
  });
  worker.start();
  return worker;
}
