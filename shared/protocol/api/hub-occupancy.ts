import { z } from 'zod';
import { SiteEvent } from '../events.js';
import { defineRoute, SiteId, SiteParams } from './common.js';

/** Occupancy, site health and alarms over HTTP and in the dashboard's live stream (cloud-sync/hub/occupancy/). */

export const SiteOccupancy = z.object({
  site: z.string(),
  name: z.string(),
  /** null until the operator declares the site (its events are still counted). */
  timeZone: z.string().nullable(),
  /** The capacity the site's door enforces, from its config file as its status reports it. */
  capacity: z.number().nullable(),
  present: z.number().int(),
  rate: z.number().nullable(),
});
export type SiteOccupancy = z.infer<typeof SiteOccupancy>;

export const NetworkOccupancy = z.object({
  sites: z.array(SiteOccupancy),
  total: z.object({ present: z.number().int(), capacity: z.number(), rate: z.number().nullable() }),
});
export type NetworkOccupancy = z.infer<typeof NetworkOccupancy>;

export const PresentMember = z.object({
  memberId: z.string(),
  /** From the hub directory; null for a member it does not know (any more). */
  name: z.string().nullable(),
  /** Site-local ISO time of the check-in. */
  since: z.string(),
});
export type PresentMember = z.infer<typeof PresentMember>;

export const SiteOccupancyDetail = SiteOccupancy.extend({ whoIsIn: z.array(PresentMember) });
export type SiteOccupancyDetail = z.infer<typeof SiteOccupancyDetail>;

export const HistoryPoint = z.object({
  /** The bucket's start, UTC ms: the dashboard shows it in the site's time zone. */
  start: z.number().int(),
  present: z.number().int(),
  /** present / capacity, or null for a site with no declared capacity. */
  rate: z.number().nullable(),
});
export type HistoryPoint = z.infer<typeof HistoryPoint>;

export const HISTORY_RANGES = ['24h', '7d'] as const;
export const HistoryQuery = z.strictObject({ range: z.enum(HISTORY_RANGES).default('24h') });
export const OccupancyHistory = z.object({
  site: z.string(),
  timeZone: z.string().nullable(),
  capacity: z.number().nullable(),
  range: z.enum(HISTORY_RANGES),
  bucketMinutes: z.number().int(),
  points: z.array(HistoryPoint),
});
export type OccupancyHistory = z.infer<typeof OccupancyHistory>;

export const HEALTH_STATES = ['ok', 'degraded', 'offline', 'unknown'] as const;
export const HealthState = z.enum(HEALTH_STATES);
export type HealthState = z.infer<typeof HealthState>;

export const SiteHealth = z.object({
  site: z.string(),
  /** From the last status; false after the site's last will or once its heartbeat is late; null before any status. */
  online: z.boolean().nullable(),
  state: HealthState,
  /** Site-local ISO time of the latest event stored. */
  lastEventAt: z.string().nullable(),
  /** When the hub received the last status (ISO, UTC). */
  statusAt: z.string().nullable(),
  /** Events the site holds that the hub has not acknowledged, as the site last reported. */
  backlog: z.number().int().nullable(),
  /** Seqs the hub lacks below the highest one it holds. */
  missing: z.number().int(),
  directory: z.object({ revision: z.number().int(), ageSeconds: z.number().nullable(), stale: z.boolean() }).nullable(),
  clock: z.object({ synced: z.boolean() }).nullable(),
  openAlarms: z.number().int(),
  /** Why the state is not ok, in stable words the dashboard translates. */
  problems: z.array(z.string()),
});
export type SiteHealth = z.infer<typeof SiteHealth>;

export const DoorState = z.object({
  door: z.string(),
  /** locked, free_access or lockdown, from the last door.mode event; null if none seen. */
  mode: z.enum(['locked', 'free_access', 'lockdown']).nullable(),
  /** forced or held while not secured again. */
  alarm: z.enum(['forced', 'held']).nullable(),
  lastEventAt: z.string(),
});
export type DoorState = z.infer<typeof DoorState>;

export const ReaderState = z.object({
  reader: z.string(),
  /** false after reader.lost until reader.found; true once it decided a tap. */
  connected: z.boolean(),
  lastEventAt: z.string(),
  lastTap: z.object({ at: z.string(), granted: z.boolean(), reason: z.string() }).nullable(),
});
export type ReaderState = z.infer<typeof ReaderState>;

export const SiteHealthDetail = SiteHealth.extend({ doors: z.array(DoorState), readers: z.array(ReaderState) });
export type SiteHealthDetail = z.infer<typeof SiteHealthDetail>;

