import { afterEach, describe, expect, it } from 'vitest';
import { HubDirectoryUpdates } from '../../edge/directory/hub-updates.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import type { DirectoryChange, DirectoryUpdate } from '../../shared/protocol/sync.js';
import { startSite, UID, type Harness } from '../harness/site.js';
import { silent } from '../support/logger.js';
import {
  ALICE_SALON,
  BOOKING_DIRECTORY,
  DESKS,
  FANNY,
  MINUTE_MS,
  ROOM_CONFIG,
  SALON,
} from './edge-booking-fixtures.js';

const SALON_RELAY = 23;
const FRONT_RELAY = 17;
const START = Date.parse(ALICE_SALON.start);
const END = Date.parse(ALICE_SALON.end);
const HUB = generateHubKeys();

let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

async function roomSite(): Promise<Harness> {
  site = await startSite(ROOM_CONFIG, BOOKING_DIRECTORY);
  return site;
}

/** A hub-fed site with the room, and the hub's end of its signed directory updates. */
async function hubRoomSite() {
  const s = await startSite(
    {
      ...ROOM_CONFIG,
      directory: { source: 'hub', maxAgeHours: 24 },
      broker: { url: 'mqtt://127.0.0.1:1', hubPublicKey: HUB.publicKeyPem },
    },
    BOOKING_DIRECTORY,
  );
  site = s;
  const updates = new HubDirectoryUpdates({
    site: 'murat',
    publicKey: hubPublicKey(HUB.publicKeyPem),
    edge: s.edge,
    log: silent,
  });
  let n = 0;
  const send = (body: DirectoryUpdate) =>
    updates.receive(JSON.stringify({ body, signature: signBody(body, hubPrivateKey(HUB.privateKeyPem)) }));
  const issuedAt = () => new Date(s.clock.now() + ++n * 1000).toISOString();
  const delta = (from: number, to: number, changes: DirectoryChange[]) =>
    send({ v: 1, site: 'murat', kind: 'delta', from, to, issuedAt: issuedAt(), changes });
  return { site: s, delta, send, issuedAt };
}

describe('a room’s reader at the site', () => {
  it('opens the room’s door for its booking’s holder within the grace, records the tap, and checks nobody in', async () => {
    const s = await roomSite();
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: false, reason: 'no_booking' });
    s.clock.advanceTo(START - 15 * MINUTE_MS);
    expect(s.tap('salon-in', UID.alice)).toEqual({
      granted: true,
      reason: 'booking',
      reader: 'salon-in',
      door: 'salon',
      locker: null,
      memberId: 'alice',
      presence: null,
    });
    expect(s.gpio.isActive(SALON_RELAY)).toBe(true);
    expect(s.gpio.isActive(FRONT_RELAY)).toBe(false);
    expect(s.store.presence.occupancy()).toBe(0);
    expect(s.events().at(-1)).toMatchObject({
      type: 'access.granted',
      data: {
        reader: 'salon-in',
        role: 'room',
        door: 'salon',
        resource: 'salon',
        memberId: 'alice',
        reason: 'booking',
      },
    });
  });

  it('refuses another member, and the holder once the booking and its grace are over', async () => {
    const s = await roomSite();
    s.clock.advanceTo(START + 30 * MINUTE_MS);
    expect(s.tap('salon-in', UID.bob)).toMatchObject({ granted: false, reason: 'no_booking', memberId: 'bob' });
    expect(s.events().at(-1)).toMatchObject({
      type: 'access.denied',
      data: { reader: 'salon-in', role: 'room', resource: 'salon', memberId: 'bob', reason: 'no_booking' },
    });
    expect(s.tap('salon-in', UID.revoked)).toMatchObject({ granted: false, reason: 'badge_revoked' });
    s.clock.advanceTo(END + 15 * MINUTE_MS);
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: false, reason: 'no_booking' });
    expect(s.gpio.history(SALON_RELAY).some((c) => c.active)).toBe(false);
  });

  it('a booking of the desk pool does not open the room', async () => {
    const s = await roomSite();
    const desk = { ...ALICE_SALON, id: 'bk-bob-desk', resource: DESKS.id, member: 'bob' };
    s.edge.applyDirectoryChanges([{ entity: 'booking', value: desk }], 2, 'test', s.clock.now());
    s.clock.advanceTo(START);
    expect(s.tap('salon-in', UID.bob)).toMatchObject({ granted: false, reason: 'no_booking' });
  });
});

