import { z } from 'zod';
import { Booking, Resource } from './bookings.js';
import { Badge, Employer, Member, Plan } from './directory.js';
import { LocalDate } from './schedule.js';
import { PSEUDONYM_PATTERN, SALT_PATTERN } from './erasure.js';
import { SiteEvent } from './events.js';
import { SITE_ID_PATTERN } from './topics.js';

/**
 * The messages of the site ↔ hub link (docs/sync.md). A broker PUBACK proves
 * nothing: the edge keeps every event until the hub acknowledges it on the site's retained `ack`
 * topic, and the hub applies each (site, seq) exactly once.
 */
export const SYNC_SCHEMA_VERSION = 1;

const V = z.literal(SYNC_SCHEMA_VERSION);
const SiteId = z.string().regex(SITE_ID_PATTERN);
const Seq = z.number().int().nonnegative();
const At = z.iso.datetime({ offset: true });
/** Inclusive seq ranges, e.g. `[[12, 15], [20, 20]]`. */
const Ranges = z
  .array(
    z.tuple([Seq, Seq]).refine(([a, b]) => a >= 1 && a <= b, { error: 'expected [from, to] with 1 <= from <= to' }),
  )
  .max(1000);

/** `tessera/v1/sites/{site}/events`, edge → hub, QoS 1: consecutive events of one site. */
export const EventBatch = z
  .strictObject({ v: V, site: SiteId, events: z.array(SiteEvent).min(1).max(1000) })
  .superRefine((batch, ctx) => {
    batch.events.forEach((e, i) => {
      if (e.site !== batch.site)
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'site'],
          message: `event of site ${e.site} in a batch of ${batch.site}`,
        });
      const prev = batch.events[i - 1];
      if (prev && e.seq !== prev.seq + 1)
        ctx.addIssue({
          code: 'custom',
          path: ['events', i, 'seq'],
          message: `expected seq ${prev.seq + 1}, got ${e.seq}`,
        });
    });
  });
export type EventBatch = z.infer<typeof EventBatch>;

/**
 * `tessera/v1/sites/{site}/ack`, hub → edge, QoS 1, retained. `seq`: every event up to it is
 * stored at the hub. `missing`: ranges above `seq` the hub lacks although it holds later ones
 * (the edge re-sends from `seq + 1`). Ranges a site declares parked in its status count as
 * settled, so they no longer hold `seq` back.
 */
export const Ack = z.strictObject({ v: V, site: SiteId, seq: Seq, missing: Ranges.default([]), at: At });
export type Ack = z.infer<typeof Ack>;

/** `tessera/v1/sites/{site}/status`, edge → hub, QoS 1, retained; the last will says `online: false`. */
export const SiteStatus = z.strictObject({
  v: V,
  site: SiteId,
  /** The site's door ids, from its config file: the hub refuses an unlock of any other door. */
  doors: z.array(z.string().min(1).max(64)).max(256).optional(),
  /** The site's reader ids, from its config file: the hub refuses an enrol on any other reader. */
  readers: z.array(z.string().min(1).max(64)).max(256).optional(),
  online: z.boolean(),
  at: At,
  version: z.string().max(50),
  lastSeq: Seq,
  ackedSeq: Seq,
  /** Events the broker keeps refusing, kept at the site with the reason, skipped by the stream. */
  parked: Ranges.default([]),
  directory: z.strictObject({
    revision: Seq,
    ageSeconds: z.number().int().nonnegative().nullable(),
    stale: z.boolean(),
    /** The age at which the first role is refused (the smallest of directory.maxAgeHours): the hub warns before it. */
    maxAgeSeconds: z.number().int().positive().optional(),
    /**
     * The revision of the newest delta the site refused as out of order (it missed the one before),
     * until an update applies again: the hub sends again from `revision` at once instead of
     * taking what it sent as still in transit.
     */
    missed: Seq.optional(),
  }),
  clock: z.strictObject({ synced: z.boolean() }),
  /**
   * The hub's ack, while it is beyond the site's last seq: the site's log lost events the hub
   * holds (a deleted database) and sends nothing until an operator renumbers it.
   */
  logBehindHub: Seq.optional(),
  /** How often the site sends its status, and after how long without one the hub counts it offline. */
  heartbeat: z
    .strictObject({
      seconds: z.number().int().positive().max(3600),
      offlineAfterSeconds: z.number().int().positive().max(86_400),
    })
    .optional(),
  /** The site's capacity from its config file: the one the door enforces, shown by the hub. */
  capacity: z.number().int().positive().max(100_000).optional(),
});
export type SiteStatus = z.infer<typeof SiteStatus>;

