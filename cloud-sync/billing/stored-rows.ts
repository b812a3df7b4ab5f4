import { z } from 'zod';
import { EVENT_SCHEMA_VERSION, ITEM_ID_PATTERN, SiteEvent } from '../../shared/protocol/events.js';
import type { BilledEvent } from './visits.js';
import { billedEventOf } from './visits.js';

/**
 * Reading back the hub's own event rows for billing. Ingest stored them after `SiteEvent`
 * checked them, but a row may come from elsewhere (an older hub, a restored or hand-edited
 * database): each one is still checked. `SiteEvent` itself costs more than the rest of a close's
 * reading (a month has a million rows), so a row of the shape ingest writes for the three billed
 * types is checked here by hand, field by field, with the same rules; every other row (another
 * shape, a field broken, a type not billed) goes to `SiteEvent`, which decides. This check only
 * ever lets through rows `SiteEvent` accepts (tests/unit/billing-stored-rows.test.ts): it changes
 * how fast a row is read, never what is billed.
 */

/** The wire schema's own patterns (`z.uuid()`, `z.iso.datetime({ offset: true })`). */
const UUID = z.regexes.uuid();
const DATE_TIME = z.regexes.datetime({ offset: true });
const PRESENCE_OUT_CAUSES = new Set(['badge', 'exit', 'auto']);
const PRESENCE_OUT_VIAS = new Set(['exit_reader', 'second_tap', 'exit_button', 'closing', 'max_stay']);

type Json = Record<string, unknown>;

const isRecord = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
/** The wire's `Id`: 1 to 64 characters. */
const isId = (x: unknown): x is string => typeof x === 'string' && x.length >= 1 && x.length <= 64;
const isCount = (x: unknown, least: number): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= least;

/** The envelope: exactly its seven keys, each valid. */
function envelopeHolds(o: Json): boolean {
  let keys = 0;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) return false;
    keys++;
  }
  return (
    keys === 7 &&
    o.v === EVENT_SCHEMA_VERSION &&
    isId(o.site) &&
    isCount(o.seq, 1) &&
    typeof o.id === 'string' &&
    UUID.test(o.id) &&
    typeof o.at === 'string' &&
    DATE_TIME.test(o.at) &&
    isRecord(o.data)
  );
}

/** A payload's keys are all among `allowed` (strict objects: no other key). */
function onlyKeys(data: Json, allowed: ReadonlySet<string>): boolean {
  for (const key in data) if (!Object.hasOwn(data, key) || !allowed.has(key)) return false;
  return true;
}

const optionalId = (x: unknown) => x === undefined || isId(x);
const IN_KEYS = new Set(['memberId', 'door', 'reader']);
const OUT_KEYS = new Set(['memberId', 'cause', 'via', 'door', 'minutes']);
const USE_KEYS = new Set(['memberId', 'item', 'quantity']);

function payloadHolds(type: unknown, d: Json): boolean {
  if (!isId(d.memberId)) return false;
  if (type === 'presence.in') return onlyKeys(d, IN_KEYS) && optionalId(d.door) && optionalId(d.reader);
  if (type === 'presence.out')
    return (
      onlyKeys(d, OUT_KEYS) &&
      typeof d.cause === 'string' &&
      PRESENCE_OUT_CAUSES.has(d.cause) &&
      typeof d.via === 'string' &&
      PRESENCE_OUT_VIAS.has(d.via) &&
      optionalId(d.door) &&
      isCount(d.minutes, 0)
    );
  if (type === 'consumable.used')
    return (
      onlyKeys(d, USE_KEYS) && typeof d.item === 'string' && ITEM_ID_PATTERN.test(d.item) && isCount(d.quantity, 1)
    );
  return false;
}

/** A billed event of the shape ingest stores, every field as `SiteEvent` wants it. */
const inStoredShape = (json: unknown): json is SiteEvent =>
  isRecord(json) && envelopeHolds(json) && payloadHolds(json.type, json.data as Json);

/**
 * The billed part of a stored row's body (received at `receivedAt`), or undefined if it does not
 * read as a billed event (not JSON, not a valid event, a type billing does not read).
 */
export function billedRow(body: string, receivedAt: number): BilledEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const event = inStoredShape(json) ? json : checkedEvent(json);
  return event && billedEventOf(event, receivedAt);
}

/** The row as `SiteEvent` reads it, an older hub's consumable use included (`legacyUse`). */
export function checkedEvent(json: unknown): SiteEvent | undefined {
  const r = SiteEvent.safeParse(json);
  return r.success ? r.data : legacyUse(json, r.error);
}

/**
 * A consumable use an older hub stored before item names were checked at ingest (it took any id
 * up to 64 characters): read with the name it has, so that the close lists it among the uses
 * without a price (no price can name it) instead of skipping it as unreadable. Every other field
 * must still be valid.
 */
function legacyUse(json: unknown, error: z.ZodError): SiteEvent | undefined {
  if (!error.issues.every((i) => i.path.length === 2 && i.path[0] === 'data' && i.path[1] === 'item')) return undefined;
  const data = (json as { data?: unknown }).data;
  const item = (data as { item?: unknown }).item;
  if (typeof item !== 'string' || item.length === 0 || item.length > 64) return undefined;
  const r = SiteEvent.safeParse({ ...(json as object), data: { ...(data as object), item: 'legacy' } });
  return r.success && r.data.type === 'consumable.used' ? { ...r.data, data: { ...r.data.data, item } } : undefined;
}
