import { z } from 'zod';
import { ItemId, SiteEvent } from '../events.js';
import { DecisionReason } from '../reasons.js';
import { defineRoute } from './common.js';

/** The site's local API (edge/api/): loopback by default, a bearer token from elsewhere. */

export const DirectoryInfo = z.object({
  revision: z.number().int(),
  loadedAt: z.number().int(),
  /** When the hub issued the update in force (hub-fed sites). */
  issuedAt: z.number().int().nullable(),
  source: z.string(),
  members: z.number().int(),
  badges: z.number().int(),
  /** Active UID-only badges: anyone who reads one can clone it. */
  cloneableBadges: z.number().int(),
});
export type DirectoryInfo = z.infer<typeof DirectoryInfo>;

export const EdgeDoorState = z.object({
  id: z.string(),
  mode: z.enum(['locked', 'unlocked', 'free_access']),
  contact: z.enum(['open', 'closed', 'unknown']),
  alarm: z.enum(['forced', 'held']).nullable(),
  /** Whether the door is inside its free-access window now (held unlocked by schedule). */
  freeAccess: z.boolean(),
  /** Held locked by a hub lockdown: free access suspended, only exits and remote unlocks pulse it. */
  lockdown: z.boolean(),
});
export type EdgeDoorState = z.infer<typeof EdgeDoorState>;

export const ReaderBinding = z.object({ id: z.string(), role: z.string(), attached: z.string().nullable() });
export type ReaderBinding = z.infer<typeof ReaderBinding>;

export const EdgeHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  /** Why not ok, in stable words: door.alarm, directory.missing, reader.detached, hub.unreachable, backlog.high, sync.log_behind_hub. */
  problems: z.array(z.string()),
  site: z.string(),
  version: z.string(),
  simulated: z.boolean(),
  uptimeSeconds: z.number().int(),
  directory: DirectoryInfo.nullable(),
  lastSeq: z.number().int(),
  sync: z.object({ lastSeq: z.number().int(), ackedSeq: z.number().int(), hubSeq: z.number().int().nullable() }),
  occupancy: z.number().int(),
  readers: z.array(ReaderBinding),
  doors: z.array(EdgeDoorState),
  alarms: z.array(z.object({ door: z.string(), alarm: z.enum(['forced', 'held']).nullable() })),
  taps: z.object({
    taps: z.number().int(),
    rejectedCards: z.number().int(),
    unboundReaders: z.number().int(),
    byReason: z.record(z.string(), z.number().int()),
  }),
  /** The link to the hub, for a site with a broker. */
  link: z
    .object({ connected: z.boolean(), unreachableSeconds: z.number().nullable(), backlog: z.number().int() })
    .nullable(),
  /** Device faults since start by kind: refused directory updates and commands, relay write failures, unreadable UIDs... */
  faults: z.record(z.string(), z.number().int()),
});
export type EdgeHealth = z.infer<typeof EdgeHealth>;

export const EdgeOccupancy = z.object({
  site: z.string(),
  count: z.number().int(),
  capacity: z.number(),
  rate: z.number(),
  present: z.array(
    z.object({ memberId: z.string(), name: z.string().nullable(), since: z.string(), door: z.string().nullable() }),
  ),
});
export type EdgeOccupancy = z.infer<typeof EdgeOccupancy>;

export const EdgeEvents = z.object({ events: z.array(SiteEvent), lastSeq: z.number().int() });
export type EdgeEvents = z.infer<typeof EdgeEvents>;

export const LockerBank = z.object({
  id: z.string(),
  mode: z.string(),
  lockers: z.array(
    z.object({ number: z.number().int(), member: z.string().nullable(), since: z.number().int().nullable() }),
  ),
});
export type LockerBank = z.infer<typeof LockerBank>;

/** A badge decision, as the simulator's tap answers it; `enrolment`: the reader was in enrol mode, nothing decided. */
export const TapDecision = z.object({
  granted: z.boolean(),
  reason: z.union([DecisionReason, z.literal('enrolment')]),
  reader: z.string(),
  door: z.string().nullable(),
  locker: z.object({ bank: z.string(), number: z.number().int() }).nullable(),
  memberId: z.string().nullable(),
  /** Check-in, check-out, or neither (a refusal, a locker, a re-entry). */
  presence: z.enum(['in', 'out']).nullable(),
});
export type TapDecision = z.infer<typeof TapDecision>;

/** Who used it: a member id (a device that knows it), or the badge shown at the device. */
const Who = { memberId: z.string().min(1).max(64).optional(), badge: z.string().min(1).max(64).optional() };
const oneOf = (v: { memberId?: string | undefined; badge?: string | undefined }) =>
  (v.memberId === undefined) !== (v.badge === undefined);
const ONE_OF = { error: 'expected exactly one of memberId or badge', path: ['memberId'] };

/** What a printer or coffee machine posts to `POST /consumables`. */
export const ConsumableUseBody = z
  .strictObject({ ...Who, item: ItemId, quantity: z.number().int().min(1).max(10_000) })
  .refine(oneOf, ONE_OF);
export type ConsumableUseBody = z.infer<typeof ConsumableUseBody>;

/** The simulator's printer (`/simulate/print`) and coffee machine (`/simulate/coffee`). */
export const SimulatedPrint = z
  .strictObject({ ...Who, pages: z.number().int().min(1).max(10_000), at: z.iso.datetime({ offset: true }).optional() })
  .refine(oneOf, ONE_OF);