/**
 * The link's liveness defaults, for the site config and its sync worker alike: a status every 8 s,
 * 3 missed before the hub counts the site offline (a frozen site is offline within 25 s of its
 * last status), and the MQTT keepalive after which the broker publishes the site's last will.
 */
export const LINK_DEFAULTS = { heartbeatSeconds: 8, offlineAfterMissed: 3, keepaliveSeconds: 15 } as const;

const Upsert = z.discriminatedUnion('entity', [
  z.strictObject({ entity: z.literal('plan'), op: z.literal('upsert'), value: Plan }),
  z.strictObject({ entity: z.literal('employer'), op: z.literal('upsert'), value: Employer }),
  z.strictObject({ entity: z.literal('member'), op: z.literal('upsert'), value: Member }),
  z.strictObject({ entity: z.literal('badge'), op: z.literal('upsert'), value: Badge }),
  z.strictObject({ entity: z.literal('resource'), op: z.literal('upsert'), value: Resource }),
  z.strictObject({ entity: z.literal('booking'), op: z.literal('upsert'), value: Booking }),
]);
/** A deleted entity is named by its id (a badge by its UID). */
const Delete = z.strictObject({
  entity: z.enum(['plan', 'employer', 'member', 'badge', 'resource', 'booking']),
  op: z.literal('delete'),
  id: z.string().min(1).max(64),
});
/**
 * A member erased at the hub, named by `pseudonym` alone: the site finds the member whose id
 * gives it under `salt` (shared/protocol/erasure.ts), deletes their badges and record, and puts the
 * pseudonym in place of the id in its events, presence, lockers and day usage.
 */
const Erase = z.strictObject({
  entity: z.literal('member'),
  op: z.literal('erase'),
  pseudonym: z.string().regex(PSEUDONYM_PATTERN),
  salt: z.string().regex(SALT_PATTERN),
});
export const DirectoryChange = z.discriminatedUnion('op', [Upsert, Delete, Erase]);
export type DirectoryChange = z.infer<typeof DirectoryChange>;

/**
 * `tessera/v1/sites/{site}/directory`, hub → edge, QoS 1. A `delta` takes a site from revision
 * `from` to `to`; a `snapshot` (in `chunks` parts, each a list of upserts, and the erasures)
 * replaces the site's directory with revision `to` once every chunk has arrived. Signed: see SignedDirectoryUpdate.
 */
export const DirectoryUpdate = z.discriminatedUnion('kind', [
  z.strictObject({
    v: V,
    site: SiteId,
    kind: z.literal('delta'),
    from: Seq,
    to: Seq,
    issuedAt: At,
    changes: z.array(DirectoryChange).max(5000),
  }),
  z.strictObject({
    v: V,
    site: SiteId,
    kind: z.literal('snapshot'),
    to: Seq,
    issuedAt: At,
    chunk: z.number().int().nonnegative(),
    chunks: z.number().int().positive(),
    changes: z.array(DirectoryChange).max(5000),
  }),
]);
export type DirectoryUpdate = z.infer<typeof DirectoryUpdate>;

/** The signature is Ed25519 over the canonical JSON of `body` (shared/protocol/signing.ts). */
export const SignedDirectoryUpdate = z.strictObject({ body: DirectoryUpdate, signature: z.string().min(1).max(200) });
export type SignedDirectoryUpdate = z.infer<typeof SignedDirectoryUpdate>;

/** The most members one days-elsewhere message names (about 60 bytes each). */
export const MAX_DAYS_ELSEWHERE_MEMBERS = 20_000;

/**
 * `tessera/v1/sites/{site}/days`, hub → edge, QoS 1, retained: for each member whose plan opens
 * the site and limits the days a week, the site-local days of the current and previous ISO
 * weeks on which the member came to another site, as the hub knows them from the events it
 * holds. Each message replaces the previous one whole; a site adds these days to its own when it
 * counts a member's week, and keeps the last ones it received while it is offline. Signed like a
 * directory update; a site applies only one issued after the one it holds.
 */
export const DaysElsewhere = z.strictObject({
  v: V,
  site: SiteId,
  issuedAt: At,
  members: z
    .array(z.strictObject({ member: Member.shape.id, days: z.array(LocalDate).min(1).max(21) }))
    .max(MAX_DAYS_ELSEWHERE_MEMBERS),
});
export type DaysElsewhere = z.infer<typeof DaysElsewhere>;

export const SignedDaysElsewhere = z.strictObject({ body: DaysElsewhere, signature: z.string().min(1).max(200) });
export type SignedDaysElsewhere = z.infer<typeof SignedDaysElsewhere>;
