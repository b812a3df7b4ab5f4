import type { SiteEvent } from '../../../shared/protocol/events.js';
import { Histogram } from '../../../shared/platform/metrics.js';

/** Seconds from an event at its site to its storage at the hub: buckets from 50 ms to a day (sites offline catch up late). */
const LAG_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400];

/**
 * What the hub counts of the events it stores, since it started (Prometheus counters reset with
 * the process; rates are what matters): decisions by site, result and reason, events by type,
 * and the lag from each event to its storage at the hub.
 */
export class LiveCounters {
  /** `site|granted|reason` → count. */
  readonly decisions = new Map<string, number>();
  /** `site|type` → count. */
  readonly events = new Map<string, number>();
  readonly lag = new Histogram(LAG_BOUNDS);

  observe(events: readonly SiteEvent[], nowMs: number): void {
    for (const e of events) {
      bump(this.events, `${e.site}|${e.type}`);
      if (e.type === 'access.granted' || e.type === 'access.denied')
        bump(this.decisions, `${e.site}|${e.type === 'access.granted'}|${e.data.reason}`);
      const at = Date.parse(e.at);
      if (Number.isFinite(at)) this.lag.observe(Math.max(0, nowMs - at) / 1000);
    }
  }
}

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
