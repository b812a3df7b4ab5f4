import { z } from 'zod';
import { NORMALISED_UID_PATTERN } from './badge.js';
import { COMMAND_KINDS, Nonce } from './commands.js';
import { DecisionReason, DenyReason } from './reasons.js';

/**
 * The event catalog: every event a site records and sends to the hub. Each schema lives here
 * once; edge and hub both parse with it. Bump EVENT_SCHEMA_VERSION on any incompatible change
 * and record it in shared/protocol/CHANGELOG.md.
 */
export const EVENT_SCHEMA_VERSION = 1;

const Id = z.string().min(1).max(64);
/** What events carry of a badge: its last hex digits (`…A27F`), never the whole UID; `…` alone once its member is erased. */
const BadgeRef = z.string().regex(/^…[0-9A-F]{0,4}$/);
const ReaderRole = z.enum(['entry', 'exit', 'locker-bank', 'room']);

/**
 * A consumable item's id, and every key of the hub's price list: letters, digits, ".", "_" or
 * "-", at most 64, starting with a letter or digit. One pattern for both, so that every item a
 * site can record is an item the operator can price, and no name reaches the hub that a page or
 * a spreadsheet could take for markup or a formula.
 */
export const ITEM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const ItemId = z.string().regex(ITEM_ID_PATTERN, {
  error:
    'expected an item id of letters, digits, ".", "_" or "-" (at most 64, the first a letter or digit), e.g. "print-page"',
});

const AccessFields = {
  reader: Id,
  role: ReaderRole,
  door: Id.optional(),
  bank: Id.optional(),
  /** A room's reader: the room (the directory's resource id) whose door it opens. */
  resource: Id.optional(),
  badge: BadgeRef,
  memberId: Id.optional(),
  /** True for a UID-only badge: accepted, but anyone who reads it can clone it. */
  cloneable: z.boolean().optional(),
};

const payloads = {
  'access.granted': z.strictObject({ ...AccessFields, reason: DecisionReason }),
  'access.denied': z.strictObject({ ...AccessFields, reason: DenyReason }),
  'presence.in': z.strictObject({ memberId: Id, door: Id.optional(), reader: Id.optional() }),
  'presence.out': z.strictObject({
    memberId: Id,
    /** badge: an exit reader or a second tap; exit: the exit button; auto: the site checked out. */
    cause: z.enum(['badge', 'exit', 'auto']),
    via: z.enum(['exit_reader', 'second_tap', 'exit_button', 'closing', 'max_stay']),
    door: Id.optional(),
    /** Minutes between check-in and check-out. */
    minutes: z.number().int().nonnegative(),
  }),
  'locker.assigned': z.strictObject({
    bank: Id,
    locker: z.number().int().min(1),
    memberId: Id,
    mode: z.enum(['assigned', 'free']),
  }),
  'locker.opened': z.strictObject({ bank: Id, locker: z.number().int().min(1), memberId: Id }),
  'locker.released': z.strictObject({
    bank: Id,
    locker: z.number().int().min(1),
    memberId: Id,
    cause: z.enum(['checkout', 'request']),
  }),
  'door.forced': z.strictObject({ door: Id }),
  'door.held': z.strictObject({ door: Id, seconds: z.number().int().nonnegative() }),
  /** The door closed again after a forced or held-open alarm. */
  'door.secured': z.strictObject({ door: Id, after: z.enum(['forced', 'held']) }),
  'door.exit_requested': z.strictObject({ door: Id }),
  /** `lockdown`: held locked by a hub command, free access suspended, until it is lifted. */
  'door.mode': z.strictObject({ door: Id, mode: z.enum(['locked', 'free_access', 'lockdown']) }),
  'consumable.used': z.strictObject({ memberId: Id, item: ItemId, quantity: z.number().int().positive() }),
  'device.fault': z.strictObject({
    device: Id,
    kind: z.enum([
      'reader.lost',
      'reader.found',
      'gpio.error',
      'directory.rejected',
      'sync.rejected',
      'command.rejected',
      'uid.unreadable',
    ]),
    detail: z.string().max(500).optional(),
  }),
  'clock.unsynced': z.strictObject({ detail: z.string().max(500) }),
  /** A signed hub command the site carried out (shared/protocol/commands.ts), named by its nonce: the hub's receipt. */
  'command.executed': z.strictObject({
    command: Nonce,
    kind: z.enum(COMMAND_KINDS),
    door: Id.optional(),
    fromSeq: z.number().int().positive().optional(),
    reader: Id.optional(),
  }),
  /**
   * The card tapped on a reader in enrol mode (an `enrol` command): not decided, no door opened;
   * offered to the operator who asked. The one event that carries a whole UID (`uid`): an operator
   * registers the badge by it. The hub shows it to operators only: anyone else gets the event
   * without `uid` (cloud-sync/hub/whole-uids.ts). `card`: ISO 14443-4 (it talks APDUs,
   * e.g. an NTAG 424 DNA) or -3 (a UID and nothing else). `memberId`: the badge is already known.
   */
  'badge.presented': z.strictObject({
    reader: Id,
    command: Nonce,
    uid: z.string().regex(NORMALISED_UID_PATTERN).optional(),
    badge: BadgeRef,
    card: z.enum(['iso14443-3', 'iso14443-4']),
    known: z.boolean(),
    memberId: Id.optional(),
  }),
  /** An `enrol` command's reader went back to deciding taps with no card presented. */
  'enrol.expired': z.strictObject({ reader: Id, command: Nonce }),
} as const;

export type EventType = keyof typeof payloads;
export const EVENT_TYPES = Object.keys(payloads) as EventType[];
export type EventPayload<T extends EventType> = z.infer<(typeof payloads)[T]>;

const Envelope = {
  v: z.literal(EVENT_SCHEMA_VERSION),
  site: Id,
  seq: z.number().int().positive(),
  id: z.uuid(),
  /** ISO 8601 in the site's own time zone, with its offset. */
  at: z.iso.datetime({ offset: true }),
};

function envelopeOf<T extends EventType>(type: T) {
  return z.strictObject({ ...Envelope, type: z.literal(type), data: payloads[type] });
}

export const SiteEvent = z.discriminatedUnion('type', [
  envelopeOf('access.granted'),
  envelopeOf('access.denied'),
  envelopeOf('presence.in'),
  envelopeOf('presence.out'),
  envelopeOf('locker.assigned'),
  envelopeOf('locker.opened'),
  envelopeOf('locker.released'),
  envelopeOf('door.forced'),
  envelopeOf('door.held'),
  envelopeOf('door.secured'),
  envelopeOf('door.exit_requested'),
  envelopeOf('door.mode'),
  envelopeOf('consumable.used'),
  envelopeOf('device.fault'),
  envelopeOf('clock.unsynced'),
  envelopeOf('command.executed'),
  envelopeOf('badge.presented'),
  envelopeOf('enrol.expired'),
]);
export type SiteEvent = z.infer<typeof SiteEvent>;

/** An event before the store gives it a seq, an id and a time. */
export type NewEvent = { [T in EventType]: { type: T; data: EventPayload<T> } }[EventType];