export const SimulatedCoffee = z
  .strictObject({
    ...Who,
    cups: z.number().int().min(1).max(20).default(1),
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .refine(oneOf, ONE_OF);

/** A recorded use: the `consumable.used` event's seq, id and time, and what it holds. */
export const ConsumableRecorded = z.object({
  seq: z.number().int(),
  id: z.string(),
  at: z.string(),
  memberId: z.string(),
  item: z.string(),
  quantity: z.number().int(),
});
export type ConsumableRecorded = z.infer<typeof ConsumableRecorded>;

export const EdgeDoorList = z.object({ doors: z.array(EdgeDoorState) });
export type EdgeDoorList = z.infer<typeof EdgeDoorList>;
export const LockerBankList = z.object({ banks: z.array(LockerBank) });
export type LockerBankList = z.infer<typeof LockerBankList>;
export const LockerReleased = z.object({ released: z.boolean() });
export type LockerReleased = z.infer<typeof LockerReleased>;
export const DoorContactSet = z.object({ door: z.string(), open: z.boolean() });
export type DoorContactSet = z.infer<typeof DoorContactSet>;
export const ExitPressed = z.object({ door: z.string(), pressed: z.literal(true) });
export type ExitPressed = z.infer<typeof ExitPressed>;

const EventsQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const LockerParams = z.strictObject({ bank: z.string().min(1), number: z.coerce.number().int().min(1) });
const TapBody = z.strictObject({
  reader: z.string().min(1),
  uid: z.string().min(1).max(64),
  at: z.iso.datetime({ offset: true }).optional(),
});
const DoorBody = z.strictObject({ open: z.boolean() });

const consumable = <B extends z.ZodType>(operationId: string, url: string, summary: string, body: B) =>
  defineRoute({
    method: 'POST',
    url,
    operationId,
    tags: ['consumables'],
    summary,
    body,
    response: { 201: ConsumableRecorded },
    errors: ['not_found', 'auth.forbidden'],
  });

export const EdgeRoutes = {
  health: defineRoute({
    method: 'GET',
    url: '/health',
    operationId: 'getEdgeHealth',
    tags: ['site'],
    summary: 'Health: doors, readers, directory, sync, link, taps, faults',
    response: { 200: EdgeHealth },
  }),
  occupancy: defineRoute({
    method: 'GET',
    url: '/occupancy',
    operationId: 'getEdgeOccupancy',
    tags: ['site'],
    summary: 'Who is in, since when, by which door',
    response: { 200: EdgeOccupancy },
  }),
  events: defineRoute({
    method: 'GET',
    url: '/events',
    operationId: 'listEdgeEvents',
    tags: ['site'],
    summary: 'The site log in seq order, after a seq',
    querystring: EventsQuery,
    response: { 200: EdgeEvents },
  }),
  doors: defineRoute({
    method: 'GET',
    url: '/doors',
    operationId: 'listDoors',
    tags: ['doors'],
    summary: 'Each door: mode, contact, alarm, free access, lockdown',
    response: { 200: EdgeDoorList },
  }),
  lockers: defineRoute({
    method: 'GET',
    url: '/lockers',
    operationId: 'listLockerBanks',
    tags: ['lockers'],
    summary: 'Each locker bank and who holds each locker',
    response: { 200: LockerBankList },
  }),
  release: defineRoute({
    method: 'POST',
    url: '/lockers/:bank/:number/release',
    operationId: 'releaseLocker',
    tags: ['lockers'],
    summary: 'Release a locker: whether one was held',
    params: LockerParams,
    response: { 200: LockerReleased },
    errors: ['not_found'],
  }),
  consumables: consumable(
    'recordConsumableUse',
    '/consumables',
    'A printer or coffee machine records a use (billed by the hub)',
    ConsumableUseBody,
  ),
  metrics: defineRoute({
    method: 'GET',
    url: '/metrics',
    operationId: 'getEdgeMetrics',
    tags: ['site'],
    summary:
      'Prometheus metrics: decisions, latency, occupancy, outbox backlog, faults, doors, readers, broker link, directory, runtime',
    response: {},
    produces: { 'text/plain': { description: 'Prometheus text exposition format 0.0.4' } },
  }),
  document: defineRoute({
    method: 'GET',
    url: '/openapi.json',
    operationId: 'getEdgeOpenApi',
    tags: ['docs'],
    summary: 'This API, OpenAPI 3.1',
    response: { 200: z.looseObject({ openapi: z.string() }) },
  }),
};

/** Routes of a simulated site only: a person at the door, the printer and the coffee machine. */
export const SimulationRoutes = {
  tap: defineRoute({
    method: 'POST',
    url: '/simulate/tap',
    operationId: 'simulateTap',
    tags: ['simulation'],
    summary: 'Present a badge at a reader: the decision',
    body: TapBody,
    response: { 200: TapDecision },
    errors: ['not_found'],
  }),
  door: defineRoute({
    method: 'POST',
    url: '/simulate/doors/:id',
    operationId: 'simulateDoorContact',
    tags: ['simulation'],
    summary: "Open or close a door's contact sensor",
    params: z.strictObject({ id: z.string() }),
    body: DoorBody,
    response: { 200: DoorContactSet },
    errors: ['not_found', 'conflict'],
  }),
  exit: defineRoute({
    method: 'POST',
    url: '/simulate/exit/:door',
    operationId: 'simulateExitButton',
    tags: ['simulation'],
    summary: "Press a door's exit button",
    params: z.strictObject({ door: z.string() }),
    response: { 200: ExitPressed },
    errors: ['not_found', 'conflict'],
  }),
  print: consumable('simulatePrint', '/simulate/print', 'The simulated printer prints pages', SimulatedPrint),
  coffee: consumable('simulateCoffee', '/simulate/coffee', 'The simulated coffee machine pours cups', SimulatedCoffee),
};
