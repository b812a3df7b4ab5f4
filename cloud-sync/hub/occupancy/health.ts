import type { SiteView } from '../store.js';

export type HealthState = 'ok' | 'degraded' | 'offline' | 'unknown';

export interface SiteHealth {
  site: string;
  /** From the last status; false after the site's last will; null before any status. */
  online: boolean | null;
  state: HealthState;
  /** Site-local ISO time of the latest event stored. */
  lastEventAt: string | null;
  /** When the hub received the last status (ISO, UTC). */
  statusAt: string | null;
  /** Events the site holds that the hub has not acknowledged, as the site last reported. */
  backlog: number | null;
  /** Seqs the hub lacks below the highest one it holds. */
  missing: number;
  directory: { revision: number; ageSeconds: number | null; stale: boolean } | null;
  clock: { synced: boolean } | null;
  openAlarms: number;
  /** Why the state is not ok, in stable words the dashboard translates. */
  problems: string[];
}

/**
 * A site's health from what the hub holds (pure): online state from its status and last will,
 * last event, backlog, gaps, directory age and clock as the site reported them, open alarms.
 */
export function siteHealth(site: string, view: SiteView | undefined, openAlarms: number): SiteHealth {
  const status = view?.status ?? null;
  const missing = (view?.missing ?? []).reduce((n, [a, b]) => n + b - a + 1, 0);
  const problems = [
    ...(status?.directory.stale ? ['directory.stale'] : []),
    ...(status && !status.clock.synced ? ['clock.unsynced'] : []),
    ...(missing > 0 ? ['events.missing'] : []),
    ...(openAlarms > 0 ? ['alarms.open'] : []),
  ];
  const online = view?.online ?? null;
  const state: HealthState = online === null ? 'unknown' : !online ? 'offline' : problems.length > 0 ? 'degraded' : 'ok';
  return {
    site,
    online,
    state,
    lastEventAt: view?.lastEventAt ?? null,
    statusAt: view?.statusAt == null ? null : new Date(view.statusAt).toISOString(),
    backlog: status ? Math.max(0, status.lastSeq - status.ackedSeq) : null,
    missing,
    directory: status ? status.directory : null,
    clock: status ? status.clock : null,
    openAlarms,
    problems,
  };
}
