import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import type { CommandBody } from '../../shared/protocol/commands.js';
import type { ConnectFn } from './mqtt-link.js';
import type { SyncStore } from './site-store.js';

/** The broker and the link as the worker reads them (the site maps its config's broker section to this). */
export interface BrokerOptions {
  /** mqtt:// or mqtts://. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** For mqtts: the CA certificate (PEM) that signed the broker's; without it, the system's CAs. */
  ca?: string | undefined;
  topicPrefix: string;
  /** Events per published batch. */
  batchSize: number;
  /** Batches awaiting the broker's PUBACK at most. */
  window: number;
  /** Without the hub's ack for this long, what was sent is sent again. */
  ackTimeoutSeconds: number;
  /** How often the status is published. */
  heartbeatSeconds: number;
  /** Statuses in a row the hub may miss before it counts the site offline; LINK_DEFAULTS when absent. */
  offlineAfterMissed?: number | undefined;
  /** MQTT keepalive; LINK_DEFAULTS when absent. */
  keepaliveSeconds?: number | undefined;
}

/** What the site's command handler answers: the worker acts only on an accepted resend. */
export type CommandReceipt = { accepted: true; command: CommandBody } | { accepted: false };

export interface SyncWorkerDeps {
  site: string;
  broker: BrokerOptions;
  store: SyncStore;
  clock: Clock;
  log: Logger;
  /** The site's door ids, reported in its status: the hub refuses a command naming another door. */
  doors?: readonly string[];
  /** The site's reader ids, reported in its status: the hub refuses an enrol naming another reader. */
  readers?: readonly string[];
  version: string;
  clockSynced: () => boolean;
  /** Defaults to mqtt.connect. */
  connect?: ConnectFn;
  /**
   * How often the ack timeout is checked and the store polled for new events. Default 200 ms.
   * A store that tells of its commits (`onEventsCommitted`) has them sent at once instead.
   */
  pollMs?: number;
  /** Failures in a row before a batch is split, and a single event parked. Default 3. */
  failureLimit?: number;
  /** First reconnect delay, doubled up to 30 s. Default 1000 ms. */
  reconnectMs?: number;
  /** How long stop() waits for in-flight batches. Default 2000 ms. */
  flushMs?: number;
  /** For a hub-fed directory: where the site's directory updates go (whether one was applied). */
  directory?: {
    receive(payload: Buffer): { applied: boolean; refused?: string };
    /** The newest revision refused for a missed update, until an update applies again. */
    missed(): number | undefined;
  };
  /** For a hub-fed directory: where the hub's days elsewhere go. */
  daysElsewhere?: { receive(payload: Buffer): unknown };
  /** For a site with the hub's key: where the hub's signed commands go; a resend is the worker's to do. */
  commands?: { receive(payload: Buffer): CommandReceipt };
  /** A directory older than this is reported stale in the status. */
  staleAfterSeconds?: number;
  /** site.capacity, reported in the status: the hub shows the capacity the door enforces. */
  capacity?: number;
}