export const ALARM_KINDS = [
  'door.forced',
  'door.held',
  'reader.lost',
  'sync.rejected',
  'command.rejected',
  'directory.rejected',
  'relay.failed',
  'reader.unreadable',
  'site.offline',
  'sync.log_behind',
  'directory.stale_soon',
] as const;
export const AlarmKind = z.enum(ALARM_KINDS);
export type AlarmKind = z.infer<typeof AlarmKind>;

export const Alarm = z.object({
  id: z.number().int(),
  site: z.string(),
  kind: AlarmKind,
  /** The door, the device, or the site itself for site.offline. */
  subject: z.string(),
  detail: z.string().nullable(),
  /** Site-local ISO time of the first event that raised it (hub time for site.offline). */
  raisedAt: z.string(),
  /** How many times it was raised again while still active. */
  count: z.number().int(),
  clearedAt: z.string().nullable(),
  clearedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  /** Active or not yet acknowledged: what the dashboard lists as open. */
  open: z.boolean(),
});
export type Alarm = z.infer<typeof Alarm>;

export const SiteHealthList = z.object({ sites: z.array(SiteHealth) });
export type SiteHealthList = z.infer<typeof SiteHealthList>;
export const AlarmList = z.object({ alarms: z.array(Alarm) });
export type AlarmList = z.infer<typeof AlarmList>;
export const AcknowledgedAlarm = z.object({ alarm: Alarm });
export type AcknowledgedAlarm = z.infer<typeof AcknowledgedAlarm>;

export const AlarmsQuery = z.strictObject({
  open: z.enum(['true', 'false']).optional(),
  site: SiteId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
const AlarmParams = z.strictObject({ id: z.coerce.number().int().positive() });

export const OccupancyRoutes = {
  network: defineRoute({
    method: 'GET',
    url: '/occupancy',
    operationId: 'getNetworkOccupancy',
    tags: ['occupancy'],
    summary: 'Live occupancy of each site (present, capacity, rate) and the network total',
    response: { 200: NetworkOccupancy },
  }),
  site: defineRoute({
    method: 'GET',
    url: '/occupancy/:site',
    operationId: 'getSiteOccupancy',
    tags: ['occupancy'],
    summary: 'Live occupancy of one site and who is in, since when',
    params: SiteParams,
    response: { 200: SiteOccupancyDetail },
    errors: ['auth.forbidden', 'not_found'],
  }),
  history: defineRoute({
    method: 'GET',
    url: '/occupancy/:site/history',
    operationId: 'getOccupancyHistory',
    tags: ['occupancy'],
    summary: 'Occupancy in 15-minute points over 24 h or 7 days, in UTC ms with the site time zone',
    params: SiteParams,
    querystring: HistoryQuery,
    response: { 200: OccupancyHistory },
    errors: ['auth.forbidden', 'not_found'],
  }),
  healthAll: defineRoute({
    method: 'GET',
    url: '/site-health',
    operationId: 'listSiteHealth',
    tags: ['site-health'],
    summary: 'Health of each site: online, state, problems, last event, backlog, directory, clock, open alarms',
    response: { 200: SiteHealthList },
  }),
  health: defineRoute({
    method: 'GET',
    url: '/site-health/:site',
    operationId: 'getSiteHealth',
    tags: ['site-health'],
    summary: 'Health of one site, with its doors and readers from recent events',
    params: SiteParams,
    response: { 200: SiteHealthDetail },
    errors: ['auth.forbidden', 'not_found'],
  }),
  alarms: defineRoute({
    method: 'GET',
    url: '/alarms',
    operationId: 'listAlarms',
    tags: ['alarms'],
    summary: 'Alarms newest first: open ones (active or unacknowledged), closed ones, or all',
    querystring: AlarmsQuery,
    response: { 200: AlarmList },
    errors: ['auth.forbidden'],
  }),
  acknowledge: defineRoute({
    method: 'POST',
    url: '/alarms/:id/ack',
    operationId: 'acknowledgeAlarm',
    tags: ['alarms'],
    summary: 'Acknowledge an alarm (who and when; the first acknowledgement stays)',
    params: AlarmParams,
    response: { 200: AcknowledgedAlarm },
    errors: ['not_found'],
  }),
};

/** The dashboard's live stream: what each server-sent event carries, by its name. */
export const LIVE_EVENTS = {
  occupancy: SiteOccupancy,
  event: SiteEvent,
  alarm: Alarm,
  health: SiteHealth,
} as const;

/** One message of the hub's live feed, about one site (its SSE event name is `kind`). */
export type LiveMessage = {
  [K in keyof typeof LIVE_EVENTS]: { kind: K; site: string; data: z.infer<(typeof LIVE_EVENTS)[K]> };
}[keyof typeof LIVE_EVENTS];
