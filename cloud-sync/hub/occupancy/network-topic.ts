import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../shared/platform/clock.js';
import { NETWORK_OCCUPANCY_VERSION, type NetworkOccupancyMessage } from '../../../shared/protocol/occupancy.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../../shared/protocol/topics.js';
import type { NetworkOccupancy } from './projection.js';

export type Publish = (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;

export interface NetworkTopicDeps {
  publish: Publish;
  /** The network's occupancy now (read from the hub database: it may fail, then it is tried again). */
  snapshot: () => Promise<NetworkOccupancy>;
  clock: Clock;
  log: Logger;
  topicPrefix?: string;
  /** At most one publication per this many ms (default 1000), always of the latest state. */
  intervalMs?: number;
  /** Published again this often even without a change (default 60 s): a site declared or renamed shows up. */
  refreshMs?: number;
}

/** The retained payload of `{prefix}/network/occupancy` (shared/protocol/occupancy.ts): sites keyed by id, for displays and templates. */
export function networkPayload(n: NetworkOccupancy, nowMs: number): NetworkOccupancyMessage {
  return {
    v: NETWORK_OCCUPANCY_VERSION,
    at: new Date(nowMs).toISOString(),
    total: n.total,
    sites: Object.fromEntries(
      n.sites.map((s) => [s.site, { name: s.name, present: s.present, capacity: s.capacity, rate: s.rate }]),
    ),
  };
}

/**
 * Publishes the network's occupancy, retained, QoS 0 (shared/protocol/occupancy.ts), when it changes:
 * the first change at once, then at most once per interval with the state of that moment. A
 * failed publication (broker away, or the database unreadable) is retried at the next change or interval.
 */
export class NetworkOccupancyPublisher {
  private readonly topic: string;
  private readonly intervalMs: number;
  private lastAt = -Infinity;
  private timer: TimerHandle | undefined;
  private refresh: TimerHandle | undefined;
  private stopped = false;
  /** Set while publications fail, so that a broker away is logged once, not every second. */
  private failing = false;

  constructor(private readonly deps: NetworkTopicDeps) {
    this.topic = topics(deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX).occupancy;
    this.intervalMs = deps.intervalMs ?? 1000;
  }

  /** Publishes now, then again on each change and at least every refresh interval. */
  start(): void {
    if (this.stopped || this.refresh !== undefined) return;
    this.refresh = this.deps.clock.setInterval(() => this.changed(), this.deps.refreshMs ?? 60_000);
    this.changed();
  }

  changed(): void {
    if (this.stopped || this.timer !== undefined) return;
    const wait = this.lastAt + this.intervalMs - this.deps.clock.now();
    if (wait <= 0) return this.publishNow();
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.publishNow();
    }, wait);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.refresh?.cancel();
    this.refresh = undefined;
  }

  private publishNow(): void {
    const at = (this.lastAt = this.deps.clock.now());
    this.deps
      .snapshot()
      .then((snapshot) => {
        if (this.stopped) return;
        return this.deps.publish(this.topic, JSON.stringify(networkPayload(snapshot, at)), { qos: 0, retain: true });
      })
      .then(
        () => (this.failing = false),
        (err: unknown) => {
          if (this.stopped) return;
          if (!this.failing)
            this.deps.log.warn(
              { err: (err as Error).message },
              'network occupancy not published: retrying every interval',
            );
          this.failing = true;
          this.retryLater();
        },
      );
  }

  private retryLater(): void {
    if (this.timer !== undefined) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.publishNow();
    }, this.intervalMs);
  }
}
