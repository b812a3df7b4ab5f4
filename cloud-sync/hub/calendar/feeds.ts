import { createHash, randomBytes } from 'node:crypto';
import { Resource } from '../../../shared/protocol/bookings.js';
import type { FeedLanguage } from '../../../shared/protocol/api/hub-calendar.js';
import type { Sql } from '../db.js';
import type { BookingRow, BookingStore } from '../bookings/store.js';
import type { HubSites } from '../sites.js';
import type { HubDirectory } from '../directory.js';
import type { Calendar, CalendarEvent } from './ics.js';

/**
 * The feeds handed out (table `calendar_feeds`): only the SHA-256 of each token is kept, so a
 * copy of the database opens no feed. A revoked feed keeps its row (revoked_at set): its
 * token never works again.
 */
export type FeedKind = 'room' | 'member';

export interface FeedRow {
  id: string;
  kind: FeedKind;
  ref: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
}

const DAY_MS = 86_400_000;
/** What a feed shows around now: a month back, half a year ahead. */
const FEED_PAST_MS = 30 * DAY_MS;
const FEED_AHEAD_MS = 180 * DAY_MS;

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

interface Stored {
  token_hash: string;
  kind: FeedKind;
  ref: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
}
const toRow = (r: Stored): FeedRow => ({
  id: r.token_hash,
  kind: r.kind,
  ref: r.ref,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export class CalendarFeeds {
  /** A new feed: its token (given once) and its row. */
  async create(
    q: Sql,
    kind: FeedKind,
    ref: string,
    createdBy: string,
    now: number,
  ): Promise<{ token: string; row: FeedRow }> {
    const token = randomBytes(32).toString('base64url');
    const id = tokenHash(token);
    await q.run('INSERT INTO calendar_feeds (token_hash, kind, ref, created_by, created_at) VALUES (?, ?, ?, ?, ?)', [
      id,
      kind,
      ref,
      createdBy,
      now,
    ]);
    return { token, row: { id, kind, ref, createdBy, createdAt: now, revokedAt: null } };
  }

  async get(q: Sql, id: string): Promise<FeedRow | undefined> {
    const r = await q.get<Stored>('SELECT * FROM calendar_feeds WHERE token_hash = ?', [id]);
    return r && toRow(r);
  }

  /** The live feed a token opens, if any. */
  async open(q: Sql, token: string): Promise<FeedRow | undefined> {
    const row = await this.get(q, tokenHash(token));
    return row && row.revokedAt === null ? row : undefined;
  }

  /** Revokes a feed; revoking it again keeps the first time. */
  async revoke(q: Sql, id: string, now: number): Promise<void> {
    await q.run('UPDATE calendar_feeds SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL', [now, id]);
  }
}

/** A resource of the directory, as it is now (deleted: undefined). */
export async function resourceOf(q: Sql, id: string): Promise<Resource | undefined> {
  if (id.includes('\u0000')) return undefined;
  const value = await q.value<string | null>(
    "SELECT value FROM directory_entities WHERE entity = 'resource' AND id = ? AND deleted = 0",
    [id],
  );
  return value ? Resource.parse(JSON.parse(value)) : undefined;
}

export interface FeedSources {
  bookings: BookingStore;
  sites: HubSites;
  directory: HubDirectory;
}

const BOOKED: Record<FeedLanguage, string> = { en: 'Booked', fr: 'Réservé' };
const BOOKINGS: Record<FeedLanguage, string> = { en: 'Bookings', fr: 'Réservations' };

/**
 * What a feed shows now. A room's: its confirmed bookings, each only "Booked", never who holds
 * it (a room's feed is shown on screens and shared). A member's: their own bookings, the
 * cancelled and released ones as CANCELLED so that calendars drop them.
 */
export async function feedCalendar(
  q: Sql,
  src: FeedSources,
  feed: FeedRow,
  lang: FeedLanguage,
  now: number,
): Promise<Calendar | undefined> {
  const from = now - FEED_PAST_MS;
  const to = now + FEED_AHEAD_MS;
  const siteName = async (site: string) => (await src.sites.get(q, site))?.name ?? site;
  if (feed.kind === 'room') {
    const room = await resourceOf(q, feed.ref);
    if (!room) return undefined;
    const location = `${room.name}, ${await siteName(room.site)}`;
    const rows = (await src.bookings.forResource(q, room.id, from, to)).filter((b) => b.status === 'confirmed');
    return { name: room.name, events: rows.map((b) => eventOf(b, BOOKED[lang], location)) };
  }
  const member = await src.directory.get(q, 'member', feed.ref);
  if (!member) return undefined;
  const events: CalendarEvent[] = [];
  const names = new Map<string, string>();
  for (const b of await src.bookings.forMember(q, member.id, from, to)) {
    const name = names.get(b.resource) ?? (await resourceOf(q, b.resource))?.name ?? b.resource;
    names.set(b.resource, name);
    events.push(eventOf(b, name, await siteName(b.site)));
  }
  return { name: `${BOOKINGS[lang]}: ${member.name}`, events };
}

const eventOf = (b: BookingRow, summary: string, location: string): CalendarEvent => ({
  uid: `${b.id}@tessera`,
  stampMs: b.updatedAt,
  startMs: b.startMs,
  endMs: b.endMs,
  summary,
  location,
  status: b.status === 'confirmed' ? 'CONFIRMED' : 'CANCELLED',
});
