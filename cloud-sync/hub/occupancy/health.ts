import type { SiteStatus } from '../../../shared/protocol/sync.js';
import type { SiteView } from '../store.js';

/**
 * For a status that does not say its heartbeat (an edge from before it did): the old fixed
 * heartbeat of 30 s, offline after three missed.
 */
export const LEGACY_OFFLINE_AFTER_SECONDS = 90;

/** How long the hub waits for the next status before it counts the site offline. */
export const offlineAfterSeconds = (status: SiteStatus): number =>
  status.heartbeat?.offlineAfterSeconds ?? LEGACY_OFFLINE_AFTER_SECONDS;

/**
 * Seconds since a site that says it is online last sent its status, once that is past its
 * bound; undefined while it is on time (or says it is offline, or never spoke). The hub judges
 * this itself, on its own clock: a frozen site, or one that died while the hub was down, sends
 * no last will.
 */
export function silentFor(view: Pick<SiteView, 'status' | 'statusAt'> | undefined, nowMs: number): number | undefined {
  if (!view?.status?.online || view.statusAt == null) return undefined;
  const silent = Math.floor((nowMs - view.statusAt) / 1000);
  return silent >= offlineAfterSeconds(view.status) ? silent : undefined;
}

/**
 * The first instant after `nowMs` at which the site's verdict can change without a new status:
 * its heartbeat bound passing, then its directory warning; Infinity once both have passed.
 */
export function nextVerdictChangeAt(view: Pick<SiteView, 'status' | 'statusAt'>, nowMs: number): number {
  if (!view.status || view.statusAt == null) return Infinity;
  const at = view.statusAt;
  const dir = view.status.directory;
  const instants = [at + offlineAfterSeconds(view.status) * 1000];
  if (dir.maxAgeSeconds !== undefined && dir.ageSeconds !== null)
    instants.push(at + Math.ceil(dir.maxAgeSeconds * DIRECTORY_WARNING_SHARE - dir.ageSeconds) * 1000);
  return Math.min(Infinity, ...instants.filter((t) => t > nowMs));
}

// A site's health is the API's wire shape (shared/protocol/api/hub-occupancy.ts).
export type { SiteHealth } from '../../../shared/protocol/api/hub-occupancy.js';
import type { HealthState, SiteHealth } from '../../../shared/protocol/api/hub-occupancy.js';

/** The share of a site's directory bound at which the hub warns: a quarter of it is left to restore the link. */
export const DIRECTORY_WARNING_SHARE = 0.75;

/**
 * What to warn about a site's directory at `nowMs`: its age as reported plus the time since that
 * status (the site may be cut off and silent), against the bound the site reported. Null while
 * it is fresh, or when the site reports no bound or no directory.
 */
export function directoryWarning(
  view: Pick<SiteView, 'status' | 'statusAt'> | undefined,
  nowMs: number,
): string | null {
  const dir = view?.status?.directory;
  if (dir?.maxAgeSeconds === undefined || dir.ageSeconds === null || view?.statusAt == null) return null;
  const age = dir.ageSeconds + Math.max(0, Math.floor((nowMs - view.statusAt) / 1000));
  if (age < dir.maxAgeSeconds * DIRECTORY_WARNING_SHARE) return null;
  const hours = (s: number) => `${Math.floor(s / 360) / 10} h`;
  return `directory not confirmed for ${hours(age)}: the site refuses badges at ${hours(dir.maxAgeSeconds)}`;
}

/**
 * A site's health from what the hub holds (pure): online state from its status, its last will
 * and the age of its last status at `nowMs`, last event, backlog, gaps, directory age and clock
 * as the site reported them, open alarms.
 */
export function siteHealth(site: string, view: SiteView | undefined, openAlarms: number, nowMs: number): SiteHealth {
  const status = view?.status ?? null;
  const missing = (view?.missing ?? []).reduce((n, [a, b]) => n + b - a + 1, 0);
  const problems = [
    ...(status?.directory.stale ? ['directory.stale'] : []),
    ...(status && !status.clock.synced ? ['clock.unsynced'] : []),
    ...(missing > 0 ? ['events.missing'] : []),
    ...(openAlarms > 0 ? ['alarms.open'] : []),
  ];
  const online = view?.online == null ? null : view.online && silentFor(view, nowMs) === undefined;
  const state: HealthState =
    online === null ? 'unknown' : !online ? 'offline' : problems.length > 0 ? 'degraded' : 'ok';
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