describe('a plan that requires a booking, at the site’s entry', () => {
  it('refuses its member on a day without a booking at the site, admits them on a day with one, and lets them out', async () => {
    const s = await roomSite();
    expect(s.tap('front-in', FANNY)).toMatchObject({ granted: false, reason: 'booking_required', presence: null });
    const desk = {
      id: 'bk-fanny-desk',
      resource: DESKS.id,
      site: 'murat',
      member: 'fanny',
      start: '2026-11-23T16:00:00Z',
      end: '2026-11-23T17:00:00Z',
    };
    s.edge.applyDirectoryChanges([{ entity: 'booking', value: desk }], 2, 'test', s.clock.now());
    expect(s.tap('front-in', FANNY)).toMatchObject({ granted: true, reason: 'ok', presence: 'in' });
    // The way out is never refused, booking or not.
    s.edge.applyDirectoryChanges([{ entity: 'booking', id: desk.id }], 3, 'test', s.clock.now());
    expect(s.tap('front-out', FANNY)).toMatchObject({ granted: true, presence: 'out' });
    // The next morning the booking of the day before counts no more.
    s.edge.applyDirectoryChanges([{ entity: 'booking', value: desk }], 4, 'test', s.clock.now());
    s.clock.advanceTo('2026-11-24T08:00:00Z');
    expect(s.tap('front-in', FANNY)).toMatchObject({ granted: false, reason: 'booking_required' });
  });
});

describe('a cancellation reaches the door like a revocation', () => {
  it('a signed delta deleting the booking refuses the next tap at the room', async () => {
    const { site: s, delta } = await hubRoomSite();
    s.clock.advanceTo(START + 5 * MINUTE_MS);
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: true, reason: 'booking' });
    expect(delta(1, 2, [{ entity: 'booking', op: 'delete', id: ALICE_SALON.id }])).toEqual({
      applied: true,
      revision: 2,
    });
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: false, reason: 'no_booking' });
  });

  it('a booking moved by a delta opens at its new time only; one for a resource the site lacks is refused whole', async () => {
    const { site: s, delta } = await hubRoomSite();
    const moved = { ...ALICE_SALON, start: '2026-11-23T13:00:00Z', end: '2026-11-23T14:00:00Z' };
    expect(delta(1, 2, [{ entity: 'booking', op: 'upsert', value: moved }])).toMatchObject({ applied: true });
    s.clock.advanceTo(START + 5 * MINUTE_MS);
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: false, reason: 'no_booking' });
    const elsewhere = { ...ALICE_SALON, id: 'bk-other', resource: 'boardroom' };
    expect(delta(2, 3, [{ entity: 'booking', op: 'upsert', value: elsewhere }])).toMatchObject({
      refused: 'inconsistent',
      detail: 'booking bk-other: no resource boardroom',
    });
    s.clock.advanceTo(Date.parse(moved.start));
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: true, reason: 'booking' });
  });

  it('a snapshot carries the site’s resources and bookings: a booking it leaves out is gone', async () => {
    const { site: s, send, issuedAt } = await hubRoomSite();
    const upsert = (entity: DirectoryChange['entity'], values: readonly unknown[]) =>
      values.map((value) => ({ entity, op: 'upsert', value }) as DirectoryChange);
    const everything = [
      ...upsert('plan', BOOKING_DIRECTORY.plans ?? []),
      ...upsert('employer', BOOKING_DIRECTORY.employers ?? []),
      ...upsert('member', BOOKING_DIRECTORY.members ?? []),
      ...upsert('badge', BOOKING_DIRECTORY.badges ?? []),
      ...upsert('resource', [SALON]),
    ];
    const snapshot = (to: number, changes: DirectoryChange[]) =>
      send({ v: 1, site: 'murat', kind: 'snapshot', to, issuedAt: issuedAt(), chunk: 0, chunks: 1, changes });
    s.clock.advanceTo(START);
    expect(snapshot(5, [...everything, ...upsert('booking', [ALICE_SALON])])).toEqual({ applied: true, revision: 5 });
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: true, reason: 'booking' });
    expect(snapshot(6, everything)).toEqual({ applied: true, revision: 6 });
    expect(s.tap('salon-in', UID.alice)).toMatchObject({ granted: false, reason: 'no_booking' });
    expect(s.store.bookings.size()).toBe(0);
  });
});
